"""Stack layout (pure Python): stable shards, stack ids, the resource budget, and the gate's verdict on a table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.table import TableError, Target, layout, load_table, parse_table
from constructs_lib.table.layout import plan_stacks, shard_of, stack_id
from constructs_lib.table.loader import DEFAULT_SHARDS
from constructs_lib.table.verdict import TABLE_RULE_ID, check_table

ROOT = Path(__file__).resolve().parents[2]
ROW_NAMES = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)


def endpoint_rows(names: list[str], **extra: object) -> list[dict[str, object]]:
    return [{"name": name, "model": "FlanT5XL", **extra} for name in names]


def table_of(names: list[str], *, shards: int = 4, **extra: object):
    return parse_table(
        {"defaults": {"regions": ["us-east-1"], "shards": shards}, "endpoints": endpoint_rows(names, **extra)},
        source="generated.yaml",
    )


def stack_of_each_row(table) -> dict[str, str]:
    return {p.row.name: plan.stack_id for plan in plan_stacks(table) for p in plan.placements}


@settings(max_examples=60, deadline=None)
@given(
    existing=st.lists(ROW_NAMES, min_size=1, max_size=30, unique=True),
    added=st.lists(ROW_NAMES, min_size=1, max_size=10, unique=True),
    position=st.integers(min_value=0),
)
def test_adding_rows_anywhere_never_moves_an_existing_row(existing: list[str], added: list[str], position: int) -> None:
    added = [name for name in added if name not in existing] or ["zz-new-row"]
    before = stack_of_each_row(table_of(existing))
    index = position % (len(existing) + 1)
    after = stack_of_each_row(table_of([*existing[:index], *added, *existing[index:]]))
    assert {name: after[name] for name in existing} == before


def test_shard_depends_only_on_the_name_and_count() -> None:
    assert shard_of("llama2-7b-chat", 4) == shard_of("llama2-7b-chat", 4)
    assert {shard_of(f"row-{i}", 4) for i in range(100)} == {0, 1, 2, 3}  # the hash spreads rows
    assert {shard_of(f"row-{i}", 1) for i in range(20)} == {0}


def test_stack_ids() -> None:
    default = Target("us-east-1", "123456789012")
    assert stack_id("endpoints", None, default, 2) == "EulaGate-us-east-1-s2"  # one account per app: not in the id
    assert stack_id("fine-tuning", None, default, 0) == "EulaGate-us-east-1-finetune-s0"
    assert stack_id("endpoints", "prod", Target("eu-west-1", "222222222222"), 1) == \
        "EulaGate-prod-eu-west-1-222222222222-s1"
    assert stack_id("endpoints", "dev", Target("us-east-1"), 0, prefix="Models") == "Models-dev-us-east-1-s0"


def test_example_table_layout() -> None:
    stacks = plan_stacks(load_table(ROOT / "models.yaml"))
    kinds = {(plan.kind, plan.target.region) for plan in stacks}
    assert kinds == {("endpoints", "us-east-1"), ("fine-tuning", "us-east-1")}
    placed = sorted(p.row.name for plan in stacks for p in plan.placements)
    assert placed == ["deepseek-r1-qwen-7b", "flan-t5-xl", "gemma2-9b-instruct", "llama2-7b-chat",
                      "llama2-7b-support", "llama31-8b-instruct", "mistral-7b-instruct"]
    for plan in stacks:
        assert {p.row.kind for p in plan.placements} == {"endpoint" if plan.kind == "endpoints" else "fine_tuning"}


def test_one_group_of_stacks_per_target_and_environment() -> None:
    table = load_table(ROOT / "tests" / "fixtures" / "tables" / "good" / "environments.yaml")
    stacks = plan_stacks(table)
    assert len({plan.stack_id for plan in stacks}) == len(stacks)
    targets = [(plan.environment, plan.target) for plan in stacks]
    assert ("prod", Target("eu-west-1", "222222222222")) in targets
    assert (None, Target("us-west-2", "123456789012")) in targets
    assert all(plan.shard < table.shards for plan in stacks)
    prod = plan_stacks(table, environment="prod")
    assert {plan.environment for plan in prod} == {"prod"} and len(prod) == 2


def test_estimates_count_autoscaling_deploy_blocks_and_shared_job_providers() -> None:
    table = parse_table({
        "defaults": {"regions": ["us-east-1"], "shards": 1},
        "endpoints": [
            {"name": "plain", "model": "FlanT5XL"},
            {"name": "scaled", "model": "FlanT5XL", "autoscaling": {"max_capacity": 2,
                                                                  "target_invocations_per_instance": 10}},
        ],
        "fine_tuning": [
            {"name": f"job-{i}", "base_model": "Falcon7B", "training_data": "s3://bkt/t/",
             "output_path": "s3://bkt/o/", **({"deploy": {}} if i == 0 else {})}
            for i in range(3)
        ],
    })
    endpoints, jobs = plan_stacks(table)
    assert endpoints.estimated_resources == (
        layout.STACK_BASE_RESOURCES + 2 * layout.ENDPOINT_RESOURCES + layout.AUTOSCALING_RESOURCES
    )
    assert jobs.estimated_resources == (
        layout.STACK_BASE_RESOURCES
        + 2 * layout.JOB_PROVIDER_RESOURCES  # one waiting (deploy) and one not
        + 3 * layout.FINE_TUNING_JOB_RESOURCES
        + layout.ENDPOINT_RESOURCES
    )


def test_a_stack_over_the_budget_is_a_table_error_naming_the_fix() -> None:
    budget = layout.STACK_RESOURCE_LIMIT - layout.SAFETY_MARGIN
    rows = budget // layout.ENDPOINT_RESOURCES + 1
    table = table_of([f"row-{i}" for i in range(rows)], shards=1)
    with pytest.raises(TableError) as caught:
        plan_stacks(table)
    message = str(caught.value)
    assert message.startswith("generated.yaml:")
    assert "stack EulaGate-us-east-1-s0 would hold about" in message
    assert "raise `defaults.shards` (now 1" in message
    # The default shard count spreads the same rows under the budget.
    spread = plan_stacks(dataclasses.replace(table, shards=DEFAULT_SHARDS))
    assert all(plan.estimated_resources <= budget for plan in spread)


# -- the gate's verdict on the table --------------------------------------------------------------------------

def test_verdict_on_the_example_tables() -> None:
    assert [f for f in check_table(load_table(ROOT / "models.yaml")) if f.severity == "error"] == []
    findings = check_table(load_table(ROOT / "examples" / "unaccepted.yaml"))
    assert [(f.rule_id, f.severity, f.logical_id, f.model_id, f.line) for f in findings] == [
        (TABLE_RULE_ID, "error", "llama2-7b-chat", "meta-textgeneration-llama-2-7b-f", 9),
        (TABLE_RULE_ID, "error", "llama2-7b-support", "meta-textgeneration-llama-2-7b", 15),
    ]
    assert "accept_eula is not set" in findings[0].message
    assert "accept_eula is false" in findings[1].message
    assert findings[0].eula_url == (
        "https://jumpstart-cache-prod-us-east-1.s3.us-east-1.amazonaws.com/fmhMetadata/eula/llamaEula.txt"
    )
    assert "`accept_eula: true`" in findings[0].fix


def test_deploying_a_fine_tuned_gated_model_needs_no_acceptance_of_its_own() -> None:
    table = parse_table({"defaults": {"regions": ["us-east-1"]}, "fine_tuning": [{
        "name": "tuned", "base_model": "Llama2-7B", "training_data": "s3://bkt/t/", "output_path": "s3://bkt/o/",
        "accept_eula": True, "deploy": {"instance_type": "ml.g5.12xlarge"},
    }]})
    assert check_table(table) == []


def test_needless_acceptance_is_a_warning() -> None:
    table = table_of(["flan"], accept_eula=True)
    (finding,) = check_table(table)
    assert (finding.severity, finding.logical_id) == ("warning", "flan")
    assert "has no EULA" in finding.message

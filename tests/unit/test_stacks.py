"""The stacks built from model tables: per region and kind, stable logical ids, row controls wired to the
constructs. (Sharding under 500 resources at scale: tests/unit/test_scale_sharding.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.errors import InputError
from constructs_lib.rules import check_template
from constructs_lib.table import ModelTable, TableError, layout, load_table, parse_table
from constructs_lib.table.layout import plan_stacks
from stacks import ModelTableStack, add_table_stacks

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "tests" / "fixtures" / "tables" / "good"
Templates = dict[str, dict[str, Any]]


def synth(table: ModelTable, **options: Any) -> tuple[Templates, list[ModelTableStack]]:
    """Synthesize the table's stacks; templates by stack id (with construct paths, as `cdk synth` writes them)."""
    app = cdk.App(context={"aws:cdk:enable-path-metadata": True})
    stacks = add_table_stacks(app, table, **options)
    assembly = app.synth()
    return {stack.stack_name: assembly.get_stack_by_name(stack.stack_name).template for stack in stacks}, stacks


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def only(values: dict[str, Any]) -> Any:
    assert len(values) == 1, list(values)
    return next(iter(values.values()))


def row_resources(templates: Templates, row_name: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(stack, logical id) -> resource, for the resources under the row's construct (by CDK path metadata)."""
    found = {}
    for stack, template in templates.items():
        for logical_id, resource in template["Resources"].items():
            path = resource.get("Metadata", {}).get("aws:cdk:path", "")
            if path.split("/")[1:2] == [row_name]:
                found[(stack, logical_id)] = resource
    return found


@pytest.fixture(scope="module")
def example() -> tuple[Templates, list[ModelTableStack]]:
    return synth(load_table(ROOT / "models.yaml"))


@pytest.fixture(scope="module")
def example_templates(example: tuple[Templates, list[ModelTableStack]]) -> Templates:
    return example[0]


# -- the example table ---------------------------------------------------------------------------------------

def test_example_stacks_follow_the_plan(example: tuple[Templates, list[ModelTableStack]]) -> None:
    templates, stacks = example
    planned = plan_stacks(load_table(ROOT / "models.yaml"))
    assert [stack.stack_name for stack in stacks] == [plan.stack_id for plan in planned]
    for stack in stacks:
        assert stack.region == "us-east-1"
        assert cdk.Token.is_unresolved(stack.account)  # environment-agnostic account: synthesizes offline
        assert len(templates[stack.stack_name]["Resources"]) <= stack.plan.estimated_resources


def test_example_endpoints_carry_acceptance_only_where_the_row_accepts(example_templates: Templates) -> None:
    models = {}
    for (_, logical_id), resource in (
        row_resources(example_templates, "llama2-7b-chat") | row_resources(example_templates, "flan-t5-xl")
        | row_resources(example_templates, "mistral-7b-instruct")
    ).items():
        if resource["Type"] == "AWS::SageMaker::Model":
            models[logical_id] = resource["Properties"]["PrimaryContainer"]
    accepted = {
        logical_id: container.get("ModelDataSource", {}).get("S3DataSource", {}).get("ModelAccessConfig")
        for logical_id, container in models.items()
    }
    assert len(accepted) == 3
    assert [v for k, v in accepted.items() if k.startswith("llama27bchat")] == [{"AcceptEula": True}]
    assert [v for k, v in accepted.items() if not k.startswith("llama27bchat")] == [None, None]


def test_example_endpoint_settings_come_from_the_rows(example_templates: Templates) -> None:
    flan = row_resources(example_templates, "flan-t5-xl")
    config = only({k: v for k, v in flan.items() if v["Type"] == "AWS::SageMaker::EndpointConfig"})
    variant = config["Properties"]["ProductionVariants"][0]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.g5.2xlarge", 1)
    mistral = row_resources(example_templates, "mistral-7b-instruct")
    target = only({k: v for k, v in mistral.items() if v["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"})
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (1, 2)


def test_example_fine_tuning_row_declares_job_and_unaccepted_endpoint(example_templates: Templates) -> None:
    resources = row_resources(example_templates, "llama2-7b-support")
    assert {stack for stack, _ in resources} == {"EulaGate-us-east-1-finetune-s3"}
    job = only({k: v for k, v in resources.items() if v["Type"] == "Custom::AutoMLJobV2"})
    config = job["Properties"]["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]
    assert config["BaseModelName"] == "Llama2-7B"
    assert config["ModelAccessConfig"] == {"AcceptEula": True}
    assert config["TextGenerationHyperParameters"] == {"epochCount": "3", "learningRate": "0.0001"}
    served = only({k: v for k, v in resources.items() if v["Type"] == "AWS::SageMaker::Model"})
    assert "ModelAccessConfig" not in str(served)  # the fine-tuned weights are the user's own
    variant = only({k: v for k, v in resources.items() if v["Type"] == "AWS::SageMaker::EndpointConfig"})
    assert variant["Properties"]["ProductionVariants"][0]["InstanceType"] == "ml.g5.12xlarge"


def test_the_gate_passes_the_example_and_fails_the_unaccepted_table(example_templates: Templates) -> None:
    for stack, template in example_templates.items():
        assert [f for f in check_template(template, template_path=stack) if f.severity == "error"] == []
    unaccepted, _ = synth(load_table(ROOT / "examples" / "unaccepted.yaml"))
    failing = {
        (finding.template, finding.resource_type, finding.model_id)
        for stack, template in unaccepted.items()
        for finding in check_template(template, template_path=stack)
        if finding.severity == "error"
    }
    assert {(model_id, "finetune" in stack) for stack, _, model_id in failing} == {
        ("meta-textgeneration-llama-2-7b-f", False), ("meta-textgeneration-llama-2-7b", True),
    }


# -- environments, accounts, synthesizers -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def environments() -> tuple[Templates, list[ModelTableStack]]:
    return synth(load_table(GOOD / "environments.yaml"))


def test_environment_rows_get_one_stack_per_target(environments: tuple[Templates, list[ModelTableStack]]) -> None:
    templates, stacks = environments
    llama = {stack.stack_name: (stack.account, stack.region) for stack in stacks
             if any(p.row.name == "llama2-chat" for p in stack.plan.placements)}
    assert sorted(llama.values()) == [
        ("111111111111", "us-east-1"), ("222222222222", "eu-west-1"), ("222222222222", "us-east-1"),
    ]
    for stack_name, (account, _) in llama.items():
        config = only({k: v for k, v in row_resources({stack_name: templates[stack_name]}, "llama2-chat").items()
                       if v["Type"] == "AWS::SageMaker::EndpointConfig"})
        variant = config["Properties"]["ProductionVariants"][0]
        expected = ("ml.g5.24xlarge", 2) if account == "222222222222" else ("ml.g5.12xlarge", 1)
        assert (variant["InstanceType"], variant["InitialInstanceCount"]) == expected


def test_rows_outside_environments_use_the_default_account(
    environments: tuple[Templates, list[ModelTableStack]],
) -> None:
    _, stacks = environments
    flan = [stack for stack in stacks if any(p.row.name == "flan-default" for p in stack.plan.placements)]
    assert [(stack.account, stack.region) for stack in flan] == [("123456789012", "us-west-2")]


def test_one_environment_in_a_stage() -> None:
    app = cdk.App()
    stage = cdk.Stage(app, "prod")
    stacks = add_table_stacks(stage, load_table(GOOD / "environments.yaml"), environment="prod")
    assert {(stack.account, stack.region) for stack in stacks} == {
        ("222222222222", "us-east-1"), ("222222222222", "eu-west-1"),
    }
    assert all(stack.node.scope is stage for stack in stacks)


def test_account_context_replaces_the_default_account() -> None:
    app = cdk.App()
    stacks = add_table_stacks(app, load_table(ROOT / "models.yaml"), account="999999999999")
    assert {stack.account for stack in stacks} == {"999999999999"}
    with pytest.raises(InputError, match="context account='12': expected a 12-digit AWS account id"):
        add_table_stacks(cdk.App(), load_table(ROOT / "models.yaml"), account="12")


def test_bootstrapless_synthesizer_for_endpoint_stacks() -> None:
    templates, stacks = synth(load_table(ROOT / "models.yaml"), synthesizer="bootstrapless")
    for stack in stacks:
        expected = cdk.BootstraplessSynthesizer if stack.plan.kind == "endpoints" else cdk.LegacyStackSynthesizer
        assert isinstance(stack.synthesizer, expected)
        # The default synthesizer's bootstrap check is what a stack without a bootstrap cannot pass.
        assert "BootstrapVersion" not in templates[stack.stack_name].get("Parameters", {})
    default, _ = synth(load_table(GOOD / "minimal.yaml"))
    assert "BootstrapVersion" in only(default).get("Parameters", {})


def test_unknown_synthesizer_lists_the_choices() -> None:
    with pytest.raises(InputError, match="expected one of default, bootstrapless, legacy"):
        add_table_stacks(cdk.App(), load_table(GOOD / "minimal.yaml"), synthesizer="fast")


def test_a_construct_error_names_the_row() -> None:
    """What only a construct can refuse still comes out as one line naming the table row."""
    table = load_table(GOOD / "minimal.yaml")
    row = dataclasses.replace(table.endpoints[0], environment={"1-not-a-name": "x"})  # the construct refuses it
    with pytest.raises(TableError, match=rf"^{table.source}:{row.line}: endpoint 'flan' \(eu-west-1\): "):
        add_table_stacks(cdk.App(), dataclasses.replace(table, endpoints=(row,)))


# -- stability and sharding ------------------------------------------------------------------------------------

def generated_table(names: list[str], *, regions: tuple[str, ...] = ("us-east-1",),
                    scaled: Callable[[str], bool] = lambda name: False) -> ModelTable:
    rows = [
        {"name": name, "model": "FlanT5XL",
         **({"autoscaling": {"max_capacity": 2, "target_invocations_per_instance": 50}} if scaled(name) else {})}
        for name in names
    ]
    return parse_table({"defaults": {"regions": list(regions)}, "endpoints": rows}, source="generated.yaml")


def test_adding_rows_leaves_existing_endpoints_untouched() -> None:
    names = [f"endpoint-{i}" for i in range(12)]
    before, _ = synth(generated_table(names))
    after, _ = synth(generated_table(["added-first", *names[:6], "added-middle", *names[6:], "added-last"]))
    for name in names:
        resources = row_resources(before, name)
        assert resources  # the row's resources were found
        assert row_resources(after, name) == resources  # same stack, same logical ids, same properties


# -- the per-row resource bounds the layout relies on -------------------------------------------------------------

def fine_tuning_table(count: int, method: str, *, deploy: bool) -> ModelTable:
    base = {"method": "jumpstart-training", "base_model": "Llama2-7BChat", "accept_eula": True} \
        if method == "jumpstart-training" else {"base_model": "Falcon7B"}
    rows = [{"name": f"job-{i}", **base, "training_data": "s3://bkt/train/", "output_path": "s3://bkt/out/",
             **({"deploy": {}} if deploy else {})} for i in range(count)]
    return parse_table({"defaults": {"regions": ["us-east-1"], "shards": 1}, "fine_tuning": rows})


def total_resources(table: ModelTable) -> int:
    templates, _ = synth(table)
    return sum(len(template["Resources"]) for template in templates.values())


def test_endpoint_resources_within_the_layout_bound() -> None:
    plain = total_resources(generated_table(["one"]))
    scaled = total_resources(generated_table(["one"], scaled=lambda name: True))
    assert plain <= layout.STACK_BASE_RESOURCES + layout.ENDPOINT_RESOURCES
    assert scaled - plain <= layout.AUTOSCALING_RESOURCES


@pytest.mark.parametrize("method", ["autopilot", "jumpstart-training"])
@pytest.mark.parametrize("deploy", [False, True], ids=["job", "job+deploy"])
def test_fine_tuning_resources_within_the_layout_bounds(method: str, deploy: bool) -> None:
    one = total_resources(fine_tuning_table(1, method, deploy=deploy))
    two = total_resources(fine_tuning_table(2, method, deploy=deploy))
    per_row = two - one
    provider = one - per_row
    assert per_row <= layout.FINE_TUNING_JOB_RESOURCES + (layout.ENDPOINT_RESOURCES if deploy else 0)
    assert provider <= layout.STACK_BASE_RESOURCES + layout.JOB_PROVIDER_RESOURCES


# -- row controls reach the constructs -------------------------------------------------------------------------

MULTI_REGION_KEY = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"


def test_row_controls_reach_each_targets_endpoint() -> None:
    table = parse_table({
        "defaults": {"regions": ["us-east-1", "eu-west-1"], "kms_key_arn": MULTI_REGION_KEY, "shards": 1},
        "endpoints": [{"name": "flan", "model": "FlanT5XL", "network_isolation": False,
                       "data_capture": {"destination": "s3://my-audit-bucket/flan/", "capture_input": False}}],
    }, source="controls.yaml")
    templates, stacks = synth(table)
    for stack in stacks:
        template = templates[stack.stack_name]
        replica = MULTI_REGION_KEY.replace("us-east-1", stack.region)
        config = only(resources_of(template, "AWS::SageMaker::EndpointConfig"))["Properties"]
        assert "KmsKeyId" not in config  # ml.g5.2xlarge: local storage, encrypted by the instance
        assert config["DataCaptureConfig"]["KmsKeyId"] == replica
        assert config["DataCaptureConfig"]["CaptureOptions"] == [{"CaptureMode": "Output"}]
        model = only(resources_of(template, "AWS::SageMaker::Model"))["Properties"]
        assert model["EnableNetworkIsolation"] is False
        assert "VpcConfig" not in model
    assert sorted(stack.region for stack in stacks) == ["eu-west-1", "us-east-1"]

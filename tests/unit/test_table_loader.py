"""The model table loader: resolved values, line numbers, and the schema kept in step with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.catalog.autopilot import AUTOPILOT_CONTENT_TYPES, AUTOPILOT_HYPERPARAMETERS
from constructs_lib.table import (
    SCHEMA_PATH,
    Autoscaling,
    CapacityOverride,
    DeployBlock,
    TableError,
    Target,
    load_table,
    loader,
    parse_table,
)
from constructs_lib.table.yaml_source import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "tests" / "fixtures" / "tables" / "good"


def table_from(text: str, tmp_path: Path, name: str = "models.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_table(path)


def error_of(text: str, tmp_path: Path) -> str:
    with pytest.raises(TableError) as caught:
        table_from(text, tmp_path)
    return str(caught.value)


# -- resolved values -----------------------------------------------------------------------------------------

def test_example_table_declares_the_documented_mix() -> None:
    table = load_table(ROOT / "models.yaml")
    by_name = {row.name: row for row in table.rows}
    llama = by_name["llama2-7b-chat"]
    assert (llama.spec.model_id, llama.spec.gated) == ("meta-textgeneration-llama-2-7b-f", True)
    assert llama.accept_eula is True
    assert {by_name["flan-t5-xl"].spec.model_id, by_name["mistral-7b-instruct"].spec.model_id} == {
        "huggingface-text2text-flan-t5-xl", "huggingface-llm-mistral-7b-instruct",
    }
    assert by_name["flan-t5-xl"].accept_eula is None and by_name["mistral-7b-instruct"].accept_eula is None
    tuning = table.fine_tuning[0]
    assert (tuning.method, tuning.spec.base_model_name, tuning.accept_eula) == ("autopilot", "Llama2-7B", True)
    assert tuning.deploy == DeployBlock(instance_type="ml.g5.12xlarge")
    assert {p.target for p in table.placements()} == {Target("us-east-1")}


def test_defaults_fill_in_instance_type_count_and_regions() -> None:
    table = load_table(ROOT / "models.yaml")
    mistral = table.row("mistral-7b-instruct")
    assert mistral.instance_type == mistral.spec.default_instance_type == "ml.g5.12xlarge"
    assert mistral.instance_count == 1
    assert mistral.regions == ("us-east-1",)
    assert mistral.autoscaling == Autoscaling(1, 2, 100)


def test_environment_rows_resolve_per_target_with_overrides() -> None:
    table = load_table(GOOD / "environments.yaml")
    placements = [(p.environment, p.target, p.instance_type, p.instance_count)
                  for p in table.placements() if p.row.name == "llama2-chat"]
    assert placements == [
        ("dev", Target("us-east-1", "111111111111"), "ml.g5.12xlarge", 1),
        ("prod", Target("us-east-1", "222222222222"), "ml.g5.24xlarge", 2),
        ("prod", Target("eu-west-1", "222222222222"), "ml.g5.24xlarge", 2),
    ]
    assert table.row("llama2-chat").environment_overrides == {"prod": CapacityOverride("ml.g5.24xlarge", 2)}


def test_placements_of_one_environment() -> None:
    table = load_table(GOOD / "environments.yaml")
    assert [(p.row.name, p.target.region) for p in table.placements("prod")] == [
        ("llama2-chat", "us-east-1"), ("llama2-chat", "eu-west-1"),
    ]
    with pytest.raises(TableError, match="unknown environment 'qa'; the table defines: dev, prod, staging"):
        table.placements("qa")


def test_environment_targets_fall_back_to_the_default_account_and_approval_defaults() -> None:
    table = load_table(GOOD / "environments.yaml")
    assert table.environments["staging"].targets == (Target("us-east-2", "123456789012"),)
    assert [table.environments[name].approval for name in ("dev", "prod", "staging")] == [False, True, True]
    # Rows outside environments use defaults.regions and defaults.account.
    assert [p.target for p in table.placements() if p.row.name == "flan-default"] == [
        Target("us-west-2", "123456789012")
    ]
    assert table.shards == 2


def test_container_environment_values_become_strings() -> None:
    row = load_table(GOOD / "environments.yaml").row("llama2-chat")
    assert row.environment == {
        "MAX_INPUT_LENGTH": "2048", "SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "TRUST_REMOTE_CODE": "false",
    }


def test_fine_tuning_rows_per_method() -> None:
    table = load_table(GOOD / "training.yaml")
    training, autopilot = table.fine_tuning
    assert training.method == "jumpstart-training"
    assert training.instance_type == "ml.g5.24xlarge" and training.content_type is None
    # the YAML boolean is spelled as the spec's option ("True"), which JumpStart's training script compares with
    assert training.hyperparameters == {"epoch": 2, "learning_rate": "0.0002", "instruction_tuned": "True"}
    assert training.max_runtime == 36000
    assert autopilot.method == "autopilot"  # the default method
    assert autopilot.content_type == "x-application/vnd.amazon+parquet"
    assert autopilot.instance_type is None and autopilot.deploy is None
    assert autopilot.regions == ("us-west-2", "eu-west-1")
    assert [p.instance_type for p in table.placements() if p.row is training] == ["ml.g5.24xlarge"]


def test_training_instance_type_defaults_to_the_models_training_default(tmp_path: Path) -> None:
    table = table_from("""
fine_tuning:
  - name: tuned
    method: jumpstart-training
    base_model: Llama2-7BChat
    training_data: s3://bucket/train/
    output_path: s3://bucket/out/
    regions: [us-east-1]
""", tmp_path)
    row = table.fine_tuning[0]
    assert row.spec.training is not None
    assert row.instance_type == row.spec.training.default_instance_type


def test_gated_rows_without_acceptance_load(tmp_path: Path) -> None:
    """Missing acceptance is the gate's finding, not a load error: every problem shows at once."""
    table = load_table(ROOT / "examples" / "unaccepted.yaml")
    assert [(row.name, row.spec.gated, row.accept_eula) for row in table.rows if row.spec.gated] == [
        ("llama2-7b-chat", True, None), ("llama2-7b-support", True, False),
    ]


def test_plain_dicts_validate_without_line_information() -> None:
    table = parse_table({"endpoints": [{"name": "flan", "model": "FlanT5XL", "regions": ["us-east-1"]}]},
                        source="inline")
    assert table.endpoints[0].spec.model_id == "huggingface-text2text-flan-t5-xl"
    with pytest.raises(TableError, match=r"^inline:1: endpoint 'flan' field 'model': required field is missing$"):
        parse_table({"endpoints": [{"name": "flan"}]}, source="inline")


def test_a_catalog_can_be_passed_in(catalog: Catalog) -> None:
    small = Catalog([catalog.get("FlanT5XL")], source="small")
    table = parse_table({"endpoints": [{"name": "flan", "model": "FlanT5XL", "regions": ["us-east-1"]}]},
                        catalog=small)
    assert table.endpoints[0].spec is small.get("FlanT5XL")
    with pytest.raises(TableError, match="unknown JumpStart model 'Llama2-7BChat'"):
        parse_table({"endpoints": [{"name": "llama", "model": "Llama2-7BChat", "regions": ["us-east-1"]}]},
                    catalog=small)


# -- errors: lines and shapes ----------------------------------------------------------------------------------

def test_error_points_at_the_line_of_the_offending_key(tmp_path: Path) -> None:
    message = error_of("""defaults:
  regions: [us-east-1]
endpoints:
  - name: one
    model: FlanT5XL
  - name: two
    model: FlanT5XL

    instance_count: 0
""", tmp_path)
    assert message == (
        f"{tmp_path / 'models.yaml'}:9: endpoint 'two' field 'instance_count': "
        "expected an integer from 1 to 1000, got an integer (0)"
    )


def test_boolean_is_not_an_integer(tmp_path: Path) -> None:
    message = error_of("endpoints:\n  - {name: a, model: FlanT5XL, regions: [us-east-1], instance_count: true}\n",
                       tmp_path)
    assert "field 'instance_count': expected an integer from 1 to 1000, got a boolean (true)" in message


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the table is empty"),
    ("# only a comment\n", "the table is empty"),
    ("- name: flan\n", "expected a mapping with keys defaults, environments, endpoints, fine_tuning, got a list"),
    ("endpoints: {name: flan}\n", "key 'endpoints': expected a list of endpoint rows"),
    ("endpoints:\n", "key 'endpoints': expected a list of endpoint rows (`- name: ...`), got nothing (null)"),
    ("endpoints: [{name: a, model: FlanT5XL, regions: [us-east-1, us-east-1]}]\n",
     "field 'regions[1]': 'us-east-1' is listed twice"),
    ("environments: {}\nendpoints: [{name: a, model: FlanT5XL, regions: [us-east-1]}]\n",
     "key 'environments': expected at least one named environment"),
    ("environments: {bad_name: {targets: [{region: us-east-1}]}}\n"
     "endpoints: [{name: a, model: FlanT5XL, regions: [us-east-1]}]\n",
     "environment 'bad_name': expected an environment name of 1 to 30 letters"),
    ("environments: {dev: {targets: [{region: us-east-1}, {region: us-east-1}]}}\n"
     "endpoints: [{name: a, model: FlanT5XL, environments: [dev]}]\n",
     "environment 'dev' field 'targets[1].region': target (any account)/us-east-1 is listed twice"),
    ("endpoints: [{name: a, model: FlanT5XL, regions: [us-east-1], autoscaling: {max_capacity: 2}}]\n",
     "field 'autoscaling.target_invocations_per_instance': required field is missing"),
    ("endpoints: [{name: a, model: FlanT5XL, regions: [us-east-1], environment: {1X: a}}]\n",
     "field 'environment': expected environment variable names like MAX_INPUT_LENGTH, got '1X'"),
    ("endpoints: [{name: " + "a" * 41 + ", model: FlanT5XL, regions: [us-east-1]}]\n",
     "field 'name': expected 1 to 40 letters"),
    ("fine_tuning: [{name: t, base_model: Falcon7B, training_data: s3://bkt/t/, output_path: s3://bkt/o/,"
     " regions: [us-east-1], hyperparameters: {learningRate: 1.5}}]\n",
     "field 'hyperparameters.learningRate': expected a number from 0 to 1, got 1.5"),
    ("fine_tuning: [{name: t, base_model: Falcon7B, training_data: s3://bkt/t/, output_path: s3://bkt/o/,"
     " regions: [us-east-1], hyperparameters: {batchSize: 2.5}}]\n",
     "field 'hyperparameters.batchSize': expected an integer from 1 to 64, got 2.5"),
    ("fine_tuning: [{name: t, base_model: Falcon7B, training_data: s3://bkt/t/, output_path: s3://bkt/o/,"
     " regions: [us-east-1], max_runtime: 0}]\n",
     "field 'max_runtime': expected an integer of at least 1, got an integer (0)"),
    ("endpoints: [{name: a, model: FlanT5XL, regions: [us-east-1]}]\nendpoints: []\n",
     "invalid YAML: duplicate key 'endpoints' (first on line 1)"),
    ("endpoints: [{name: a, model: FlanT5XL, regions: [us-east-1]}]\n\tbad: tab\n", "invalid YAML"),
])
def test_malformed_tables_fail_with_one_line(text: str, expected: str, tmp_path: Path) -> None:
    message = error_of(text, tmp_path)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'models.yaml'}:")
    assert expected in message, message


def test_missing_file_says_how_to_point_at_another(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=r"nope\.yaml: model table not found; .*-c table=PATH"):
        load_table(tmp_path / "nope.yaml")


def test_unreadable_bytes_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_bytes(b"endpoints: \xff\xfe\n")
    with pytest.raises(TableError, match="cannot read the model table"):
        load_table(path)


def test_yaml_anchors_and_merges_keep_working(tmp_path: Path) -> None:
    table = table_from("""
endpoints:
  - &flan {name: flan-a, model: FlanT5XL, regions: [us-east-1]}
  - <<: *flan
    name: flan-b
""", tmp_path)
    assert [(row.name, row.spec.model_id) for row in table.endpoints] == [
        ("flan-a", "huggingface-text2text-flan-t5-xl"), ("flan-b", "huggingface-text2text-flan-t5-xl"),
    ]


def test_an_explicit_key_twice_is_still_a_duplicate_next_to_a_merge(tmp_path: Path) -> None:
    message = error_of("""
endpoints:
  - &flan {name: flan-a, model: FlanT5XL, regions: [us-east-1]}
  - <<: *flan
    name: flan-b
    name: flan-c
""", tmp_path)
    assert message.endswith(":6: invalid YAML: duplicate key 'name' (first on line 5)")


def test_line_tracking_loader_records_key_and_item_lines() -> None:
    document = parse_yaml("a: 1\nb:\n  - x\n  - y\n", source="inline")
    assert document.line == 1 and document.line_of("b") == 2
    assert document["b"].item_lines == [3, 4]


# -- the schema is kept in step with the loader -----------------------------------------------------------------

def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_schema_lists_exactly_the_keys_the_loader_accepts() -> None:
    props = schema()["properties"]
    endpoint = props["endpoints"]["items"]["properties"]
    fine_tuning = props["fine_tuning"]["items"]["properties"]
    environment = props["environments"]["additionalProperties"]["properties"]
    assert tuple(props) == loader.TOP_LEVEL_KEYS
    assert tuple(props["defaults"]["properties"]) == loader.DEFAULTS_KEYS
    assert tuple(environment) == loader.ENVIRONMENT_KEYS
    assert tuple(environment["targets"]["items"]["properties"]) == loader.TARGET_KEYS
    assert tuple(endpoint) == loader.ENDPOINT_KEYS
    assert tuple(endpoint["autoscaling"]["properties"]) == loader.AUTOSCALING_KEYS
    assert tuple(endpoint["environment_overrides"]["additionalProperties"]["properties"]) == loader.OVERRIDE_KEYS
    assert tuple(fine_tuning) == loader.FINE_TUNING_KEYS
    assert tuple(fine_tuning["deploy"]["properties"]) == loader.DEPLOY_KEYS
    assert tuple(fine_tuning["method"]["enum"]) == loader.FINE_TUNING_METHODS
    assert tuple(fine_tuning["content_type"]["enum"]) == AUTOPILOT_CONTENT_TYPES
    assert props["defaults"]["properties"]["shards"]["default"] == loader.DEFAULT_SHARDS
    assert props["defaults"]["properties"]["shards"]["maximum"] == loader.MAX_SHARDS


def test_schema_hyperparameter_ranges_are_the_autopilot_ranges() -> None:
    autopilot_branch = schema()["properties"]["fine_tuning"]["items"]["allOf"][1]["else"]
    ranges = autopilot_branch["properties"]["hyperparameters"]["properties"]
    assert set(ranges) == set(AUTOPILOT_HYPERPARAMETERS)
    for name, allowed in AUTOPILOT_HYPERPARAMETERS.items():
        assert (ranges[name]["minimum"], ranges[name]["maximum"]) == (allowed.minimum, allowed.maximum)
        assert ("integer" in ranges[name]["type"]) == allowed.integer


def test_schema_examples_are_the_autopilot_models(catalog: Catalog) -> None:
    endpoint = schema()["properties"]["endpoints"]["items"]["properties"]
    assert endpoint["model"]["examples"] == [m.base_model_name for m in catalog.autopilot_models()]

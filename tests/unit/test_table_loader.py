"""The model table loader: resolved values, line numbers, and the schema kept in step with the loader."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.catalog.autopilot import AUTOPILOT_CONTENT_TYPES, AUTOPILOT_HYPERPARAMETERS
from constructs_lib.table import (
    SCHEMA_PATH,
    Autoscaling,
    CapacityOverride,
    Controls,
    DataCaptureSettings,
    DeployBlock,
    TableError,
    Target,
    VpcSettings,
    load_table,
    loader,
    parse_table,
    yaml_source,
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


# -- security controls ------------------------------------------------------------------------------------------

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MULTI_REGION_KEY = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
VPC = "{subnet_ids: [subnet-0123456789abcdef0], security_group_ids: [sg-0123456789abcdef0]}"


def test_rows_take_controls_from_defaults_and_override_them(tmp_path: Path) -> None:
    table = table_from(f"""
defaults: {{regions: [us-east-1], kms_key_arn: "{KEY}", vpc: {VPC}, network_isolation: true}}
endpoints:
  - name: flan
    model: FlanT5XL
    data_capture: {{destination: s3://capture-bucket/flan/, sampling_percentage: 20, capture_output: false}}
  - {{name: open, model: FlanT5XL, network_isolation: false}}
fine_tuning:
  - name: tune
    base_model: Falcon7B
    training_data: s3://my-bucket/train/
    output_path: s3://my-bucket/out/
    deploy: {{data_capture: {{destination: s3://capture-bucket/tuned/}}}}
""", tmp_path)
    flan, open_row = table.endpoints
    vpc = VpcSettings(subnet_ids=("subnet-0123456789abcdef0",), security_group_ids=("sg-0123456789abcdef0",))
    assert flan.controls == Controls(kms_key_arn=KEY, vpc=vpc, network_isolation=True)
    assert flan.data_capture == DataCaptureSettings("s3://capture-bucket/flan/", 20, True, False)
    assert open_row.controls == Controls(kms_key_arn=KEY, vpc=vpc, network_isolation=False)
    assert open_row.data_capture is None
    (tune,) = table.fine_tuning
    assert tune.controls == flan.controls
    assert tune.deploy is not None and tune.deploy.data_capture == DataCaptureSettings("s3://capture-bucket/tuned/")


def test_a_multi_region_key_serves_each_region_through_its_replica(tmp_path: Path) -> None:
    table = table_from(f"""
endpoints:
  - {{name: flan, model: FlanT5XL, regions: [us-east-1, eu-west-1], kms_key_arn: "{MULTI_REGION_KEY}"}}
""", tmp_path)
    controls = table.endpoints[0].controls
    assert controls.kms_key_arn_in("us-east-1") == MULTI_REGION_KEY
    assert controls.kms_key_arn_in("eu-west-1") == MULTI_REGION_KEY.replace("us-east-1", "eu-west-1")


@pytest.mark.parametrize(("extra", "expected"), [
    (f'kms_key_arn: "{KEY}", regions: [us-east-1, eu-west-1]',
     "field 'kms_key_arn': the key is in us-east-1 but the row also deploys to eu-west-1; KMS keys are regional"),
    ('kms_key_arn: "arn:aws:kms:us-east-1:111122223333:alias/models"',
     "field 'kms_key_arn': expected a key ARN like arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-"
     "1234567890ab, got the alias 'arn:aws:kms:us-east-1:111122223333:alias/models': IAM grants name keys"),
    ("kms_key_arn: 1234abcd-12ab-34cd-56ef-1234567890ab", "field 'kms_key_arn': expected a key ARN like"),
    (f"vpc: {VPC}, regions: [us-east-1, us-west-2]",
     "field 'vpc': subnets and security groups belong to one VPC in one account and region, but the row deploys "
     "to 2 targets ((any account)/us-east-1, (any account)/us-west-2)"),
    ("vpc: {subnet_ids: [subnet-0123456789abcdef0]}",
     "field 'vpc.security_group_ids': required field is missing (give both subnet_ids and security_group_ids)"),
    ("vpc: {subnet_ids: [vpc-0123456789abcdef0], security_group_ids: [sg-0123456789abcdef0]}",
     "field 'vpc.subnet_ids[0]': expected an id like subnet-0123456789abcdef0, got 'vpc-0123456789abcdef0'"),
    ("vpc: {subnet_ids: [subnet-01234567], security_group_ids: [sg-1, sg-2, sg-3, sg-4, sg-5, sg-6]}",
     "field 'vpc.security_group_ids': expected at most 5 items, got 6"),
    ("network_isolation: yes", "field 'network_isolation': expected true or false"),
    ("data_capture: {destination: 's3://capture-bucket/out*/'}",
     "field 'data_capture.destination': expected an S3 URI like s3://my-bucket/prefix/, got 's3://capture-bucket/"
     "out*/': the key contains a wildcard"),
    ("data_capture: {destination: s3://capture-bucket/x/, capture_input: false, capture_output: false}",
     "field 'data_capture.capture_output': capture_input and capture_output are both false"),
    ("data_capture: {destination: s3://capture-bucket/x/, sampling_percentage: 101}",
     "field 'data_capture.sampling_percentage': expected an integer from 0 to 100, got an integer (101)"),
])
def test_controls_that_cannot_work_are_one_line_errors(extra: str, expected: str, tmp_path: Path) -> None:
    text = f"defaults: {{regions: [us-east-1]}}\nendpoints:\n  - {{name: flan, model: FlanT5XL, {extra}}}\n"
    message = error_of(text, tmp_path)
    assert f":3: endpoint 'flan' {expected}" in message


def test_a_vpc_from_defaults_says_where_it_came_from(tmp_path: Path) -> None:
    message = error_of(f"defaults: {{regions: [us-east-1, us-west-2], vpc: {VPC}}}\n"
                       "endpoints:\n  - {name: flan, model: FlanT5XL}\n", tmp_path)
    assert "(any account)/us-west-2) (from defaults); give the row one region" in message


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


def test_latin_1_bytes_name_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_bytes(b"defaults: {regions: [us-east-1]}\nendpoints:\n  - {name: caf\xe9, model: FlanT5XL}\n")
    with pytest.raises(TableError) as caught:
        load_table(path)
    assert str(caught.value) == (
        f"{path}:3: not UTF-8: byte 0xe9 at column 15 is not valid UTF-8 (the file is probably Latin-1 or "
        "Windows-1252); save the table as UTF-8"
    )
    assert caught.value.line == 3


def test_a_directory_says_so_in_words(tmp_path: Path) -> None:
    with pytest.raises(TableError) as caught:
        load_table(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}: is a directory, not a model table; pass the table's YAML file (for example "
        f"{tmp_path / 'models.yaml'})"
    )


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "models.yaml"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    with pytest.raises(TableError, match=r"is a FIFO \(named pipe\), not a regular file; save the model table"):
        load_table(fifo)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    with path.open("wb") as file:
        file.truncate(yaml_source.MAX_TABLE_BYTES + 1)  # sparse: the size is all the loader may look at
    with pytest.raises(TableError, match=r"is 16,777,217 bytes; a model table may be at most 16,777,216 bytes"):
        load_table(path)


@pytest.mark.parametrize(("text", "expected"), [
    ("a: !!float x", "t.yaml:1: invalid YAML: !!float cannot hold 'x'; remove the tag or write a valid float"),
    ("a: !!int x", "t.yaml:1: invalid YAML: !!int cannot hold 'x'; remove the tag or write a valid int"),
    ("a:\n  b: !!bool x", "t.yaml:2: invalid YAML: !!bool cannot hold 'x'; remove the tag or write a valid bool"),
    ("a: !!timestamp x", "t.yaml:1: invalid YAML: !!timestamp cannot hold 'x'; remove the tag or write a valid "
                         "timestamp"),
    ("a: !!map [1]", "t.yaml:1: invalid YAML: !!map cannot hold a list; remove the tag or write a valid map"),
    ("a: " + "[" * 250 + "]" * 250, "t.yaml:1: invalid YAML: the document nests deeper than 64 levels"),
    ("a: &x [*x]", "t.yaml:1: invalid YAML: the document nests deeper than 64 levels (or an alias refers to its "
                   "own anchor)"),
    ("a: b\nc: \x07", "t.yaml:2: invalid YAML: the character '\\x07' is not allowed in YAML; remove it"),
])
def test_yaml_that_python_cannot_construct_is_one_marked_line(text: str, expected: str) -> None:
    with pytest.raises(TableError) as caught:
        parse_yaml(text, source="t.yaml")
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_an_alias_bomb_is_walked_in_linear_time() -> None:
    levels = [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 30)]
    document = parse_yaml("l0: &l0 [x]\n" + "\n".join(levels), source="t.yaml")  # 9**29 leaves if expanded
    assert document["l29"][0] is document["l28"]


def test_a_huge_string_is_quoted_by_its_head(tmp_path: Path) -> None:
    name = "a-" * 2_000_000 + "!"  # a backtracking-prone input for the name pattern, were it run
    message = error_of(f"defaults: {{regions: [us-east-1]}}\nendpoints:\n  - {{name: '{name}', model: FlanT5XL}}\n",
                       tmp_path)
    assert "field 'name': expected at most 2,048 characters, got a string ('a-a-a-" in message
    assert "(4,000,001 characters)" in message and len(message) < 400


def test_x_keys_hold_anchors_at_the_top_and_notes_in_rows(tmp_path: Path) -> None:
    table = table_from("""
x-serving: &serving {model: FlanT5XL, regions: [us-east-1], instance_type: ml.g5.2xlarge}
endpoints:
  - {<<: *serving, name: flan-a, x-owner: team-a}
  - {<<: *serving, name: flan-b}
""", tmp_path)
    assert [(row.name, row.instance_type) for row in table.endpoints] == [
        ("flan-a", "ml.g5.2xlarge"), ("flan-b", "ml.g5.2xlarge"),
    ]
    message = error_of("endpoints:\n  - {name: a, model: FlanT5XL, regions: [us-east-1], "
                       "autoscaling: {max_capacity: 2, target_invocations_per_instance: 5, x-note: 1}}\n", tmp_path)
    assert "field 'autoscaling.x-note': unknown key" in message  # only the top level and rows take x- keys


@pytest.mark.parametrize(("row", "expected"), [
    ("instance_type: g5.2xlarge", "field 'instance_type': model 'huggingface-text2text-flan-t5-xl' does not support "
                                  "instance type 'g5.2xlarge'"),
    ("regions: [us-east1]", "field 'regions[0]': model 'huggingface-text2text-flan-t5-xl' is not available in "
                            "region 'us-east1'"),
])
def test_did_you_mean_for_instance_types_and_regions(row: str, expected: str, tmp_path: Path) -> None:
    message = error_of(f"defaults: {{regions: [us-east-1]}}\nendpoints:\n  - {{name: a, model: FlanT5XL, {row}}}\n",
                       tmp_path)
    assert expected in message
    hint = "ml.g5.2xlarge" if "instance" in row else "us-east-1"
    assert message.endswith(f"; did you mean '{hint}'?") or f"did you mean '{hint}'" in message


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

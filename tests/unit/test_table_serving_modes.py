"""Serving modes in the model table: each mode read into its construct's props, and what a mode cannot take
refused in one line naming the file, the row and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.props import (
    AsyncInference,
    BacklogScaling,
    ComponentCompute,
    CopyScaling,
    DataCapture,
    EndpointAutoScaling,
    ServerlessInference,
    VpcPlacement,
)
from constructs_lib.table import TableError, load_table, parse_table
from constructs_lib.table.resolve import endpoint_props
from constructs_lib.table.verdict import check_table

EXAMPLE = Path(__file__).parents[2] / "examples" / "serving-modes.yaml"
GATED = "meta-textgeneration-llama-3-8b-instruct"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def endpoint(**fields: Any) -> dict[str, Any]:
    return {"defaults": {"regions": ["us-east-1"]}, "endpoints": [{"name": "ep", **fields}]}


def refusal(document: dict[str, Any]) -> str:
    with pytest.raises(TableError) as caught:
        parse_table(document, source="t.yaml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("t.yaml:")
    return message


def test_the_example_reads_each_mode_into_its_props() -> None:
    table = load_table(EXAMPLE)
    rows = {row.name: row for row in table.endpoints}
    assert {name: row.serving for name, row in rows.items()} == {
        "chat": "instance", "shared": "inference_components", "reports": "async", "answers": "serverless"}
    shared = rows["shared"]
    assert shared.instance_type == "ml.g5.12xlarge"
    assert (shared.instance_scaling.min_instances, shared.instance_scaling.max_instances) == (0, 2)
    llama, mistral = shared.components
    assert (llama.spec.model_id, llama.accept_eula, llama.props.copies) == (GATED, True, 1)
    assert llama.props.compute == ComponentCompute(memory_mb=24576, accelerators=1)
    assert llama.props.scaling == CopyScaling(min_copies=1, max_copies=2)
    assert mistral.accept_eula is None and mistral.props.scaling == CopyScaling(min_copies=0, max_copies=2)
    assert rows["reports"].async_inference == AsyncInference(
        output_path="s3://my-async-responses/reports/", failure_path="s3://my-async-responses/reports-failed/",
        scaling=BacklogScaling(min_instances=0, max_instances=2))
    answers = rows["answers"]
    assert answers.serverless == ServerlessInference(memory_mb=4096, max_concurrency=5)
    assert answers.instance_type is None and answers.model_data == "s3://my-models/bert-eqa/model.tar.gz"
    assert check_table(table) == []


def test_a_component_without_acceptance_is_one_finding_on_its_own_line() -> None:
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    del document["endpoints"][1]["components"][0]["accept_eula"]
    table = parse_table(document, source="t.yaml")
    [finding] = check_table(table)
    component = table.row("shared").components[0]  # type: ignore[union-attr]
    assert (finding.severity, finding.logical_id, finding.line) == ("error", "shared/llama", component.line)
    assert finding.message.startswith("endpoint 'shared' component 'llama' deploys EULA-gated model")


def test_component_defaults_come_from_the_catalog() -> None:
    table = parse_table(endpoint(serving="inference_components", components=[
        {"name": "mistral", "model": "huggingface-llm-mistral-7b-instruct"}]))
    row = table.endpoints[0]
    assert row.instance_type == "ml.g5.12xlarge"  # the model's default
    [component] = row.components
    assert component.props.compute == ComponentCompute(memory_mb=1024, accelerators=4)  # the instance's GPUs
    assert component.props.scaling is None and component.props.copies == 1


def test_zero_minimum_copies_scale_between_zero_and_one_by_default() -> None:
    table = parse_table(endpoint(serving="inference_components", components=[
        {"name": "mistral", "model": "huggingface-llm-mistral-7b-instruct", "min_copies": 0}]))
    [component] = table.endpoints[0].components
    assert component.props.scaling == CopyScaling(min_copies=0, max_copies=1)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"serving": "serverless", "model": GATED, "model_data": "s3://my-bucket/m.tar.gz"},
     "field 'model': model meta-textgeneration-llama-3-8b-instruct is EULA-gated, and serverless endpoints cannot"),
    ({"serving": "serverless", "model": "huggingface-llm-mistral-7b-instruct", "model_data": "s3://my-bucket/m.tar.gz"},
     "needs an accelerator instance"),
    ({"serving": "serverless", "model": "huggingface-eqa-bert-base-cased"}, "field 'model_data': required"),
    ({"serving": "serverless", "model": "huggingface-eqa-bert-base-cased", "model_data": "s3://my-bucket/m.tar.gz",
      "serverless": {"memory_mb": 1500}}, "field 'serverless.memory_mb': expected one of 1024, 2048"),
    ({"serving": "serverless", "model": "huggingface-eqa-bert-base-cased", "model_data": "s3://my-bucket/m.tar.gz",
      "vpc": {"subnet_ids": ["subnet-0a1b2c3d"], "security_group_ids": ["sg-0a1b2c3d"]}},
     "field 'vpc': not with `serving: serverless`: serverless endpoints cannot attach to a VPC"),
    ({"serving": "serverless", "model": "huggingface-eqa-bert-base-cased", "model_data": "s3://my-bucket/m.tar.gz",
      "network_isolation": True}, "field 'network_isolation': not with `serving: serverless`"),
    ({"serving": "inference_components"}, "field 'components': required with `serving: inference_components`"),
    ({"serving": "inference_components", "model": GATED, "components": [{"name": "a", "model": GATED}]},
     "field 'model': not with `serving: inference_components`: each component names its model"),
    ({"serving": "inference_components", "components": [{"name": "a", "model": "no-such-model"}]},
     "field 'components[0].model'"),
    ({"serving": "inference_components", "components": [{"name": "a", "model": GATED}, {"name": "A", "model": GATED}]},
     "field 'components[1].name': duplicate component name 'A'"),
    ({"serving": "inference_components", "instance_type": "ml.p5.48xlarge", "components": [
        {"name": "a", "model": "huggingface-textgeneration-gpt2"}]},
     "field 'components[0].model': model 'huggingface-textgeneration-gpt2' does not serve on the endpoint's"),
    ({"model": GATED, "components": [{"name": "a", "model": GATED}]},
     "field 'components': only for `serving: inference_components` (the row serves `instance`)"),
    ({"serving": "async", "model": "huggingface-llm-mistral-7b-instruct"}, "field 'async': required"),
    ({"serving": "async", "model": "huggingface-llm-mistral-7b-instruct", "async": {"output_path": "s3://my-bucket/o/",
      "success_topic": "topic"}}, "field 'async.success_topic': success_topic must be an SNS topic ARN"),
    ({"serving": "async", "model": "huggingface-llm-mistral-7b-instruct", "async": {"output_path": "s3://my-bucket/o/"},
      "autoscaling": {"max_capacity": 2, "target_invocations_per_instance": 5}},
     "field 'autoscaling': not with `serving: async`"),
    ({"serving": "batch", "model": GATED}, "field 'serving': expected one of instance, inference_components"),
    ({"serving": "async", "model": "huggingface-llm-mistral-7b-instruct", "async": {"output_path": "s3://my-bucket/o/",
      "target_backlog_per_instance": True}},
     "field 'async.target_backlog_per_instance': expected a number greater than 0, got a boolean (true)"),
    ({"serving": "inference_components", "components": [{"name": "a", "model": GATED, "cpu_cores": 0}]},
     "field 'components[0].cpu_cores': expected a number greater than 0, got an integer (0)"),
    ({"serving": "inference_components", "components": [{"name": "a", "model": GATED, "max_copies": 2,
                                                          "target_invocations_per_copy": float("inf")}]},
     "field 'components[0].target_invocations_per_copy': expected a number greater than 0, got"),
], ids=lambda value: str(value)[:60] if isinstance(value, str) else None)
def test_what_a_mode_cannot_take_is_one_line(fields: dict[str, Any], expected: str) -> None:
    message = refusal(endpoint(**fields))
    assert "endpoint 'ep'" in message and expected in message, message


def test_each_row_resolves_once_into_its_constructs_props() -> None:
    table = load_table(EXAMPLE)
    resolved = {placement.row.name: endpoint_props(placement) for placement in table.placements()}
    assert {name: props.construct for name, props in resolved.items()} == {
        "chat": "JumpStartEndpoint", "shared": "InferenceComponentEndpoint", "reports": "JumpStartEndpoint",
        "answers": "JumpStartEndpoint"}
    shared = table.row("shared")
    assert resolved["shared"].props == {
        "components": [component.props for component in shared.components],  # type: ignore[union-attr]
        "instance_type": "ml.g5.12xlarge", "instance_count": 1,
        "instance_scaling": shared.instance_scaling}  # type: ignore[union-attr]
    assert resolved["reports"].props["async_inference"] == table.row("reports").async_inference  # type: ignore
    answers = resolved["answers"].props
    assert (answers["serverless"], answers["model_data_url"], answers["network_isolation"]) == (
        ServerlessInference(memory_mb=4096, max_concurrency=5), "s3://my-models/bert-eqa/model.tar.gz", False)
    assert "instance_type" not in answers


def test_controls_resolve_into_props_values() -> None:
    table = parse_table(endpoint(model="huggingface-llm-mistral-7b-instruct", kms_key_arn=KEY, network_isolation=True,
                                 vpc={"subnet_ids": ["subnet-0a1b2c3d"], "security_group_ids": ["sg-0a1b2c3d"]},
                                 data_capture={"destination": "s3://my-bucket/capture/"},
                                 autoscaling={"max_capacity": 2, "target_invocations_per_instance": 10}))
    props = endpoint_props(table.placements()[0]).props
    assert props["vpc"] == VpcPlacement(subnet_ids=("subnet-0a1b2c3d",), security_group_ids=("sg-0a1b2c3d",))
    assert props["data_capture"] == DataCapture(destination="s3://my-bucket/capture/")
    assert props["autoscaling"] == EndpointAutoScaling(max_capacity=2, target_invocations_per_instance=10)
    assert (props["kms_key_arn"], props["network_isolation"]) == (KEY, True)

"""The serving-mode constructs: `InferenceComponentEndpoint`, and `JumpStartEndpoint`'s async and serverless
options; `grant_invoke`, `from_endpoint_*` and the metrics every endpoint has. One app per module (jsii start-up
is the cost)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from constructs_lib.constructs.serving.components import InferenceComponentEndpoint
from constructs_lib.constructs.serving.jumpstart import JumpStartEndpoint
from constructs_lib.errors import ConstructValidationError, InvalidArgumentError
from constructs_lib.props import (
    AsyncInference,
    BacklogScaling,
    ComponentCompute,
    CopyScaling,
    InferenceComponent,
    InstanceScaling,
    ServerlessInference,
)

pytestmark = pytest.mark.synth

GATED = "meta-textgeneration-llama-3-8b-instruct"
OPEN = "huggingface-llm-mistral-7b-instruct"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    app = cdk.App()
    stack = cdk.Stack(app, "Serving", env=cdk.Environment(region="us-east-1", account="111122223333"))
    shared = InferenceComponentEndpoint(
        stack, "Shared", instance_type="ml.g5.12xlarge", instance_count=1,
        instance_scaling=InstanceScaling(min_instances=0, max_instances=3), kms_key_arn=KEY,
        components=[
            InferenceComponent(name="llama", model=GATED, accept_eula=True, compute=ComponentCompute(accelerators=1)),
            InferenceComponent(name="mistral", model=OPEN, copies=0, scaling=CopyScaling(min_copies=0, max_copies=2)),
        ])
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    shared.grant_invoke(reader, "mistral")
    imported = JumpStartEndpoint.from_endpoint_arn(
        stack, "Elsewhere", "arn:aws:sagemaker:us-east-1:111122223333:endpoint/made-elsewhere")
    imported.grant_invoke(reader)
    queue = JumpStartEndpoint.from_endpoint_name(stack, "Queue", "queue")
    metrics = {"copies": shared.metric_copy_count("mistral"), "latency": shared.metric_model_latency(),
               "backlog": queue.metric("ApproximateBacklogSize")}
    template = app.synth().get_stack_by_name("Serving").template
    return {"template": template, "shared": shared, "metrics": metrics, "imported": imported}


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == resource_type}


def test_each_component_is_a_model_and_a_component_naming_it(built: dict[str, Any]) -> None:
    template = built["template"]
    models = of_type(template, "AWS::SageMaker::Model")
    components = of_type(template, "AWS::SageMaker::InferenceComponent")
    assert len(models) == len(components) == 2
    named = {c["Specification"]["ModelName"]["Fn::GetAtt"][0] for c in components.values()}
    assert named == set(models)
    acceptance = {k: m["PrimaryContainer"]["ModelDataSource"]["S3DataSource"].get("ModelAccessConfig")
                  for k, m in models.items()}
    assert sorted(acceptance.values(), key=str) == [None, {"AcceptEula": True}]
    assert all(m["EnableNetworkIsolation"] is True for m in models.values())
    [config] = of_type(template, "AWS::SageMaker::EndpointConfig").values()
    assert "KmsKeyId" not in config  # g5 has local NVMe storage: the key is acknowledged, not set
    assert config["ProductionVariants"][0]["ManagedInstanceScaling"] == {
        "Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 3}


def test_only_the_zero_copy_component_scales_and_gets_the_scale_out_from_zero_policy(built: dict[str, Any]) -> None:
    template = built["template"]
    [target] = of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    mistral = built["shared"].components["mistral"].component_name
    assert target["ResourceId"] == f"inference-component/{mistral}"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 2)
    policies = sorted(p["PolicyType"] for p in of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values())
    assert policies == ["StepScaling", "TargetTrackingScaling"]
    [alarm] = of_type(template, "AWS::CloudWatch::Alarm").values()
    assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "NoCapacityInvocationFailures", 1, "GreaterThanOrEqualToThreshold")


def test_grant_invoke_is_scoped_to_the_component_and_imports_by_arn(built: dict[str, Any]) -> None:
    [policy] = of_type(built["template"], "AWS::IAM::Policy").values()
    shared_statement, imported_statement = policy["PolicyDocument"]["Statement"]
    mistral = built["shared"].components["mistral"].component_name
    resources = cdk.Stack.of(built["shared"]).resolve(shared_statement["Resource"])
    assert len(resources) == 2 and f":inference-component/{mistral}" in str(resources[1])
    assert "llama" not in str(resources)
    assert imported_statement["Resource"] == "arn:aws:sagemaker:us-east-1:111122223333:endpoint/made-elsewhere"
    assert built["imported"].endpoint_name == "made-elsewhere"


def test_metrics_name_the_component_or_the_endpoint(built: dict[str, Any]) -> None:
    metrics = built["metrics"]
    assert metrics["copies"].dimensions == {"InferenceComponentName": built["shared"].components["mistral"]
                                            .component_name}
    assert metrics["latency"].metric_name == "ModelLatency" and metrics["latency"].statistic == "Average"
    assert metrics["backlog"].dimensions["EndpointName"] == "queue"


@pytest.mark.parametrize(("build", "message"), [
    (lambda s: InferenceComponentEndpoint(s, "E", components=[]), "components must hold 1 to 100"),
    (lambda s: InferenceComponentEndpoint(s, "E", components=[InferenceComponent(name="a", model=OPEN),
                                                              InferenceComponent(name="A", model=OPEN)]),
     "component name 'A' is used twice"),
    (lambda s: InferenceComponentEndpoint(s, "E", instance_type="ml.m5.xlarge",
                                          components=[InferenceComponent(name="a", model=OPEN)]),
     "does not support instance type 'ml.m5.xlarge'"),
    (lambda s: JumpStartEndpoint(s, "E", model=GATED, accept_eula=True, network_isolation=False,
                                 serverless=ServerlessInference(), model_data_url="s3://my-bucket/m.tar.gz"),
     "is EULA-gated, and serverless endpoints cannot load ModelDataSource"),
    (lambda s: JumpStartEndpoint(s, "E", model="huggingface-eqa-bert-base-cased", serverless=ServerlessInference(),
                                 model_data_url="s3://my-bucket/m.tar.gz"),
     "serverless endpoints cannot isolate the container's network"),
    (lambda s: JumpStartEndpoint(s, "E", model="huggingface-eqa-bert-base-cased", network_isolation=False,
                                 serverless=ServerlessInference()), "pass model_data_url"),
    (lambda s: JumpStartEndpoint(s, "E", model="huggingface-eqa-bert-base-cased", network_isolation=False,
                                 kms_key_arn=KEY, serverless=ServerlessInference(),
                                 model_data_url="s3://my-bucket/m.tar.gz"), "kms_key_arn is not for serverless"),
    (lambda s: JumpStartEndpoint(s, "E", model="huggingface-eqa-bert-base-cased", network_isolation=False,
                                 async_inference=AsyncInference(output_path="s3://my-bucket/o/"),
                                 serverless=ServerlessInference(), model_data_url="s3://my-bucket/m.tar.gz"),
     "give async_inference or serverless, not both"),
    (lambda s: JumpStartEndpoint(s, "E", model=OPEN, model_data_url="s3://my-bucket/m.tar.gz"),
     "model_data_url is for serverless endpoints"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_bad_props_name_the_construct(scratch: cdk.Stack, build: Any, message: str) -> None:
    with pytest.raises(ConstructValidationError, match=message) as caught:
        build(scratch)
    assert caught.value.construct_path == f"{scratch.node.path}/E"


@pytest.mark.parametrize(("build", "message"), [
    (lambda: ServerlessInference(memory_mb=1500), "memory_mb must be one of 1024"),
    (lambda: ServerlessInference(max_concurrency=5, provisioned_concurrency=6), "provisioned_concurrency"),
    (lambda: CopyScaling(min_copies=3, max_copies=2), "max_copies must be an integer >= 3"),
    (lambda: InferenceComponent(name="a", model=OPEN, copies=5, scaling=CopyScaling(max_copies=2)),
     "copies \\(5\\) must lie between"),
    (lambda: AsyncInference(output_path="https://bucket/out"), "async output_path must be an S3 URI"),
    (lambda: BacklogScaling(max_instances=0), "max_instances must be an integer >= 1"),
    (lambda: ComponentCompute(memory_mb=64), "memory_mb must be an integer >= 128"),
])
def test_props_refuse_what_sagemaker_would(build: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        build()

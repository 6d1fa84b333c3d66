"""Each serving mode deployed to a local moto server through CloudFormation (``CreateStack`` of the synthesized
template), then read back with the SageMaker API, as far as moto supports it.

What moto (5.2) does not cover, so these tests cannot show it either:
- ``AWS::SageMaker::InferenceComponent`` (no API and no CloudFormation support), and an endpoint config whose
  variant names no model (moto's CreateEndpointConfig requires ``ModelName``): an inference-component endpoint
  cannot deploy. Its component Models are created through moto's SageMaker API instead, from the synthesized
  properties, to show the acceptance they carry;
- ``AWS::ApplicationAutoScaling::*`` and ``AWS::CloudWatch::Alarm`` in CloudFormation (moto skips them with a
  warning): scaling policies, scale to zero and the scale-out-from-zero alarms are checked on the template
  (tests/unit/test_serving_modes_stacks.py), not deployed;
- running a model, queueing an asynchronous request, a serverless cold start.
"""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

import aws_cdk as cdk
import pytest

from constructs_lib.constructs.serving.components import InferenceComponentEndpoint
from constructs_lib.constructs.serving.jumpstart import JumpStartEndpoint
from constructs_lib.props import (
    AsyncInference,
    BacklogScaling,
    ComponentCompute,
    InferenceComponent,
    ServerlessInference,
)
from tests.support.moto_server import MotoServer

pytestmark = pytest.mark.synth

REGION = "us-east-1"
GATED = "meta-textgeneration-llama-3-8b-instruct"


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    """Two stacks: the three modes CloudFormation on moto can deploy, and an inference-component endpoint."""
    app = cdk.App()
    modes = cdk.Stack(app, "ServingModes", env=cdk.Environment(region=REGION),
                      synthesizer=cdk.BootstraplessSynthesizer())
    JumpStartEndpoint(modes, "Chat", model=GATED, accept_eula=True)
    JumpStartEndpoint(modes, "Reports", model="huggingface-llm-falcon-7b-instruct-bf16", instance_type="ml.g5.2xlarge",
                      async_inference=AsyncInference(output_path="s3://my-async/out/", failure_path="s3://my-async/err/",
                                                     scaling=BacklogScaling(max_instances=2)))
    JumpStartEndpoint(modes, "Answers", model="huggingface-eqa-bert-base-cased", network_isolation=False,
                      serverless=ServerlessInference(memory_mb=4096, max_concurrency=3),
                      model_data_url="s3://my-models/bert/model.tar.gz")
    shared = cdk.Stack(app, "SharedEndpoint", env=cdk.Environment(region=REGION),
                       synthesizer=cdk.BootstraplessSynthesizer())
    InferenceComponentEndpoint(shared, "Shared", instance_type="ml.g5.12xlarge", components=[
        InferenceComponent(name="llama", model=GATED, accept_eula=True, compute=ComponentCompute(accelerators=1)),
        InferenceComponent(name="mistral", model="huggingface-llm-mistral-7b-instruct", copies=0,
                           compute=ComponentCompute(accelerators=1)),
    ])
    assembly = app.synth()
    return {name: assembly.get_stack_by_name(name).template for name in ("ServingModes", "SharedEndpoint")}


def deploy(moto_server: MotoServer, name: str, template: dict[str, Any]) -> dict[str, str]:
    """Create the stack and wait for it; its physical ids by logical id."""
    cloudformation = moto_server.client("cloudformation")
    with warnings.catch_warnings():  # moto warns of each resource type it skips (scaling, alarms)
        warnings.simplefilter("ignore")
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    deadline = time.monotonic() + 60
    while True:
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == "CREATE_COMPLETE", status
    return {resource["LogicalResourceId"]: resource["PhysicalResourceId"]
            for resource in cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]}


def logical_id(template: dict[str, Any], resource_type: str, path_part: str) -> str:
    return next(logical for logical, resource in template["Resources"].items()
                if resource["Type"] == resource_type and logical.startswith(path_part))


def test_instance_async_and_serverless_endpoints_deploy(moto_server: MotoServer,
                                                        templates: dict[str, dict[str, Any]]) -> None:
    moto_server.reset()
    template = templates["ServingModes"]
    physical = deploy(moto_server, "ServingModes", template)
    sagemaker = moto_server.client("sagemaker")

    def config(prefix: str) -> dict[str, Any]:
        arn = physical[logical_id(template, "AWS::SageMaker::EndpointConfig", prefix)]
        return dict(sagemaker.describe_endpoint_config(EndpointConfigName=arn.split("/")[-1]))

    chat_model = physical[logical_id(template, "AWS::SageMaker::Model", "Chat")].split("/")[-1]
    source = sagemaker.describe_model(ModelName=chat_model)["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]
    assert source["ModelAccessConfig"] == {"AcceptEula": True}
    output = config("Reports")["AsyncInferenceConfig"]["OutputConfig"]
    assert (output["S3OutputPath"], output["S3FailurePath"]) == ("s3://my-async/out/", "s3://my-async/err/")
    serverless = config("Answers")["ProductionVariants"][0]
    assert serverless["ServerlessConfig"] == {"MemorySizeInMB": 4096, "MaxConcurrency": 3}
    answers_model = physical[logical_id(template, "AWS::SageMaker::Model", "Answers")].split("/")[-1]
    container = sagemaker.describe_model(ModelName=answers_model)["PrimaryContainer"]
    assert container["ModelDataUrl"] == "s3://my-models/bert/model.tar.gz" and "ModelDataSource" not in container
    endpoints = {endpoint["EndpointArn"] for endpoint in sagemaker.list_endpoints()["Endpoints"]}
    assert {physical[logical_id(template, "AWS::SageMaker::Endpoint", prefix)]
            for prefix in ("Chat", "Reports", "Answers")} <= endpoints


def test_inference_component_models_carry_their_acceptance(moto_server: MotoServer,
                                                           templates: dict[str, dict[str, Any]]) -> None:
    """moto cannot deploy the endpoint (above): its component Models go through moto's CreateModel."""
    moto_server.reset()
    sagemaker = moto_server.client("sagemaker")
    models = {logical: resource["Properties"] for logical, resource in templates["SharedEndpoint"]["Resources"].items()
              if resource["Type"] == "AWS::SageMaker::Model"}
    assert len(models) == 2
    accepted = {}
    for logical, properties in models.items():
        sagemaker.create_model(ModelName=logical, ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
                               PrimaryContainer=properties["PrimaryContainer"],
                               EnableNetworkIsolation=properties["EnableNetworkIsolation"])
        source = sagemaker.describe_model(ModelName=logical)["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]
        accepted[logical.split("Model")[0]] = source.get("ModelAccessConfig")
    assert accepted == {"Sharedllama": {"AcceptEula": True}, "Sharedmistral": None}

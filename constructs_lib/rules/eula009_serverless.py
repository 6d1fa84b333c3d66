"""EULA009: a serverless endpoint config whose model loads an EULA-gated JumpStart artifact."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import (
    Check,
    Problem,
    Rule,
    artifact_problem,
    container_artifacts,
    containers_of,
    named_models,
)
from constructs_lib.rules.detection.requests import CREATE_ENDPOINT_CONFIG
from constructs_lib.rules.evaluation.values import ABSENT

EXAMPLE = """\
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::123456789012:role/sagemaker-execution
      PrimaryContainer:
        Image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0-deepspeed0.8.3-cu117
        ModelDataSource:
          S3DataSource:
            S3Uri: {model_uri}
            S3DataType: S3Prefix
            CompressionType: None
            ModelAccessConfig: {{AcceptEula: true}}
  Serverless:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: AllTraffic
          ModelName: {{"Fn::GetAtt": [Model, ModelName]}}
          ServerlessConfig: {{MemorySizeInMB: 6144, MaxConcurrency: 5}}
"""


class GatedModelServedServerless(Rule):
    id = "EULA009"
    short_description = "Serverless endpoint config serves an EULA-gated JumpStart model, which it cannot accept"
    description = (
        "A production variant of an AWS::SageMaker::EndpointConfig with ServerlessConfig serves a model of the same "
        "template that loads an EULA-gated JumpStart artifact (through ModelDataSource, ModelDataUrl or an "
        "AdditionalModelDataSources entry). Serverless endpoints cannot load a model through ModelDataSource, "
        "the only place acceptance can be given, so a gated model can never be served serverless, whatever its "
        "AcceptEula says. Serve it on instances (a real-time, inference-component or asynchronous endpoint) "
        "instead. A variant whose model is not in the template is judged where that model is created."
    )
    kinds = frozenset({CREATE_ENDPOINT_CONFIG})
    surfaces = ("AWS::SageMaker::EndpointConfig (variants with ServerlessConfig)",)
    noncompliant_example = EXAMPLE.format(model_uri=(
        "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-7b-f/"
        "artifacts/inference-prepack/v1.0.0/"))
    compliant_example = EXAMPLE.format(model_uri="s3://my-models/support-bot/")

    def check(self, check: Check) -> Iterator[Problem]:
        reader = check.reader
        for position, variant in reader.elements(reader.field(check.request, "ProductionVariants")):
            if reader.field(variant, "ServerlessConfig") is ABSENT:
                continue
            location = f"{check.path}.ProductionVariants[{position}]"
            models = named_models(check, reader.field(variant, "ModelName"))
            for logical_id, properties in models.resources if models is not None else ():
                for container, path in containers_of(reader, properties, f"{logical_id}.Properties"):
                    for artifact, artifact_path, _source in container_artifacts(check, container, path):
                        yield artifact_problem(
                            check, artifact, f"{location}.ServerlessConfig",
                            f"and {location} serves it serverless (model {logical_id}, {artifact_path}), which "
                            "cannot carry EULA acceptance",
                            f"remove {location}.ServerlessConfig and serve the model on instances (InstanceType "
                            "and InitialInstanceCount), with ModelAccessConfig.AcceptEula: true on its model",
                            reader.field(container, "Image"),
                        )

"""EULA001: a SageMaker model that serves an EULA-gated JumpStart artifact without accepting its EULA."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import Check, Problem, Rule, artifact_problem, container_problems, model_containers
from constructs_lib.rules.detection.requests import CREATE_INFERENCE_COMPONENT, CREATE_MODEL

NONCOMPLIANT_EXAMPLE = """\
Resources:
  LlamaModel:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::123456789012:role/sagemaker-execution
      PrimaryContainer:
        Image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0-deepspeed0.8.3-cu117
        ModelDataSource:
          S3DataSource:
            S3Uri: s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-7b-f/artifacts/inference-prepack/v1.0.0/
            S3DataType: S3Prefix
            CompressionType: None
"""


class GatedModelWithoutAcceptance(Rule):
    id = "EULA001"
    short_description = "SageMaker model serves an EULA-gated JumpStart model without accepting its EULA"
    description = (
        "A SageMaker model (AWS::SageMaker::Model, or a CreateModel request in a custom resource or a Step "
        "Functions task) loads the artifact of an EULA-gated JumpStart model: any artifact in JumpStart's gated "
        "bucket jumpstart-private-cache-prod-<region>, or a model the catalog marks gated. Every container that "
        "does (PrimaryContainer, each entry of Containers, each AdditionalModelDataSources entry) must accept "
        "the EULA with ModelDataSource.S3DataSource.ModelAccessConfig.AcceptEula set to true; SageMaker refuses "
        "the model otherwise. ModelDataUrl (and an inference component's ArtifactUrl) cannot carry acceptance, "
        "so a gated artifact there is always a finding: serve the uncompressed artifact through ModelDataSource "
        "(S3DataType S3Prefix, CompressionType None) instead. Artifacts outside JumpStart's buckets are the "
        "user's own weights (for example a fine-tuning output) and never need acceptance."
    )
    kinds = frozenset({CREATE_MODEL, CREATE_INFERENCE_COMPONENT})
    construct = "JumpStartEndpoint"
    surfaces = ("AWS::SageMaker::Model", "AWS::SageMaker::InferenceComponent",
                "CreateModel in custom resources and Step Functions tasks")
    noncompliant_example = NONCOMPLIANT_EXAMPLE
    compliant_example = NONCOMPLIANT_EXAMPLE + "            ModelAccessConfig: {AcceptEula: true}\n"

    def check(self, check: Check) -> Iterator[Problem]:
        if check.kind == CREATE_INFERENCE_COMPONENT:
            yield from self._inference_component(check)
            return
        for container, location in model_containers(check):
            yield from container_problems(check, container, location)

    def _inference_component(self, check: Check) -> Iterator[Problem]:
        reader = check.reader
        container = reader.path(check.request, "Specification", "Container")
        artifact = check.index.artifact(reader, reader.field(container, "ArtifactUrl"))
        if artifact is not None and artifact.needs_acceptance:
            location = f"{check.path}.Specification.Container.ArtifactUrl"
            yield artifact_problem(
                check, artifact, location,
                f"but its artifact is given in {location}, which cannot carry EULA acceptance",
                f"remove {location} and reference (Specification.ModelName) an AWS::SageMaker::Model that loads "
                "the artifact through ModelDataSource.S3DataSource with ModelAccessConfig.AcceptEula: true",
                reader.field(container, "Image"),
            )

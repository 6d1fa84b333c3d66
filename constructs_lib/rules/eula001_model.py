"""EULA001: a SageMaker model that serves an EULA-gated JumpStart artifact without accepting its EULA."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from constructs_lib.rules.base import (
    Check,
    Problem,
    Rule,
    artifact_problem,
    container_problems,
    model_containers,
    named_models,
)
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
        "(S3DataType S3Prefix, CompressionType None) instead. An inference component has no acceptance of its "
        "own: it serves the model its Specification.ModelName names, and that model's resource is judged. When "
        "the name is not a model of the same template (a literal name of a model created elsewhere, a "
        "parameter, an import), acceptance cannot be proven: a warning (an error with --strict). Artifacts "
        "outside JumpStart's buckets are the user's own weights (for example a fine-tuning output) and never "
        "need acceptance."
    )
    kinds = frozenset({CREATE_MODEL, CREATE_INFERENCE_COMPONENT})
    construct = "JumpStartEndpoint"
    surfaces = ("AWS::SageMaker::Model", "AWS::SageMaker::InferenceComponent",
                "CreateModel in custom resources and Step Functions tasks")
    noncompliant_example = NONCOMPLIANT_EXAMPLE
    compliant_example = NONCOMPLIANT_EXAMPLE + "            ModelAccessConfig: {AcceptEula: true}\n"

    def check(self, check: Check) -> Iterable[Problem]:
        if check.kind == CREATE_INFERENCE_COMPONENT:
            return self._inference_component(check)
        problems: list[Problem] = []
        for container, location, lacks_optional in model_containers(check):
            problems += container_problems(check, container, location, lacks_optional)
        return problems

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
        # The model a component names carries (or lacks) acceptance; one of this template is judged as itself.
        models = named_models(check, reader.path(check.request, "Specification", "ModelName"))
        if models is not None and models.unknown is not None:
            location = f"{check.path}.Specification.ModelName"
            yield Problem(
                location,
                "which this template does not define, so whether it serves an EULA-gated JumpStart model with "
                "acceptance cannot be proven",
                f"define the model in this template and name it in {location} (Fn::GetAtt <Model>.ModelName), or "
                "make sure the model named loads any gated artifact with ModelDataSource.S3DataSource."
                "ModelAccessConfig.AcceptEula: true, then acknowledge the warning",
                severity="warning",
                lead=f"The inference component serves the model {models.unknown}",
            )

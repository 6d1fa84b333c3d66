"""EULA002: a SageMaker model package whose containers load an EULA-gated artifact without acceptance."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import Check, Problem, Rule, container_problems
from constructs_lib.rules.detection.requests import CREATE_MODEL_PACKAGE

NONCOMPLIANT_EXAMPLE = """\
Resources:
  LlamaPackage:
    Type: AWS::SageMaker::ModelPackage
    Properties:
      ModelPackageGroupName: llama
      InferenceSpecification:
        SupportedContentTypes: [application/json]
        SupportedResponseMIMETypes: [application/json]
        Containers:
          - Image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0-deepspeed0.8.3-cu117
            ModelDataSource:
              S3DataSource:
                S3Uri: s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-7b/artifacts/inference-prepack/v1.0.0/
                S3DataType: S3Prefix
                CompressionType: None
"""


class GatedModelPackageWithoutAcceptance(Rule):
    id = "EULA002"
    short_description = "SageMaker model package loads an EULA-gated JumpStart model without accepting its EULA"
    description = (
        "An AWS::SageMaker::ModelPackage (or a CreateModelPackage request in a custom resource or a Step "
        "Functions task) has an inference container that loads the artifact of an EULA-gated JumpStart model. "
        "Each such container in InferenceSpecification.Containers, AdditionalInferenceSpecifications[].Containers "
        "and AdditionalInferenceSpecificationsToAdd[].Containers, and each SourceAlgorithmSpecification."
        "SourceAlgorithms[] entry, must set ModelDataSource.S3DataSource.ModelAccessConfig.AcceptEula to true; "
        "ModelDataUrl cannot carry acceptance."
    )
    kinds = frozenset({CREATE_MODEL_PACKAGE})
    surfaces = ("AWS::SageMaker::ModelPackage", "CreateModelPackage in custom resources and Step Functions tasks")
    noncompliant_example = NONCOMPLIANT_EXAMPLE
    compliant_example = NONCOMPLIANT_EXAMPLE + "                ModelAccessConfig: {AcceptEula: true}\n"

    def check(self, check: Check) -> Iterator[Problem]:
        reader = check.reader
        specifications = [(reader.field(check.request, "InferenceSpecification"),
                           f"{check.path}.InferenceSpecification")]
        for key in ("AdditionalInferenceSpecifications", "AdditionalInferenceSpecificationsToAdd"):
            specifications.extend(
                (specification, f"{check.path}.{key}[{position}]")
                for position, specification in reader.elements(reader.field(check.request, key))
            )
        for specification, location in specifications:
            for position, container in reader.elements(reader.field(specification, "Containers")):
                yield from container_problems(check, container, f"{location}.Containers[{position}]")
        # An algorithm's model artifact (ModelDataUrl/ModelDataSource) is loaded as a container's would be.
        algorithms = reader.path(check.request, "SourceAlgorithmSpecification", "SourceAlgorithms")
        for position, algorithm in reader.elements(algorithms):
            yield from container_problems(
                check, algorithm, f"{check.path}.SourceAlgorithmSpecification.SourceAlgorithms[{position}]")

"""EULA002: a SageMaker model package whose containers load an EULA-gated artifact without acceptance."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import Check, Problem, Rule, container_problems
from constructs_lib.rules.requests import CREATE_MODEL_PACKAGE


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

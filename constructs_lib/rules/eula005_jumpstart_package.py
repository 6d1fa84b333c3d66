"""EULA005 (warning): a model served through, or a model package cloned from, one of JumpStart's own model packages
of an EULA-gated model."""

from __future__ import annotations

from typing import Any

from constructs_lib.rules.artifacts import literal_region
from constructs_lib.rules.base import Check, Problem, Rule, model_containers
from constructs_lib.rules.detection.requests import CREATE_MODEL, CREATE_MODEL_PACKAGE
from constructs_lib.rules.evaluation.values import ABSENT

NONCOMPLIANT_EXAMPLE = """\
Resources:
  ChatModel:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::123456789012:role/sagemaker-execution
      EnableNetworkIsolation: true
      PrimaryContainer:
        ModelPackageName: arn:aws:sagemaker:us-east-1:865070037744:model-package/llama2-7b-f-v4-71eeccf76ddf33f2a18d2e16b9c7f302
"""  # noqa: E501 (a real ARN or image URI reads better whole)

# What serving such a package takes, in the words of docs/invoke.md: acceptance travels with each request.
PER_REQUEST_ACCEPTANCE = (
    "send CustomAttributes: accept_eula=true with every InvokeEndpoint request (`eulagate invoke --accept-eula`, "
    "or constructs_lib.client.runtime.invoke(..., accept_eula=True)), or deploy the JumpStart artifact instead "
    "(ModelDataSource.S3DataSource with ModelAccessConfig.AcceptEula: true; JumpStartEndpoint with "
    "accept_eula=True)"
)


class GatedJumpStartModelPackage(Rule):
    id = "EULA005"
    short_description = "SageMaker model serves an EULA-gated JumpStart model through a JumpStart model package"
    description = (
        "A SageMaker model container names, in ModelPackageName, a model package that JumpStart publishes for "
        "an EULA-gated model (any version, any region: the catalog's all_model_package_arns), or a model package "
        "clones one (SourceUri). These packages belong to JumpStart, not to an AWS Marketplace seller: there is "
        "no subscription, and the EULA is accepted per request, with CustomAttributes: accept_eula=true on each "
        "invocation. A template cannot show that, so this is a warning, not an error: make sure every caller "
        "sends it, or deploy the JumpStart artifact with ModelDataSource...ModelAccessConfig.AcceptEula."
    )
    severity = "warning"
    kinds = frozenset({CREATE_MODEL, CREATE_MODEL_PACKAGE})
    surfaces = (
        "AWS::SageMaker::Model (ModelPackageName)", "AWS::SageMaker::ModelPackage (SourceUri)",
        "CreateModel and CreateModelPackage in custom resources and Step Functions tasks",
    )
    noncompliant_example = NONCOMPLIANT_EXAMPLE
    # A warning can be suppressed per resource, with a reason (constructs_lib/rules/suppressions.py).
    compliant_example = NONCOMPLIANT_EXAMPLE + (
        "    Metadata:\n"
        "      eulagate:\n"
        "        suppress:\n"
        "          - rule: EULA005\n"
        "            reason: every caller sends CustomAttributes accept_eula=true\n"
    )

    def check(self, check: Check) -> list[Problem]:
        reader = check.reader
        if check.kind == CREATE_MODEL_PACKAGE:
            references = [(reader.field(check.request, "SourceUri"), f"{check.path}.SourceUri", "clones")]
        else:
            references = []
            for container, location, lacks_optional in model_containers(check):
                package = ABSENT if lacks_optional else reader.field(container, "ModelPackageName")
                if package is not ABSENT:  # most containers name none: their location is written only for one that does
                    references.append((package, f"{location}.ModelPackageName", "serves it through"))
        problems: list[Problem] = []
        for package, location, verb in references:
            problem = self._package_problem(check, package, location, verb)
            if problem is not None:
                problems.append(problem)
        return problems

    @staticmethod
    def _package_problem(check: Check, package: Any, location: str, verb: str) -> Problem | None:
        reader = check.reader
        text = reader.render(package) if package is not ABSENT else None
        for candidate in reader.context.expand(text) if text else ():
            model = check.index.catalog.model_for_package_arn(candidate)
            if model is not None and model.gated:
                return Problem(
                    location,
                    f"and {location} {verb} the JumpStart model package {reader.context.display(candidate)}, "
                    "which takes the EULA per request (CustomAttributes: accept_eula=true), something the "
                    "template cannot show",
                    PER_REQUEST_ACCEPTANCE,
                    model,
                    region=literal_region(candidate.split(":")[3] if candidate.count(":") >= 5 else None),
                )
        return None

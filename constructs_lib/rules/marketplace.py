"""EULA005 (warning): a model served through the AWS Marketplace model package of an EULA-gated model."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.artifacts import literal_region
from constructs_lib.rules.base import Check, Problem, Rule, model_containers
from constructs_lib.rules.intrinsics import ABSENT
from constructs_lib.rules.requests import CREATE_MODEL

NONCOMPLIANT_EXAMPLE = """\
Resources:
  MarketplaceLlama:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::123456789012:role/sagemaker-execution
      EnableNetworkIsolation: true
      PrimaryContainer:
        ModelPackageName: arn:aws:sagemaker:us-east-1:865070037744:model-package/llama2-7b-f-v4-71eeccf76ddf33f2a18d2e16b9c7f302
"""  # noqa: E501 (a real ARN or image URI reads better whole)


class GatedMarketplacePackage(Rule):
    id = "EULA005"
    short_description = "SageMaker model serves an EULA-gated model through its AWS Marketplace model package"
    description = (
        "A SageMaker model container names, in ModelPackageName, the AWS Marketplace model package that the "
        "catalog lists for an EULA-gated JumpStart model. Acceptance happens when the account subscribes to the "
        "package in AWS Marketplace, which a template cannot show: a warning, not an error. Make sure the "
        "deploying account has subscribed, or deploy the JumpStart artifact with ModelAccessConfig.AcceptEula."
    )
    severity = "warning"
    kinds = frozenset({CREATE_MODEL})
    surfaces = ("AWS::SageMaker::Model (ModelPackageName)", "CreateModel in custom resources and Step Functions tasks")
    noncompliant_example = NONCOMPLIANT_EXAMPLE
    # A warning can be suppressed per resource, with a reason (constructs_lib/rules/suppressions.py).
    compliant_example = NONCOMPLIANT_EXAMPLE + (
        "    Metadata:\n"
        "      eulagate:\n"
        "        suppress:\n"
        "          - rule: EULA005\n"
        "            reason: the deploying account subscribed to the package in AWS Marketplace\n"
    )

    def check(self, check: Check) -> Iterator[Problem]:
        reader = check.reader
        for container, location in model_containers(check):
            package = reader.field(container, "ModelPackageName")
            text = reader.render(package) if package is not ABSENT else None
            for candidate in reader.context.expand(text) if text else ():
                model = check.index.model_for_package(candidate)
                if model is not None and model.gated:
                    arn = reader.context.display(candidate)
                    yield Problem(
                        f"{location}.ModelPackageName",
                        f"and {location}.ModelPackageName serves it through the AWS Marketplace model package "
                        f"{arn}: acceptance happens with the Marketplace subscription, which the template cannot "
                        "show",
                        "make sure the deploying account has subscribed to the model package in AWS Marketplace "
                        "(accepting its EULA there), or deploy the JumpStart artifact through "
                        "ModelDataSource.S3DataSource with ModelAccessConfig.AcceptEula: true",
                        model,
                        region=literal_region(candidate.split(":")[3] if candidate.count(":") >= 5 else None),
                    )
                    break

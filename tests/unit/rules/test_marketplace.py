"""EULA005 (warning): models served through the AWS Marketplace model package of a gated model."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from tests.unit.rules.builders import ROLE, template
from tests.unit.rules.conftest import LLAMA_CHAT_PACKAGE_ARNS


def package_model(package: Any) -> tuple[str, dict[str, Any]]:
    return "Model", {"Type": "AWS::SageMaker::Model", "Properties": {
        "ExecutionRoleArn": ROLE, "PrimaryContainer": {"ModelPackageName": package}}}


@pytest.mark.parametrize("package", [
    LLAMA_CHAT_PACKAGE_ARNS["us-east-1"],
    LLAMA_CHAT_PACKAGE_ARNS["us-east-1"].replace("us-east-1:865070037744", "ap-south-1:111122223333"),
    {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:985815980388:model-package/"
                "llama2-7b-f-v4-71eeccf76ddf33f2a18d2e16b9c7f302"},
], ids=["listed", "other-region", "region-agnostic"])
def test_gated_marketplace_package_is_a_warning(package: Any, rules_catalog: Catalog) -> None:
    [finding] = check_template(template(package_model(package)), catalog=rules_catalog)
    assert (finding.rule_id, finding.severity) == ("EULA005", "warning")
    assert finding.model_id == "meta-textgeneration-llama-2-7b-f"
    assert "AWS Marketplace model package" in finding.message
    assert "subscribed" in finding.fix


def test_other_packages_are_not_reported(rules_catalog: Catalog) -> None:
    own = "arn:aws:sagemaker:us-east-1:123456789012:model-package/my-group/3"
    assert check_template(template(package_model(own)), catalog=rules_catalog) == []

"""EULA005 (warning): models served through JumpStart's own model packages of a gated model."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from tests.unit.rules.builders import ROLE, template
from tests.unit.rules.conftest import LLAMA_CHAT_PACKAGE_ARNS

LLAMA_2_13B_CHAT = "meta-textgeneration-llama-2-13b-f"


def package_model(package: Any, name: str = "Model") -> tuple[str, dict[str, Any]]:
    return name, {"Type": "AWS::SageMaker::Model", "Properties": {
        "ExecutionRoleArn": ROLE, "PrimaryContainer": {"ModelPackageName": package}}}


def assert_per_request_warning(finding: Any, model_id: str) -> None:
    assert (finding.rule_id, finding.severity, finding.model_id) == ("EULA005", "warning", model_id)
    assert "JumpStart model package" in finding.message and "accept_eula=true" in finding.message
    assert "CustomAttributes: accept_eula=true" in finding.fix
    assert "eulagate invoke --accept-eula" in finding.fix and "constructs_lib.client.runtime" in finding.fix
    assert "Marketplace" not in finding.message + finding.fix


@pytest.mark.parametrize("package", [
    LLAMA_CHAT_PACKAGE_ARNS["us-east-1"],
    LLAMA_CHAT_PACKAGE_ARNS["us-east-1"].replace("us-east-1:865070037744", "ap-south-1:111122223333"),
    {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:985815980388:model-package/"
                "llama2-7b-f-v4-71eeccf76ddf33f2a18d2e16b9c7f302"},
], ids=["listed", "other-region", "region-agnostic"])
def test_a_gated_jumpstart_package_is_a_per_request_warning(package: Any, rules_catalog: Catalog) -> None:
    [finding] = check_template(template(package_model(package)), catalog=rules_catalog)
    assert_per_request_warning(finding, "meta-textgeneration-llama-2-7b-f")


def _llama_2_13b_chat_packages() -> list[tuple[str, str]]:
    spec = Catalog.default().get(LLAMA_2_13B_CHAT)
    return [(region, arn) for region, arns in spec.all_model_package_arns.items() for arn in arns]


@pytest.mark.parametrize(("region", "arn"), _llama_2_13b_chat_packages(), ids=lambda value: value.rsplit("/")[-1])
def test_every_llama_2_13b_chat_package_in_every_region_is_recognised(region: str, arn: str) -> None:
    [finding] = check_template(template(package_model(arn)), catalog=Catalog.default())
    assert_per_request_warning(finding, LLAMA_2_13B_CHAT)
    assert f"jumpstart-cache-prod-{region}.s3.{region}." in finding.message  # the EULA of the package's region


def test_the_catalog_knows_the_packages_of_two_versions_in_six_regions() -> None:
    packages = _llama_2_13b_chat_packages()
    assert len(packages) == 12 and len({region for region, _ in packages}) == 6


def test_other_packages_are_not_reported(rules_catalog: Catalog) -> None:
    own = "arn:aws:sagemaker:us-east-1:123456789012:model-package/my-group/3"
    not_gated = "arn:aws:sagemaker:us-east-1:123456789012:model-package/huggingface-llm-falcon-7b-bf16"
    assert check_template(template(package_model(own), package_model(not_gated, "Falcon")), catalog=rules_catalog) == []


def test_a_model_package_cloned_from_a_gated_jumpstart_package_is_a_per_request_warning() -> None:
    _, arn = _llama_2_13b_chat_packages()[0]
    clone = ("Clone", {"Type": "AWS::SageMaker::ModelPackage", "Properties": {
        "ModelPackageGroupName": "chatbots", "SourceUri": arn}})
    own = ("OwnClone", {"Type": "AWS::SageMaker::ModelPackage", "Properties": {
        "ModelPackageGroupName": "chatbots",
        "SourceUri": "arn:aws:sagemaker:us-east-1:123456789012:model-package/my-group/3"}})
    [finding] = check_template(template(clone, own), catalog=Catalog.default())
    assert finding.logical_id == "Clone"
    assert "Properties.SourceUri clones the JumpStart model package" in finding.message
    assert_per_request_warning(finding, LLAMA_2_13B_CHAT)

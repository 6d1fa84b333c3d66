"""EULA002: SageMaker model packages whose containers load an EULA-gated artifact."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from tests.unit.rules.builders import GATED_URI, IMAGE, MISSING, container, custom_resource, template


def package(**properties: Any) -> tuple[str, dict[str, Any]]:
    return "Package", {"Type": "AWS::SageMaker::ModelPackage",
                       "Properties": {"ModelPackageGroupName": "llama", **properties}}


def specification(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"Containers": list(containers), "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"]}


def test_accepted_containers_pass(rules_catalog: Catalog) -> None:
    document = template(package(InferenceSpecification=specification(container(GATED_URI, True))))
    assert check_template(document, catalog=rules_catalog) == []


@pytest.mark.parametrize(("properties", "where"), [
    ({"InferenceSpecification": specification(container(GATED_URI, MISSING))},
     "Properties.InferenceSpecification.Containers[0].ModelDataSource.S3DataSource.ModelAccessConfig is absent"),
    ({"InferenceSpecification": specification(container("s3://mine/x/", MISSING)),
      "AdditionalInferenceSpecifications": [{"Name": "chat", **specification(container(GATED_URI, False))}]},
     "Properties.AdditionalInferenceSpecifications[0].Containers[0].ModelDataSource.S3DataSource"
     ".ModelAccessConfig.AcceptEula is false"),
    ({"AdditionalInferenceSpecificationsToAdd": [specification(container(GATED_URI, {"Ref": "Accept"}))]},
     "AdditionalInferenceSpecificationsToAdd[0].Containers[0]"),
    ({"InferenceSpecification": specification({"Image": IMAGE, "ModelDataUrl": GATED_URI + "model.tar.gz"})},
     "ModelDataUrl, which cannot carry EULA acceptance"),
], ids=["primary", "additional", "to-add", "model-data-url"])
def test_unaccepted_containers_fail(properties: dict[str, Any], where: str, rules_catalog: Catalog) -> None:
    [finding] = check_template(template(package(**properties)), catalog=rules_catalog)
    assert (finding.rule_id, finding.severity, finding.resource_type) == ("EULA002", "error",
                                                                          "AWS::SageMaker::ModelPackage")
    assert where in finding.message


def test_create_model_package_request_in_a_custom_resource(rules_catalog: Catalog) -> None:
    request = {"ModelPackageGroupName": "llama", "InferenceSpecification": specification(container(GATED_URI, False))}
    [finding] = check_template(template(custom_resource(request)), catalog=rules_catalog)
    assert finding.rule_id == "EULA002"

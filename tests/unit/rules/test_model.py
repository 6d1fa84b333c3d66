"""EULA001: SageMaker models that serve an EULA-gated JumpStart artifact (compliant and non-compliant cases)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import Finding, check_template
from tests.unit.rules.builders import (
    GATED_URI,
    IMAGE,
    LLAMA_7B_CHAT,
    MISSING,
    ROLE,
    container,
    custom_resource,
    model,
    s3_data_source,
    state_machine,
    template,
)


def errors(document: dict[str, Any], catalog: Catalog) -> list[Finding]:
    return [f for f in check_template(document, template_path="t.json", catalog=catalog) if f.severity == "error"]


@pytest.mark.parametrize("accept", [True, "true", {"Fn::Join": ["", ["tr", "ue"]]}, {"Fn::Sub": "true"},
                                    {"Fn::If": ["Cond", True, "true"]}], ids=repr)
def test_provable_acceptance_passes(accept: Any, rules_catalog: Catalog) -> None:
    assert errors(template(model(accept=accept)), rules_catalog) == []


@pytest.mark.parametrize(("accept", "said"), [
    (MISSING, "ModelAccessConfig is absent"),
    (False, "AcceptEula is false"),
    ("false", "AcceptEula is 'false', not true"),
    ("True", "AcceptEula is 'True', not true"),
    ("yes", "AcceptEula is 'yes', not true"),
    (1, "AcceptEula is 1, not true"),
    ({"Ref": "AWS::NoValue"}, "AcceptEula is absent"),
    ({"Ref": "Accept"}, "AcceptEula is a Ref to parameter 'Accept', which is not known before deployment"),
    ({"Fn::GetAtt": ["Settings", "Accept"]}, "AcceptEula is Fn::GetAtt Settings.Accept"),
    ({"Fn::ImportValue": "accept"}, "AcceptEula is an Fn::ImportValue of another stack's output"),
    ({"Fn::Sub": "${Accept}"}, "a Ref to parameter 'Accept'"),
    ({"Fn::If": ["Cond", True, False]}, "AcceptEula is false when condition Cond is false"),
    ({"Fn::If": ["Cond", {"Ref": "AWS::NoValue"}, True]}, "AcceptEula is absent when condition Cond is true"),
], ids=repr)
def test_unprovable_acceptance_is_an_error_that_says_why(accept: Any, said: str, rules_catalog: Catalog) -> None:
    document = template(model(accept=accept), ("Settings", {"Type": "Custom::Settings", "Properties": {}}),
                        Parameters={"Accept": {"Type": "String", "Default": "true"}})
    [finding] = errors(document, rules_catalog)
    assert finding.rule_id == "EULA001"
    assert finding.model_id == LLAMA_7B_CHAT
    assert said in finding.message
    assert "Properties.PrimaryContainer.ModelDataSource.S3DataSource" in finding.message


def test_message_names_model_eula_url_and_fix(rules_catalog: Catalog) -> None:
    uri = GATED_URI.replace("us-east-1", "eu-central-1")
    [finding] = errors(template(model(uri=uri, accept=MISSING)), rules_catalog)
    assert finding.message.startswith(f"{LLAMA_7B_CHAT} (Llama2-7BChat) is EULA-gated")
    expected_url = "https://jumpstart-cache-prod-eu-central-1.s3.eu-central-1.amazonaws.com/fmhMetadata/eula/llamaEula.txt"
    assert finding.eula_url == expected_url
    assert finding.message.endswith(expected_url)
    assert finding.fix == ("After reading the EULA, set Properties.PrimaryContainer.ModelDataSource.S3DataSource"
                           ".ModelAccessConfig.AcceptEula to true.")
    assert (finding.template, finding.logical_id, finding.resource_type) == ("t.json", "Model", "AWS::SageMaker::Model")


def test_cdk_synthesized_resources_get_the_constructs_fix(rules_catalog: Catalog) -> None:
    name, resource = model(accept=False)
    resource["Metadata"] = {"aws:cdk:path": "Endpoints/llama2-chat/Model"}
    [finding] = errors(template((name, resource)), rules_catalog)
    assert "`accept_eula: true` in the model table row" in finding.fix
    assert "accept_eula=True to JumpStartEndpoint" in finding.fix
    assert "ModelAccessConfig.AcceptEula to true" in finding.fix


def test_region_agnostic_uri_gives_a_region_neutral_eula_url(rules_catalog: Catalog) -> None:
    uri = {"Fn::Join": ["", ["s3://jumpstart-private-cache-prod-", {"Ref": "AWS::Region"},
                              f"/meta-textgeneration/{LLAMA_7B_CHAT}/artifacts/inference-prepack/v1.1.0/"]]}
    name, resource = model(uri=uri, accept=MISSING)
    image = {"Fn::Sub": "763104351884.dkr.ecr.${AWS::Region}.amazonaws.com/x"}
    resource["Properties"]["PrimaryContainer"]["Image"] = image
    [finding] = errors(template((name, resource)), rules_catalog)
    assert "us-east-1 copy" in finding.message
    assert finding.eula_url is not None and "us-east-1" in finding.eula_url


def test_every_container_is_checked(rules_catalog: Catalog) -> None:
    public = GATED_URI.replace("jumpstart-private-cache-prod", "jumpstart-cache-prod").replace(
        f"meta-textgeneration/{LLAMA_7B_CHAT}", "huggingface-text2text/huggingface-text2text-flan-t5-xl")
    containers = [container(public, MISSING), container(GATED_URI, True), container(GATED_URI, False)]
    document = template(("Pipeline", {"Type": "AWS::SageMaker::Model",
                                      "Properties": {"ExecutionRoleArn": ROLE, "Containers": containers}}))
    [finding] = errors(document, rules_catalog)
    assert "Properties.Containers[2].ModelDataSource" in finding.message


def test_containers_behind_conditions_are_checked(rules_catalog: Catalog) -> None:
    gated = {"Fn::If": ["UseLlama", container(GATED_URI, MISSING), {"Ref": "AWS::NoValue"}]}
    document = template(("Pipeline", {"Type": "AWS::SageMaker::Model",
                                      "Properties": {"ExecutionRoleArn": ROLE, "Containers": [gated]}}))
    [finding] = errors(document, rules_catalog)
    assert "when condition UseLlama is true" in finding.message


@pytest.mark.parametrize("url", [
    GATED_URI.replace("inference-prepack/v1.1.0/", "model.tar.gz"),
    "s3://jumpstart-private-cache-prod-us-east-1/meta-infer/infer-meta-textgeneration-llama-2-7b-f.tar.gz",
    {"Fn::Sub": "s3://jumpstart-private-cache-prod-${AWS::Region}/meta-infer/infer-meta-textgeneration-llama-2-7b.tar.gz"},
], ids=repr)
def test_gated_artifact_in_model_data_url_is_always_an_error(url: Any, rules_catalog: Catalog) -> None:
    name, resource = model()
    resource["Properties"]["PrimaryContainer"] = {"Image": IMAGE, "ModelDataUrl": url}
    [finding] = errors(template((name, resource)), rules_catalog)
    assert "ModelDataUrl, which cannot carry EULA acceptance" in finding.message
    assert "ModelDataSource.S3DataSource" in finding.fix and "S3Prefix" in finding.fix


def test_additional_model_data_sources_are_checked(rules_catalog: Catalog) -> None:
    name, resource = model(uri="s3://my-adapters/lora/", accept=MISSING)
    resource["Properties"]["PrimaryContainer"]["AdditionalModelDataSources"] = [
        {"ChannelName": "base", "S3DataSource": s3_data_source(GATED_URI, MISSING)}]
    [finding] = errors(template((name, resource)), rules_catalog)
    assert "AdditionalModelDataSources[0].S3DataSource.ModelAccessConfig is absent" in finding.message


@pytest.mark.parametrize("uri", [
    "s3://jumpstart-private-cache-prod-us-east-1/anything/at/all/",
    "s3://jumpstart-private-cache-prod-us-east-1",
    f"https://jumpstart-private-cache-prod-us-east-1.s3.us-east-1.amazonaws.com/meta-textgeneration/{LLAMA_7B_CHAT}/",
    f"https://s3.us-east-1.amazonaws.com/jumpstart-private-cache-prod-us-east-1/meta-textgeneration/{LLAMA_7B_CHAT}/",
    {"Fn::Sub": ["s3://${Bucket}/x/", {"Bucket": "jumpstart-private-cache-prod-us-east-1"}]},
    {"Fn::Sub": "s3://${GatedBucket}/x/"},
    {"Fn::Join": ["/", ["s3:/", {"Fn::FindInMap": ["Buckets", {"Ref": "AWS::Region"}, "Gated"]}, "x"]]},
    # Schemes and host names in any case, a port, legacy s3-<region> hosts: URLs SageMaker's pattern allows.
    "HTTPS://JumpStart-Private-Cache-Prod-US-East-1.S3.Amazonaws.com/x/",
    "https://jumpstart-private-cache-prod-us-east-1.s3.us-east-1.amazonaws.com:443/x/",
    "https://jumpstart-private-cache-prod-us-east-1.s3.dualstack.us-east-1.amazonaws.com/x/",
    "https://s3-us-east-1.amazonaws.com/jumpstart-private-cache-prod-us-east-1/x/",
    "S3://jumpstart-private-cache-prod-us-east-1//x/",
], ids=repr)
def test_anything_in_the_gated_bucket_is_gated(uri: Any, rules_catalog: Catalog) -> None:
    gated_bucket = {"Type": "String", "Default": "jumpstart-private-cache-prod-eu-west-1"}
    document = template(model(uri=uri, accept=MISSING), Parameters={"GatedBucket": gated_bucket},
                        Mappings={"Buckets": {"us-east-1": {"Gated": "jumpstart-private-cache-prod-us-east-1"}}})
    assert [f.rule_id for f in errors(document, rules_catalog)] == ["EULA001"]


@pytest.mark.parametrize("uri", [
    f"s3://my-models/meta-textgeneration/{LLAMA_7B_CHAT}/artifacts/",  # the user's copy: their own weights
    f"s3://not-jumpstart-private-cache-prod-us-east-1/meta-textgeneration/{LLAMA_7B_CHAT}/",
    {"Fn::GetAtt": ["TuningJob", "BestCandidateModelData"]},
    {"Fn::Sub": "s3://${UnknownBucket}/meta-textgeneration/meta-textgeneration-llama-2-7b-f/"},
    "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/huggingface-llm-tinyllama-tinyllama-1-1b-chat-v1-0/",
], ids=repr)
def test_own_weights_and_non_gated_models_pass(uri: Any, rules_catalog: Catalog) -> None:
    document = template(model(uri=uri, accept=MISSING),
                        Parameters={"UnknownBucket": {"Type": "String"}})
    assert errors(document, rules_catalog) == []


@pytest.mark.parametrize("key", [
    "huggingface-llm/huggingface-llm-gemma-7b/artifacts/inference-prepack/v1.0.0/",
    "huggingface-infer/infer-huggingface-llm-gemma-7b.tar.gz",
    "huggingface-infer/prepack/v1.0.0/infer-prepack-huggingface-llm-gemma-7b.tar.gz",  # JumpStart's prepacked name
])
def test_every_key_form_of_a_gated_model_in_the_public_bucket(key: str, rules_catalog: Catalog) -> None:
    document = template(model(uri=f"s3://jumpstart-cache-prod-us-west-2/{key}", accept=MISSING))
    assert [f.model_id for f in errors(document, rules_catalog)] == ["huggingface-llm-gemma-7b"]


@pytest.mark.parametrize("accept", ["TRUE", "True", "yes", "1", 1, " true"], ids=repr)
def test_true_like_values_are_not_acceptance_and_the_message_says_why(accept: Any, rules_catalog: Catalog) -> None:
    [finding] = errors(template(model(accept=accept)), rules_catalog)
    assert 'not true (only the boolean true or the string "true" proves acceptance)' in finding.message


REGION_KEYED = {"Fn::FindInMap": ["Accept", {"Ref": "AWS::Region"}, "Eula"]}


@pytest.mark.parametrize(("rows", "said"), [
    ({"us-east-1": {"Eula": True}, "eu-west-1": {"Eula": "true"}}, None),
    ({"us-east-1": {"Eula": True}, "eu-west-1": {"Eula": False}}, "is false, not true when AWS::Region is 'eu-west-1'"),
    ({"us-east-1": {"Eula": True}, "eu-west-1": {"Eula": ["true"]}}, "which is not known before deployment"),
    ({"us-east-1": {"Eula": True}, "eu-west-1": {"Other": False}}, None),  # no value there: the stack fails
], ids=["every-region-true", "one-region-false", "a-list-value", "region-without-the-key"])
def test_acceptance_looked_up_per_region_must_be_true_in_every_region(
        rows: dict[str, Any], said: str | None, rules_catalog: Catalog) -> None:
    found = errors(template(model(accept=REGION_KEYED), Mappings={"Accept": rows}), rules_catalog)
    assert [f.message for f in found if said is not None and said in f.message] == [f.message for f in found]
    assert len(found) == (0 if said is None else 1)


def test_a_parameter_allowing_only_true_is_acceptance_and_a_default_is_not(rules_catalog: Catalog) -> None:
    """AllowedValues bound what a deployment can pass; a Default can be overridden."""
    bounded = {"Type": "String", "Default": "true", "AllowedValues": ["true"]}
    document = template(model(accept={"Ref": "Accept"}), Parameters={"Accept": bounded})
    assert errors(document, rules_catalog) == []
    defaulted = {"Type": "String", "Default": "true"}
    document = template(model(accept={"Ref": "Accept"}), Parameters={"Accept": defaulted})
    assert [f.rule_id for f in errors(document, rules_catalog)] == ["EULA001"]


def test_the_catalog_decides_for_every_model_in_the_public_bucket(rules_catalog: Catalog) -> None:
    """All 342 index models: gated ones fail without acceptance, the others pass; never by substring."""
    wrong = []
    for spec in rules_catalog:
        uri = f"s3://jumpstart-cache-prod-us-west-2/some-family/{spec.model_id}/artifacts/inference-prepack/v1/"
        found = errors(template(model(uri=uri, accept=MISSING)), rules_catalog)
        if bool(found) != spec.gated or (found and found[0].model_id != spec.model_id):
            wrong.append(spec.model_id)
    assert wrong == []
    assert sum(spec.gated for spec in rules_catalog) >= 60


def test_inference_component_artifact_url_cannot_carry_acceptance(rules_catalog: Catalog) -> None:
    component = {"Type": "AWS::SageMaker::InferenceComponent", "Properties": {
        "EndpointName": "shared", "Specification": {"Container": {
            "Image": IMAGE, "ArtifactUrl": GATED_URI.replace("inference-prepack/v1.1.0/", "model.tar.gz")}}}}
    [finding] = errors(template(("Component", component)), rules_catalog)
    assert "Specification.Container.ArtifactUrl, which cannot carry EULA acceptance" in finding.message
    own = json.loads(json.dumps(component).replace("jumpstart-private-cache-prod-us-east-1", "my-models"))
    assert errors(template(("Component", own)), rules_catalog) == []


def test_create_model_requests_in_custom_resources_and_state_machines(rules_catalog: Catalog) -> None:
    request = {"ModelName": "llama", "ExecutionRoleArn": ROLE, "PrimaryContainer": container(GATED_URI, MISSING)}
    document = template(custom_resource(request),
                        state_machine("arn:aws:states:::sagemaker:createModel", request),
                        state_machine("arn:aws:states:::aws-sdk:sagemaker:createModel",
                                      {**request, "PrimaryContainer": container(GATED_URI, True)}, name="Accepted"))
    assert [(f.rule_id, f.logical_id) for f in errors(document, rules_catalog)] == [
        ("EULA001", "Job"), ("EULA001", "Machine")]


def _component(model_name: Any, condition: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"Type": "AWS::SageMaker::InferenceComponent", "Properties": {
        "EndpointName": "shared", "VariantName": "AllTraffic",
        "Specification": {"ModelName": model_name, "ComputeResourceRequirements": {"MinMemoryRequiredInMb": 1024}}}}
    if condition:
        resource["Condition"] = condition
    return resource


@pytest.mark.parametrize(("model_name", "expected"), [
    ("made-elsewhere", {("Component", "EULA001", "warning")}),
    ({"Fn::ImportValue": "shared-model"}, {("Component", "EULA001", "warning")}),
    ({"Ref": "Llama"}, set()),  # the template's model: judged as itself (accepted here)
    ({"Fn::Join": ["-", ["llama", "accepted"]]}, set()),  # its literal ModelName, however written
    ("LLAMA-ACCEPTED", set()),  # SageMaker names ignore case
])
def test_a_component_is_judged_through_the_model_it_names(model_name: Any, expected: set[Any],
                                                          rules_catalog: Catalog) -> None:
    document = template(model("Llama", accept=True, ModelName="llama-accepted"), ("Component", _component(model_name)))
    findings = check_template(document, catalog=rules_catalog)
    assert {(f.logical_id, f.rule_id, f.severity) for f in findings} == expected
    strict = check_template(document, catalog=rules_catalog, strict=True)
    assert all(f.severity == "error" for f in strict if f.logical_id == "Component")

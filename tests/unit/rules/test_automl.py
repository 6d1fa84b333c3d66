"""EULA003: Autopilot (AutoML V2) jobs that fine-tune an EULA-gated model, wherever the request is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import Finding, check_template
from tests.unit.rules.builders import MISSING, automl_request, custom_resource, state_machine, template


def findings(document: dict[str, Any], catalog: Catalog) -> list[Finding]:
    return check_template(document, template_path="t.json", catalog=catalog)


@pytest.mark.parametrize("resource_type", ["Custom::AutoMLJobV2", "Custom::Anything",
                                           "AWS::CloudFormation::CustomResource"])
def test_custom_resource_request_without_acceptance_fails(resource_type: str, rules_catalog: Catalog) -> None:
    document = template(custom_resource(automl_request(accept=MISSING), resource_type=resource_type))
    [finding] = findings(document, rules_catalog)
    assert (finding.rule_id, finding.model_id) == ("EULA003", "meta-textgeneration-llama-2-7b")
    assert ("Properties.AutoMLProblemTypeConfig.TextGenerationJobConfig.ModelAccessConfig is absent"
            in finding.message)
    assert finding.message.startswith("meta-textgeneration-llama-2-7b (Llama2-7B) is EULA-gated")


@pytest.mark.parametrize("base_model", ["Llama2-7B", "Llama2-7BChat", "Llama2-13B", "Llama2-13BChat",
                                        "llama2-13bchat", "meta-textgeneration-llama-2-7b-f"])
def test_every_gated_base_model_needs_acceptance(base_model: str, rules_catalog: Catalog) -> None:
    document = template(custom_resource(automl_request(base_model, accept=False)))
    assert [f.rule_id for f in findings(document, rules_catalog)] == ["EULA003"]
    accepted = template(custom_resource(automl_request(base_model, accept="true")))
    assert findings(accepted, rules_catalog) == []


@pytest.mark.parametrize("base_model", [MISSING, "Falcon7BInstruct", "Mistral7BInstruct", "Dolly3B", "FlanT5XL",
                                        {"Ref": "AWS::NoValue"}], ids=repr)
def test_models_that_are_not_gated_need_nothing(base_model: Any, rules_catalog: Catalog) -> None:
    document = template(custom_resource(automl_request(base_model, accept=MISSING)),
                        Parameters={"UnknownModel": {"Type": "String"}})
    assert findings(document, rules_catalog) == []


def test_a_base_model_unknown_before_deployment_warns_that_acceptance_cannot_be_proven(
        rules_catalog: Catalog) -> None:
    """A parameter without AllowedValues may name a gated model: never silently clean (strict: an error)."""
    parameters = {"UnknownModel": {"Type": "String", "Default": "Falcon7BInstruct"}}
    document = template(custom_resource(automl_request({"Ref": "UnknownModel"}, accept=MISSING)),
                        Parameters=parameters)
    [finding] = findings(document, rules_catalog)
    assert (finding.rule_id, finding.severity) == ("EULA003", "warning")
    assert finding.message.startswith("The BaseModelName ${UnknownModel} is not known before deployment")
    strict = check_template(document, catalog=rules_catalog, strict=True)
    assert [(f.rule_id, f.severity) for f in strict] == [("EULA003", "error")]
    accepted = template(custom_resource(automl_request({"Ref": "UnknownModel"}, accept=True)), Parameters=parameters)
    assert findings(accepted, rules_catalog) == []


def test_base_model_from_a_parameter_default_counts(rules_catalog: Catalog) -> None:
    document = template(custom_resource(automl_request({"Ref": "Model"}, accept=MISSING)),
                        Parameters={"Model": {"Type": "String", "Default": "Falcon7BInstruct",
                                              "AllowedValues": ["Falcon7BInstruct", "Llama2-13B"]}})
    [finding] = findings(document, rules_catalog)
    assert finding.model_id == "meta-textgeneration-llama-2-13b"


def test_other_problem_types_are_not_text_generation(rules_catalog: Catalog) -> None:
    request = automl_request(accept=MISSING)
    request["AutoMLProblemTypeConfig"] = {"TabularJobConfig": {"TargetAttributeName": "y"}}
    assert findings(template(custom_resource(request)), rules_catalog) == []


def test_request_nested_anywhere_in_properties(rules_catalog: Catalog) -> None:
    name, resource = custom_resource({"Config": {"Jobs": [{"Request": automl_request(accept="false")}]}})
    [finding] = findings(template((name, resource)), rules_catalog)
    assert "Properties.Config.Jobs[0].Request.AutoMLProblemTypeConfig" in finding.message


def test_request_as_a_json_string_property(rules_catalog: Catalog) -> None:
    name, resource = custom_resource({"Request": json.dumps(automl_request(accept=MISSING))})
    [finding] = findings(template((name, resource)), rules_catalog)
    assert "Properties.Request[JSON].AutoMLProblemTypeConfig" in finding.message


def aws_custom_resource(create: Any) -> tuple[str, dict[str, Any]]:
    properties = {"ServiceToken": "arn:aws:lambda:::function:x", "Create": create}
    return "Sdk", {"Type": "Custom::AWS", "Properties": properties}


def test_aws_custom_resource_call_with_tokens(rules_catalog: Catalog) -> None:
    """CDK writes the SDK call as Fn::Join when parameters hold tokens; an unknown may stand where a value goes."""
    before, after = json.dumps({"service": "SageMaker", "action": "createAutoMLJobV2",
                                "parameters": automl_request(accept="@@")}).split('"@@"')
    create = {"Fn::Join": ["", [before, {"Ref": "Accept"}, after]]}
    document = template(aws_custom_resource(create), Parameters={"Accept": {"Type": "String", "Default": "true"}})
    [finding] = findings(document, rules_catalog)
    assert finding.message.startswith("SDK call SageMaker.createAutoMLJobV2: ")
    assert "AcceptEula is a Ref to parameter 'Accept'" in finding.message
    accepted = {"Fn::Join": ["", [before, "true", after]]}
    assert findings(template(aws_custom_resource(accepted)), rules_catalog) == []


@pytest.mark.parametrize("update_key", ["Create", "Update"])
def test_aws_custom_resource_plain_json_calls(update_key: str, rules_catalog: Catalog) -> None:
    call = json.dumps({"service": "@aws-sdk/client-sagemaker", "action": "CreateAutoMLJobV2Command",
                       "parameters": automl_request(accept=MISSING)})
    name, resource = aws_custom_resource("{}")
    resource["Properties"][update_key] = call
    [finding] = findings(template((name, resource)), rules_catalog)
    assert f"Properties.{update_key}[JSON].parameters" in finding.message


@pytest.mark.parametrize("arn", [
    "arn:aws:states:::aws-sdk:sagemaker:createAutoMLJobV2",
    "arn:aws-us-gov:states:::aws-sdk:sagemaker:createAutoMLJobV2",
])
def test_step_functions_task(arn: str, rules_catalog: Catalog) -> None:
    [finding] = findings(template(state_machine(arn, automl_request(accept=MISSING))), rules_catalog)
    assert finding.message.startswith("Step Functions task 'Run' (aws-sdk:sagemaker:createAutoMLJobV2)")
    assert findings(template(state_machine(arn, automl_request(accept=True))), rules_catalog) == []


def test_step_functions_value_from_state_input_is_not_acceptance(rules_catalog: Catalog) -> None:
    request = automl_request(accept=MISSING)
    request["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]["ModelAccessConfig"] = {"AcceptEula.$": "$.ok"}
    [finding] = findings(template(state_machine("arn:aws:states:::aws-sdk:sagemaker:createAutoMLJobV2", request)),
                         rules_catalog)
    assert "read from the state input at run time ($.ok)" in finding.message


def test_step_functions_jsonata_arguments(rules_catalog: Catalog) -> None:
    name, machine = state_machine("arn:aws:states:::aws-sdk:sagemaker:createAutoMLJobV2", {})
    definition = json.loads(machine["Properties"]["DefinitionString"])
    state = definition["States"]["Run"]
    del state["Parameters"]
    state["Arguments"] = automl_request(accept="{% $states.input.accept %}")
    machine["Properties"]["DefinitionString"] = json.dumps(definition)
    [finding] = findings(template((name, machine)), rules_catalog)
    assert "a JSONata expression evaluated at run time" in finding.message


def test_state_machine_tasks_that_do_not_call_sagemaker_are_ignored(rules_catalog: Catalog) -> None:
    document = template(state_machine("arn:aws:states:::lambda:invoke", {"Payload": automl_request(accept=MISSING)}))
    assert findings(document, rules_catalog) == []


def test_eula_url_uses_a_region_the_template_writes_elsewhere(rules_catalog: Catalog) -> None:
    name, resource = custom_resource(automl_request(accept=MISSING))
    resource["Properties"]["ServiceToken"] = "arn:aws:lambda:eu-west-1:123456789012:function:provider"
    [finding] = findings(template((name, resource)), rules_catalog)
    assert finding.eula_url == ("https://jumpstart-cache-prod-eu-west-1.s3.eu-west-1.amazonaws.com/"
                                "fmhMetadata/eula/llamaEula.txt")
    assert "us-east-1 copy" not in finding.message
    resource["Properties"]["ServiceToken"] = {"Fn::Sub": "arn:aws:lambda:${AWS::Region}:123456789012:function:p"}
    [finding] = findings(template((name, resource)), rules_catalog)
    assert "(the us-east-1 copy: the template does not fix its region)" in finding.message

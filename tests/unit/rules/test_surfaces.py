"""Where requests live beyond SageMaker's own resources: run-time expressions, pipelines, schedules, Automation
documents, StackSets, unknown resource types, and JumpStart models the catalog does not know.

The fixtures under tests/fixtures/templates hold a whole template per surface; these tests pin the details."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from constructs_lib.rules.artifacts import GatingFamilies, catalog_index, model_id_in_key
from constructs_lib.rules.evaluation.runtime_values import automation_values, pipeline_values, step_functions_values
from constructs_lib.rules.evaluation.values import TemplateContext
from tests.unit.rules.builders import GATED_URI, MISSING, ROLE, container, custom_resource, model, template
from tests.unit.rules.test_properties import VALUES

CONTEXT_TEMPLATE: dict[str, Any] = {"Resources": {}}


def shown(value: Any) -> str:
    """A rewritten value as a person reads it (tokens as ${...})."""
    context = TemplateContext(CONTEXT_TEMPLATE)
    return context.display(value)


def rewritten(rewrite: Any, value: Any) -> tuple[Any, TemplateContext]:
    context = TemplateContext(CONTEXT_TEMPLATE)
    return rewrite(value, context), context


@pytest.mark.parametrize(("parameters", "expected"), [
    ({"S3Uri.$": "States.Format('s3://jumpstart-private-cache-prod-{}/a/{}/', $.region, 'b')"},
     {"S3Uri": "s3://jumpstart-private-cache-prod-${$.region}/a/b/"}),
    ({"S3Uri.$": "States.Format('s3://x-\\\\{{}\\\\}/{}', States.Format('{}', $.y), $.z)"},
     {"S3Uri": "s3://x-{${$.y}}/${$.z}"}),
    ({"S3Uri.$": "$.uri"}, {"S3Uri": "${$.uri}"}),
    ({"S3Uri": "{% 's3://jumpstart-private-cache-prod-' & $region & '/m/' %}"},
     {"S3Uri": "s3://jumpstart-private-cache-prod-${$region}/m/"}),
    # Functions over literals are evaluated (item 6 of issue 19); over an unknown they stay unknown.
    ({"S3Uri": "{% $join(['a', 'b'], '/') %}"}, {"S3Uri": "a/b"}),
    ({"S3Uri": "{% $join(['a', $states.input.b]) %}"}, {"S3Uri": "${$join(['a', $states.input.b])}"}),
    ({"S3Uri": "{% $lowercase('A') %}"}, {"S3Uri": "${$lowercase('A')}"}),
    ({"Request": "{% {'S3Uri': 's3://' & 'b/' & $states.input.k, 'AcceptEula': true} %}"},
     {"Request": {"S3Uri": "s3://b/${$states.input.k}", "AcceptEula": True}}),
    ({"S3Uri": "{% ($p := 's3://x/'; $p & 'y') %}"}, {"S3Uri": "s3://x/y"}),
    ({"S3Uri": "{% 'unclosed %}"}, {"S3Uri": "${'unclosed}"}),
    ({"List": [{"AcceptEula.$": "$.accept"}]}, {"List": [{"AcceptEula": "${$.accept}"}]}),
])
def test_step_functions_expressions_keep_their_literal_parts(parameters: dict[str, Any],
                                                             expected: dict[str, Any]) -> None:
    value, context = rewritten(step_functions_values, parameters)
    assert json.loads(context.display(json.dumps(value, ensure_ascii=False))) == expected


def test_pipeline_and_automation_values() -> None:
    value, context = rewritten(pipeline_values, {"Uri": {"Std:Join": {"On": "/", "Values": [
        "s3://jumpstart-private-cache-prod-us-east-1", {"Get": "Parameters.Key"}, 3, True]}}, "N": {"Get": "Steps.A"}})
    assert context.display(value["Uri"]) == "s3://jumpstart-private-cache-prod-us-east-1/${Parameters.Key}/3/true"
    assert context.display(value["N"]) == "${Steps.A}"
    value, context = rewritten(automation_values, {"A": ["s3://b-{{ global:REGION }}/{{Key}}", 1]})
    assert context.display(value["A"][0]) == "s3://b-${global:REGION}/${Key}" and value["A"][1] == 1


@pytest.mark.parametrize(("key", "model_id"), [
    ("meta-textgeneration/meta-textgeneration-llama-4-x/artifacts/inference/v1.0.0/", "meta-textgeneration-llama-4-x"),
    ("meta-training/train-meta-textgeneration-llama-4-x.tar.gz", "meta-textgeneration-llama-4-x"),
    ("huggingface-infer/prepack/v1.0.0/infer-prepack-huggingface-llm-new-7b.tar.gz", "huggingface-llm-new-7b"),
    ("training-datasets/sec_amazon/", None),
    ("fmhMetadata/eula/llamaEula.txt", None),
    ("source-directory-tarballs/meta/transfer_learning/textgeneration/v1.0.11/sourcedir.tar.gz", None),
])
def test_model_ids_come_from_jumpstart_key_layouts_only(key: str, model_id: str | None) -> None:
    assert model_id_in_key(key) == model_id


def test_gating_families_come_from_the_catalog_data(rules_catalog: Catalog) -> None:
    families = catalog_index(rules_catalog).model_families
    assert families.gated_family("meta-textgeneration-llama-4-scout-17b") == "meta-textgeneration-llama"
    assert families.gated_family("huggingface-llm-gemma-3-1b-instruct") == "huggingface-llm-gemma"
    assert families.gated_family("meta-textgenerationneuron-llama-3-8b") == "meta"
    assert families.gated_family("deepseek-llm-r1-distill-llama-3-3-70b") is None
    assert families.gated_family("huggingface-llm-brand-new-7b") is None
    assert families.gated_family("vendor-model") is None
    toy = GatingFamilies({"a-b-c": True, "a-b-d": True, "a-x": False}, "-")
    assert toy.gated_family("a-b-z") == "a-b" and toy.gated_family("a-y") is None


def test_a_catalog_that_learns_a_model_is_gated_changes_the_family(rules_catalog: Catalog) -> None:
    # Nothing is hand-written: one gated DeepSeek distillation in the catalog would make its unknown siblings
    # errors too. Here the catalog as shipped keeps them warnings.
    uri = "s3://jumpstart-cache-prod-us-east-1/deepseek-llm/deepseek-llm-r1-distill-llama-9b/artifacts/inference/v1/"
    (finding,) = check_template(template(model(uri=uri, accept=False)), catalog=rules_catalog)
    assert finding.severity == "warning" and "deepseek-llm-r1-distill-llama-9b" in finding.message
    assert "`eulagate models refresh`" in finding.message


def test_a_bag_holding_a_request_nested_in_another_reads_both(rules_catalog: Catalog) -> None:
    inner = {"ExecutionRoleArn": ROLE, "PrimaryContainer": container(GATED_URI, MISSING)}
    outer = {"ExecutionRoleArn": ROLE, "PrimaryContainer": container(GATED_URI, True), "Then": inner}
    findings = check_template(template(custom_resource(outer)), catalog=rules_catalog)
    assert [f.message.split(", but ")[1].split(" is ")[0] for f in findings] == [
        "Properties.Then.PrimaryContainer.ModelDataSource.S3DataSource.ModelAccessConfig"]


def test_a_stack_set_template_reads_its_own_parameters(rules_catalog: Catalog) -> None:
    inner = {"Parameters": {"Accept": {"Type": "String", "AllowedValues": ["true"]}},
             "Resources": dict([model(accept={"Ref": "Accept"})])}
    properties: dict[str, Any] = {"TemplateBody": json.dumps(inner)}
    parameters: dict[str, Any] = {"Accept": {"Type": "String", "AllowedValues": ["false"]}}
    outer = {"Parameters": parameters,
             "Resources": {"Set": {"Type": "AWS::CloudFormation::StackSet", "Properties": properties}}}
    # The inner parameter is read in the inner template: its AllowedValues (only true) bound it, so it accepts
    # (the outer parameter's, only false, would not).
    assert check_template(outer, catalog=rules_catalog) == []
    inner["Parameters"]["Accept"] = {"Type": "String", "Default": "true"}
    properties["TemplateBody"] = json.dumps(inner)
    # A parameter the StackSet does not pass takes its default in every stack instance (an instance can override
    # only the parameters the StackSet specifies)...
    assert check_template(outer, catalog=rules_catalog) == []
    # ... but a default is not a bound when the StackSet passes a value known only at deployment.
    properties["Parameters"] = [{"ParameterKey": "Accept", "ParameterValue": {"Ref": "Accept"}}]
    parameters["Accept"] = {"Type": "String"}
    findings = check_template(outer, catalog=rules_catalog)
    assert [(f.logical_id, f.rule_id) for f in findings] == [("Set", "EULA001")]
    assert "a Ref to parameter 'Accept'" in findings[0].message


def test_stack_sets_nested_too_deeply_are_reported_not_read(rules_catalog: Catalog) -> None:
    body: dict[str, Any] = {"Resources": dict([model(accept=None)])}
    for _ in range(4):
        body = {"Resources": {"Set": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateBody": body}}}}
    findings = check_template(body, catalog=rules_catalog)
    assert [(f.rule_id, f.severity) for f in findings] == [("EULA007", "error")]


NEW_SURFACE_TYPES = st.sampled_from([
    "AWS::SageMaker::Pipeline", "AWS::Scheduler::Schedule", "AWS::CloudFormation::StackSet", "AWS::SSM::Document",
    "AWS::Lambda::Function", "Custom::Anything",
])
TEXT_OR_VALUES = VALUES | st.builds(json.dumps, VALUES) | st.sampled_from([
    "{", "[", '{"Steps": [{"Type": "Training", "Arguments": {"AlgorithmSpecification": 1}}]}',
    '{"mainSteps": [{"action": "aws:executeAwsApi", "inputs": {"Service": "sagemaker", "Api": "CreateModel"}}]}',
    "Resources: {A: {Type: AWS::SageMaker::Model, Properties: {PrimaryContainer: 1}}}",
    "arn:aws:scheduler:::aws-sdk:sagemaker:createModel", "Automation", GATED_URI,
])
SURFACE_KEYS = st.sampled_from([
    "PipelineDefinition", "PipelineDefinitionBody", "PipelineDefinitionS3Location", "Target", "Arn", "Input",
    "TemplateBody", "TemplateURL", "DocumentType", "Content", "Environment", "Steps", "mainSteps", "inputs",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resource_type=NEW_SURFACE_TYPES,
       properties=st.recursive(TEXT_OR_VALUES, lambda children: st.dictionaries(SURFACE_KEYS, children, max_size=4),
                               max_leaves=12))
def test_random_new_surfaces_never_crash(resource_type: str, properties: Any, rules_catalog: Catalog) -> None:
    document = {"Resources": {"R": {"Type": resource_type, "Properties": properties}}}
    for finding in check_template(document, catalog=rules_catalog):
        assert finding.rule_id.startswith("EULA") and finding.message and finding.fix


def test_a_request_nested_deeper_than_the_walk_is_reported_not_passed(rules_catalog: Catalog) -> None:
    deep: Any = {"ExecutionRoleArn": ROLE, "PrimaryContainer": container(GATED_URI, MISSING)}
    for _ in range(50):
        deep = {"Wrapped": deep}
    findings = check_template(template(custom_resource(deep)), catalog=rules_catalog)
    assert [(f.rule_id, f.severity) for f in findings] == [("EULA007", "error")]
    assert "nested more than 40 levels deep" in findings[0].message
    shallow_noise: Any = {"Note": "nothing to see"}
    for _ in range(50):
        shallow_noise = {"Wrapped": shallow_noise}
    assert check_template(template(custom_resource(shallow_noise)), catalog=rules_catalog) == []


@pytest.mark.parametrize("gated_branch", [1, 2])
def test_a_definition_chosen_by_a_condition_is_searched_in_every_branch(gated_branch: int) -> None:
    """Whichever branch of Fn::If holds the unaccepted request, it is found (not only the first branch)."""
    request = {"AutoMLJobName": "j", "RoleArn": "r",
               "AutoMLProblemTypeConfig": {"TextGenerationJobConfig": {"BaseModelName": "Llama2-7B"}}}
    task = json.dumps({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:createAutoMLJobV2", "Parameters": request,
        "End": True}}})
    nothing = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    branches = [task, nothing] if gated_branch == 1 else [nothing, task]
    calls = [json.dumps(request), "{}"] if gated_branch == 1 else ["{}", json.dumps(request)]
    document = {
        "Parameters": {"Stage": {"Type": "String"}},
        "Conditions": {"Tuning": {"Fn::Equals": [{"Ref": "Stage"}, "tune"]}},
        "Resources": {
            "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                "RoleArn": "r", "DefinitionString": {"Fn::If": ["Tuning", *branches]}}},
            "Call": {"Type": "Custom::Call", "Properties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "Create": {"Fn::Join": ["", [{"Fn::If": ["Tuning", *calls]}]]}}},
        },
    }
    findings = check_template(document)
    assert sorted((f.logical_id, f.rule_id, f.severity) for f in findings) == [
        ("Call", "EULA003", "error"), ("Machine", "EULA003", "error")]
    expected = "true" if gated_branch == 1 else "false"
    machine = next(finding for finding in findings if finding.logical_id == "Machine")
    assert f"when condition Tuning is {expected}" in machine.message

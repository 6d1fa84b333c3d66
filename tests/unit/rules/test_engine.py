"""The engine's contract: pure over plain dicts, rule metadata, what it skips, how it reads conditions."""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import RULES, check_template, scan_template
from tests.unit.rules.builders import GATED_URI, MISSING, container, model, template


def test_rules_have_ids_descriptions_and_one_module_each() -> None:
    assert [rule.id for rule in RULES] == [f"EULA{number:03}" for number in range(10)]
    modules = {rule.__module__ for rule in RULES}
    assert len(modules) == len(RULES)
    for rule in RULES:
        assert rule.short_description and len(rule.short_description) < 100
        assert len(rule.description) > len(rule.short_description)
        assert rule.severity in ("error", "warning")
        assert rule.kinds
        source = inspect.getsource(importlib.import_module(rule.__module__))
        assert source.count("(Rule):") == 1
    assert {rule.id: rule.severity for rule in RULES}["EULA005"] == "warning"


def test_check_template_does_not_change_its_input(rules_catalog: Catalog) -> None:
    document = template(model(accept={"Fn::If": ["C", True, False]}), Parameters={"P": {"Type": "String"}})
    before = copy.deepcopy(document)
    assert check_template(document, catalog=rules_catalog)
    assert document == before


def test_default_catalog_and_template_path() -> None:
    [finding] = check_template(template(model(accept=MISSING)), template_path="cdk.out/S.template.json")
    assert finding.template == "cdk.out/S.template.json"


@pytest.mark.parametrize("document", [
    {}, {"Resources": None}, {"Resources": []}, {"Resources": {"A": None, "B": {"Type": 3}, "C": {}}},
    {"Resources": {"M": {"Type": "AWS::SageMaker::Model"}}},
    {"Resources": {"M": {"Type": "AWS::SageMaker::Model", "Properties": "x"}}},
    {"Resources": {"M": {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": []}}}},
], ids=repr)
def test_odd_templates_give_no_findings_and_no_crash(document: dict[str, Any], rules_catalog: Catalog) -> None:
    assert check_template(document, catalog=rules_catalog) == []


def test_scan_counts_resources_and_lists_the_checked_ones(rules_catalog: Catalog) -> None:
    document = template(model(accept=True), ("Bucket", {"Type": "AWS::S3::Bucket"}),
                        ("Job", {"Type": "Custom::Job", "Properties": {}}),
                        ("Config", {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {}}))
    scan = scan_template(document, template_path="t.json", catalog=rules_catalog)
    assert scan.resource_count == 4
    # An endpoint config is read for serverless variants (EULA009); the bucket is read by no rule.
    assert scan.checked == (("Model", "AWS::SageMaker::Model"), ("Job", "Custom::Job"),
                            ("Config", "AWS::SageMaker::EndpointConfig"))
    assert scan.findings == ()


def test_every_combination_of_conditions_is_read(rules_catalog: Catalog) -> None:
    """Acceptance is missing only when A is false, B is true and C is false: the finding says so."""
    accept = {"Fn::If": ["A", True, {"Fn::If": ["B", {"Fn::If": ["C", True, False]}, True]}]}
    [finding] = check_template(template(model(accept=accept)), catalog=rules_catalog)
    assert "when conditions A is false and B is true and C is false" in finding.message


def test_one_finding_per_problem_across_readings(rules_catalog: Catalog) -> None:
    name, resource = model(accept=MISSING)
    resource["Properties"]["EnableNetworkIsolation"] = {"Fn::If": ["X", True, False]}
    resource["Properties"]["PrimaryContainer"]["Image"] = {"Fn::If": ["Y", "a", "b"]}
    findings = check_template(template((name, resource)), catalog=rules_catalog)
    assert len(findings) == 1 and " when " not in findings[0].message


def test_two_containers_with_the_same_model_give_two_findings(rules_catalog: Catalog) -> None:
    document = template(("M", {"Type": "AWS::SageMaker::Model", "Properties": {
        "ExecutionRoleArn": "r", "Containers": [container(accept=False), container(accept=MISSING)]}}))
    assert len(check_template(document, catalog=rules_catalog)) == 2


def test_the_engine_and_cli_load_without_cdk_or_jsii() -> None:
    code = ("import sys, constructs_lib.rules, constructs_lib.synth.templates, constructs_lib.cli.reporters, "
            "constructs_lib.cli.check; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- sound evaluation: conditions as logic, unknowns, limits ------------------------------------------------

OWN_URI = "s3://my-models/llama/fine-tuned/"
ENV = {"Env": {"Type": "String"}}


def _error_ids(document: dict[str, Any], catalog: Catalog, *, strict: bool = False) -> list[tuple[str, str]]:
    return [(f.logical_id, f.rule_id) for f in check_template(document, catalog=catalog, strict=strict)
            if f.severity == "error"]


def test_a_condition_and_its_negation_are_never_both_true(rules_catalog: Catalog) -> None:
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                  "IsNotProd": {"Fn::Not": [{"Condition": "IsProd"}]}}
    document = template(model(uri={"Fn::If": ["IsProd", GATED_URI, OWN_URI]},
                              accept={"Fn::If": ["IsNotProd", False, True]}),
                        Parameters=ENV, Conditions=conditions)
    assert check_template(document, catalog=rules_catalog) == []
    conditions["IsNotProd"] = {"Fn::Equals": [{"Ref": "Env"}, "dev"]}  # prod is not dev: still accepted
    assert check_template(document, catalog=rules_catalog) == []
    conditions["IsNotProd"] = {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    [finding] = check_template(document, catalog=rules_catalog)
    assert finding.rule_id == "EULA001" and "when conditions IsProd is true and IsNotProd is true." in finding.message


def test_a_resource_whose_condition_is_false_is_not_deployed(rules_catalog: Catalog) -> None:
    name, resource = model(accept={"Fn::If": ["IsProd", True, False]})
    resource["Condition"] = "IsProd"
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
    assert check_template(template((name, resource), Parameters=ENV, Conditions=conditions),
                          catalog=rules_catalog) == []


@pytest.mark.parametrize("location", [
    {"Fn::Sub": "s3://${Bucket}/models/llama/"},
    {"Fn::Join": ["", ["s3://", {"Fn::ImportValue": "shared-bucket"}, "/models/"]]},
    {"Fn::GetAtt": ["Settings", "ModelUri"]},
    "{{resolve:ssm:/models/llama}}",
    {"Fn::Sub": "s3://jumpstart-cache-prod-${AWS::Region}/${Bucket}/"},
], ids=repr)
def test_a_location_unknown_before_deployment_warns_and_is_an_error_when_strict(
        location: Any, rules_catalog: Catalog) -> None:
    document = template(model(uri=location, accept=MISSING),
                        ("Settings", {"Type": "Custom::Settings", "Properties": {"ServiceToken": "arn"}}),
                        Parameters={"Bucket": {"Type": "String", "Default": "my-models"}})
    [finding] = check_template(document, catalog=rules_catalog)
    assert (finding.severity, finding.rule_id) == ("warning", "EULA001")
    assert "may be an EULA-gated JumpStart artifact" in finding.message
    assert "acceptance cannot be proven" in finding.message
    assert _error_ids(document, rules_catalog, strict=True) == [("Model", "EULA001")]


@pytest.mark.parametrize("location", [
    {"Fn::Sub": "s3://${Models}/llama/"},  # a bucket this stack creates
    {"Fn::Sub": "s3://${Bucket}/llama/"},  # a parameter bounded to the user's buckets
    {"Fn::Sub": "s3://my-models/${Bucket}/llama/"},  # the bucket is known and the user's
], ids=repr)
def test_a_location_the_template_bounds_to_the_users_buckets_is_no_finding(location: Any,
                                                                          rules_catalog: Catalog) -> None:
    document = template(model(uri=location, accept=MISSING), ("Models", {"Type": "AWS::S3::Bucket"}),
                        Parameters={"Bucket": {"Type": "String", "AllowedValues": ["my-models", "my-copies"]}})
    assert check_template(document, catalog=rules_catalog, strict=True) == []


@pytest.mark.parametrize("location", [
    {"Fn::Select": [{"Ref": "Index"}, [OWN_URI, GATED_URI]]},
    {"Fn::Select": [{"Fn::Length": [1, 2]}, [OWN_URI, OWN_URI, GATED_URI]]},
    {"Fn::Select": [1, {"Fn::Split": [",", f"{OWN_URI},{GATED_URI}"]}]},
    {"Fn::FindInMap": ["Buckets", {"Ref": "AWS::Region"}, "Uri", {"DefaultValue": GATED_URI}]},
    {"Fn::Sub": ["s3://${B}/k/", {"B": {"Fn::FindInMap": ["Buckets", {"Ref": "Env"}, "Bucket"]}}]},
    {"Fn::Select": [0, {"Fn::FindInMap": ["Buckets", "us-east-1", "Uris"]}]},
], ids=repr)
def test_a_computed_location_that_may_be_gated_is_an_error(location: Any, rules_catalog: Catalog) -> None:
    mappings = {"Buckets": {"us-east-1": {"Uri": OWN_URI, "Uris": [GATED_URI], "Bucket": "my-models"},
                            "prod": {"Bucket": "jumpstart-private-cache-prod-us-east-1"}}}
    document = template(model(uri=location, accept=MISSING), Mappings=mappings,
                        Parameters={"Index": {"Type": "Number"}, **ENV})
    assert _error_ids(document, rules_catalog) == [("Model", "EULA001")]


def test_for_each_is_expanded_over_literal_and_unknown_collections(rules_catalog: Catalog) -> None:
    _, resource = model(uri={"Fn::Sub": "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/${Id}/v1/"},
                           accept=MISSING)
    literal = {"Transform": "AWS::LanguageExtensions", "Resources": {"Fn::ForEach::Models": [
        "Id", ["huggingface-llm-gemma-7b", "huggingface-llm-tinyllama-tinyllama-1-1b-chat-v1-0"],
        {"Model&{Id}": resource}]}}
    assert _error_ids(literal, rules_catalog) == [("Modelhuggingfacellmgemma7b", "EULA001")]
    unknown = {**literal, "Parameters": {"Ids": {"Type": "CommaDelimitedList", "Default": "x"}},
               "Resources": {"Fn::ForEach::Models": ["Id", {"Ref": "Ids"}, {"Model${Id}": resource}]}}
    findings = check_template(unknown, catalog=rules_catalog)
    assert [(f.logical_id, f.severity) for f in findings] == [("Model[Id]", "warning")]
    assert _error_ids(unknown, rules_catalog, strict=True) == [("Model[Id]", "EULA001")]


def test_an_exception_in_one_resource_is_a_finding_and_the_others_are_still_checked(
        rules_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from constructs_lib.rules.eula001_model import GatedModelWithoutAcceptance

    original = GatedModelWithoutAcceptance.check

    def breaks_on_boom(self: GatedModelWithoutAcceptance, check: Any) -> Any:
        if "Boom" in check.request:
            raise KeyError("Boom")
        return original(self, check)

    monkeypatch.setattr(GatedModelWithoutAcceptance, "check", breaks_on_boom)
    broken_name, broken = model("Broken", accept=True)
    broken["Properties"]["Boom"] = 1
    findings = check_template(template((broken_name, broken), model(accept=False)), catalog=rules_catalog)
    assert [(f.logical_id, f.rule_id, f.severity) for f in findings] == [
        ("Broken", "EULA000", "error"), ("Model", "EULA001", "error")]
    assert "cannot be evaluated" in findings[0].message and "KeyError" in findings[0].message


def test_more_combinations_than_the_engine_reads_are_reported_not_passed(rules_catalog: Catalog) -> None:
    accept: Any = True
    for number in range(11):  # 2^11 readings
        accept = {"Fn::If": [f"C{number}", accept, accept]}
    findings = check_template(template(model(accept=accept)), catalog=rules_catalog)
    assert [(f.rule_id, f.severity) for f in findings] == [("EULA000", "error")]
    assert "combine in more than 1024 ways" in findings[0].message


def test_a_dynamic_reference_is_not_acceptance(rules_catalog: Catalog) -> None:
    [finding] = check_template(template(model(accept="{{resolve:ssm:/accept-eula}}")), catalog=rules_catalog)
    assert "the dynamic reference {{resolve:ssm:/accept-eula}}" in finding.message


def test_a_state_machine_definition_is_read_afresh_in_each_reading(rules_catalog: Catalog) -> None:
    """The definition's parse is shared between readings only when it depends on none of their choices."""
    request = {"AutoMLJobName": "j", "AutoMLProblemTypeConfig": {"TextGenerationJobConfig": {
        "BaseModelName": "Llama2-7B", "ModelAccessConfig": {"AcceptEula": "ACCEPT"}}}, "RoleArn": "r"}
    definition = json.dumps({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:createAutoMLJobV2",
        "Parameters": request, "End": True}}}).replace('"ACCEPT"', "${Accept}")
    machine = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "RoleArn": "r", "DefinitionString": {"Fn::Sub": [definition, {"Accept": {"Fn::If": [
            "IsProd", {"Fn::If": ["IsProd", "true", "false"]}, {"Ref": "Env"}]}}]}}}
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
    findings = check_template(template(("Machine", machine), Parameters=ENV, Conditions=conditions),
                              catalog=rules_catalog)
    assert [(f.rule_id, f.severity) for f in findings] == [("EULA003", "error")]
    assert "IsProd is false" in findings[0].message


def test_a_state_machine_with_many_tasks_is_parsed_once(rules_catalog: Catalog,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each SageMaker task is a request read on its own; the definition they share is parsed once (it was
    parsed per task, quadratic in the definition's size)."""
    from constructs_lib.rules.evaluation.reader import Reader

    parses = []
    original = Reader.json_text

    def counted(self: Reader, value: Any, substitutions: Any = None) -> str | None:
        parses.append(1)
        return original(self, value, substitutions)

    monkeypatch.setattr(Reader, "json_text", counted)
    states = {f"Train{n}": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                            "Parameters": {"AlgorithmSpecification": {"TrainingImage": "i"}, "RoleArn": "${Role}"},
                            "End": True} for n in range(50)}
    definition = {"Fn::Sub": [json.dumps({"StartAt": "Train0", "States": states}), {"Role": "arn:role"}]}
    machine = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": definition}}
    scan = scan_template(template(("Machine", machine)), catalog=rules_catalog)
    assert scan.findings == () and len(parses) <= 2  # finding the tasks, then reading them: not one per task


def test_strict_makes_every_unknown_an_error_and_leaves_other_warnings(rules_catalog: Catalog) -> None:
    from constructs_lib.synth.templates import load_template

    fixtures = Path(__file__).parents[2] / "fixtures" / "templates" / "good"
    unknown_model = load_template(fixtures / "automl-unknown-base-model.json")
    assert [f.severity for f in check_template(unknown_model, catalog=rules_catalog)] == ["warning"]
    assert [f.severity for f in check_template(unknown_model, catalog=rules_catalog, strict=True)] == ["error"]
    marketplace = load_template(fixtures / "marketplace-model-package.json")  # acceptance lives elsewhere
    assert [f.severity for f in check_template(marketplace, catalog=rules_catalog, strict=True)] == ["warning"]

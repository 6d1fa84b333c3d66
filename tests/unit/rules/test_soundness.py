"""The engine against a concrete CloudFormation evaluator: sound (every violation some deployment can make is
reported) and, where every unknown is bounded by the template, precise (no violation, no error).

See tests/support/cfn_soundness.py for the templates and deployments; bench/soundness.py runs many more.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from tests.support.cfn_concrete import (
    DeployFails,
    Deployment,
    deploy,
    nested_stack_resources,
    parameter_choices,
    stack_set_resources,
)
from tests.support.cfn_models_by_parameter import (
    models_by_parameter,
    nested_errors,
    nested_models_by_parameter,
    nested_violating,
    violating,
)
from tests.support.cfn_soundness import GATED_URI, OWN_URI, reported, templates, violations

SOUNDNESS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRECISION = settings(max_examples=125, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODELS_BY_PARAMETER = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NESTED = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SOUNDNESS
@given(template=templates())
def test_every_violation_a_deployment_can_make_is_reported(template: dict[str, Any], rules_catalog: Catalog) -> None:
    violated = violations(template, rules_catalog).violated
    strict = check_template(template, catalog=rules_catalog, strict=True)
    lenient = check_template(template, catalog=rules_catalog)
    for logical_id in violated:
        assert reported(strict, logical_id, errors_only=True), (logical_id, strict)
        assert reported(lenient, logical_id, errors_only=False), (logical_id, lenient)


@PRECISION
@given(template=templates(bounded=True))
def test_templates_whose_unknowns_are_bounded_give_no_error_without_a_violation(
        template: dict[str, Any], rules_catalog: Catalog) -> None:
    outcome = violations(template, rules_catalog)
    errors = {finding.logical_id for finding in check_template(template, catalog=rules_catalog)
              if finding.severity == "error"}
    assert errors >= outcome.violated
    assert errors - outcome.violated <= outcome.failed  # no error without a violation (where all evaluates)


@MODELS_BY_PARAMETER
@given(template=models_by_parameter(all_accepted=True))
def test_a_model_chosen_by_parameter_accepted_per_model_gives_no_error(template: dict[str, Any],
                                                                      rules_catalog: Catalog) -> None:
    """Precision: every concrete deployment accepts (Fn::If, Fn::FindInMap, Fn::Split pairs, Rules; in a StackSet
    or not), so the engine reports no error."""
    assert violating(template, rules_catalog) == set()
    errors = [finding for finding in check_template(template, catalog=rules_catalog) if finding.severity == "error"]
    assert errors == []


@MODELS_BY_PARAMETER
@given(template=models_by_parameter(all_accepted=False))
def test_a_model_chosen_by_parameter_with_one_gated_model_unaccepted_is_an_error(template: dict[str, Any],
                                                                                rules_catalog: Catalog) -> None:
    """Soundness on the same pattern: the deployment of the unaccepted gated model is found."""
    violated = violating(template, rules_catalog)
    assert violated
    errors = {finding.logical_id for finding in check_template(template, catalog=rules_catalog)
              if finding.severity == "error"}
    assert errors == violated


@NESTED
@given(files=nested_models_by_parameter(all_accepted=True))
def test_a_nested_template_given_correlated_values_every_deployment_accepts_gives_no_error(
        files: dict[str, dict[str, Any]], rules_catalog: Catalog) -> None:
    """Precision: the parents pass the model and its acceptance together, and every deployment accepts."""
    assert nested_violating(files, rules_catalog) == set()
    assert nested_errors(files, rules_catalog) == set()


@NESTED
@given(files=nested_models_by_parameter(all_accepted=False))
def test_a_nested_template_some_parent_deployment_passes_an_unaccepted_gated_model_is_an_error(
        files: dict[str, dict[str, Any]], rules_catalog: Catalog) -> None:
    """Soundness: a gated model some parent deployment passes without acceptance is found in the nested template."""
    violated = nested_violating(files, rules_catalog)
    assert violated == {("serving.json", "Llm")}
    assert nested_errors(files, rules_catalog) == violated


def test_the_concrete_evaluator_deploys_a_nested_template_with_what_its_parent_passes() -> None:
    nested = {"Parameters": {"Model": {"Type": "String", "AllowedValues": ["a", "b"]},
                             "Accept": {"Type": "String", "Default": "false"}},
              "Resources": {"M": {"Type": "T", "Properties": {"Uri": {"Fn::Sub": "${Model}-${AWS::Region}"},
                                                              "Accept": {"Ref": "Accept"}}}}}
    parent = {"Parameters": {"Model": {"Type": "String", "AllowedValues": ["a", "c"]}},
              "Resources": {"N": {"Type": "AWS::CloudFormation::Stack", "Properties": {
                  "TemplateURL": "n.json", "Parameters": {"Model": {"Ref": "Model"}}}}}}
    deployment = Deployment({"Model": "a", "Accept": "true"}, region="eu-west-1")
    [properties] = deploy(parent, deployment).values()
    # The parent's own Accept is not the nested template's: it keeps its Default.
    assert nested_stack_resources(properties, nested, deployment) == {"M": {"Uri": "a-eu-west-1", "Accept": "false"}}
    [properties] = deploy(parent, Deployment({"Model": "c"})).values()
    with pytest.raises(DeployFails, match="AllowedValues"):
        nested_stack_resources(properties, nested, deployment)


def test_the_concrete_evaluator_honours_rules_and_stack_set_templates() -> None:
    inner = {"Parameters": {"Model": {"Type": "String", "AllowedValues": ["a", "b"]},
                            "Accept": {"Type": "String", "AllowedValues": ["true", "false"]}},
             "Rules": {"B": {"RuleCondition": {"Fn::Equals": [{"Ref": "Model"}, "b"]},
                             "Assertions": [{"Assert": {"Fn::Contains": [["true"], {"Ref": "Accept"}]}}]}},
             "Conditions": {"IsA": {"Fn::Equals": ["a", {"Ref": "Model"}]}},
             "Resources": {"OnlyA": {"Type": "T", "Condition": "IsA", "Properties": {"Accept": {"Ref": "Accept"}}}}}
    assert list(parameter_choices(inner)) == [{"Model": m, "Accept": a} for m in "ab" for a in ("true", "false")]
    assert deploy(inner, Deployment({"Model": "a", "Accept": "false"})) == {"OnlyA": {"Accept": "false"}}
    assert deploy(inner, Deployment({"Model": "b", "Accept": "true"})) == {}
    with pytest.raises(DeployFails, match="rule B"):
        deploy(inner, Deployment({"Model": "b", "Accept": "false"}))
    passed = {"TemplateBody": json.dumps(inner), "Parameters": [{"ParameterKey": "Model", "ParameterValue": "a"}]}
    assert stack_set_resources(passed, Deployment({"Model": "b", "Accept": "true"})) == {
        "OnlyA": {"Accept": "true"}}


def test_the_concrete_evaluator_follows_conditions_parameters_and_lookups() -> None:
    template = {
        "Parameters": {"Env": {"Type": "String", "AllowedValues": ["prod", "dev"]},
                       "Uris": {"Type": "CommaDelimitedList"}},
        "Mappings": {"M": {"us-east-1": {"Accept": "true"}}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                       "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]}},
        "Resources": {
            "Kept": {"Type": "T", "Condition": "IsProd", "Properties": {
                "Uri": {"Fn::Select": [1, {"Ref": "Uris"}]},
                "Accept": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Accept"]},
                "Gone": {"Ref": "AWS::NoValue"},
                "Text": {"Fn::Sub": ["${A}-${AWS::Region}-${!x}", {"A": {"Fn::If": ["IsDev", "d", "p"]}}]}}},
            "Dropped": {"Type": "T", "Condition": "IsDev", "Properties": {}},
        },
    }
    deployed = deploy(template, Deployment({"Env": "prod", "Uris": f"{OWN_URI},{GATED_URI}"}))
    assert deployed == {"Kept": {"Uri": GATED_URI, "Accept": "true", "Text": "p-us-east-1-${x}"}}
    # A lookup that finds nothing: that resource is not deployed. A value outside AllowedValues: nothing is.
    assert deploy(template, Deployment({"Env": "prod", "Uris": "a"}, "eu-west-1")) == {}
    with pytest.raises(DeployFails):
        deploy(template, Deployment({"Env": "qa", "Uris": "a"}))


def test_the_concrete_evaluator_expands_for_each() -> None:
    template = {"Resources": {"Fn::ForEach::Models": ["Name", ["a-1", "b"], {"Model&{Name}": {
        "Type": "T", "Properties": {"Uri": {"Fn::Sub": "s3://bucket/${Name}/"}, "Name": {"Ref": "Name"}}}}]}}
    assert deploy(template, Deployment()) == {"Modela1": {"Uri": "s3://bucket/a-1/", "Name": "a-1"},
                                              "Modelb": {"Uri": "s3://bucket/b/", "Name": "b"}}

"""The engine against a concrete CloudFormation evaluator: sound (every violation some deployment can make is
reported) and, where every unknown is bounded by the template, precise (no violation, no error).

See tests/support/cfn_soundness.py for the templates and deployments; bench/soundness.py runs many more.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from tests.support.cfn_concrete import DeployFails, Deployment, deploy
from tests.support.cfn_soundness import GATED_URI, OWN_URI, reported, templates, violations

SOUNDNESS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRECISION = settings(max_examples=125, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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

"""Valuations: the Rules section, structural Fn::ToJsonString, and symmetric equality, read one deployment at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.rules.evaluation.reader import Reader, readings
from constructs_lib.rules.evaluation.values import TemplateContext, has_tokens

PARAMETERS = {
    "Model": {"Type": "String", "AllowedValues": ["open", "gated"]},
    "Accept": {"Type": "String", "AllowedValues": ["true", "false"]},
    "Free": {"Type": "String"},
    "Zones": {"Type": "CommaDelimitedList"},
}


def _refused(rules: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(Model, Accept, refusing rule) of each valuation of the two bounded parameters."""
    context = TemplateContext({"Parameters": PARAMETERS, "Rules": rules})
    seen = []
    for reader in readings(context):
        model, accept = reader.render({"Ref": "Model"}), reader.render({"Ref": "Accept"})
        seen.append((model or "", accept or "", reader.refusing_rule()))
    return sorted(seen)


def test_an_applicable_assertion_that_fails_refuses_the_valuation() -> None:
    rules = {"GatedNeedsAcceptance": {
        "RuleCondition": {"Fn::Equals": ["gated", {"Ref": "Model"}]},
        "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "Accept"}, "true"]}}]}}
    assert _refused(rules) == [("gated", "false", "GatedNeedsAcceptance"), ("gated", "true", None),
                               ("open", "false", None), ("open", "true", None)]


@pytest.mark.parametrize(("assertion", "refused_when_accept_is_false"), [
    ({"Fn::Contains": [["true"], {"Ref": "Accept"}]}, True),
    ({"Fn::Not": [{"Fn::Contains": [["false"], {"Ref": "Accept"}]}]}, True),
    ({"Fn::EachMemberEquals": [[{"Ref": "Accept"}, "true"], "true"]}, True),
    ({"Fn::EachMemberIn": [[{"Ref": "Accept"}], ["true", "yes"]]}, True),
    ({"Fn::Or": [{"Fn::Equals": [{"Ref": "Accept"}, "true"]}, {"Fn::Equals": [{"Ref": "Free"}, "x"]}]}, False),
    ({"Fn::And": [{"Fn::Equals": [{"Ref": "Accept"}, "true"]}, {"Fn::Equals": [{"Ref": "Free"}, "x"]}]}, True),
    ({"Fn::EachMemberIn": [{"Ref": "Zones"}, ["a"]]}, False),
    ({"Fn::ValueOf": ["Free", "Tags"]}, False),
], ids=lambda value: json.dumps(value)[:60])
def test_rule_functions_refuse_only_what_the_valuation_decides(assertion: dict[str, Any],
                                                                refused_when_accept_is_false: bool) -> None:
    """What a valuation leaves open (a free parameter, a list parameter, Fn::ValueOf) refuses nothing."""
    refused = {(model, accept) for model, accept, rule in _refused({"R": {"Assertions": [{"Assert": assertion}]}})
               if rule is not None}
    assert refused == ({("open", "false"), ("gated", "false")} if refused_when_accept_is_false else set())


def test_a_rule_whose_condition_the_valuation_leaves_open_refuses_nothing() -> None:
    rules = {"R": {"RuleCondition": {"Fn::Equals": [{"Ref": "Free"}, "x"]},
                   "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "Accept"}, "true"]}}]}}
    assert all(rule is None for _model, _accept, rule in _refused(rules))


def test_to_json_string_builds_a_partial_document_with_unknowns_in_place() -> None:
    context = TemplateContext({"Parameters": PARAMETERS, "Resources": {"Role": {"Type": "AWS::IAM::Role"}}})
    reader = Reader(context)
    text = reader.render({"Fn::ToJsonString": {
        "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Accept": True, "Gone": {"Ref": "AWS::NoValue"},
        "Items": [1, {"Fn::Sub": "s3://${Free}/k"}], "Model": {"Ref": "Model"}}}) or ""
    document = json.loads(text)
    assert document["Accept"] is True and document["Model"] == "open" and "Gone" not in document
    assert has_tokens(document["Role"]) and document["Items"][0] == 1
    assert context.display(document["Items"][1]) == "s3://${Free}/k"
    # Spliced into JSON text (DefinitionSubstitutions, Fn::Join), the document stays a document.
    spliced = reader.parse_json({"Fn::Join": ["", ['{"Request": ', {"Fn::ToJsonString": {"A": {"Ref": "Free"}}},
                                                   "}"]]})
    assert context.display(spliced["Request"]["A"]) == "${Free}"


def test_equality_of_two_unknowns_is_one_choice_whichever_way_it_is_written() -> None:
    context = TemplateContext({"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String"}},
                               "Conditions": {"AB": {"Fn::Equals": [{"Ref": "A"}, {"Ref": "B"}]},
                                              "BA": {"Fn::Equals": [{"Ref": "B"}, {"Ref": "A"}]}}})
    outcomes = {(reader.choose("AB"), reader.choose("BA")) for reader in readings(context)}
    assert outcomes == {(True, True), (False, False)}

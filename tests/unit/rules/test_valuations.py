"""Valuations: the Rules section, structural Fn::ToJsonString, and symmetric equality, read one deployment at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.rules.evaluation.reader import Reader, readings
from constructs_lib.rules.evaluation.values import (
    DeploymentFails,
    EvaluationLimit,
    PassedValues,
    TemplateContext,
    has_tokens,
)

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
    return sorted(seen, key=str)


def test_an_applicable_assertion_that_fails_refuses_the_valuation() -> None:
    rules = {"GatedNeedsAcceptance": {
        "RuleCondition": {"Fn::Equals": ["gated", {"Ref": "Model"}]},
        "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "Accept"}, "true"]}}]}}
    assert _refused(rules) == [("gated", "false", "GatedNeedsAcceptance"), ("gated", "true", None),
                               ("open", "false", None), ("open", "true", None)]


UNACCEPTED = {("open", "false"), ("gated", "false")}
EVERY = UNACCEPTED | {("open", "true"), ("gated", "true")}


@pytest.mark.parametrize(("assertion", "refused"), [
    ({"Fn::Contains": [["true"], {"Ref": "Accept"}]}, UNACCEPTED),
    ({"Fn::Not": [{"Fn::Contains": [["false"], {"Ref": "Accept"}]}]}, UNACCEPTED),
    ({"Fn::EachMemberEquals": [[{"Ref": "Accept"}, "true"], "true"]}, UNACCEPTED),
    ({"Fn::EachMemberIn": [[{"Ref": "Accept"}], ["true", "yes"]]}, UNACCEPTED),
    # A free parameter compared with a literal is that literal, or none of the literals, per valuation.
    ({"Fn::Or": [{"Fn::Equals": [{"Ref": "Accept"}, "true"]}, {"Fn::Equals": [{"Ref": "Free"}, "x"]}]}, UNACCEPTED),
    ({"Fn::And": [{"Fn::Equals": [{"Ref": "Accept"}, "true"]}, {"Fn::Equals": [{"Ref": "Free"}, "x"]}]}, EVERY),
    ({"Fn::Equals": [{"Ref": "Accept"}, {"Ref": "Free"}]}, set()),
    ({"Fn::EachMemberIn": [{"Ref": "Zones"}, ["a"]]}, set()),
    ({"Fn::ValueOf": ["Free", "Tags"]}, set()),
], ids=lambda value: json.dumps(value)[:60] if isinstance(value, dict) else str(len(value)))
def test_rule_functions_refuse_only_what_the_valuation_decides(assertion: dict[str, Any],
                                                                refused: set[tuple[str, str]]) -> None:
    """What a valuation leaves open (a comparison of unknowns, a list parameter, Fn::ValueOf) refuses nothing."""
    found = {(model, accept) for model, accept, rule in _refused({"R": {"Assertions": [{"Assert": assertion}]}})
             if rule is not None}
    assert found == refused


def test_a_free_parameter_a_rule_pins_to_a_literal_is_that_literal_in_every_deployment() -> None:
    """Rules assert Accept == "true": the valuation where Accept is anything else is refused, and in the other
    one a Ref to Accept reads "true" (so acceptance is proven)."""
    accepted = {"Fn::Equals": [{"Ref": "Accept"}, "true"]}
    context = TemplateContext({"Parameters": {"Accept": {"Type": "String", "Default": "false"}},
                               "Rules": {"R": {"Assertions": [{"Assert": accepted}]}}})
    seen = [(reader.render({"Ref": "Accept"}) == "true", reader.refusing_rule()) for reader in readings(context)]
    assert sorted(seen, key=str) == [(False, "R"), (True, None)]


def test_a_rule_whose_condition_the_valuation_leaves_open_refuses_nothing() -> None:
    rules = {"R": {"RuleCondition": {"Fn::Equals": [{"Ref": "Free"}, {"Fn::GetAtt": ["R", "A"]}]},
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


def _deployed(template: dict[str, Any], value: Any) -> set[str | None]:
    """The texts ``value``, a property of the template's resource, reads as in each valuation of the template that
    deploys (None where it holds an unknown)."""
    context = TemplateContext({**template, "Resources": {"R": {"Type": "T", "Properties": {"V": value}}}})
    found: set[str | None] = set()
    for reader in readings(context):
        try:
            text = reader.render(value)
        except DeploymentFails:
            continue
        found.add(None if text is None or has_tokens(text) else text)
    return found


PARTITION_CONDITIONS = {
    "China": {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws-cn"]},
    "East": {"Fn::Equals": ["us-east-1", {"Ref": "AWS::Region"}]},
    "Suffix": {"Fn::Equals": [{"Ref": "AWS::URLSuffix"}, "amazonaws.com.cn"]},
    "ChinaEast": {"Fn::And": [{"Condition": "China"}, {"Condition": "East"}]},
    "SuffixEast": {"Fn::And": [{"Condition": "Suffix"}, {"Condition": "East"}]},
    "ChinaNotSuffix": {"Fn::And": [{"Condition": "China"}, {"Fn::Not": [{"Condition": "Suffix"}]}]},
    "SuffixNotChina": {"Fn::And": [{"Condition": "Suffix"}, {"Fn::Not": [{"Condition": "China"}]}]},
    "GovSuffix": {"Fn::And": [{"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws-us-gov"]},
                              {"Fn::Equals": [{"Ref": "AWS::URLSuffix"}, "amazonaws.com"]}]},
}


@pytest.mark.parametrize(("condition", "values"), [
    ("ChinaEast", {"no"}),  # us-east-1 is not in aws-cn
    ("SuffixEast", {"no"}),  # nor is its URL suffix amazonaws.com.cn
    ("ChinaNotSuffix", {"no"}),  # aws-cn's suffix is amazonaws.com.cn
    ("SuffixNotChina", {"no"}),  # and amazonaws.com.cn is aws-cn's alone
    ("GovSuffix", {"yes", "no"}),  # amazonaws.com is the suffix of more than one partition
    ("China", {"yes", "no"}),
    ("East", {"yes", "no"}),
])
def test_the_region_partition_and_url_suffix_of_a_valuation_name_one_partition(condition: str,
                                                                               values: set[str]) -> None:
    template = {"Conditions": PARTITION_CONDITIONS}
    assert _deployed(template, {"Fn::If": [condition, "yes", "no"]}) == values


def test_a_lookup_keyed_by_the_region_agrees_with_the_partition_and_the_url_suffix() -> None:
    template = {"Conditions": PARTITION_CONDITIONS,
                "Mappings": {"Accept": {"us-east-1": {"V": "true"}, "cn-north-1": {"V": "false"}}}}
    accept = {"Fn::FindInMap": ["Accept", {"Ref": "AWS::Region"}, "V"]}
    # Outside China, cn-north-1's row is never read; the suffix follows the region.
    assert _deployed(template, {"Fn::If": ["China", "china", accept]}) == {"china", "true"}
    assert _deployed(template, {"Fn::Sub": ["${A}.${AWS::URLSuffix}", {"A": accept}]}) == {
        "true.amazonaws.com", "false.amazonaws.com.cn"}
    # Where the valuation fixes no region, the suffix may be any partition's, or another.
    assert _deployed({}, {"Ref": "AWS::URLSuffix"}) == {None}


def test_valuations_take_what_the_nesting_stacks_pass_together_and_only_for_the_parameters_met() -> None:
    passed = PassedValues(("Model", "Accept"), (("gated", "true"), ("open", "false"), ("open", None)))
    context = TemplateContext({"Parameters": PARAMETERS}, passed)
    both = []
    for reader in readings(context):
        both.append((reader.render({"Ref": "Model"}), reader.render({"Ref": "Accept"})))
    # Never ("gated", "false"): the pairs passed, the free Accept of the last one taking its own AllowedValues.
    assert sorted(both) == [("gated", "true"), ("open", "false"), ("open", "false"), ("open", "true")]
    # A valuation that reads only the model is read once per model passed, not once per pair.
    assert sorted(reader.render({"Ref": "Model"}) or "" for reader in readings(context)) == ["gated", "open"]


def test_a_nested_template_no_parent_deploys_deploys_nothing_and_one_past_the_cap_cannot_be_evaluated() -> None:
    nowhere = TemplateContext({"Parameters": PARAMETERS}, PassedValues(("Model",), ()))
    with pytest.raises(DeploymentFails):
        next(readings(nowhere)).render({"Ref": "Model"})
    capped = TemplateContext({"Parameters": PARAMETERS}, PassedValues(("Model",), (), "too many"))
    with pytest.raises(EvaluationLimit, match="too many"):
        next(readings(capped)).render({"Ref": "Model"})
    free = next(readings(capped)).render({"Ref": "Free"})  # a parameter not passed reads as on its own
    assert free is not None and has_tokens(free)


@pytest.mark.parametrize(("assertion", "allowed"), [
    ({"Fn::EachMemberIn": [{"Ref": "Zones"}, ["open-a", "open-b"]]}, {"open-a", "open-b"}),
    ({"Fn::EachMemberEquals": [{"Ref": "Zones"}, "true"]}, {"true"}),
], ids=["EachMemberIn", "EachMemberEquals"])
def test_a_rule_over_a_free_list_parameter_bounds_the_items_a_valuation_selects(assertion: dict[str, Any],
                                                                              allowed: set[str]) -> None:
    """An item of a list parameter without AllowedValues, selected by a literal index, is one of the literals a
    rule compares every item with, or none of them; the rule refuses the latter, and both selections of one
    index agree."""
    context = TemplateContext({"Parameters": PARAMETERS, "Rules": {"R": {"Assertions": [{"Assert": assertion}]}}})
    deployed = set()
    for reader in readings(context):
        first = reader.render({"Fn::Select": [0, {"Ref": "Zones"}]}) or ""
        assert reader.render({"Fn::Select": ["0", {"Ref": "Zones"}]}) == first
        second = reader.render({"Fn::Select": [1, {"Ref": "Zones"}]}) or ""
        if reader.refusing_rule() is None:
            deployed.add((first, second))
        else:
            assert has_tokens(first) or has_tokens(second)
    assert deployed == {(first, second) for first in allowed for second in allowed}


@pytest.mark.parametrize(("parameter", "positions"), [
    ({"Type": "Number", "Default": 0}, {"a", "b", "c"}),
    ({"Type": "Number", "MinValue": 1, "MaxValue": 1.5}, {"b"}),
    ({"Type": "String", "Default": "0"}, {"a", "b", "c"}),
], ids=["unbounded", "min-max", "string"])
def test_a_parameter_index_without_allowed_values_picks_one_position_everywhere(parameter: dict[str, Any],
                                                                               positions: set[str]) -> None:
    """A free index takes one position of the list per valuation (within MinValue/MaxValue), so two selections
    by it agree: the i-th artifact goes with the i-th acceptance."""
    context = TemplateContext({"Parameters": {"Index": parameter}})
    pairs = set()
    for reader in readings(context):
        pairs.add((reader.render({"Fn::Select": [{"Ref": "Index"}, ["a", "b", "c"]]}),
                   reader.render({"Fn::Select": [{"Ref": "Index"}, ["A", "B", "C"]]})))
    assert pairs == {(position, position.upper()) for position in positions}

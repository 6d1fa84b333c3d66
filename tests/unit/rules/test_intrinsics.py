"""Reading values through intrinsic functions: what the template proves, and what stays unknown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.rules.intrinsics import ABSENT, REGION, Reader, TemplateContext

TEMPLATE = {
    "Parameters": {
        "Bucket": {"Type": "String", "Default": "jumpstart-private-cache-prod-us-east-1"},
        "Flag": {"Type": "String", "AllowedValues": ["a", "b"]},
        "Free": {"Type": "String"},
    },
    "Mappings": {"Regions": {"us-east-1": {"Bucket": "east"}, "eu-west-1": {"Bucket": "west"}}},
    "Resources": {"Role": {"Type": "AWS::IAM::Role"}},
}


def reader(choices: dict[str, bool] | None = None) -> Reader:
    return Reader(TemplateContext(TEMPLATE), choices)


def shown(value: Any, choices: dict[str, bool] | None = None) -> str | None:
    """The value as a person reads it (unknowns as ${...})."""
    r = reader(choices)
    text = r.render(value)
    return None if text is None else r.context.display(text)


@pytest.mark.parametrize(("value", "expected"), [
    ("plain", "plain"),
    (True, "true"),
    (3, "3"),
    ({"Ref": "AWS::NoValue"}, None),
    ({"Ref": "AWS::Region"}, "${AWS::Region}"),
    ({"Ref": "AWS::AccountId"}, "${AWS::AccountId}"),
    ({"Ref": "Bucket"}, "${Bucket}"),
    ({"Ref": "Role"}, "${Role}"),
    ({"Fn::GetAtt": ["Role", "Arn"]}, "${Role.Arn}"),
    ({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}, "c"]]}, "a-${AWS::Region}-c"),
    ({"Fn::Join": ["", ["a", {"Ref": "AWS::NoValue"}, "b"]]}, "ab"),
    ({"Fn::Sub": "s3://${Bucket}/${AWS::Region}/${Role.Arn}/${!Literal}"},
     "s3://${Bucket}/${AWS::Region}/${Role.Arn}/${Literal}"),
    ({"Fn::Sub": ["x-${Name}", {"Name": {"Fn::Join": ["", ["n", "1"]]}}]}, "x-n1"),
    ({"Fn::Select": ["1", ["a", "b"]]}, "b"),
    ({"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]}, "x"),
    ({"Fn::FindInMap": ["Regions", "eu-west-1", "Bucket"]}, "west"),
    ({"Fn::FindInMap": ["Regions", "us-west-2", "Bucket", {"DefaultValue": "fallback"}]}, "fallback"),
    ({"Fn::If": ["C", "yes", "no"]}, "yes"),
    ({"Fn::Base64": "x"}, "${Fn::Base64}"),
], ids=repr)
def test_render(value: Any, expected: str | None) -> None:
    assert shown(value) == expected


def test_if_follows_the_readers_choice_and_records_new_conditions() -> None:
    r = reader({"A": False})
    assert r.render({"Fn::If": ["A", "x", {"Fn::If": ["B", "y", "z"]}]}) == "y"
    assert r.new_conditions == ["B"]
    assert r.condition_note() == "when conditions A is false and B is true"


def test_region_token_keeps_the_shape_of_names() -> None:
    r = reader()
    text = r.render({"Fn::Sub": "jumpstart-private-cache-prod-${AWS::Region}"})
    assert text == "jumpstart-private-cache-prod-" + REGION


def test_expand_uses_parameter_values_and_mapping_values() -> None:
    r = reader()
    assert r.context.expand(r.render({"Fn::Sub": "${Bucket}/k"}) or "") == ["jumpstart-private-cache-prod-us-east-1/k"]
    assert sorted(r.context.expand(r.render({"Ref": "Flag"}) or "")) == ["a", "b"]
    by_region = r.render({"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "Bucket"]}) or ""
    assert sorted(r.context.expand(by_region)) == ["east", "west"]
    free = r.render({"Ref": "Free"}) or ""
    assert r.context.expand(free) == [free]


def test_field_reads_intrinsics_step_functions_paths_and_lower_camel_keys() -> None:
    r = reader({"C": True})
    assert r.field({"Fn::If": ["C", {"Key": 1}, {}]}, "Key") == 1
    assert r.field({"Key": {"Ref": "AWS::NoValue"}}, "Key") is ABSENT
    assert r.field({"key": 2}, "Key") == 2
    assert r.context.display(r.field({"Key.$": "$.input"}, "Key")) == "${$.input}"
    assert r.context.display(r.field({"Ref": "Free"}, "Key")) == "${Free}"


@pytest.mark.parametrize(("container", "problem"), [
    ({"M": {"A": True}}, None),
    ({"M": {"A": "true"}}, None),
    ({}, "x.M is absent"),
    ({"M": {}}, "x.M.A is absent"),
    ({"M": {"Ref": "Free"}}, "x.M is a Ref to parameter 'Free', which is not known before deployment"),
    ({"M": {"A": {"Fn::Join": ["", ["t", {"Ref": "Free"}]]}}},
     "x.M.A is built from a Ref to parameter 'Free', which is not known before deployment"),
    ({"M": {"A": None}}, "x.M.A is null, which is not known before deployment"),
], ids=repr)
def test_acceptance_problem(container: dict[str, Any], problem: str | None) -> None:
    assert reader().acceptance_problem(container, "x", ("M", "A")) == problem


def test_json_text_quotes_unknowns_that_stand_for_values() -> None:
    r = reader()
    parts = ['{"a": "s3://', {"Ref": "Free"}, '/k", "b": ', {"Ref": "Free"}, ', "c": "q\\"', "x", '"}']
    value = {"Fn::Join": ["", parts]}
    document = r.parse_json(value)
    assert r.context.display(document["a"]) == "s3://${Free}/k"
    assert r.context.display(document["b"]) == "${Free}"
    assert document["c"] == 'q"x'


def test_parse_json_applies_definition_substitutions() -> None:
    r = reader()
    document = r.parse_json('{"a": "${Name}", "b": ${Flag}}', {"Name": "n", "Flag": "true"})
    assert document == {"a": "n", "b": True}
    assert r.parse_json("{not json") is ABSENT
    assert r.parse_json({"Fn::GetAtt": ["Role", "Arn"]}) is ABSENT


def test_deep_nesting_is_read_as_unknown_not_a_crash() -> None:
    value: Any = "x"
    for _ in range(500):
        value = {"Fn::Join": ["", [value]]}
    assert shown(value) is not None
    deep_json = reader().parse_json("[" * 100_000 + "]" * 100_000)
    assert deep_json is ABSENT or isinstance(deep_json, list)  # no RecursionError escapes
    assert json.dumps(reader().acceptance_problem({"M": {"A": value}}, "x", ("M", "A")))

"""Reading values through intrinsic functions: what the template proves, and what stays unknown."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.rules.evaluation.reader import Reader, readings
from constructs_lib.rules.evaluation.values import (
    ABSENT,
    REGION,
    DeploymentFails,
    EvaluationLimit,
    TemplateContext,
    parameter_values,
    sub_variables,
)

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
    ({"Fn::Base64": "x"}, "eA=="),
    ({"Fn::Base64": {"Ref": "Free"}}, "${Fn::Base64}"),
    ("s3://b/{{resolve:ssm:/models/key}}", "s3://b/{{resolve:ssm:/models/key}}"),
    ({"Fn::Length": [1, 2, {"Ref": "AWS::NoValue"}]}, "2"),
    ({"Fn::ToJsonString": {"a": [1]}}, '{"a":[1]}'),
    ({"Fn::Select": [{"Ref": "Flag"}, ["x", "y"]]}, "${Fn::Select}"),
    ({"Fn::GetAZs": ""}, "${Fn::GetAZs}"),
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
    """AllowedValues bound a parameter; a Default is one value among any (a deployment can override it)."""
    r = reader()
    bucket = r.render({"Fn::Sub": "${Bucket}/k"}) or ""
    assert r.context.expand(bucket) == ["jumpstart-private-cache-prod-us-east-1/k", bucket]
    by_unknown_key = r.render({"Fn::FindInMap": ["Regions", {"Fn::GetAtt": ["Role", "Arn"]}, "Bucket"]}) or ""
    assert sorted(r.context.expand(by_unknown_key)) == ["east", "west"]
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


def test_deep_nesting_stops_evaluation_rather_than_passing() -> None:
    value: Any = "x"
    for _ in range(500):
        value = {"Fn::Join": ["", [value]]}
    with pytest.raises(EvaluationLimit, match="nested more than 40 deep"):
        shown(value)
    with pytest.raises(EvaluationLimit):
        reader().acceptance_problem({"M": {"A": value}}, "x", ("M", "A"))
    deep_json = reader().parse_json("[" * 100_000 + "]" * 100_000)
    assert deep_json is ABSENT or isinstance(deep_json, list)  # no RecursionError escapes


def test_a_lookup_keyed_by_a_parameter_reads_one_key_per_reading() -> None:
    """Lookups keyed by the region agree within a reading; a region the mapping lacks fails the deployment."""
    by_region = {"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "Bucket"]}
    context = TemplateContext({**TEMPLATE, "Resources": {"Bucket": {"Type": "AWS::S3::Bucket",
                                                                    "Properties": {"BucketName": by_region}}}})
    r = Reader(context)
    assert r.render(by_region) == "east" and r.render({"Ref": "AWS::Region"}) == "us-east-1"
    assert r.new_conditions == ["${AWS::Region}"] and r.alternatives("${AWS::Region}") == ("eu-west-1", None)
    assert Reader(context, {"${AWS::Region}": "eu-west-1"}).render(by_region) == "west"
    with pytest.raises(DeploymentFails):
        Reader(context, {"${AWS::Region}": None}).render(by_region)
    elsewhere = reader()  # a lookup the template does not write (so no key list): any of the mapping's values
    assert sorted(elsewhere.context.expand(elsewhere.render(by_region) or "")) == ["east", "west"]


def test_sub_variables_are_found_in_one_pass_even_without_closing_braces() -> None:
    assert list(sub_variables("a${x}b${!y}${")) == [(1, 5, "x"), (6, 11, "!y")]
    assert list(sub_variables("${" * 100_000)) == []  # was a regex that rescanned the rest for every ${


def test_a_bounded_parameter_takes_one_value_per_valuation_wherever_it_is_referred_to() -> None:
    """A deployment gives a parameter one value: each AllowedValue is read in a valuation of its own, and every
    reference to the parameter in that valuation reads the same value (never a mix)."""
    context = TemplateContext(TEMPLATE)
    seen = []
    for r in readings(context):
        seen.append((r.render({"Fn::Sub": "x-${Flag}"}), r.render({"Ref": "Flag"}), r.condition_note()))
    assert seen == [("x-a", "a", "when Flag is 'a'"), ("x-b", "b", "when Flag is 'b'")]


def test_past_the_limit_of_valuations_evaluation_stops() -> None:
    values = {"Type": "String", "AllowedValues": [str(number) for number in range(20)]}
    context = TemplateContext({"Parameters": {name: values for name in "ABC"}})
    with pytest.raises(EvaluationLimit, match="more than 1024 ways"):
        for r in readings(context):
            r.render({"Fn::Sub": "${A}${B}${C}"})


def test_past_the_limit_of_texts_a_value_may_take_evaluation_stops() -> None:
    context = TemplateContext({"Mappings": {"M": {str(n): {str(m): str(m) for m in range(20)} for n in range(20)}},
                               "Resources": {"R": {"Type": "AWS::IAM::Role"}}})
    unknown = {"Fn::GetAtt": ["R", "Arn"]}
    lookup = {"Fn::FindInMap": ["M", unknown, unknown]}
    text = Reader(context).render({"Fn::Join": ["", [lookup, lookup, lookup]]}) or ""
    with pytest.raises(EvaluationLimit, match="more than 4096 texts"):
        context.expand(text)


@pytest.mark.parametrize(("parameter", "bounded"), [
    ({"Type": "String", "Default": "x"}, ((("x",), False))),
    ({"Type": "String", "AllowedValues": ["a", True, 3]}, (("a", "true", "3"), True)),
    ({"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/name"}, ((), False)),
    ({"Type": "CommaDelimitedList", "Default": "a,b"}, ((), False)),
], ids=repr)
def test_parameter_values_are_bounded_by_allowed_values_only(parameter: dict[str, Any],
                                                             bounded: tuple[tuple[str, ...], bool]) -> None:
    assert parameter_values(parameter) == bounded


def test_an_object_known_only_at_run_time_reads_as_unknown_and_a_wrong_literal_as_absent() -> None:
    r = reader()
    assert r.context.display(r.field("{% $states.input.source %}", "S3Uri")) == "{% $states.input.source %}"
    assert r.context.display(r.path({"Fn::GetAtt": ["Role", "Source"]}, "S3Uri")) == "${Role.Source}"
    assert r.field("not an object", "S3Uri") is ABSENT
    assert r.field([1, 2], "S3Uri") is ABSENT

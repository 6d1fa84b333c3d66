"""Property tests: arbitrary templates never crash the engine; removing provable acceptance always fails."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from tests.unit.rules.builders import (
    GATED_URI,
    automl_request,
    container,
    custom_resource,
    model,
    state_machine,
    template,
    training_request,
)

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARAMETERS = {"Param": {"Type": "String", "Default": "true"},
              "List": {"Type": "CommaDelimitedList", "Default": "true,false"}}
# A region-keyed lookup of Accept may be "false" (eu-west-1); one of AcceptEverywhere is true in every region.
MAPPINGS = {"Map": {
    "us-east-1": {"Accept": "true", "AcceptEverywhere": "true", "Bucket": "jumpstart-private-cache-prod-us-east-1"},
    "eu-west-1": {"Accept": "false", "AcceptEverywhere": True, "Bucket": "jumpstart-private-cache-prod-eu-west-1"},
}}

# -- arbitrary values, intrinsics included ------------------------------------------------------------

INTERESTING_TEXT = st.sampled_from([
    GATED_URI, "true", "false", "s3://jumpstart-private-cache-prod-", "s3://jumpstart-cache-prod-us-east-1/",
    "${AWS::Region}", "${Param}", "${!x}", "${Res.Attr}", "{", '{"PrimaryContainer":', "Llama2-7B", "$.x",
    "{% $states.input %}", "arn:aws:states:::sagemaker:createTrainingJob.sync", "AWS::NoValue", "\ue000",
])
KEYS = st.sampled_from([
    "PrimaryContainer", "Containers", "ModelDataSource", "S3DataSource", "S3Uri", "ModelAccessConfig", "AcceptEula",
    "ModelDataUrl", "ModelPackageName", "AutoMLProblemTypeConfig", "TextGenerationJobConfig", "BaseModelName",
    "AlgorithmSpecification", "InputDataConfig", "DataSource", "Environment", "SageMakerGatedModelS3Uri",
    "accept_eula", "InferenceSpecification", "DefinitionString", "States", "Type", "Resource", "Parameters",
    "Create", "ExecutionRoleArn", "AcceptEula.$", "Fn::If", "Ref",
]) | st.text(max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
           | INTERESTING_TEXT)


def intrinsics(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    names = st.sampled_from(["AWS::Region", "AWS::NoValue", "AWS::AccountId", "Param", "List", "Res"]) | children
    return st.one_of(
        st.builds(lambda name: {"Ref": name}, names),
        st.builds(lambda c, a, b: {"Fn::If": [c, a, b]}, st.sampled_from(["C1", "C2", "C3"]) | children,
                  children, children),
        st.builds(lambda d, items: {"Fn::Join": [d, items]}, children, children),
        st.builds(lambda s: {"Fn::Sub": s}, children),
        st.builds(lambda s, v: {"Fn::Sub": [s, v]}, children, children),
        st.builds(lambda i, items: {"Fn::Select": [i, items]}, children, children),
        st.builds(lambda d, s: {"Fn::Split": [d, s]}, children, children),
        st.builds(lambda *keys: {"Fn::FindInMap": list(keys)}, children, children, children),
        st.builds(lambda v: {"Fn::GetAtt": v}, children),
        st.builds(lambda v: {"Fn::ImportValue": v}, children),
        st.builds(lambda v: {"Fn::Base64": v}, children),
    )


VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4)
    | intrinsics(children),
    max_leaves=25,
)
RESOURCE_TYPES = st.sampled_from([
    "AWS::SageMaker::Model", "AWS::SageMaker::ModelPackage", "AWS::SageMaker::InferenceComponent",
    "Custom::Job", "Custom::AWS", "AWS::CloudFormation::CustomResource", "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::StateMachine", "AWS::S3::Bucket",
])


@PROPERTY_SETTINGS
@given(resources=st.dictionaries(st.text(min_size=1, max_size=8),
                                 st.fixed_dictionaries({"Type": RESOURCE_TYPES, "Properties": VALUES}),
                                 max_size=4),
       parameters=VALUES, mappings=VALUES)
def test_random_templates_never_crash(resources: dict[str, Any], parameters: Any, mappings: Any,
                                      rules_catalog: Catalog) -> None:
    document = {"Parameters": parameters, "Mappings": mappings, "Resources": resources}
    for finding in check_template(document, catalog=rules_catalog):
        assert finding.rule_id.startswith("EULA") and finding.message and finding.fix


# -- accepted requests of every surface, and mutations of them -------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    parent = copied
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return copied


def accepted_model() -> dict[str, Any]:
    return template(model(accept=True), Parameters=PARAMETERS, Mappings=MAPPINGS)


SKELETONS: list[Callable[[], dict[str, Any]]] = [
    accepted_model,
    lambda: template(custom_resource(automl_request(accept="true")), Parameters=PARAMETERS),
    lambda: template(custom_resource(training_request()), Parameters=PARAMETERS),
    lambda: template(state_machine("arn:aws:states:::sagemaker:createTrainingJob.sync", training_request())),
    lambda: template(("Package", {"Type": "AWS::SageMaker::ModelPackage", "Properties": {
        "InferenceSpecification": {"Containers": [container(GATED_URI, True)]}}})),
]


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_edits_of_accepted_requests_never_crash(data: st.DataObject, rules_catalog: Catalog) -> None:
    document = data.draw(st.sampled_from(SKELETONS))()
    path = data.draw(st.sampled_from(_paths(document["Resources"])))
    mutated = {**document, "Resources": _replace(document["Resources"], path, data.draw(VALUES))}
    check_template(mutated, catalog=rules_catalog)


# Where each surface accepts, as (skeleton, path to the AcceptEula value, path to its ModelAccessConfig).
MODEL_ACCEPT = ("Model", "Properties", "PrimaryContainer", "ModelDataSource", "S3DataSource", "ModelAccessConfig")
CHANNEL_ACCEPT = ("Job", "Properties", "InputDataConfig", 1, "DataSource", "S3DataSource", "ModelAccessConfig")
AUTOML_ACCEPT = ("Job", "Properties", "AutoMLProblemTypeConfig", "TextGenerationJobConfig", "ModelAccessConfig")
SURFACES = [
    ("EULA001", accepted_model, MODEL_ACCEPT),
    ("EULA003", lambda: template(custom_resource(automl_request(accept=True)), Parameters=PARAMETERS,
                                 Mappings=MAPPINGS), AUTOML_ACCEPT),
    ("EULA004", lambda: template(custom_resource(training_request()), Parameters=PARAMETERS, Mappings=MAPPINGS),
     CHANNEL_ACCEPT),
]
TOKENS = st.sampled_from([
    {"Ref": "Param"}, {"Fn::GetAtt": ["Res", "Accept"]}, {"Fn::ImportValue": "accept"}, {"Fn::Sub": "${Param}"},
    {"Fn::Select": [0, {"Ref": "List"}]}, {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Accept"]},
    {"Fn::Join": ["", ["tr", {"Ref": "Param"}]]}, {"Ref": "AWS::NoValue"},
])
NOT_TRUE_LEAF = st.one_of(st.just(False), st.none(), st.integers(), st.text(max_size=8).filter(lambda s: s != "true"),
                          TOKENS)


@st.composite
def not_true(draw: st.DrawFn) -> Any:
    """A value that is not provably true: a leaf, reachable through Fn::If branches on distinct conditions."""
    value = draw(NOT_TRUE_LEAF)
    for depth, (leaf_first, other_true) in enumerate(draw(st.lists(st.tuples(st.booleans(), st.booleans()),
                                                                   max_size=3))):
        other = True if other_true else draw(NOT_TRUE_LEAF)
        branches = [value, other] if leaf_first else [other, value]
        value = {"Fn::If": [f"Condition{depth}", *branches]}
    return value


PROVABLY_TRUE = st.recursive(
    st.sampled_from([True, "true", {"Fn::Join": ["", ["tr", "ue"]]}, {"Fn::Sub": "true"},
                     {"Fn::Select": [1, ["false", "true"]]}, {"Fn::FindInMap": ["Map", "us-east-1", "Accept"]},
                     {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "AcceptEverywhere"]}]),
    lambda children: st.builds(lambda c, x, y: {"Fn::If": [c, x, y]}, st.sampled_from(["C1", "C2"]),
                               children, children),
    max_leaves=4,
)


def _rule_ids(document: dict[str, Any], catalog: Catalog) -> list[str]:
    return [f.rule_id for f in check_template(document, catalog=catalog) if f.severity == "error"]


@PROPERTY_SETTINGS
@given(surface=st.sampled_from(SURFACES), value=not_true(), at_config=st.booleans())
def test_removing_provable_acceptance_always_fails(surface: tuple[str, Any, tuple[Any, ...]], value: Any,
                                                  at_config: bool, rules_catalog: Catalog) -> None:
    rule_id, skeleton, config_path = surface
    document = skeleton()
    assert _rule_ids(document, rules_catalog) == []
    path = config_path if at_config and not isinstance(value, bool | int | float) else (*config_path, "AcceptEula")
    mutated = {**document, "Resources": _replace(document["Resources"], path, value)}
    assert rule_id in _rule_ids(mutated, rules_catalog)


@PROPERTY_SETTINGS
@given(surface=st.sampled_from(SURFACES), value=PROVABLY_TRUE)
def test_provably_true_acceptance_in_any_spelling_passes(surface: tuple[str, Any, tuple[Any, ...]], value: Any,
                                                          rules_catalog: Catalog) -> None:
    _rule_id, skeleton, config_path = surface
    document = skeleton()
    mutated = {**document, "Resources": _replace(document["Resources"], (*config_path, "AcceptEula"), value)}
    assert _rule_ids(mutated, rules_catalog) == []


@PROPERTY_SETTINGS
@given(value=st.one_of(st.just(False), st.none(), st.integers(), st.text(max_size=8).filter(lambda s: s != "true")),
       delete=st.booleans(), surface=st.sampled_from(["Custom::AWS", "state machine"]))
def test_removing_acceptance_inside_json_strings_always_fails(value: Any, delete: bool, surface: str,
                                                              rules_catalog: Catalog) -> None:
    request = automl_request(accept=True)
    config = request["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]
    if delete:
        del config["ModelAccessConfig"]
    else:
        config["ModelAccessConfig"]["AcceptEula"] = value
    if surface == "Custom::AWS":
        create = json.dumps({"service": "SageMaker", "action": "createAutoMLJobV2", "parameters": request})
        document = template(("Sdk", {"Type": "Custom::AWS", "Properties": {"Create": create}}))
    else:
        document = template(state_machine("arn:aws:states:::aws-sdk:sagemaker:createAutoMLJobV2", request))
    assert _rule_ids(document, rules_catalog) == ["EULA003"]

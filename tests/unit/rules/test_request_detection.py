"""Request detection (issue 19, items 4 and 6): one list of request names in every SDK casing, documents
decoded as often as they were encoded (within a bound), and Step Functions requests fixed by the definition."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from constructs_lib.rules.detection.decoding import MAX_DECODINGS, Undecodable, decode, looks_like_document
from constructs_lib.rules.detection.request_names import (
    CREATE_AUTOML_JOB_V2,
    CREATE_INFERENCE_COMPONENT,
    CREATE_MODEL,
    integration_action,
    is_sagemaker_service,
    request_kind,
)
from constructs_lib.rules.detection.requests import _mentions_jumpstart, _mentions_request, _part_mentions_request
from constructs_lib.rules.detection.state_flow import MAX_PATHS
from constructs_lib.rules.evaluation.values import key_spellings
from tests.unit.rules.builders import GATED_URI, MISSING, ROLE, container

PROPERTIES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:provider"


@pytest.mark.parametrize("name", ["CreateModel", "createModel", "CreateModelCommand", "create_model"])
def test_every_sdk_casing_names_the_same_request(name: str) -> None:
    assert request_kind(name) == CREATE_MODEL


@pytest.mark.parametrize(("name", "kind"), [
    ("create_auto_ml_job_v2", CREATE_AUTOML_JOB_V2), ("CreateAutoMLJobV2Command", CREATE_AUTOML_JOB_V2),
    ("update_inference_component", CREATE_INFERENCE_COMPONENT), ("createEndpoint", None), ("Create", None),
])
def test_request_kinds_of_other_names(name: str, kind: str | None) -> None:
    assert request_kind(name) == kind


@pytest.mark.parametrize(("resource", "service", "action"), [
    ("arn:aws:states:::sagemaker:createModel", "states", "sagemaker:createModel"),
    ("arn:aws-cn:states:::sagemaker:createTrainingJob.sync", "states", "sagemaker:createTrainingJob.sync"),
    ("arn:aws:states:::aws-sdk:sagemaker:createInferenceComponent", "states",
     "aws-sdk:sagemaker:createInferenceComponent"),
    ("arn:aws:scheduler:::aws-sdk:sagemaker:createModel", "scheduler", "aws-sdk:sagemaker:createModel"),
    ("arn:aws:scheduler:::sagemaker:createModel", "scheduler", None),  # Scheduler has SDK targets only
    ("arn:aws:states:::lambda:invoke", "states", None),
    ("arn:aws:lambda:us-east-1:123456789012:function:sagemaker:createModel", "states", None),
])
def test_integration_names(resource: str, service: str, action: str | None) -> None:
    assert integration_action(resource, service) == action


def test_sagemaker_client_names() -> None:
    assert all(map(is_sagemaker_service, ["SageMaker", "sagemaker", "@aws-sdk/client-sagemaker"]))
    assert not any(map(is_sagemaker_service, ["S3", "SageMakerRuntime", "@aws-sdk/client-s3", None]))


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a": 1}', True), ("[1, 2]", True), ('{"unclosed": ', True), ('"{\\"a\\": 1}"', True),
    ("{{resolve:ssm:/x}}", False), ("{{ Region }}", False), ("{% $x %}", False), ("[draft] note", False),
    ("plain text", False), ('"quoted text"', False),
    # Cut short: a request array or a twice-encoded request that ends early still looks like one.
    ('[{"ModelName": "m", "PrimaryContainer": ', True), ('"{\\"ModelName\\": \\"m', True),
    # Braces without a key-value separator (a format string) hold no mapping in any reading.
    ("{model}-{version}", False), ("{0}", False), ("[INFO] {model}: started", False), ("{level}: {message}", False),
    ("{}", True), ("{ModelName: m, PrimaryContainer: {Image: ", True), ("{'ModelName': 'm'", True),
])
def test_what_looks_like_a_document(text: str, expected: bool) -> None:
    assert looks_like_document(text) is expected


@pytest.mark.parametrize(("key", "spellings"), [
    ("S3DataSource", ("S3DataSource.$", "s3DataSource", "s3_data_source")),
    ("AutoMLProblemTypeConfig",
     ("AutoMLProblemTypeConfig.$", "autoMLProblemTypeConfig", "auto_ml_problem_type_config")),
    ("AcceptEula", ("AcceptEula.$", "acceptEula", "accept_eula")),
])
def test_the_spellings_of_a_request_key(key: str, spellings: tuple[str, str, str]) -> None:
    assert key_spellings(key) == spellings


def test_decoding_stops_at_its_bound() -> None:
    document: Any = {"a": 1}
    for _ in range(MAX_DECODINGS):
        document = json.dumps(document)
    assert decode(document) == {"a": 1}
    with pytest.raises(Undecodable, match="encoded more than"):
        decode(json.dumps(document))
    with pytest.raises(Undecodable, match="cannot be read"):
        decode('{"a": ')


def _call(service: str, action: str, accept: Any) -> dict[str, Any]:
    return {"service": service, "action": action, "physicalResourceId": {"id": "m"},
            "parameters": {"ModelName": "m", "ExecutionRoleArn": ROLE, "PrimaryContainer": container(accept=accept)}}


@PROPERTIES
@given(spelling=st.sampled_from([("SageMaker", "createModel"), ("@aws-sdk/client-sagemaker", "CreateModelCommand"),
                                 ("sagemaker", "create_model"), ("SageMaker", "CreateModel")]),
       accept=st.sampled_from([True, "true", False, MISSING]),
       times=st.integers(min_value=0, max_value=MAX_DECODINGS + 2))
def test_an_sdk_call_is_judged_whatever_its_spelling_and_encoding(
        spelling: tuple[str, str], accept: Any, times: int, rules_catalog: Catalog) -> None:
    """Soundness and precision together: an unaccepted call is an error, an accepted one passes, and one
    encoded past the bound is EULA007 (an error), never a silent pass."""
    value: Any = _call(*spelling, accept)
    for _ in range(times):
        value = json.dumps(value)
    template = {"Resources": {"Call": {"Type": "Custom::AWS", "Properties": {"ServiceToken": TOKEN,
                                                                          "Create": value}}}}
    verdicts = {(f.rule_id, f.severity) for f in check_template(template, catalog=rules_catalog)}
    if times > MAX_DECODINGS + 1:  # one parse, then MAX_DECODINGS more
        assert verdicts == {("EULA007", "error")}
    elif accept in (True, "true"):
        assert verdicts == set()
    else:
        assert verdicts == {("EULA001", "error")}


_COMPONENT = {"InferenceComponentName": "ic", "EndpointName": "ep",
              "Specification": {"Container": {"ArtifactUrl": GATED_URI + "model.tar.gz"}}}


@pytest.mark.parametrize("inner", [
    _COMPONENT,
    {"service": "sagemaker", "action": "createInferenceComponent", "parameters": _COMPONENT},
    {"service": "sagemaker", "action": "createInferenceComponent", "parameters": json.dumps(_COMPONENT)},
], ids=["request", "sdk-call", "sdk-call-json"])
def test_an_inference_component_inside_another_request_is_judged(inner: dict[str, Any],
                                                                 rules_catalog: Catalog) -> None:
    """A part of a request is looked into when it mentions a request key: an inference component's own key
    (``Specification``) counts, as the others do (it was missed inside a CreateModel's parts)."""
    properties = {"ServiceToken": TOKEN, "ModelName": "m", "ExecutionRoleArn": ROLE,
                  "PrimaryContainer": {"Image": "image"}, "Then": {"Component": inner}}
    template = {"Resources": {"Deploy": {"Type": "Custom::Deployer", "Properties": properties}}}
    findings = check_template(template, catalog=rules_catalog)
    assert [(f.rule_id, f.severity) for f in findings] == [("EULA001", "error")]
    assert ".Specification.Container.ArtifactUrl" in findings[0].message


def _machine(definition: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": {"Machine": {"Type": "AWS::StepFunctions::StateMachine",
                                      "Properties": {"RoleArn": ROLE, "DefinitionString": json.dumps(definition)}}}}


def _create_model(parameters: Any, **state: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createModel", "Parameters": parameters,
            "End": True, **state}


REQUEST = {"ModelName": "m", "ExecutionRoleArn": ROLE}
FROM_INPUT = {**REQUEST, "PrimaryContainer.$": "$.request.container"}


@PROPERTIES
@given(accept=st.sampled_from([True, False, MISSING]),
       result_path=st.sampled_from(["$.request", "$.request.inner", "$", None]),
       other_predecessor=st.sampled_from([None, "same", "different", "task"]))
def test_pass_state_literals_flow_into_the_task(accept: Any, result_path: str | None,
                                                other_predecessor: str | None, rules_catalog: Catalog) -> None:
    """A Pass state's Result reaches the task through ResultPath; each path into the task is judged on its own
    (here a path that declines: an error), and a path from a task's result gives an input that is unknown (a
    warning) beside what the Pass state's path fixes: never a pass and never a false error."""
    result: Any = {"container": container(accept=accept)}
    reads = {"$.request": "$.request.container", "$.request.inner": "$.request.inner.container",
             "$": "$.container", None: "$.container"}[result_path]
    states: dict[str, Any] = {
        "Prepare": {"Type": "Pass", "Result": result, "ResultPath": result_path, "Next": "Create"},
        "Create": _create_model({**REQUEST, "PrimaryContainer.$": reads}),
    }
    start = "Prepare"
    if other_predecessor is not None:
        start = "Route"
        states["Route"] = {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Prepare"}],
                           "Default": "Other"}
        if other_predecessor == "task":
            states["Other"] = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Create"}
        else:
            other_accept = accept if other_predecessor == "same" else accept is not True
            states["Other"] = {"Type": "Pass", "Result": {"container": container(accept=other_accept)},
                               "ResultPath": result_path, "Next": "Create"}
    verdicts = {(f.rule_id, f.severity) for f in
                check_template(_machine({"StartAt": start, "States": states}), catalog=rules_catalog)}
    # The Result discarded (ResultPath null): the input is unknown.
    if result_path is None:
        assert verdicts == {("EULA001", "warning")}
    elif other_predecessor == "task":  # the task's result is unknown; the Pass state's path is judged as written
        assert verdicts == {("EULA001", "warning")} | (set() if accept is True else {("EULA001", "error")})
    elif other_predecessor == "different":  # the paths agree on the location; one of them does not accept
        assert verdicts == {("EULA001", "error")}
    elif accept is True:
        assert verdicts == set()
    else:
        assert verdicts == {("EULA001", "error")}


@pytest.mark.parametrize(("arguments", "expected"), [
    # & and $join over literals place the artifact in JumpStart's gated bucket: judged as written.
    ("{% {'ModelName': 'm', 'ExecutionRoleArn': 'r', 'PrimaryContainer': {'Image': 'i', 'ModelDataSource': "
     "{'S3DataSource': {'S3Uri': 's3://jumpstart-private-cache-prod-' & 'us-east-1/' & $join(['meta-textgeneration',"
     " 'meta-textgeneration-llama-2-7b-f', 'artifacts', 'inference-prepack', 'v1.1.0'], '/') & '/', "
     "'S3DataType': 'S3Prefix', 'CompressionType': 'None', 'ModelAccessConfig': {'AcceptEula': true}}}}} %}", set()),
    ("{% {'ModelName': 'm', 'ExecutionRoleArn': 'r', 'PrimaryContainer': {'Image': 'i', 'ModelDataSource': "
     "{'S3DataSource': {'S3Uri': '" + GATED_URI + "', 'S3DataType': 'S3Prefix', 'CompressionType': 'None', "
     "'ModelAccessConfig': {'AcceptEula': $states.input.accept}}}}} %}", {("EULA001", "error")}),
    # Computed whole from the input: not shown (a warning).
    ("{% $states.input.request %}", {("EULA006", "warning")}),
    ("{% {'oops' %}", {("EULA006", "warning")}),
])
def test_jsonata_arguments_are_evaluated_where_literals_fix_them(arguments: str, expected: set[tuple[str, str]],
                                                                  rules_catalog: Catalog) -> None:
    definition = {"QueryLanguage": "JSONata", "StartAt": "Create", "States": {"Create": {
        "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createModel", "Arguments": arguments, "End": True}}}
    assert {(f.rule_id, f.severity) for f in check_template(_machine(definition), catalog=rules_catalog)} == expected


@pytest.mark.parametrize(("assigns", "expected"), [
    ([True], set()),
    ([True, True], set()),
    ([False], {("EULA001", "error")}),
    # The last assignment on the path into the task decides.
    ([True, False], {("EULA001", "error")}),
    ([False, True], set()),
])
def test_a_variable_every_assign_agrees_on_is_known(assigns: list[Any], expected: set[tuple[str, str]],
                                                    rules_catalog: Catalog) -> None:
    states: dict[str, Any] = {}
    for index, accept in enumerate(assigns):
        states[f"Set{index}"] = {"Type": "Pass", "Assign": {"accept": accept},
                                 "Next": f"Set{index + 1}" if index + 1 < len(assigns) else "Create"}
    arguments = {**REQUEST, "PrimaryContainer": container(accept="{% $accept %}")}
    states["Create"] = {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createModel",
                        "Arguments": arguments, "End": True}
    definition = {"QueryLanguage": "JSONata", "StartAt": "Set0", "States": states}
    assert {(f.rule_id, f.severity) for f in check_template(_machine(definition), catalog=rules_catalog)} == expected


def test_paths_that_disagree_on_a_variable_leave_it_unknown(rules_catalog: Catalog) -> None:
    states = {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Accept"}],
                  "Default": "Decline"},
        "Accept": {"Type": "Pass", "Assign": {"accept": True}, "Next": "Create"},
        "Decline": {"Type": "Pass", "Assign": {"accept": False}, "Next": "Create"},
        "Create": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createModel", "End": True,
                   "Arguments": {**REQUEST, "PrimaryContainer": container(accept="{% $accept %}")}},
    }
    definition = {"QueryLanguage": "JSONata", "StartAt": "Route", "States": states}
    verdicts = {(f.rule_id, f.severity) for f in check_template(_machine(definition), catalog=rules_catalog)}
    assert verdicts == {("EULA001", "error")}  # one path declines


def test_paths_into_a_task_are_followed_once_per_state_not_once_per_path(rules_catalog: Catalog) -> None:
    """Forty Choice diamonds make 2**40 paths into the task: each state's data is worked out once (a walk of
    every path would never end). The input is fixed by the first Pass state and passed on unchanged."""
    states: dict[str, Any] = {"Prepare": {"Type": "Pass", "Result": {"container": container(accept=False)},
                                          "Next": "Choose0"}}
    for index in range(40):
        after = f"Choose{index + 1}" if index < 39 else "Create"
        states[f"Choose{index}"] = {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True,
                                                                   "Next": f"Left{index}"}],
                                    "Default": f"Right{index}"}
        states[f"Left{index}"] = {"Type": "Pass", "Next": after}
        states[f"Right{index}"] = {"Type": "Wait", "Seconds": 1, "Next": after}
    states["Create"] = _create_model(FROM_INPUT | {"PrimaryContainer.$": "$.container"})
    definition = {"StartAt": "Prepare", "States": states}
    verdicts = {(f.rule_id, f.severity) for f in check_template(_machine(definition), catalog=rules_catalog)}
    assert verdicts == {("EULA001", "error")}


@pytest.mark.parametrize(("loop_back_to", "expected"), [
    ("Create", set()),  # the loop passes the request on unchanged: still accepted
    ("Decline", {("EULA001", "error")}),  # the way back writes an unaccepted request
])
def test_loops_are_followed_to_a_fixed_point(loop_back_to: str, expected: set[tuple[str, str]],
                                             rules_catalog: Catalog) -> None:
    states = {
        "Prepare": {"Type": "Pass", "Result": {"container": container(accept=True)}, "ResultPath": "$.request",
                    "Next": "Create"},
        "Create": _create_model(FROM_INPUT, ResultPath="$.out", End=None, Next="Again"),
        "Again": {"Type": "Choice", "Choices": [{"Variable": "$.again", "BooleanEquals": True,
                                                 "Next": loop_back_to}], "Default": "Done"},
        "Decline": {"Type": "Pass", "Result": {"container": container(accept=False)}, "ResultPath": "$.request",
                    "Next": "Create"},
        "Done": {"Type": "Succeed"},
    }
    del states["Create"]["End"]
    definition = {"StartAt": "Prepare", "States": states}
    assert {(f.rule_id, f.severity) for f in check_template(_machine(definition), catalog=rules_catalog)} == expected


def test_a_key_only_one_path_writes_may_be_there(rules_catalog: Catalog) -> None:
    """One path fixes a gated, unaccepted S3 location, the other a user's ModelDataUrl: each path's container is
    judged whole, so the gated one is an error (not a warning about a container merged from both)."""
    own = {"Image": "i", "ModelDataUrl": "s3://my-models/model.tar.gz"}
    states = {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Gated"}],
                  "Default": "Own"},
        "Gated": {"Type": "Pass", "Result": container(accept=MISSING), "ResultPath": "$.c", "Next": "Create"},
        "Own": {"Type": "Pass", "Result": own, "ResultPath": "$.c", "Next": "Create"},
        "Create": _create_model({**REQUEST, "PrimaryContainer.$": "$.c"}),
    }
    template = _machine({"StartAt": "Route", "States": states})
    for strict in (False, True):
        assert {(f.rule_id, f.severity) for f in check_template(template, catalog=rules_catalog, strict=strict)} == {
            ("EULA001", "error")}


NOT_GATED_URI = ("s3://jumpstart-cache-prod-us-east-1/huggingface-llm/huggingface-llm-mistral-7b-instruct/artifacts/"
                 "inference-prepack/v2.1.0/")
GEMMA_URI = ("s3://jumpstart-cache-prod-us-east-1/huggingface-llm/huggingface-llm-gemma-7b-instruct/artifacts/"
             "inference-prepack/v1.0.0/")


def _router(containers: list[dict[str, Any]]) -> dict[str, Any]:
    """A Choice over one Pass state per container, each writing it where the task reads it."""
    routes = [f"Route{index}" for index in range(len(containers))]
    states: dict[str, Any] = {
        "Pick": {"Type": "Choice", "Default": routes[0], "Choices": [
            {"Variable": "$.model", "StringEquals": route, "Next": route} for route in routes[1:]]},
        "Create": _create_model({**REQUEST, "PrimaryContainer.$": "$.c"}),
    }
    states.update({route: {"Type": "Pass", "Result": chosen, "ResultPath": "$.c", "Next": "Create"}
                   for route, chosen in zip(routes, containers, strict=True)})
    return _machine({"StartAt": "Pick", "States": states})


@pytest.mark.parametrize(("other", "expected"), [
    # The gated model accepted on one path, a model that is not gated and not accepted on the other: no
    # execution loads a gated artifact without acceptance (merged part by part, it was a location and an
    # acceptance both unknown: a warning).
    (container(uri=NOT_GATED_URI, accept=MISSING), set()),
    # Another gated model unaccepted on the other path: that execution is an error, whatever the first does.
    (container(uri=GEMMA_URI, accept=MISSING), {("EULA001", "error")}),
])
def test_each_path_into_a_task_is_judged_whole(other: dict[str, Any], expected: set[tuple[str, str]],
                                               rules_catalog: Catalog) -> None:
    template = _router([container(accept=True), other])
    assert {(f.rule_id, f.severity) for f in check_template(template, catalog=rules_catalog)} == expected


def test_past_the_paths_kept_apart_the_inputs_are_joined(rules_catalog: Catalog) -> None:
    """More different inputs than are kept apart: what they agree on is kept, the rest is unknown (a warning
    that acceptance cannot be proven), never a pass."""
    def gated(index: int, accept: Any) -> dict[str, Any]:
        return container(uri=f"s3://jumpstart-private-cache-prod-us-east-1/model-{index}/", accept=accept)

    accepted = _router([gated(index, True) for index in range(MAX_PATHS + 1)])
    assert check_template(accepted, catalog=rules_catalog) == []
    one_declines = _router([gated(index, index != 3) for index in range(MAX_PATHS + 1)])
    assert {(f.rule_id, f.severity) for f in check_template(one_declines, catalog=rules_catalog)} == {
        ("EULA001", "warning")}
    kept_apart = _router([gated(index, index != 3) for index in range(MAX_PATHS)])
    assert {(f.rule_id, f.severity) for f in check_template(kept_apart, catalog=rules_catalog)} == {
        ("EULA001", "error")}


def test_a_task_without_arguments_sends_its_input(rules_catalog: Catalog) -> None:
    unknown = {"StartAt": "Create", "States": {"Create": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:createModel", "End": True}}}
    verdicts = {(f.rule_id, f.severity) for f in check_template(_machine(unknown), catalog=rules_catalog)}
    assert verdicts == {("EULA006", "warning")}
    # A Pass state writing one key into the (unknown) input leaves its other keys unknown: still not shown.
    partly = {"StartAt": "Mark", "States": {
        "Mark": {"Type": "Pass", "Result": "x", "ResultPath": "$.marked", "Next": "Create"},
        "Create": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:createModel", "End": True}}}
    verdicts = {(f.rule_id, f.severity) for f in check_template(_machine(partly), catalog=rules_catalog)}
    assert verdicts == {("EULA006", "warning")}


@pytest.mark.parametrize(("task_resource", "declared", "expected"), [
    # A function's ARN (CDK's Provider framework waiter) is never a SageMaker integration: nothing to report.
    ({"Fn::GetAtt": ["Handler", "Arn"]}, "AWS::Lambda::Function", set()),
    ({"Ref": "Handler"}, "AWS::Lambda::Function", set()),
    # A custom resource's attribute is whatever its code returns: the task may call SageMaker with its input.
    ({"Fn::GetAtt": ["Handler", "Arn"]}, "Custom::Lookup", {("Flow", "EULA006")}),
    # An attribute that is not an identifier (a parameter's value) may be any text.
    ({"Fn::GetAtt": ["Handler", "Value"]}, "AWS::SSM::Parameter", {("Flow", "EULA006")}),
])
def test_a_task_resource_that_is_a_resources_identifier_is_not_a_sagemaker_call(
        task_resource: Any, declared: str, expected: set[tuple[str, str]]) -> None:
    definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "${Target}", "End": True}}}
    template = {"Resources": {
        "Handler": {"Type": declared, "Properties": {}},
        "Flow": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": ROLE, "DefinitionString": json.dumps(definition),
            "DefinitionSubstitutions": {"Target": task_resource}}},
    }}
    assert {(f.logical_id, f.rule_id) for f in check_template(template)} == expected


def test_reading_jsonata_leaves_the_interpreters_recursion_limit_alone() -> None:
    # jsonata-python raises the limit to 10,000 when first imported; a fresh interpreter shows whether it stays.
    code = ("import sys; limit = sys.getrecursionlimit()\n"
            "from constructs_lib.rules.evaluation.jsonata_reading import jsonata_value\n"
            "from constructs_lib.rules.evaluation.values import TemplateContext\n"
            "jsonata_value(\"$join(['a', 'b'])\", TemplateContext({}))\n"
            "assert 'jsonata' in sys.modules and sys.getrecursionlimit() == limit, sys.getrecursionlimit()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.returncode == 0, result.stderr


# Pieces of text where a screen of the bytes marshal writes could part from repr's: request words whole, less their
# first letter, and in other spellings; characters repr escapes into letters (\x0c ends in "c", \x1a in "a");
# backslashes and JSON escapes; the two non-ASCII characters that lower-case to ASCII letters; quotes.
_SCREEN_PIECES = ["AutoMLProblemTypeConfig", "utomlproblemtypeconfig", "lgorithm_specification", "ontainers",
                  "Primary_Container", "inferenceSpecification", "\x0c", "\x1a", "\x8a", "\xad", "\u200a", "\ufeff",
                  "\U0001000a", "\udc8a", "\\", "\\u0050", "\\u0061", "u0063", "\u212a", "\u0130", "_", "'", '"',
                  "a", "c", "x", "\n", "\t", "é", "jump", "START"]
_SCREEN_TEXT = st.lists(st.sampled_from(_SCREEN_PIECES), max_size=6).map("".join)
_SCREEN_VALUES = st.recursive(
    st.one_of(_SCREEN_TEXT, st.integers(), st.floats(), st.booleans(), st.none(), st.binary(max_size=4)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_SCREEN_TEXT, children, max_size=3),
    max_leaves=8)


@settings(PROPERTIES, max_examples=400)
@given(value=_SCREEN_VALUES)
@example(value=["\x0containers"]).via("repr writes \\x0c: 'containers'")
@example(value={"\x1automlproblemtypeconfig": 1}).via("repr writes \\x1a: 'automlproblemtypeconfig'")
@example(value=["\\u0050rimary_container", "J\u0130\u212a"])
def test_the_screens_of_marshal_bytes_decide_as_repr_does(value: Any) -> None:
    assert _part_mentions_request(value) == _mentions_request(repr(value))
    assert _mentions_jumpstart(value) == ("jumpstart" in repr(value).lower())

"""The deploy-time hook's handler on resource, stack and change-set requests in the documented format
(CloudFormation Hooks User Guide, "Create Lambda functions to evaluate resources for Lambda Hooks"): verdicts,
messages, annotations, and every way a request can fail to be evaluated (always InternalFailure, never a pass).

Stack and change-set payloads are served over HTTPS by an S3 stand-in this module starts on 127.0.0.1; what the
download itself refuses (hosts, redirects, deadlines, sizes) is in test_hook_payload.py.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.hook import handler as hook_handler
from constructs_lib.hook.handler import MAX_CLOUD_CONTROL_MESSAGE, MAX_MESSAGE, handle
from constructs_lib.hook.payload import DOWNLOAD_FAILED, download_payload
from constructs_lib.rules import check_template
from tests.support.https_payloads import REGION, PayloadServer, payload_server

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "examples" / "hook-events"
LLAMA_URI = ("s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-7b-f/"
             "artifacts/inference-prepack/v1.1.0/")
LLAMA_EULA = "https://jumpstart-cache-prod-us-east-1.s3.us-east-1.amazonaws.com/fmhMetadata/eula/llamaEula.txt"
FIXTURES = ROOT / "tests" / "fixtures" / "templates"


# --- an S3 stand-in: HTTPS on 127.0.0.1 (tests/support/https_payloads.py) ----------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayloadServer]:
    with payload_server(tmp_path_factory.mktemp("tls")) as payloads:
        yield payloads


def fetch(server: PayloadServer, **limits: Any) -> Callable[[str], Mapping[str, Any]]:
    """The production download through the test seam: the test CA, every host's connection to ``server``."""
    return functools.partial(download_payload, region=REGION, connector=server.connector, **limits)


# --- events in the documented shapes -----------------------------------------------------------------------------

def model_properties(*, accept: Any = None, uri: str = LLAMA_URI) -> dict[str, Any]:
    source: dict[str, Any] = {"S3Uri": uri, "S3DataType": "S3Prefix", "CompressionType": "None"}
    if accept is not None:
        source["ModelAccessConfig"] = {"AcceptEula": accept}
    return {"ExecutionRoleArn": "arn:aws:iam::123456789012:role/model",
            "PrimaryContainer": {"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0",
                                 "ModelDataSource": {"S3DataSource": source}}}


def resource_event(properties: Any, *, target: str = "AWS::SageMaker::Model", point: str = "CREATE_PRE_PROVISION",
                   cloud_control: bool = False) -> dict[str, Any]:
    return {
        "clientRequestToken": "token-1",
        "awsAccountId": "123456789012",
        "stackId": "" if cloud_control else "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "hookTypeName": "EulaGate::Eula::Guard",
        "hookTypeVersion": "00000001",
        "hookModel": {"LambdaFunction": "arn:aws:lambda:us-east-1:123456789012:function:f"},
        "actionInvocationPoint": point,
        "requestData": {"targetName": target, "targetType": "RESOURCE" if cloud_control else target,
                        "targetLogicalId": "Llama", "targetModel": {"resourceProperties": properties}},
        "requestContext": {"invocation": 1, "callbackContext": None},
    }


def stack_event(url: str, *, kind: str = "STACK", point: str = "CREATE_PRE_PROVISION") -> dict[str, Any]:
    # The guide's stack and change-set syntax spells the token clientRequesttoken and the stack stackID.
    return {
        "clientRequesttoken": "token-2",
        "awsAccountId": "123456789012",
        "stackID": "arn:aws:cloudformation:us-east-1:123456789012:stack/llama/1",
        "changeSetId": "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cs/1" if kind == "CHANGE_SET" else None,
        "hookTypeName": "EulaGate::Eula::GuardStack",
        "hookTypeVersion": "00000001",
        "hookModel": {"LambdaFunction": "arn:aws:lambda:us-east-1:123456789012:function:f"},
        "actionInvocationPoint": point,
        "requestData": {"targetName": kind, "targetType": kind, "targetLogicalId": "llama", "payload": url},
        "requestContext": {"invocation": 1, "callbackContext": None},
    }


def model_template(count: int = 1, *, accept: Any = None) -> dict[str, Any]:
    return {"Resources": {f"Model{index}": {"Type": "AWS::SageMaker::Model",
                                             "Properties": model_properties(accept=accept)}
                          for index in range(count)}}


def assert_internal_failure(response: dict[str, Any], token: str, reason: str) -> None:
    assert response["hookStatus"] == "FAILED"
    assert response["errorCode"] == "InternalFailure"
    assert response["clientRequestToken"] == token
    assert "\n" not in response["message"]
    assert reason in response["message"], response["message"]


# --- resource operations -----------------------------------------------------------------------------------------

def test_unaccepted_llama2_model_fails_non_compliant_naming_model_eula_and_fix() -> None:
    response = handle(resource_event(model_properties()))
    assert response["hookStatus"] == "FAILED"
    assert response["errorCode"] == "NonCompliant"
    assert response["clientRequestToken"] == "token-1"
    message = response["message"]
    assert len(message) < MAX_MESSAGE
    assert "meta-textgeneration-llama-2-7b-f (Llama2-7BChat)" in message
    assert LLAMA_EULA in message
    assert "Fix: After reading the EULA, set Properties.PrimaryContainer.ModelDataSource.S3DataSource." \
           "ModelAccessConfig.AcceptEula to true." in message
    (annotation,) = response["annotations"]
    assert annotation == {
        "annotationName": "EULA001:Llama", "status": "FAILED", "severityLevel": "HIGH",
        "statusMessage": annotation["statusMessage"], "remediationMessage": annotation["remediationMessage"],
        "remediationLink": LLAMA_EULA,
    }
    assert annotation["remediationMessage"].endswith("AcceptEula to true.")


@pytest.mark.parametrize("accept", [True, "true"])
def test_accepted_llama2_model_succeeds(accept: Any) -> None:
    response = handle(resource_event(model_properties(accept=accept)))
    assert response == {"hookStatus": "SUCCESS", "clientRequestToken": "token-1",
                        "message": response["message"]}
    assert response["message"].startswith("EulaGate: compliant: 1 of 1 resource(s)")


@pytest.mark.parametrize("accept", [False, "false", "yes"])
def test_anything_but_true_is_not_acceptance(accept: Any) -> None:
    response = handle(resource_event(model_properties(accept=accept)))
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "NonCompliant")


def test_own_weights_are_never_a_finding() -> None:
    response = handle(resource_event(model_properties(uri="s3://my-bucket/fine-tuned/llama/output/model/")))
    assert response["hookStatus"] == "SUCCESS"


def test_marketplace_package_warning_is_an_annotation_on_success() -> None:
    template = json.loads((FIXTURES / "good" / "marketplace-model-package.json").read_text())
    properties = template["Resources"]["MarketplaceLlama"]["Properties"]
    response = handle(resource_event(properties))
    assert response["hookStatus"] == "SUCCESS"
    assert "errorCode" not in response
    (annotation,) = response["annotations"]
    assert annotation["annotationName"] == "EULA005:Llama"
    assert annotation["severityLevel"] == "LOW"
    assert "1 warning(s)" in response["message"] and "EULA005 warning Llama" in response["message"]


def test_model_package_and_inference_component_targets_are_evaluated() -> None:
    package = {"InferenceSpecification": {"Containers": [{
        "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0",
        "ModelDataSource": {"S3DataSource": {"S3Uri": LLAMA_URI, "S3DataType": "S3Prefix",
                                             "CompressionType": "None"}}}],
        "SupportedContentTypes": ["application/json"], "SupportedResponseMIMETypes": ["application/json"]}}
    response = handle(resource_event(package, target="AWS::SageMaker::ModelPackage"))
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "NonCompliant")
    assert response["annotations"][0]["annotationName"] == "EULA002:Llama"
    component = {"EndpointName": "e", "Specification": {"Container": {"ArtifactUrl": LLAMA_URI + "model.tar.gz"},
                                                        "ComputeResourceRequirements": {"MinMemoryRequiredInMb": 1}}}
    response = handle(resource_event(component, target="AWS::SageMaker::InferenceComponent"))
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "NonCompliant")


def test_a_type_the_rules_do_not_read_passes_and_says_so() -> None:
    response = handle(resource_event({"BucketName": "b"}, target="AWS::S3::Bucket"))
    assert response["hookStatus"] == "SUCCESS"
    assert "the EULA rules read no AWS::S3::Bucket resource" in response["message"]


def test_deletion_passes_without_properties() -> None:
    event = resource_event(None, point="DELETE_PRE_PROVISION")
    response = handle(event)
    assert response["hookStatus"] == "SUCCESS"
    assert "a deletion deploys nothing" in response["message"]


def test_cloud_control_request_keeps_its_message_within_1024_characters() -> None:
    properties = model_properties()
    container = properties.pop("PrimaryContainer")
    properties["Containers"] = [copy.deepcopy(container) for _ in range(6)]
    response = handle(resource_event(properties, cloud_control=True))
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "NonCompliant")
    assert len(response["annotations"]) == 6
    assert len(response["message"]) <= MAX_CLOUD_CONTROL_MESSAGE
    assert "Llama2-7BChat" in response["message"]
    assert response["message"].endswith("more finding(s): see the hook's annotations")
    # The same request through CloudFormation has 4,096 characters: all six fit.
    response = handle(resource_event(properties))
    assert response["message"].count("EULA001 error") == 6 and len(response["message"]) <= MAX_MESSAGE


# --- stack and change-set operations -----------------------------------------------------------------------------

def test_stack_payload_fails_an_unaccepted_template(server: PayloadServer) -> None:
    template = (EVENTS / "stack-llama2-tuning.template.yaml").read_text()
    url = server.serve("/stack/payload.json", {"template": template, "previousTemplate": ""})
    response = handle(stack_event(url), fetch_payload=fetch(server))
    assert response["clientRequestToken"] == "token-2"
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "NonCompliant")
    assert [a["annotationName"] for a in response["annotations"]] == ["EULA003:SupportTuning"]
    assert "in stack llama." in response["message"] and "Llama2-7B" in response["message"]
    assert "secret" not in json.dumps(response)


def test_stack_payload_many_findings_fit_4096_characters(server: PayloadServer) -> None:
    url = server.serve("/stack/many.json", {"template": json.dumps(model_template(40))})
    response = handle(stack_event(url), fetch_payload=fetch(server))
    assert len(response["annotations"]) == 40
    assert len(response["message"]) <= MAX_MESSAGE
    shown = response["message"].count("EULA001 error")
    assert 1 <= shown < 40
    assert response["message"].endswith(f"... and {40 - shown} more finding(s): see the hook's annotations")


def test_stack_payload_accepted_template_succeeds(server: PayloadServer) -> None:
    url = server.serve("/stack/accepted.json", {"template": json.dumps(model_template(3, accept=True))})
    response = handle(stack_event(url, point="UPDATE_PRE_PROVISION"), fetch_payload=fetch(server))
    assert response["hookStatus"] == "SUCCESS"
    assert response["message"].startswith("EulaGate: compliant: 3 of 3 resource(s) in stack llama")


def test_stack_payload_honours_a_warnings_suppression_and_never_an_errors(server: PayloadServer) -> None:
    template = json.loads((FIXTURES / "good" / "marketplace-model-package.json").read_text())
    suppression = {"eulagate": {"suppress": [{"rule": "EULA005", "reason": "subscribed (ticket OPS-1)"},
                                             {"rule": "EULA001", "reason": "ignored: errors stay errors"}]}}
    template["Resources"]["MarketplaceLlama"]["Metadata"] = suppression
    unaccepted = model_template(1)
    unaccepted["Resources"]["Model0"]["Metadata"] = suppression
    template["Resources"].update(unaccepted["Resources"])
    url = server.serve("/stack/suppressed.json", {"template": json.dumps(template)})
    response = handle(stack_event(url), fetch_payload=fetch(server))
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "NonCompliant")
    assert [a["annotationName"] for a in response["annotations"]] == ["EULA001:Model0"]
    assert "cannot be suppressed" in response["message"]


def test_a_stack_payload_suppressing_an_unknown_rule_is_refused(server: PayloadServer) -> None:
    template = model_template(1, accept=True)
    template["Resources"]["Model0"]["Metadata"] = {"eulagate": {"suppress": [{"rule": "EULA05", "reason": "x"}]}}
    url = server.serve("/stack/unknown-rule.json", {"template": json.dumps(template)})
    assert_internal_failure(handle(stack_event(url), fetch_payload=fetch(server)), "token-2",
                            "suppresses unknown rule 'EULA05' in Metadata.eulagate.suppress; did you mean 'EULA005'?")


def test_change_set_payload(server: PayloadServer) -> None:
    payload = {"template": json.dumps(model_template(1)), "changedResources": [{
        "action": "CREATE", "beforeContext": None, "lineNumber": 3, "logicalResourceId": "Model0",
        "resourceType": "AWS::SageMaker::Model",
        "afterContext": json.dumps({"Properties": model_properties()})}]}
    url = server.serve("/change-set/payload.json", payload)
    response = handle(stack_event(url, kind="CHANGE_SET"), fetch_payload=fetch(server))
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "NonCompliant")
    assert "in change set llama." in response["message"]


def test_stack_deletion_with_an_empty_template_passes(server: PayloadServer) -> None:
    url = server.serve("/stack/deleted.json", {"template": "", "previousTemplate": ""})
    response = handle(stack_event(url, point="DELETE_PRE_PROVISION"), fetch_payload=fetch(server))
    assert response["hookStatus"] == "SUCCESS"


# --- failures: InternalFailure with a one-line reason, never a pass ----------------------------------------------

@pytest.mark.parametrize(("event", "token", "reason"), [
    ([], "", "the event is a list, not a JSON object"),
    ({"actionInvocationPoint": "CREATE_PRE_PROVISION"}, "", "no clientRequestToken"),
    ({"clientRequestToken": "t", "actionInvocationPoint": "SOMETIME"}, "t", "actionInvocationPoint is 'SOMETIME'"),
    ({"clientRequestToken": "t", "actionInvocationPoint": "CREATE_PRE_PROVISION"}, "t", "no requestData object"),
    ({"clientRequestToken": "t", "actionInvocationPoint": "CREATE_PRE_PROVISION", "requestData": {}}, "t",
     "requestData.targetName is missing"),
    ({"clientRequestToken": "t", "actionInvocationPoint": "CREATE_PRE_PROVISION",
      "requestData": {"targetName": "AWS::SageMaker::Model"}}, "t", "requestData.targetModel is missing"),
    ({"clientRequestToken": "t", "actionInvocationPoint": "CREATE_PRE_PROVISION",
      "requestData": {"targetName": "AWS::SageMaker::Model", "targetModel": {"resourceProperties": []}}}, "t",
     "resourceProperties is not an object"),
    ({"clientRequestToken": "t", "actionInvocationPoint": "CREATE_PRE_PROVISION",
      "requestData": {"targetName": "AWS::SageMaker::Model", "targetModel": {}}}, "t",
     "resourceProperties is missing"),
    ({"clientRequestToken": "t", "actionInvocationPoint": "CREATE_PRE_PROVISION",
      "requestData": {"targetName": "STACK"}}, "t", "requestData.payload is missing"),
])
def test_malformed_events(event: Any, token: str, reason: str) -> None:
    assert_internal_failure(handle(event), token, reason)


def stuck(*args: Any, **kwargs: Any) -> Any:
    """An evaluation that never ends by itself."""
    while True:
        time.sleep(0.05)


def assert_download_failed(response: dict[str, Any]) -> None:
    """The answer names no outcome (refused, unreachable, slow, status, size): the same words for all."""
    assert_internal_failure(response, "token-2", DOWNLOAD_FAILED)
    assert response["message"] == f"EulaGate could not evaluate the request: {DOWNLOAD_FAILED}"


@pytest.mark.parametrize("url", [
    "http://cf-templates-payloads.s3.us-east-1.amazonaws.com/payload.json",  # not https
    "https://169.254.169.254/latest/meta-data/",  # not S3
    "https://127.0.0.1:9001/2018-06-01/runtime/invocation/next",  # the Lambda Runtime API
    "file:///etc/passwd",
    "https://bucket.s3.amazonaws.com/payload.json?X-Amz-Signature=sec\nret",  # control characters
    "https://bucket.s3.amazonaws.com:99999/payload.json",  # a malformed port
])
def test_a_url_the_hook_may_not_fetch_is_refused_with_the_same_words(server: PayloadServer, url: str) -> None:
    before = len(server.requests)
    assert_download_failed(handle(stack_event(url), fetch_payload=fetch(server)))
    assert len(server.requests) == before  # refused before connecting


@pytest.mark.parametrize("path,body,status", [
    ("/denied.json", b"<Error>AccessDenied</Error>", 403),
    ("/html.json", b"<html></html>", 200),
    ("/list.json", b"[1, 2]", 200),
])
def test_an_unusable_answer_is_the_same_internal_failure(server: PayloadServer, path: str, body: bytes,
                                                         status: int) -> None:
    response = handle(stack_event(server.serve(path, body, status=status)), fetch_payload=fetch(server))
    assert_download_failed(response)
    assert "secret" not in json.dumps(response) and "403" not in response["message"]


def test_a_payload_without_a_template_or_resources(server: PayloadServer) -> None:
    url = server.serve("/empty.json", {"template": ""})
    assert_internal_failure(handle(stack_event(url), fetch_payload=fetch(server)), "token-2",
                            "the STACK payload of llama holds no template")
    url = server.serve("/bad-yaml.json", {"template": "Resources:\n  A: [unclosed\n"})
    assert_internal_failure(handle(stack_event(url), fetch_payload=fetch(server)), "token-2",
                            "stack llama: malformed YAML at line")
    url = server.serve("/no-resources.json", {"template": json.dumps({"Outputs": {}})})
    assert_internal_failure(handle(stack_event(url), fetch_payload=fetch(server)), "token-2",
                            "no Resources section")


def test_an_unreachable_payload_is_the_same_internal_failure(server: PayloadServer) -> None:
    def closed_port(_address: tuple[str, int], timeout: float, _source: Any = None) -> socket.socket:
        return socket.create_connection(("127.0.0.1", 9), timeout)

    closed = functools.partial(download_payload, region=REGION,
                               connector=dataclasses.replace(server.connector, create_connection=closed_port))
    assert_download_failed(handle(stack_event(server.url("/x.json")), fetch_payload=closed))


def test_an_evaluation_past_its_deadline_is_an_internal_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hook_handler, "scan_template", stuck)
    response = handle(resource_event(model_properties()), deadline=0.3)
    assert_internal_failure(response, "token-1", "the evaluation took over 0.3 s and was stopped")
    assert response["message"].startswith("EulaGate could not evaluate the request:")


def test_the_deadline_crosses_the_engines_per_resource_exception_handling(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine turns an Exception while reading a resource into an EULA000 finding and goes on; the deadline
    must not be one of those: a stuck resource stops the whole evaluation, which answers FAILED."""
    from constructs_lib.rules import engine

    monkeypatch.setattr(engine, "_subject_problems", stuck)
    response = handle(resource_event(model_properties()), deadline=0.3)
    assert_internal_failure(response, "token-1", "the evaluation took over 0.3 s and was stopped")


def test_a_swallowed_deadline_fires_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Code that catches everything (``except BaseException``) still cannot keep the evaluation running."""
    swallowed: list[str] = []

    def stubborn(*args: Any, **kwargs: Any) -> Any:
        while True:
            try:
                time.sleep(0.05)
            except BaseException as error:  # what the deadline must survive
                if swallowed:
                    raise
                swallowed.append(type(error).__name__)

    monkeypatch.setattr(hook_handler, "scan_template", stubborn)
    response = handle(resource_event(model_properties()), deadline=0.2)
    assert swallowed == ["EvaluationTimeout"]
    assert_internal_failure(response, "token-1", "the evaluation took over 0.2 s and was stopped")


def test_a_verdict_reached_after_the_deadline_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no timer signal can be delivered (a handler called off the main thread), a late verdict still
    answers as a timeout, never as the verdict."""
    real_scan = hook_handler.scan_template

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(hook_handler, "scan_template", slow)
    responses: list[dict[str, Any]] = []
    worker = threading.Thread(target=lambda: responses.append(
        handle(resource_event(model_properties(accept=True)), deadline=0.1)))
    worker.start()
    worker.join()
    assert_internal_failure(responses[0], "token-1", "the evaluation took over 0.1 s")


class LambdaContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_deadline_follows_the_time_lambda_has_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hook_handler, "scan_template", stuck)
    response = handle(resource_event(model_properties()), LambdaContext(3400))  # 3.4 s left, 3 s kept to answer
    assert_internal_failure(response, "token-1", "the evaluation took over 0.4 s and was stopped")


def test_unexpected_error_is_an_internal_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(hook_handler, "scan_template", broken)
    assert_internal_failure(handle(resource_event(model_properties())), "token-1", "unexpected KeyError: 'boom'")


SERVING_MODE_FIXTURES = (
    "good/inference-components-accepted-and-own-weights.json", "good/inference-component-model-elsewhere.json",
    "good/serverless-own-weights.json", "bad/inference-component-model-unaccepted.json",
    "bad/inference-component-parameter-chooses-unaccepted.json", "bad/serverless-gated-model.json",
    "bad/serverless-gated-adapter.json", "bad/model-additional-data-sources-each-judged.json",
)


@pytest.mark.parametrize("fixture", SERVING_MODE_FIXTURES)
def test_the_stack_hook_sees_the_serving_modes_as_check_does(server: PayloadServer, fixture: str) -> None:
    template = json.loads((FIXTURES / fixture).read_text())
    url = server.serve(f"/stack/{fixture}", {"template": json.dumps(template)})
    response = handle(stack_event(url), fetch_payload=fetch(server))
    findings = check_template(template)
    assert sorted(a["annotationName"] for a in response.get("annotations", [])) == sorted(
        f"{finding.rule_id}:{finding.logical_id}" for finding in findings)
    failed = any(finding.severity == "error" for finding in findings)
    assert response["hookStatus"] == ("FAILED" if failed else "SUCCESS")
    assert failed == fixture.startswith("bad/")

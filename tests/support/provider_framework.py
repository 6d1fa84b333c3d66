"""The CDK Provider framework's own Lambda code, run in node, in front of the Python custom-resource handlers.

``ProviderFramework`` runs the framework's ``onEvent``, the waiter's ``isComplete`` polls and ``onTimeout`` from the
very code asset a synthesized stack deploys (``provider_framework_harness.js``). Its AWS calls are answered here:
Lambda Invoke runs the Python handler in process as the Lambda Python runtime would (an exception becomes a
``FunctionError`` with the runtime's error payload), StartExecution starts the waiter loop below (the waiter state
machine retries ``isComplete`` until it reports, then calls ``onTimeout``), and the response PUT is captured.
``CloudFormation`` sends requests as CloudFormation does, including the rollback Delete after a failed Create and
the cleanup Delete of an Update that changed the physical id, and records its resources' state, which
``CloudFormation.api()`` answers as CloudFormation's DescribeStacks and DescribeStackResource would. A lost response
is a response PUT that fails (``ProviderFramework.failing_puts``): the framework retries it five times.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

HARNESS = Path(__file__).with_name("provider_framework_harness.js")
REGION = "us-east-1"
ACCOUNT = "123456789012"
ON_EVENT_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:JobsOnEvent"
IS_COMPLETE_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:JobsIsComplete"
WAITER_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:JobsWaiter"
RESPONSE_URL = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/response?signature=x"
CLOUDFORMATION_RESPONSE_LIMIT = 4096  # bytes of a custom resource response body

Handler = Callable[[Mapping[str, Any], Any], Mapping[str, Any]]


def with_topic_tags(properties: dict[str, Any], topic_arn: str) -> dict[str, Any]:
    """The properties with the failure-topic tag's reference to a synthesized topic replaced by ``topic_arn``."""
    tags = [{**tag, "Value": topic_arn} if isinstance(tag.get("Value"), dict) else tag
            for tag in properties.get("Tags", [])]
    return {**properties, "Tags": tags} if tags else properties


def as_cloudformation_sends(value: Any) -> Any:
    """CloudFormation hands a custom resource's properties to its handler with every scalar as a string."""
    if isinstance(value, dict):
        return {key: as_cloudformation_sends(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_cloudformation_sends(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class LambdaContext:
    """The part of the Lambda context object the handlers read."""

    function_name: str
    remaining_milliseconds: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_milliseconds


@dataclass(frozen=True)
class CloudFormationResponse:
    """What the framework PUT to the response URL."""

    body: str

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def status(self) -> str:
        return str(self.document["Status"])

    @property
    def reason(self) -> str:
        return str(self.document["Reason"])

    @property
    def physical_id(self) -> str:
        return str(self.document["PhysicalResourceId"])

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.document.get("Data") or {})


@dataclass
class FrameworkRun:
    """What one framework entry point did."""

    responses: list[CloudFormationResponse] = field(default_factory=list)
    waiter_inputs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def lambda_invoke(handler: Handler, function_name: str, payload: str) -> dict[str, Any]:
    """A synchronous Invoke of a Python function, answered as Lambda answers it."""
    try:
        result = handler(json.loads(payload), LambdaContext(function_name))
    except Exception as error:  # the Lambda runtime turns any exception into a function error
        return {"functionError": "Unhandled", "payload": json.dumps({
            "errorMessage": str(error), "errorType": type(error).__name__, "requestId": str(uuid.uuid4()),
            "stackTrace": traceback.format_tb(error.__traceback__),
        })}
    return {"payload": json.dumps(result)}


class ProviderFramework:
    """The framework of one Provider: its ``onEvent`` user function and, when it waits, ``isComplete``."""

    def __init__(self, framework_dir: Path, on_event: Handler, is_complete: Handler | None = None, *,
                 max_polls: int = 3, before_poll: Callable[[int], None] | None = None, failing_puts: int = 0) -> None:
        self.framework_dir = framework_dir
        self.functions = {ON_EVENT_ARN: on_event}
        if is_complete is not None:
            self.functions[IS_COMPLETE_ARN] = is_complete
        self.max_polls = max_polls
        self.before_poll = before_poll or (lambda attempt: None)
        self.polls = 0
        self.failing_puts = failing_puts
        """How many of the next response PUTs fail (HTTP 500), as a lost response."""
        self.lost_responses: list[CloudFormationResponse] = []

    def request(self, event: Mapping[str, Any]) -> CloudFormationResponse:
        """Send one CloudFormation request and return the one response the framework sends back."""
        run = self._run("onEvent", {**event, "ResponseURL": RESPONSE_URL})
        if not run.waiter_inputs:
            return self._only_response(run)
        waiter_input = run.waiter_inputs[0]
        last_error = None
        for attempt in range(self.max_polls):  # the waiter state machine: Retry on States.ALL, then Catch
            self.before_poll(attempt)
            self.polls += 1
            poll = self._run("isComplete", waiter_input)
            if poll.responses:
                return self._only_response(poll)
            last_error = poll.error
        cause = json.dumps({"errorType": "Error", "errorMessage": last_error})
        return self._only_response(self._run("onTimeout", {"Cause": cause}))

    def _only_response(self, run: FrameworkRun) -> CloudFormationResponse:
        assert len(run.responses) == 1, f"the framework sent {len(run.responses)} responses ({run.error})"
        return run.responses[0]

    def _run(self, entry_point: str, event: Mapping[str, Any]) -> FrameworkRun:
        environment = {"PATH": "/usr/bin:/bin:/usr/local/bin", "USER_ON_EVENT_FUNCTION_ARN": ON_EVENT_ARN}
        if IS_COMPLETE_ARN in self.functions:
            environment.update(USER_IS_COMPLETE_FUNCTION_ARN=IS_COMPLETE_ARN, WAITER_STATE_MACHINE_ARN=WAITER_ARN)
        node = shutil.which("node") or "node"
        run = FrameworkRun()
        with tempfile.TemporaryFile() as log, subprocess.Popen(
            [node, str(HARNESS), str(self.framework_dir), entry_point], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=log, text=True, env=environment,
        ) as process:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps(event) + "\n")
            process.stdin.flush()
            for line in process.stdout:
                message = json.loads(line)
                if message["call"] == "done":
                    run.error = message.get("error")
                    break
                answer = self._answer(message, run)
                process.stdin.write(json.dumps(answer) + "\n")
                process.stdin.flush()
            else:
                log.seek(0)
                raise AssertionError(f"the framework's {entry_point} ended early: {log.read().decode()[-2000:]}")
            process.stdin.close()
        return run

    def _answer(self, message: Mapping[str, Any], run: FrameworkRun) -> dict[str, Any]:
        if message["call"] == "invoke":
            return lambda_invoke(self.functions[message["functionName"]], message["functionName"],
                                 message["payload"])
        if message["call"] == "startExecution":
            run.waiter_inputs.append(json.loads(message["input"]))
            return {}
        if message["call"] == "respond":
            if self.failing_puts > 0:
                self.failing_puts -= 1
                self.lost_responses.append(CloudFormationResponse(message["body"]))
                return {"statusCode": 500}
            run.responses.append(CloudFormationResponse(message["body"]))
            return {"statusCode": 200}
        raise AssertionError(f"unexpected framework call {message!r}")


def stack_arn() -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Jobs/{uuid.uuid4()}"


@dataclass
class CloudFormation:
    """Sends a custom resource's requests as CloudFormation does, and records every response and the resource."""

    framework: ProviderFramework
    resource_type: str = "Custom::Job"
    logical_id: str = "Job"
    stack_id: str = field(default_factory=stack_arn)
    responses: list[tuple[str, CloudFormationResponse]] = field(default_factory=list)
    stack_status: str = "CREATE_IN_PROGRESS"
    resource_status: str | None = None
    physical_id: str | None = None

    def recreate_stack(self) -> None:
        """The stack is deleted and created again under the same name: a new stack id."""
        self.stack_id = stack_arn()
        self.stack_status, self.resource_status, self.physical_id = "CREATE_IN_PROGRESS", None, None

    def event(self, request_type: str, properties: Mapping[str, Any], physical_id: str | None = None,
              old: Mapping[str, Any] | None = None, request_id: str | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "RequestType": request_type, "RequestId": request_id or str(uuid.uuid4()), "StackId": self.stack_id,
            "LogicalResourceId": self.logical_id, "ResourceType": self.resource_type, "ServiceToken": ON_EVENT_ARN,
            "ResourceProperties": {"ServiceToken": ON_EVENT_ARN, **properties},
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old is not None:
            event["OldResourceProperties"] = {"ServiceToken": ON_EVENT_ARN, **old}
        return event

    def _send(self, request_type: str, properties: Mapping[str, Any], physical_id: str | None = None,
              old: Mapping[str, Any] | None = None, request_id: str | None = None) -> CloudFormationResponse:
        response = self.framework.request(self.event(request_type, properties, physical_id, old, request_id))
        for body in (response, *self.framework.lost_responses):
            assert len(body.body.encode()) <= CLOUDFORMATION_RESPONSE_LIMIT, len(body.body.encode())
        self.responses.append((request_type, response))
        return response

    def create(self, properties: Mapping[str, Any], request_id: str | None = None) -> CloudFormationResponse:
        """Create; when it fails, the rollback deletes the physical id the failure reported."""
        response = self._send("Create", properties, request_id=request_id)
        if response.status == "FAILED":
            rollback = self._send("Delete", properties, response.physical_id)
            assert rollback.status == "SUCCESS", rollback.reason
            self.stack_status, self.resource_status = "ROLLBACK_COMPLETE", "DELETE_COMPLETE"
        else:
            self.stack_status, self.resource_status = "CREATE_COMPLETE", "CREATE_COMPLETE"
        self.physical_id = response.physical_id
        return response

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> CloudFormationResponse:
        """Update; a new physical id makes the cleanup delete the old one."""
        response = self._send("Update", new, physical_id, old)
        if response.status == "SUCCESS" and response.physical_id != physical_id:
            self._send("Delete", old, physical_id)
        if response.status == "SUCCESS":
            self.stack_status, self.resource_status = "UPDATE_COMPLETE", "UPDATE_COMPLETE"
            self.physical_id = response.physical_id
        return response

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> CloudFormationResponse:
        response = self._send("Delete", properties, physical_id)
        if response.status == "SUCCESS":
            self.stack_status, self.resource_status = "DELETE_COMPLETE", "DELETE_COMPLETE"
        return response

    def api(self) -> StackApi:
        return StackApi(self)


@dataclass
class StackApi:
    """CloudFormation's DescribeStacks and DescribeStackResource of the recorded stack, in boto3's shapes."""

    cloudformation: CloudFormation

    def _stack(self, name: str) -> CloudFormation:
        if name != self.cloudformation.stack_id:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": f"Stack with id {name} does not "
                               "exist"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "DescribeStacks")
        return self.cloudformation

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {"Stacks": [{"StackId": StackName, "StackStatus": self._stack(StackName).stack_status}]}

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
        stack = self._stack(StackName)
        if LogicalResourceId != stack.logical_id or stack.resource_status is None:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": f"Resource {LogicalResourceId} does "
                               f"not exist for stack {StackName}"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                              "DescribeStackResource")
        return {"StackResourceDetail": {"LogicalResourceId": LogicalResourceId, "ResourceStatus": stack.resource_status,
                                        **({"PhysicalResourceId": stack.physical_id} if stack.physical_id else {})}}

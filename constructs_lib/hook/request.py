"""A CloudFormation Lambda Hook request, read from the event the hook sends to its Lambda function.

The shapes follow the CloudFormation Hooks User Guide, "Create Lambda functions to evaluate resources for
Lambda Hooks" (https://docs.aws.amazon.com/cloudformation-cli/latest/hooks-userguide/lambda-hooks-create-lambda-function.html):

- resource operations (CloudFormation and Cloud Control API): ``requestData.targetName`` is the resource type,
  ``requestData.targetModel.resourceProperties`` the proposed properties after CloudFormation resolved them;
  Cloud Control requests carry an empty ``stackId`` and ``targetType: RESOURCE``;
- stack and change-set operations: ``requestData.targetName`` is ``STACK`` or ``CHANGE_SET`` and
  ``requestData.payload`` an S3 presigned URL to a JSON object holding ``template`` (JSON or YAML text).

The guide spells the token ``clientRequestToken`` in its examples and ``clientRequesttoken`` (and ``stackID``)
in the stack and change-set syntax blocks: both spellings are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from constructs_lib.errors import InputError

TargetKind = Literal["resource", "stack", "change_set"]
STACK_TARGET, CHANGE_SET_TARGET = "STACK", "CHANGE_SET"
INVOCATION_POINTS = ("CREATE_PRE_PROVISION", "UPDATE_PRE_PROVISION", "DELETE_PRE_PROVISION")
DELETE_INVOCATION_POINT = "DELETE_PRE_PROVISION"


class HookRequestError(InputError):
    """An event that is not a Lambda Hook request we can read: one line saying which field is wrong."""


@dataclass(frozen=True)
class HookRequest:
    """What the handler needs from one hook invocation."""

    token: str
    kind: TargetKind
    invocation_point: str
    target_name: str  # the resource type, or STACK / CHANGE_SET
    logical_id: str  # the resource's logical id, the stack name, or the change set's ARN
    properties: Mapping[str, Any] = field(default_factory=dict)  # resource operations: the proposed properties
    payload_url: str | None = None  # stack and change-set operations
    cloud_control: bool = False  # a Cloud Control API request (no stack): CloudFormation keeps 1,024 characters

    @property
    def deleting(self) -> bool:
        return self.invocation_point == DELETE_INVOCATION_POINT

    @property
    def subject(self) -> str:
        """What the request is about, for messages: ``AWS::SageMaker::Model Llama``, ``stack my-stack``..."""
        if self.kind == "resource":
            return f"{self.target_name} {self.logical_id}"
        return f"{'stack' if self.kind == 'stack' else 'change set'} {self.logical_id}"


def client_request_token(event: Any) -> str:
    """The token to echo in the response, whatever else is wrong with the event ("" when there is none)."""
    if not isinstance(event, Mapping):
        return ""
    token = event.get("clientRequestToken", event.get("clientRequesttoken"))
    return token if isinstance(token, str) else ""


def parse_request(event: Any) -> HookRequest:
    """The hook request in ``event``; ``HookRequestError`` naming the first field that is missing or wrong."""
    if not isinstance(event, Mapping):
        raise HookRequestError(f"the event is a {type(event).__name__}, not a JSON object")
    token = client_request_token(event)
    if not token:
        raise HookRequestError("the event has no clientRequestToken: not a CloudFormation Lambda Hook request")
    invocation_point = event.get("actionInvocationPoint")
    if invocation_point not in INVOCATION_POINTS:
        raise HookRequestError(f"actionInvocationPoint is {invocation_point!r}, expected one of "
                               f"{', '.join(INVOCATION_POINTS)}")
    data = event.get("requestData")
    if not isinstance(data, Mapping):
        raise HookRequestError("the event has no requestData object")
    target_name = data.get("targetName")
    if not isinstance(target_name, str) or not target_name:
        raise HookRequestError("requestData.targetName is missing: it names the resource type, STACK or CHANGE_SET")
    logical_id = data.get("targetLogicalId")
    logical_id = logical_id if isinstance(logical_id, str) and logical_id else target_name
    if target_name in (STACK_TARGET, CHANGE_SET_TARGET):
        payload = data.get("payload")
        if not isinstance(payload, str) or not payload:
            raise HookRequestError(f"requestData.payload is missing: a {target_name} request names its template's "
                                   "presigned URL there")
        kind: TargetKind = "stack" if target_name == STACK_TARGET else "change_set"
        return HookRequest(token, kind, invocation_point, target_name, logical_id, payload_url=payload)
    stack_id = event.get("stackId", event.get("stackID"))
    return HookRequest(token, "resource", invocation_point, target_name, logical_id,
                       properties=_resource_properties(data, invocation_point),
                       cloud_control=not stack_id or data.get("targetType") == "RESOURCE")


def _resource_properties(data: Mapping[str, Any], invocation_point: str) -> Mapping[str, Any]:
    model = data.get("targetModel")
    if not isinstance(model, Mapping):
        raise HookRequestError("requestData.targetModel is missing: a resource request carries the resource's "
                               "properties there")
    properties = model.get("resourceProperties")
    if properties is None and invocation_point == DELETE_INVOCATION_POINT:
        return {}  # a deletion proposes no properties
    if not isinstance(properties, Mapping):
        raise HookRequestError("requestData.targetModel.resourceProperties is "
                               f"{'missing' if properties is None else 'not an object'}")
    return properties

"""The custom-resource protocol shared by the fine-tuning job handlers (they run in AWS Lambda).

Plain Python on the Lambda runtime's boto3. The CDK Provider framework calls ``on_event`` for each
CloudFormation request and, when the stack waits for the job, ``is_complete`` until it reports done;
an exception fails the resource with its message, which CloudFormation shows in the stack events.

The resource's properties are the SageMaker create request itself (CloudFormation delivers every
scalar as a string, so the request is coerced back to the API's types from botocore's service model).
The physical id is the job name:
- Create starts the job; a retried Create finds the job it already started and returns it.
- Update starts a new job under a new name, so CloudFormation's cleanup deletes (stops) the old one.
  A rollback returns to the job that still runs (or completed) the old request: the current one, or the
  one the stack started with.
- Delete stops the job when it still runs and succeeds when it has finished or never existed.
Throttled calls are retried with exponential backoff for a bounded total time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

THROTTLING_CODES = frozenset({
    "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "Throttling",
    "ThrottledException", "ProvisionedThroughputExceededException",
})
MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 8.0  # with 6 attempts: at most 0.5+1+2+4+8 = 15.5 s of waiting, well inside the Lambda timeout
sleep: Callable[[float], None] = time.sleep  # tests replace it to observe the backoff without waiting

# Keys CloudFormation or the Provider framework add beside the request.
CLOUDFORMATION_KEYS = frozenset({"ServiceToken", "ServiceTimeout"})
NOT_COMPARED_KEYS = frozenset({"Tags"})  # Describe* calls do not return tags
JOB_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
NAME_HASH_LENGTH = 8
REUSABLE_STATUSES = frozenset({"InProgress", "Completed"})  # an Update may return to such a job, not to others

_client: Any = None


class JobError(Exception):
    """Fails the custom resource; the message reaches the CloudFormation stack events."""


@dataclass(frozen=True)
class JobKind:
    """One kind of SageMaker job, described by its API operation names and response keys."""

    noun: str
    create_operation: str
    describe_operation: str
    stop_operation: str
    name_key: str
    arn_key: str
    status_key: str
    max_name_length: int
    completion_data: Callable[[Mapping[str, Any]], dict[str, str]]


def sagemaker_client() -> Any:
    """Created on first use, so ``AWS_ENDPOINT_URL`` and region variables set by then apply."""
    global _client
    if _client is None:
        # Throttling is retried here with our own bounded backoff; botocore retrying too would multiply it.
        _client = boto3.client("sagemaker", config=Config(retries={"mode": "standard", "max_attempts": 1}))
    return _client


def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """Call an API operation, retrying throttling with exponential backoff; other errors raise ``ClientError``."""
    method = getattr(client, xform_name(operation))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response: dict[str, Any] = method(**params)
            return response
        except ClientError as error:
            if error_code(error) not in THROTTLING_CODES:
                raise
            if attempt == MAX_ATTEMPTS:
                raise JobError(
                    f"SageMaker throttled {operation} {MAX_ATTEMPTS} times in a row; retry the deployment later "
                    f"({error_message(error)})"
                ) from error
            delay = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))
            LOGGER.info("%s throttled (attempt %d of %d); retrying in %.1f s", operation, attempt, MAX_ATTEMPTS, delay)
            sleep(delay)
        except ParamValidationError as error:
            raise JobError(f"invalid {operation} request: {' '.join(str(error).split())}") from error
    raise AssertionError("unreachable")  # the loop returns or raises


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or str(error)


def is_valid_job_name(kind: JobKind, name: str) -> bool:
    return len(name) <= kind.max_name_length and JOB_NAME_PATTERN.fullmatch(name) is not None


def describe(kind: JobKind, client: Any, name: str) -> dict[str, Any] | None:
    """The job's description, or None when no job has that name."""
    if not is_valid_job_name(kind, name):
        # e.g. the request id the Provider framework uses as physical id when a Create failed
        return None
    try:
        return call(client, kind.describe_operation, **{kind.name_key: name})
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise JobError(f"{kind.describe_operation} failed for {kind.noun} {name!r}: {error_message(error)}") from error


def _is_not_found(error: ClientError) -> bool:
    code = error_code(error)
    message = error_message(error).lower()
    return code in {"ResourceNotFound", "ResourceNotFoundException"} or (
        code == "ValidationException" and any(s in message for s in ("not find", "not found", "does not exist"))
    )


def job_request(kind: JobKind, client: Any, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The create request in the resource properties, with CloudFormation's strings turned back into API types."""
    raw = {key: value for key, value in properties.items() if key not in CLOUDFORMATION_KEYS}
    shape = client.meta.service_model.operation_model(kind.create_operation).input_shape
    request: dict[str, Any] = _coerce(raw, shape, kind.create_operation)
    if not isinstance(request.get(kind.name_key), str):
        raise JobError(f"the resource properties have no {kind.name_key}")
    return request


def _coerce(value: Any, shape: Any, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        # Unknown keys stay as they are: botocore rejects them with their name.
        return {k: _coerce(v, shape.members[k], f"{path}.{k}") if k in shape.members else v
                for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_coerce(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map" and isinstance(value, Mapping):
        return {k: _coerce(v, shape.value, f"{path}.{k}") for k, v in value.items()}
    if kind == "boolean" and not isinstance(value, bool):
        text = str(value).strip().lower()
        if text not in {"true", "false"}:
            # Anything but an explicit true/false (a typo, an unresolved value) is not a yes.
            raise JobError(f"{path} must be true or false, not {value!r}")
        return text == "true"
    if kind in {"integer", "long"} and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise JobError(f"{path} must be an integer, not {value!r}") from None
    if kind in {"float", "double"} and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise JobError(f"{path} must be a number, not {value!r}") from None
    return value


def request_matches(kind: JobKind, request: Mapping[str, Any], description: Mapping[str, Any]) -> bool:
    """Whether the described job runs this request. Fields the description leaves out cannot differ."""
    return all(
        key not in description or _same(value, description[key])
        for key, value in request.items()
        if key != kind.name_key and key not in NOT_COMPARED_KEYS
    )


def _same(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(k not in actual or _same(v, actual[k]) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (isinstance(actual, list) and len(wanted) == len(actual)
                and all(_same(w, a) for w, a in zip(wanted, actual, strict=True)))
    return _scalar(wanted) == _scalar(actual)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(float(value))
    return str(value)


def running_job_for(kind: JobKind, client: Any, request: Mapping[str, Any], names: Sequence[str]
                    ) -> dict[str, Any] | None:
    """The response naming a job that runs, or ran to completion, this very request, if one of ``names`` does.

    That is a rollback: to the current job when the update failed before replacing it, or to the job the
    stack started with (its requested name) when the replacement is being rolled back.
    """
    for name in dict.fromkeys(names):
        job = describe(kind, client, name)
        if job is not None and job[kind.status_key] in REUSABLE_STATUSES and request_matches(kind, request, job):
            return {"PhysicalResourceId": name, "Data": {"JobName": name, "JobArn": job[kind.arn_key]}}
    return None


def replacement_name(kind: JobKind, request: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    """A new name for the job that replaces one whose requested name did not change.

    Job names are unique per account and region, even after a job ends, so the replacement's name gets a
    suffix from the CloudFormation request id (stable when the request is retried) and the request.
    """
    name = str(request[kind.name_key])
    digest = hashlib.sha256(
        json.dumps([event.get("RequestId"), request], sort_keys=True, default=str).encode()
    ).hexdigest()[:NAME_HASH_LENGTH]
    return f"{name[: kind.max_name_length - NAME_HASH_LENGTH - 1]}-{digest}"


def start_job(kind: JobKind, client: Any, request: dict[str, Any]) -> dict[str, Any]:
    name = request[kind.name_key]
    existing = describe(kind, client, name)
    if existing is None:
        try:
            arn = call(client, kind.create_operation, **request)[kind.arn_key]
        except ClientError as error:
            existing = describe(kind, client, name) if error_code(error) == "ResourceInUse" else None
            if existing is None:
                raise JobError(f"{kind.create_operation} failed for {kind.noun} {name!r}: "
                               f"{error_message(error)}") from error
    if existing is not None:
        if not request_matches(kind, request, existing):
            raise JobError(
                f"a {kind.noun} named {name!r} already exists with a different configuration; job names are "
                "unique per account and region (even after a job ends): choose another job name"
            )
        LOGGER.info("%s %s already exists with this request; reusing it", kind.noun, name)
        arn = existing[kind.arn_key]
    LOGGER.info("%s %s started", kind.noun, name)
    return {"PhysicalResourceId": name, "Data": {"JobName": name, "JobArn": arn}}


def stop_job(kind: JobKind, client: Any, name: str) -> None:
    description = describe(kind, client, name)
    if description is None or description[kind.status_key] != "InProgress":
        return  # absent, finished, or already stopping: nothing left to stop
    try:
        call(client, kind.stop_operation, **{kind.name_key: name})
    except ClientError as error:
        current = describe(kind, client, name)
        if current is None or current[kind.status_key] != "InProgress":
            return  # it ended between the describe and the stop
        raise JobError(f"{kind.stop_operation} failed for {kind.noun} {name!r}: {error_message(error)}") from error
    LOGGER.info("%s %s stopping", kind.noun, name)


def on_event(kind: JobKind, event: Mapping[str, Any], client: Any = None) -> dict[str, Any]:
    client = client or sagemaker_client()
    request_type = event["RequestType"]
    LOGGER.info("%s request for %s %s", request_type, kind.noun, event.get("PhysicalResourceId", "(new)"))
    if request_type == "Delete":
        stop_job(kind, client, event["PhysicalResourceId"])
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    request = job_request(kind, client, event["ResourceProperties"])
    if request_type == "Update":
        old_name = (event.get("OldResourceProperties") or {}).get(kind.name_key)
        if old_name == request[kind.name_key]:  # else the user renamed the job: start it under the new name
            reusable = running_job_for(kind, client, request, (event["PhysicalResourceId"], old_name))
            if reusable is not None:
                return reusable
            request[kind.name_key] = replacement_name(kind, request, event)
    elif request_type != "Create":
        raise JobError(f"unknown CloudFormation request type {request_type!r}")
    return start_job(kind, client, request)


def is_complete(kind: JobKind, event: Mapping[str, Any], client: Any = None) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    client = client or sagemaker_client()
    name = event["PhysicalResourceId"]
    description = describe(kind, client, name)
    if description is None:
        raise JobError(f"{kind.noun} {name!r} no longer exists")
    status = description[kind.status_key]
    if status == "Completed":
        return {"IsComplete": True, "Data": kind.completion_data(description)}
    if status == "Failed":
        raise JobError(f"{kind.noun} {name!r} failed: {description.get('FailureReason') or 'no reason given'}")
    if status in {"Stopped", "Stopping"}:
        reason = description.get("SecondaryStatus") or description.get("AutoMLJobSecondaryStatus") or status
        raise JobError(f"{kind.noun} {name!r} was stopped before it completed ({reason})")
    return {"IsComplete": False}


Handler = Callable[..., dict[str, Any]]


def lambda_handlers(kind: JobKind) -> tuple[Handler, Handler]:
    """A job kind's Lambda entry points ``(on_event, is_complete)``; tests pass ``client=``."""

    def on_event_entry(event: Mapping[str, Any], context: Any = None, *, client: Any = None) -> dict[str, Any]:
        return on_event(kind, event, client)

    def is_complete_entry(event: Mapping[str, Any], context: Any = None, *, client: Any = None) -> dict[str, Any]:
        return is_complete(kind, event, client)

    return on_event_entry, is_complete_entry

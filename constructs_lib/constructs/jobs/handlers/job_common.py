"""The custom-resource protocol shared by the fine-tuning job handlers (they run in AWS Lambda).

Plain Python on the Lambda runtime's boto3. The CDK Provider framework calls ``on_event`` for each
CloudFormation request and, when the stack waits for the job, ``is_complete`` until it reports done;
an exception fails the resource with its message (at most ``MAX_REASON_BYTES``, the API's own message
first), which CloudFormation shows in the stack events.

The resource's properties are the SageMaker create request itself (CloudFormation delivers every
scalar as a string, so the request is coerced back to the API's types from botocore's service model).
The physical id is the job name:
- Create starts the job; a retried Create finds the job it already started and returns it. When a
  Create fails, the handler stops any job it started: the framework answers a failed Create with a
  marker physical id whose Delete never reaches this handler, so nothing else would.
- Update starts a new job under a new name, so CloudFormation's cleanup deletes (stops) the old one.
  A rollback returns to the job that still runs (or completed) the old request: the current one, or the
  one the stack started with. An Update that changes only ``Tags`` retags the job in place.
- Delete stops the job when it still runs and succeeds when it has finished or never existed. A physical id
  outside the stack's job-name prefix (``JOB_NAME_PREFIX`` in the environment) names no job of the stack:
  the Delete succeeds without a call (the handler may only manage names with that prefix).
``watch_failures`` (for job kinds SageMaker sends no EventBridge event for: AutoML) runs on a schedule and
publishes the stack's jobs that failed or were stopped in the last interval to the topic their
``eulagate:failure-topic`` tag names.
Throttling, server errors (5xx) and connection failures are retried with exponential backoff, within
the invocation's time (Lambda's remaining time, less a reserve for stopping a job a failed Create started).
A create whose answer was lost (a read timeout, a 5xx) may have started the job: the job is looked up
by its name before the create is retried.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, ParamValidationError

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

THROTTLING_CODES = frozenset({
    "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "Throttling",
    "ThrottledException", "ProvisionedThroughputExceededException",
})
SERVER_ERROR_CODES = frozenset({
    "InternalFailure", "InternalServerError", "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
    "RequestTimeout", "RequestTimeoutException",
})
CONNECTION_ERRORS = (ConnectionError, HTTPClientError)  # refused, reset, connect and read timeouts
MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 8.0  # with 6 attempts: at most 0.5+1+2+4+8 = 15.5 s of waiting
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 20  # SageMaker's control-plane calls answer in well under a second
ATTEMPT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS  # the longest one attempt can take
# Of the invocation's time, kept from the retries of the request itself: enough to look up and stop a job
# that a failed Create started (two calls, each retried once), and to return the error.
CLEANUP_RESERVE_SECONDS = 4 * ATTEMPT_SECONDS + 10
FINAL_RESERVE_SECONDS = 5
DEFAULT_INVOCATION_SECONDS = 300.0  # when called without a Lambda context (tests): the Lambda timeout
MAX_REASON_BYTES = 1024
ELLIPSIS = "…"
sleep: Callable[[float], None] = time.sleep  # tests replace both to observe the backoff without waiting
clock: Callable[[], float] = time.monotonic

# Keys CloudFormation or the Provider framework add beside the request.
CLOUDFORMATION_KEYS = frozenset({"ServiceToken", "ServiceTimeout"})
TAGS_KEY = "Tags"
JOB_NAME_PREFIX_VARIABLE = "JOB_NAME_PREFIX"  # the stack's job-name prefix, set by the construct
FAILURE_TOPIC_TAG = "eulagate:failure-topic"  # on jobs not waited for: where their failure is published
WATCH_INTERVAL_SECONDS = 300  # the schedule of watch_failures (the construct's rule)
WATCHED_STATUSES = ("Failed", "Stopped")
JOB_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
NAME_HASH_LENGTH = 8
REUSABLE_STATUSES = frozenset({"InProgress", "Completed"})  # an Update may return to such a job, not to others

_client: Any = None
_sns_client: Any = None


class JobError(Exception):
    """Fails the custom resource; the message reaches the CloudFormation stack events, cut to fit."""

    def __init__(self, message: str) -> None:
        super().__init__(fit(message))


class TransientError(JobError):
    """Throttling, a server error or a lost connection outlasted the retries."""


def fit(text: str, limit: int = MAX_REASON_BYTES) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes, ending in an ellipsis when cut."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - len(ELLIPSIS.encode())].decode(errors="ignore") + ELLIPSIS


def api_failure(message: str, context: str, error_type: type[JobError] = JobError) -> JobError:
    """The API's own message first, then what the handler was doing; the message is cut so the context fits."""
    suffix = f" ({context})"
    return error_type(fit(message, MAX_REASON_BYTES - len(suffix.encode())) + suffix)


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
    list_operation: str
    summaries_key: str


def sagemaker_client() -> Any:
    """Created on first use, so ``AWS_ENDPOINT_URL`` and region variables set by then apply."""
    global _client
    if _client is None:
        # Retries happen here with our own bounded backoff; botocore retrying too would multiply it.
        _client = boto3.client("sagemaker", config=Config(
            retries={"mode": "standard", "max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
        ))
    return _client


@dataclass
class Api:
    """The SageMaker client of one invocation, with its deadline for retries."""

    client: Any
    deadline: float
    """``clock()`` time by which the invocation must have returned."""

    @classmethod
    def of(cls, client: Any, context: Any) -> Api:
        remaining = (context.get_remaining_time_in_millis() / 1000 if context is not None
                     else DEFAULT_INVOCATION_SECONDS)
        return cls(client or sagemaker_client(), clock() + remaining - FINAL_RESERVE_SECONDS)

    def call(self, operation: str, params: Mapping[str, Any], *, reserve: float = CLEANUP_RESERVE_SECONDS,
             attempts: int = MAX_ATTEMPTS) -> dict[str, Any]:
        """Call an operation, retrying transient failures while the deadline, less ``reserve``, allows another
        attempt. Other API errors raise ``ClientError``; a transient failure that lasts raises ``TransientError``.
        """
        method = getattr(self.client, xform_name(operation))
        for attempt in range(1, attempts + 1):
            try:
                response: dict[str, Any] = method(**params)
                return response
            except ParamValidationError as error:
                raise JobError(f"invalid {operation} request: {' '.join(str(error).split())}") from error
            except (ClientError, *CONNECTION_ERRORS) as error:
                if not is_transient(error):
                    raise
                delay = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))
                if attempt == attempts or clock() + delay + ATTEMPT_SECONDS > self.deadline - reserve:
                    raise api_failure(
                        failure_message(error), f"{operation}, {attempts_text(attempt)}; retry the deployment later",
                        TransientError,
                    ) from error
                LOGGER.info("%s failed (%s, attempt %d of %d); retrying in %.1f s",
                            operation, failure_message(error), attempt, MAX_ATTEMPTS, delay)
                sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises


def attempts_text(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def is_transient(error: Exception) -> bool:
    if isinstance(error, CONNECTION_ERRORS):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(error) in THROTTLING_CODES | SERVER_ERROR_CODES or int(status or 0) >= 500
    return False


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def failure_message(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message", "")) or str(error)
    return str(error) or type(error).__name__


def is_valid_job_name(kind: JobKind, name: str) -> bool:
    return len(name) <= kind.max_name_length and JOB_NAME_PATTERN.fullmatch(name) is not None


def is_stack_job_name(name: str) -> bool:
    """Whether ``name`` has the stack's job-name prefix (SageMaker compares job names case-insensitively)."""
    return name.lower().startswith(os.environ.get(JOB_NAME_PREFIX_VARIABLE, "").lower())


def describe(kind: JobKind, api: Api, name: str, *, reserve: float = CLEANUP_RESERVE_SECONDS,
             attempts: int = MAX_ATTEMPTS) -> dict[str, Any] | None:
    """The job's description, or None when no job has that name."""
    if not is_valid_job_name(kind, name):
        # e.g. the request id the Provider framework uses as physical id when a Create failed
        return None
    try:
        return api.call(kind.describe_operation, {kind.name_key: name}, reserve=reserve, attempts=attempts)
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise api_failure(failure_message(error), f"{kind.describe_operation} of {kind.noun} {name!r}") from error


def _is_not_found(error: ClientError) -> bool:
    code = error_code(error)
    message = failure_message(error).lower()
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
        if key not in (kind.name_key, TAGS_KEY)  # Describe* calls do not return tags
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


def job_response(name: str, arn: str) -> dict[str, Any]:
    return {"PhysicalResourceId": name, "Data": {"JobName": name, "JobArn": arn}}


def running_job_for(kind: JobKind, api: Api, request: Mapping[str, Any], names: Sequence[str]
                    ) -> dict[str, Any] | None:
    """The response naming a job that runs, or ran to completion, this very request, if one of ``names`` does.

    That is a rollback: to the current job when the update failed before replacing it, or to the job the
    stack started with (its requested name) when the replacement is being rolled back.
    """
    for name in dict.fromkeys(names):
        job = describe(kind, api, name)
        if job is not None and job[kind.status_key] in REUSABLE_STATUSES and request_matches(kind, request, job):
            return job_response(name, job[kind.arn_key])
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


def _name_taken(kind: JobKind, name: str) -> JobError:
    return JobError(
        f"a {kind.noun} named {name!r} already exists with a different configuration; job names are unique per "
        "account and region (even after a job ends): choose another job name"
    )


def _adopt(kind: JobKind, request: Mapping[str, Any], job: Mapping[str, Any]) -> dict[str, Any]:
    """The response for a job of this name that already exists: ours when it runs this very request."""
    name = request[kind.name_key]
    if not request_matches(kind, request, job):
        raise _name_taken(kind, name)
    LOGGER.info("%s %s already exists with this request; reusing it", kind.noun, name)
    return job_response(name, job[kind.arn_key])


def start_job(kind: JobKind, api: Api, request: dict[str, Any]) -> dict[str, Any]:
    """Start the job, or find the one an earlier attempt started. Creates are idempotent by job name."""
    name = request[kind.name_key]
    existing = describe(kind, api, name)
    if existing is not None:
        return _adopt(kind, request, existing)
    method = getattr(api.client, xform_name(kind.create_operation))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = method(**request)
        except ParamValidationError as error:
            raise JobError(f"invalid {kind.create_operation} request: {' '.join(str(error).split())}") from error
        except (ClientError, *CONNECTION_ERRORS) as error:
            in_use = isinstance(error, ClientError) and error_code(error) == "ResourceInUse"
            if not (in_use or is_transient(error)):
                raise api_failure(failure_message(error), f"{kind.create_operation} of {kind.noun} {name!r}") from error
            # The create may have started the job before its answer was lost (or an earlier attempt did); one
            # look, as the create's own retries go on.
            try:
                existing = describe(kind, api, name, attempts=1)
            except TransientError:
                existing = None
            if existing is not None:
                return _adopt(kind, request, existing)
            delay = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))
            if in_use or attempt == MAX_ATTEMPTS or (
                    clock() + delay + 2 * ATTEMPT_SECONDS > api.deadline - CLEANUP_RESERVE_SECONDS):
                raise api_failure(failure_message(error), f"{kind.create_operation} of {kind.noun} {name!r}, "
                                  f"{attempts_text(attempt)}", TransientError if not in_use else JobError) from error
            LOGGER.info("%s failed (%s, attempt %d); retrying in %.1f s",
                        kind.create_operation, failure_message(error), attempt, delay)
            sleep(delay)
            continue
        LOGGER.info("%s %s started", kind.noun, name)
        return job_response(name, response[kind.arn_key])
    raise AssertionError("unreachable")  # the loop returns or raises


def start_or_clean_up(kind: JobKind, api: Api, request: dict[str, Any]) -> dict[str, Any]:
    """``start_job``, but a failure first stops any job of this request that an attempt did start."""
    try:
        return start_job(kind, api, request)
    except Exception as error:
        note = _stop_started_job(kind, api, request)
        raise JobError(fit(str(error), MAX_REASON_BYTES - len(note.encode())) + note) from error


def _stop_started_job(kind: JobKind, api: Api, request: Mapping[str, Any]) -> str:
    """Stop the job of this request if one runs; what the failure message should add about it."""
    name = request[kind.name_key]
    try:
        job = describe(kind, api, name, reserve=0)
        if job is None or job[kind.status_key] != "InProgress" or not request_matches(kind, request, job):
            return ""
        stop_job(kind, api, name)
    except JobError as error:
        return f"; could not make sure no {kind.noun} {name!r} runs ({error}): stop it if it does"
    return f"; the {kind.noun} {name!r} it started is stopping"


def stop_job(kind: JobKind, api: Api, name: str) -> None:
    description = describe(kind, api, name, reserve=0)
    if description is None or description[kind.status_key] != "InProgress":
        return  # absent, finished, or already stopping: nothing left to stop
    try:
        api.call(kind.stop_operation, {kind.name_key: name}, reserve=0)
    except ClientError as error:
        current = describe(kind, api, name, reserve=0)
        if current is None or current[kind.status_key] != "InProgress":
            return  # it ended between the describe and the stop
        raise api_failure(failure_message(error), f"{kind.stop_operation} of {kind.noun} {name!r}") from error
    LOGGER.info("%s %s stopping", kind.noun, name)


def _tag_map(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(tag["Key"]): str(tag["Value"]) for tag in tags or ()}


def retag(kind: JobKind, api: Api, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any] | None:
    """Apply an Update that changes only the tags to the running job; None when it changes more (or no job)."""
    untagged = {key: value for key, value in new.items() if key != TAGS_KEY}
    if {key: value for key, value in old.items() if key != TAGS_KEY} != untagged:
        return None
    job = describe(kind, api, name)
    if job is None or not request_matches(kind, new, job):
        return None
    arn = job[kind.arn_key]
    old_tags, new_tags = _tag_map(old.get(TAGS_KEY)), _tag_map(new.get(TAGS_KEY))
    removed = sorted(old_tags.keys() - new_tags.keys())
    changed = [{"Key": key, "Value": value} for key, value in new_tags.items() if old_tags.get(key) != value]
    try:
        if removed:
            api.call("DeleteTags", {"ResourceArn": arn, "TagKeys": removed})
        if changed:
            api.call("AddTags", {"ResourceArn": arn, "Tags": changed})
    except ClientError as error:
        raise api_failure(failure_message(error), f"retagging {kind.noun} {name!r}") from error
    LOGGER.info("%s %s retagged (%d set, %d removed)", kind.noun, name, len(changed), len(removed))
    return job_response(name, arn)


def on_event(kind: JobKind, event: Mapping[str, Any], api: Api) -> dict[str, Any]:
    request_type = event["RequestType"]
    LOGGER.info("%s request for %s %s", request_type, kind.noun, event.get("PhysicalResourceId", "(new)"))
    if request_type == "Delete":
        if is_stack_job_name(event["PhysicalResourceId"]):
            stop_job(kind, api, event["PhysicalResourceId"])
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    request = job_request(kind, api.client, event["ResourceProperties"])
    if request_type == "Update":
        old = job_request(kind, api.client, event.get("OldResourceProperties") or {})
        physical_id = event["PhysicalResourceId"]
        if old[kind.name_key] == request[kind.name_key]:  # else the user renamed the job: start it under the new name
            retagged = retag(kind, api, physical_id, {**old, kind.name_key: physical_id},
                             {**request, kind.name_key: physical_id})
            if retagged is not None:
                return retagged
            reusable = running_job_for(kind, api, request, (physical_id, old[kind.name_key]))
            if reusable is not None:
                return reusable
            request[kind.name_key] = replacement_name(kind, request, event)
    elif request_type != "Create":
        raise JobError(f"unknown CloudFormation request type {request_type!r}")
    return start_or_clean_up(kind, api, request)


def is_complete(kind: JobKind, event: Mapping[str, Any], api: Api) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    name = event["PhysicalResourceId"]
    try:
        description = describe(kind, api, name)
    except TransientError as error:
        # The waiter asks again at its next poll; if SageMaker stays unreachable, its timeout fails the
        # resource under the job's name, and the rollback's Delete stops the job.
        LOGGER.warning("%s %s could not be described (%s); asking again at the next poll", kind.noun, name, error)
        return {"IsComplete": False}
    if description is None:
        raise JobError(f"{kind.noun} {name!r} no longer exists")
    status = description[kind.status_key]
    if status == "Completed":
        return {"IsComplete": True, "Data": kind.completion_data(description)}
    if status == "Failed":
        raise api_failure(description.get("FailureReason") or "no reason given", f"{kind.noun} {name!r} failed")
    if status in {"Stopped", "Stopping"}:
        reason = description.get("SecondaryStatus") or description.get("AutoMLJobSecondaryStatus") or status
        raise JobError(f"{kind.noun} {name!r} was stopped before it completed ({reason})")
    return {"IsComplete": False}


def sns_client() -> Any:
    global _sns_client
    if _sns_client is None:
        _sns_client = boto3.client("sns", config=Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS))
    return _sns_client


def watch_failures(kind: JobKind, event: Mapping[str, Any], api: Api, sns: Any = None) -> dict[str, Any]:
    """Publish each job of the stack that failed or was stopped in the interval ending at the scheduled event's
    time to the topic its ``eulagate:failure-topic`` tag names. Returns the names published."""
    end = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    start = end - timedelta(seconds=WATCH_INTERVAL_SECONDS)
    prefix = os.environ.get(JOB_NAME_PREFIX_VARIABLE, "")
    published = []
    for status in WATCHED_STATUSES:
        token = None
        while True:
            page = api.call(kind.list_operation, {"NameContains": prefix, "StatusEquals": status, "MaxResults": 100,
                                                  **({"NextToken": token} if token else {})})
            for summary in page[kind.summaries_key]:
                name = summary[kind.name_key]
                if (is_stack_job_name(name) and start <= summary["LastModifiedTime"] < end
                        and _publish_failure(kind, api, sns or sns_client(), summary, status)):
                    published.append(name)
            token = page.get("NextToken")
            if not token:
                break
    return {"Published": published}


def _publish_failure(kind: JobKind, api: Api, sns: Any, summary: Mapping[str, Any], status: str) -> bool:
    arn = summary[kind.arn_key]
    tags = _tag_map(api.call("ListTags", {"ResourceArn": arn}).get("Tags"))
    topic = tags.get(FAILURE_TOPIC_TAG)
    if topic is None:
        return False
    name = summary[kind.name_key]
    reason = summary.get("FailureReason") or "no reason given"
    sns.publish(TopicArn=topic, Subject=fit(f"{kind.noun} {name} {status.lower()}", 100), Message=json.dumps({
        "JobName": name, "JobArn": arn, "Status": status, "FailureReason": fit(reason),
    }))
    LOGGER.info("%s %s %s: published to %s", kind.noun, name, status, topic)
    return True


Handler = Callable[..., dict[str, Any]]


def lambda_handlers(kind: JobKind) -> tuple[Handler, Handler, Handler]:
    """A job kind's Lambda entry points ``(on_event, is_complete, watch_failures)``; tests pass ``client=`` (and
    ``sns=`` to ``watch_failures``).

    Whatever goes wrong, the resource fails with a message that fits CloudFormation's response.
    """

    def guarded(step: Callable[[JobKind, Mapping[str, Any], Api], dict[str, Any]]) -> Handler:
        def entry(event: Mapping[str, Any], context: Any = None, *, client: Any = None) -> dict[str, Any]:
            try:
                return step(kind, event, Api.of(client, context))
            except JobError:
                raise
            except Exception as error:  # a bug or an unforeseen answer: still a bounded, readable reason
                LOGGER.exception("%s handler failed", kind.noun)
                raise JobError(f"{type(error).__name__}: {error} (the {kind.noun} handler failed)") from error

        return entry

    def watch_entry(event: Mapping[str, Any], context: Any = None, *, client: Any = None,
                    sns: Any = None) -> dict[str, Any]:
        return watch_failures(kind, event, Api.of(client, context), sns)

    return guarded(on_event), guarded(is_complete), watch_entry

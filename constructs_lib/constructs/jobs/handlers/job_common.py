"""The custom-resource protocol shared by the fine-tuning job handlers (they run in AWS Lambda).

Plain Python on the Lambda runtime's boto3. The CDK Provider framework calls ``on_event`` for each
CloudFormation request and, when the stack waits for the job, ``is_complete`` until it reports done;
an exception fails the resource with its message (one line of at most ``MAX_REASON_BYTES`` once JSON-encoded,
the API's own message first), which CloudFormation shows in the stack events.

The resource's properties are the SageMaker create request itself (CloudFormation delivers every
scalar as a string, so the request is coerced back to the API's types from botocore's service model).
The physical id is the job name. Neither create operation takes a client token: each job is tagged with the
CloudFormation request that started it (stack id, logical id, request id; ``job_contract``), and a job is adopted
by name only when it carries this very request's tags and runs (or ran to completion) its request.
- Create starts the job. A retried Create (Lambda's retry of the same request) adopts the job it already
  started. A job of that name that this request did not start (a stack deleted and created again under the same
  name finds its stopped predecessor) is left alone, and the job starts under a fresh name derived from the
  request. When a Create fails, the handler stops any job it started, even when it cannot describe it: the
  framework answers a failed Create with a marker physical id whose Delete never reaches this handler.
- Update starts a new job under a new name, so CloudFormation's cleanup deletes (stops) the old one.
  A rollback returns to the job that still runs (or completed) the old request: the current one, or the
  one the resource started with. An Update that changes only ``Tags`` retags the job in place.
- Delete stops the job when it still runs and succeeds when it has finished or never existed. A physical id
  outside the stack's job-name prefix (``JOB_NAME_PREFIX`` in the environment) names no job: when the Create's
  response was lost, CloudFormation never learned the job's name, so the Delete stops the running jobs this
  resource started (found by its requested name and the request tags).
``watch_failures`` (for job kinds SageMaker sends no EventBridge event for: AutoML) runs on a schedule and
publishes each job of the stack that failed or was stopped in the last interval to the topic its failure-topic
tag names; one job's publish error does not keep the others from being published.
Every call runs inside the invocation's deadline (Lambda's remaining time less ``FINAL_RESERVE_SECONDS``), the
first attempt included: an attempt starts only when it can end in time. Throttling, server errors (5xx) and
connection failures are retried with exponential backoff, and the work of the request itself keeps a reserve for
stopping a job a failed Create started. A create whose answer was lost (a read timeout, a 5xx) may have started
the job: the job is looked up by its name before the create is retried.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, ParamValidationError
from job_contract import (
    FAILURE_TOPIC_TAG,
    JOB_FAILURE_STATUSES,
    JOB_NAME_PATTERN,
    JOB_NAME_PREFIX_VARIABLE,
    LOGICAL_ID_TAG,
    NAME_HASH_LENGTH,
    REPLACEMENT_SUFFIX_LENGTH,
    REQUEST_ID_TAG,
    REQUEST_TAGS,
    STACK_ID_TAG,
    WATCH_INTERVAL_SECONDS,
    JobKind,
)

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
# Of the invocation's time, kept from the request itself: enough to look up and stop a job that a failed Create
# started (a describe and a stop, each retried once), and to return the error.
CLEANUP_RESERVE_SECONDS = 4 * ATTEMPT_SECONDS + 10
FINAL_RESERVE_SECONDS = 5  # returning the answer after the last call
DEFAULT_INVOCATION_SECONDS = 300.0  # when called without a Lambda context (tests): the Lambda timeout
MAX_REASON_BYTES = 1024  # of the message once JSON-encoded: the framework's response must stay within 4,096 bytes
MAX_LIST_PAGES = 20  # of 100 jobs each, when listing the stack's jobs
ELLIPSIS = "…"
sleep: Callable[[float], None] = time.sleep  # tests replace both to observe the backoff without waiting
clock: Callable[[], float] = time.monotonic

# Keys CloudFormation or the Provider framework add beside the request.
CLOUDFORMATION_KEYS = frozenset({"ServiceToken", "ServiceTimeout"})
TAGS_KEY = "Tags"
REUSABLE_STATUSES = frozenset({"InProgress", "Completed"})  # a job that runs or ran its request to the end
# Control characters (C0, DEL, C1), line and paragraph separators: a reason is one line.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
LONE_SURROGATES = re.compile("[\ud800-\udfff]")

_clients: dict[str, Any] = {}


class JobError(Exception):
    """Fails the custom resource; the message reaches the CloudFormation stack events, cut to fit."""

    def __init__(self, message: str) -> None:
        super().__init__(fit(message))


class TransientError(JobError):
    """Throttling, a server error or a lost connection outlasted the retries, or the time ran out."""


def one_line(text: str) -> str:
    """``text`` on one line: control characters and runs of white space become one space, lone surrogates (which
    UTF-8 cannot carry) the replacement character."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", LONE_SURROGATES.sub("\ufffd", text)).split())


def json_size(text: str) -> int:
    """The bytes ``text`` takes inside a JSON string, as the framework's JSON.stringify escapes it."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def fit(text: str, limit: int = MAX_REASON_BYTES) -> str:
    """``text`` on one line, cut to ``limit`` bytes once JSON-encoded, ending in an ellipsis when cut."""
    text = one_line(text)
    if json_size(text) <= limit:
        return text
    budget = limit - json_size(ELLIPSIS)
    kept, longest = 0, len(text)
    while kept < longest:  # the longest prefix that fits
        middle = (kept + longest + 1) // 2
        if json_size(text[:middle]) <= budget:
            kept = middle
        else:
            longest = middle - 1
    return text[:kept] + ELLIPSIS


def api_failure(message: str, context: str, error_type: type[JobError] = JobError) -> JobError:
    """The API's own message first, then what the handler was doing; the message is cut so the context fits."""
    suffix = f" ({one_line(context)})"
    return error_type(fit(message, MAX_REASON_BYTES - json_size(suffix)) + suffix)


def aws_client(service: str) -> Any:
    """The service's client, created on first use, so ``AWS_ENDPOINT_URL`` and region variables set by then apply."""
    if service not in _clients:
        # Retries happen in Api.call with our own bounded backoff; botocore retrying too would multiply it.
        _clients[service] = boto3.client(service, config=Config(
            retries={"mode": "standard", "max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
        ))
    return _clients[service]


def backoff(attempt: int) -> float:
    return min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))


@dataclass
class Api:
    """The SageMaker client of one invocation, with its deadline."""

    client: Any
    deadline: float
    """``clock()`` time by which the last call must have ended (the invocation then returns)."""

    @classmethod
    def of(cls, client: Any, context: Any) -> Api:
        remaining = (context.get_remaining_time_in_millis() / 1000 if context is not None
                     else DEFAULT_INVOCATION_SECONDS)
        return cls(client or aws_client("sagemaker"), clock() + remaining - FINAL_RESERVE_SECONDS)

    def check_time(self, operation: str, made: int, reserve: float) -> None:
        """Raise ``TransientError`` unless one more attempt of ``operation`` can end before the deadline less
        ``reserve``."""
        if clock() + ATTEMPT_SECONDS > self.deadline - reserve:
            raise TransientError(f"no time left in this invocation for {operation} ({attempts_text(made)} made); "
                                 "retry the deployment later")

    def call(self, operation: str, params: Mapping[str, Any], *, client: Any = None,
             reserve: float = CLEANUP_RESERVE_SECONDS, attempts: int = MAX_ATTEMPTS, subject: str = "",
             after_failure: Callable[[Exception], dict[str, Any] | None] | None = None) -> dict[str, Any]:
        """Call an operation (of ``client``, by default SageMaker), each attempt only when it can end before the
        deadline less ``reserve``, retrying transient failures. Other API errors raise ``ClientError``; a transient
        failure that lasts, or no time left, raises ``TransientError`` naming ``subject`` (by default the
        operation).

        ``after_failure`` sees each failed attempt's API or connection error before it is retried or raised; an
        answer it returns ends the call with that answer. What it spends of an attempt's time belongs in
        ``reserve``.
        """
        subject = subject or operation
        method = getattr(client or self.client, xform_name(operation))
        for attempt in range(1, attempts + 1):
            self.check_time(subject, attempt - 1, reserve)
            try:
                response: dict[str, Any] = method(**params)
                return response
            except ParamValidationError as error:
                raise JobError(f"invalid {operation} request: {error}") from error
            except (ClientError, *CONNECTION_ERRORS) as error:
                answer = after_failure(error) if after_failure is not None else None
                if answer is not None:
                    return answer
                if not is_transient(error):
                    raise
                delay = backoff(attempt)
                if attempt == attempts or clock() + delay + ATTEMPT_SECONDS > self.deadline - reserve:
                    raise api_failure(
                        failure_message(error), f"{subject}, {attempts_text(attempt)}; retry the deployment later",
                        TransientError,
                    ) from error
                LOGGER.info("%s failed (%s, attempt %d of %d); retrying in %.1f s",
                            operation, failure_message(error), attempt, attempts, delay)
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


def job_tags(kind: JobKind, api: Api, arn: str, *, reserve: float = CLEANUP_RESERVE_SECONDS) -> dict[str, str]:
    """The job's tags (Describe* calls do not return them)."""
    tags: dict[str, str] = {}
    token: str | None = None
    for _ in range(MAX_LIST_PAGES):
        try:
            page = api.call("ListTags", {"ResourceArn": arn, "MaxResults": 100,
                                         **({"NextToken": token} if token else {})}, reserve=reserve)
        except ClientError as error:
            raise api_failure(failure_message(error), f"ListTags of {kind.noun} {arn}") from error
        tags.update(_tag_map(page.get("Tags")))
        token = page.get("NextToken")
        if not token:
            break
    return tags


def list_jobs(kind: JobKind, api: Api, filters: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The summaries of the jobs matching ``filters`` (page by page, at most ``MAX_LIST_PAGES``)."""
    token: str | None = None
    for _ in range(MAX_LIST_PAGES):
        try:
            page = api.call(kind.list_operation, {**filters, "MaxResults": 100,
                                                  **({"NextToken": token} if token else {})})
        except ClientError as error:
            raise api_failure(failure_message(error), f"{kind.list_operation}") from error
        yield from page[kind.summaries_key]
        token = page.get("NextToken")
        if not token:
            break


@dataclass(frozen=True)
class Origin:
    """The CloudFormation request a job is started for. Its tags on the job stand in for a client token."""

    stack_id: str
    logical_id: str
    request_id: str

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> Origin:
        return cls(str(event.get("StackId", "")), str(event.get("LogicalResourceId", "")),
                   str(event.get("RequestId", "")))

    def tags(self) -> list[dict[str, str]]:
        return [{"Key": STACK_ID_TAG, "Value": self.stack_id}, {"Key": LOGICAL_ID_TAG, "Value": self.logical_id},
                {"Key": REQUEST_ID_TAG, "Value": self.request_id}]

    def same_resource(self, tags: Mapping[str, str]) -> bool:
        """Whether a job with ``tags`` was started for this resource of this stack (by any of its requests)."""
        return tags.get(STACK_ID_TAG) == self.stack_id and tags.get(LOGICAL_ID_TAG) == self.logical_id

    def started(self, tags: Mapping[str, str]) -> bool:
        """Whether a job with ``tags`` was started by this very request."""
        return self.same_resource(tags) and tags.get(REQUEST_ID_TAG) == self.request_id


def tagged_request(request: Mapping[str, Any], origin: Origin) -> dict[str, Any]:
    own = [tag for tag in request.get(TAGS_KEY) or () if tag.get("Key") not in REQUEST_TAGS]
    return {**request, TAGS_KEY: [*own, *origin.tags()]}


def derived_name(kind: JobKind, name: str, *sources: Any) -> str:
    """``<name cut to fit>-<8 hex digits of sources>``: a job name that is stable for the same sources.

    Job names are unique per account and region, even after a job ends, so a job that cannot take its
    requested name takes this one.
    """
    digest = hashlib.sha256(json.dumps(sources, sort_keys=True, default=str).encode()).hexdigest()[:NAME_HASH_LENGTH]
    return f"{name[: kind.max_name_length - REPLACEMENT_SUFFIX_LENGTH]}-{digest}"


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


def running_job_for(kind: JobKind, api: Api, request: Mapping[str, Any], origin: Origin, physical_id: str,
                    requested_name: str) -> dict[str, Any] | None:
    """The response naming a job that runs, or ran to completion, this very request, if the resource's current job
    or the job it started with does.

    That is a rollback: to the current job (the physical id: the resource's own record) when the update failed
    before replacing it, or to the job the resource started with (its requested name, adopted only when this
    resource's tags say it started it) when the replacement is being rolled back.
    """
    for name in dict.fromkeys((physical_id, requested_name)):
        job = describe(kind, api, name)
        if job is None or job[kind.status_key] not in REUSABLE_STATUSES or not request_matches(kind, request, job):
            continue
        if name == physical_id or origin.same_resource(job_tags(kind, api, job[kind.arn_key])):
            return job_response(name, job[kind.arn_key])
    return None


def replacement_name(kind: JobKind, request: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    """A new name for the job that replaces one whose requested name did not change: from the CloudFormation
    request id (stable when the request is retried) and the request."""
    return derived_name(kind, str(request[kind.name_key]), event.get("RequestId"), request)


def _adopt(kind: JobKind, api: Api, request: Mapping[str, Any], job: Mapping[str, Any], origin: Origin
           ) -> dict[str, Any] | None:
    """The response for an existing job of the requested name when this very request started it; None when it
    did not (the name belongs to another job)."""
    name = request[kind.name_key]
    if not origin.started(job_tags(kind, api, job[kind.arn_key])):
        return None
    status = job[kind.status_key]
    if status not in REUSABLE_STATUSES:
        reason = job.get("FailureReason") or "no reason given"
        raise api_failure(reason, f"the {kind.noun} {name!r} this request started is {status}")
    LOGGER.info("%s %s was started by this request; reusing it", kind.noun, name)
    return job_response(name, job[kind.arn_key])


def start_job(kind: JobKind, api: Api, request: dict[str, Any], origin: Origin, created: list[str]) -> dict[str, Any]:
    """Start the job, or adopt the one an earlier attempt of this request started.

    A name taken by a job this request did not start is left to it: the job starts under a fresh name derived
    from the request (``request`` is updated). Each name a create was sent for is appended to ``created`` (a job of
    that name is this request's: the name was free before).
    """
    requested = request[kind.name_key]
    existing = describe(kind, api, requested)
    if existing is not None:
        adopted = _adopt(kind, api, request, existing, origin)
        if adopted is not None:
            return adopted
        fresh = derived_name(kind, requested, origin.stack_id, origin.logical_id, origin.request_id)
        LOGGER.info("%s %s exists but this request did not start it; starting %s instead", kind.noun, requested,
                    fresh)
        request[kind.name_key] = fresh
        existing = describe(kind, api, fresh)
        if existing is not None:
            adopted = _adopt(kind, api, request, existing, origin)
            if adopted is not None:
                return adopted
            raise JobError(
                f"the {kind.noun} names {requested!r} and {fresh!r} are taken by jobs this request did not start; "
                "job names are unique per account and region (even after a job ends): choose another job name"
            )
    name = request[kind.name_key]
    subject = f"{kind.create_operation} of {kind.noun} {name!r}"
    adopted_after_failure: list[dict[str, Any]] = []

    def adopt_after_failure(error: Exception) -> dict[str, Any] | None:
        """The create may have started the job before its answer was lost (or an earlier attempt did): one look,
        as the create's own retries go on."""
        in_use = isinstance(error, ClientError) and error_code(error) == "ResourceInUse"
        if not (in_use or is_transient(error)):
            return None
        try:
            existing = describe(kind, api, name, attempts=1)
        except TransientError:
            return None
        if existing is None:
            return None
        response = _adopt(kind, api, request, existing, origin)
        if response is None:
            created.clear()  # the job of that name is another's: not to be stopped
            raise JobError(f"another {kind.noun} named {name!r} was created while this request created it; "
                           "choose another job name") from error
        adopted_after_failure.append(response)
        return response

    created.append(name)
    try:
        # each attempt, and the look-up after an ambiguous answer, end before the cleanup reserve
        response = api.call(kind.create_operation, tagged_request(request, origin), subject=subject,
                            reserve=CLEANUP_RESERVE_SECONDS + ATTEMPT_SECONDS, after_failure=adopt_after_failure)
    except ClientError as error:  # refused (ResourceInUse by a job this request did not start, among others)
        raise api_failure(failure_message(error), subject) from error
    if adopted_after_failure:
        return adopted_after_failure[0]
    LOGGER.info("%s %s started", kind.noun, name)
    return job_response(name, response[kind.arn_key])


def start_or_clean_up(kind: JobKind, api: Api, request: dict[str, Any], origin: Origin) -> dict[str, Any]:
    """``start_job``, but a failure first stops any job of this request that a create did start."""
    created: list[str] = []
    try:
        return start_job(kind, api, request, origin, created)
    except Exception as error:
        note = _stop_started_job(kind, api, created[-1]) if created else ""
        message = error.args[0] if isinstance(error, JobError) else f"{type(error).__name__}: {error}"
        raise JobError(fit(str(message), MAX_REASON_BYTES - json_size(note)) + note) from error


def _stop_started_job(kind: JobKind, api: Api, name: str) -> str:
    """Stop the job a create of this request may have started under ``name``; what the failure message should add.

    The name was free when the request began (or its job was adopted), so a job of that name is this request's.
    When it cannot be described, it is stopped all the same: the failed Create's Delete never reaches the handler.
    """
    try:
        job = describe(kind, api, name, reserve=0)
        if job is None or job[kind.status_key] != "InProgress":
            return ""
    except JobError as error:
        LOGGER.warning("%s %s could not be described (%s); stopping it in case it runs", kind.noun, name, error)
    unsure = f"; could not make sure no {kind.noun} {name!r} runs ({{}}): stop it if it does"
    try:
        api.call(kind.stop_operation, {kind.name_key: name}, reserve=0)
    except ClientError as error:
        return "" if _is_not_found(error) else unsure.format(fit(failure_message(error), 300))
    except JobError as error:
        return unsure.format(fit(str(error), 300))
    LOGGER.info("%s %s stopping", kind.noun, name)
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


def stop_unrecorded_jobs(kind: JobKind, api: Api, event: Mapping[str, Any]) -> list[str]:
    """For a Delete whose physical id names no job: stop the running jobs this resource started under its
    requested name or a name derived from it. CloudFormation never learned their names when the Create's response
    was lost (it then deletes the resource under an id of its own). Returns the names stopped."""
    name = (event.get("ResourceProperties") or {}).get(kind.name_key)
    if not isinstance(name, str) or not is_valid_job_name(kind, name) or not is_stack_job_name(name):
        return []
    origin = Origin.of(event)
    stem = name[: kind.max_name_length - REPLACEMENT_SUFFIX_LENGTH]
    stopped = []
    for summary in list_jobs(kind, api, {"NameContains": stem, "StatusEquals": "InProgress"}):
        job_name = str(summary[kind.name_key])
        if (job_name.lower().startswith(stem.lower()) and is_stack_job_name(job_name)
                and origin.same_resource(job_tags(kind, api, summary[kind.arn_key]))):
            stop_job(kind, api, job_name)
            stopped.append(job_name)
    return stopped


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
        physical_id = event["PhysicalResourceId"]
        if is_valid_job_name(kind, physical_id) and is_stack_job_name(physical_id):
            stop_job(kind, api, physical_id)
        else:
            stop_unrecorded_jobs(kind, api, event)
        return {"PhysicalResourceId": physical_id}
    request = job_request(kind, api.client, event["ResourceProperties"])
    origin = Origin.of(event)
    if request_type == "Update":
        old = job_request(kind, api.client, event.get("OldResourceProperties") or {})
        physical_id = event["PhysicalResourceId"]
        if old[kind.name_key] == request[kind.name_key]:  # else the user renamed the job: start it under the new name
            retagged = retag(kind, api, physical_id, {**old, kind.name_key: physical_id},
                             {**request, kind.name_key: physical_id})
            if retagged is not None:
                return retagged
            reusable = running_job_for(kind, api, request, origin, physical_id, old[kind.name_key])
            if reusable is not None:
                return reusable
            request[kind.name_key] = replacement_name(kind, request, event)
    elif request_type != "Create":
        raise JobError(f"unknown CloudFormation request type {request_type!r}")
    return start_or_clean_up(kind, api, request, origin)


def is_complete(kind: JobKind, event: Mapping[str, Any], api: Api,
                completion_data: Callable[[Mapping[str, Any]], dict[str, str]]) -> dict[str, Any]:
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
        return {"IsComplete": True, "Data": completion_data(description)}
    if status == "Failed":
        raise api_failure(description.get("FailureReason") or "no reason given", f"{kind.noun} {name!r} failed")
    if status in {"Stopped", "Stopping"}:
        reason = description.get("SecondaryStatus") or description.get("AutoMLJobSecondaryStatus") or status
        raise JobError(f"{kind.noun} {name!r} was stopped before it completed ({reason})")
    return {"IsComplete": False}


def watch_failures(kind: JobKind, event: Mapping[str, Any], api: Api, sns: Any = None, cloudformation: Any = None
                   ) -> dict[str, Any]:
    """Publish each job of the stack that failed or was stopped in the interval ending at the scheduled event's
    time to the topic its failure-topic tag names (for a kind without status-change events), and stop the stack's
    running jobs that no resource records (``sweep_unrecorded_jobs``). Returns the names published and stopped.

    Each job is handled on its own: a publish that fails (a denied or missing topic, a bad tag) does not keep
    the others from being published. The failures are then reported together in one line, so that the scheduled
    event reaches the dead-letter queue after Lambda's retries (which may publish a job again).
    """
    end = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    start = end - timedelta(seconds=WATCH_INTERVAL_SECONDS)
    prefix = os.environ.get(JOB_NAME_PREFIX_VARIABLE, "")
    published: list[str] = []
    failures: list[str] = []
    # SageMaker's own status-change events report the failures of the other kinds (the construct's rule)
    for status in JOB_FAILURE_STATUSES if kind.state_change_event is None else ():
        for summary in list_jobs(kind, api, {"NameContains": prefix, "StatusEquals": status}):
            name = str(summary[kind.name_key])
            if not (is_stack_job_name(name) and start <= summary["LastModifiedTime"] < end):
                continue
            try:
                if _publish_failure(kind, api, sns or aws_client("sns"), summary, status):
                    published.append(name)
            except Exception as error:  # any job's error, even unforeseen: the next job is still published
                failures.append(f"{name}: {_error_text(error)}")
    stopped = sweep_unrecorded_jobs(kind, api, cloudformation, failures)
    if failures:
        raise JobError(f"{len(failures)} of the stack's {kind.noun}s could not be handled ({'; '.join(failures)}); "
                       f"published: {', '.join(published) or 'none'}; stopped: {', '.join(stopped) or 'none'}")
    return {"Published": published, "Stopped": stopped}


def sweep_unrecorded_jobs(kind: JobKind, api: Api, cloudformation: Any, failures: list[str]) -> list[str]:
    """Stop the stack's running jobs that their resource does not record as its job, while no stack operation is
    under way: a Create whose response was lost (the framework then reports a failure whose Delete never
    reaches the handler) leaves such a job. Jobs without the request tags are left alone. Returns the names
    stopped; each job's error is added to ``failures``."""
    prefix = os.environ.get(JOB_NAME_PREFIX_VARIABLE, "")
    stopped = []
    for summary in list_jobs(kind, api, {"NameContains": prefix, "StatusEquals": "InProgress"}):
        name = str(summary[kind.name_key])
        if not is_stack_job_name(name):
            continue
        try:
            tags = job_tags(kind, api, summary[kind.arn_key])
            stack_id, logical_id = tags.get(STACK_ID_TAG), tags.get(LOGICAL_ID_TAG)
            if stack_id and logical_id and not _recorded(api, cloudformation, stack_id, logical_id, name):
                stop_job(kind, api, name)
                stopped.append(name)
        except Exception as error:  # the next job is still swept
            failures.append(f"{name}: {_error_text(error)}")
    return stopped


def _recorded(api: Api, cloudformation: Any, stack_id: str, logical_id: str, name: str) -> bool:
    """Whether the stack's resource records the job ``name``, or may still (an operation of the stack is under way)."""
    cloudformation = cloudformation or aws_client("cloudformation")
    try:
        stacks = api.call("DescribeStacks", {"StackName": stack_id}, client=cloudformation)["Stacks"]
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return False
        if stacks[0]["StackStatus"].endswith("_IN_PROGRESS"):
            return True
        resource = api.call("DescribeStackResource", {"StackName": stack_id, "LogicalResourceId": logical_id},
                            client=cloudformation)["StackResourceDetail"]
    except ClientError as error:
        if "does not exist" in failure_message(error):
            return False  # the stack, or its resource, is gone
        raise
    return bool(resource.get("PhysicalResourceId") == name
                and not str(resource.get("ResourceStatus", "")).startswith("DELETE"))


def _error_text(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{error_code(error)}: {failure_message(error)}"
    return str(error) if isinstance(error, JobError) else f"{type(error).__name__}: {error}"


def _publish_failure(kind: JobKind, api: Api, sns: Any, summary: Mapping[str, Any], status: str) -> bool:
    arn = summary[kind.arn_key]
    topic = job_tags(kind, api, arn).get(FAILURE_TOPIC_TAG)
    if topic is None:
        return False
    name = summary[kind.name_key]
    reason = summary.get("FailureReason") or "no reason given"
    api.call("Publish", {
        "TopicArn": topic, "Subject": fit(f"{kind.noun} {name} {status.lower()}", 100),
        "Message": json.dumps({"JobName": name, "JobArn": arn, "Status": status, "FailureReason": fit(reason)}),
    }, client=sns)
    LOGGER.info("%s %s %s: published to %s", kind.noun, name, status, topic)
    return True


Handler = Callable[..., dict[str, Any]]


def lambda_handlers(kind: JobKind, completion_data: Callable[[Mapping[str, Any]], dict[str, str]]
                    ) -> tuple[Handler, Handler, Handler]:
    """A job kind's Lambda entry points ``(on_event, is_complete, watch_failures)``; ``completion_data`` gives the
    attributes of a completed job. Tests pass ``client=`` (and ``sns=`` to ``watch_failures``).

    Whatever goes wrong, the invocation fails with one line that fits CloudFormation's response.
    """

    def guarded(step: Callable[..., dict[str, Any]]) -> Handler:
        def entry(event: Mapping[str, Any], context: Any = None, *, client: Any = None, **clients: Any
                  ) -> dict[str, Any]:
            try:
                return step(kind, event, Api.of(client, context), **clients)
            except JobError:
                raise
            except Exception as error:  # a bug or an unforeseen answer: still a bounded, readable reason
                LOGGER.exception("%s handler failed", kind.noun)
                raise JobError(f"{type(error).__name__}: {error} (the {kind.noun} handler failed)") from error

        return entry

    return (guarded(on_event), guarded(functools.partial(is_complete, completion_data=completion_data)),
            guarded(watch_failures))

"""Invoke SageMaker endpoints, with the ``CustomAttributes`` header that older JumpStart endpoints read.

SageMaker forwards ``CustomAttributes`` to the container verbatim; it must be at most 1024 visible US-ASCII
characters (InvokeEndpoint API reference). JumpStart containers read it as ``key=value`` pairs joined by ``;``,
and gated models served without ``ModelAccessConfig`` want ``accept_eula=true`` there on every request. This
module implements that convention: whitespace around keys and values is trimmed and the last value of a repeated
key wins, so ``accept_eula=false;accept_eula=true`` means true. See docs/invoke.md.

Pure Python at import time: boto3 loads only when ``invoke`` runs.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from constructs_lib.errors import EulaGateError, InvalidArgumentError, one_line

MAX_CUSTOM_ATTRIBUTES_LENGTH = 1024
ACCEPT_EULA_KEY = "accept_eula"
ACCEPTED = "true"

# Keys are runs of visible ASCII without the separators; values may hold inner spaces (trimmed at the ends).
_KEY = re.compile(r"[!-~]+")
_VISIBLE_ASCII_WITH_SPACES = re.compile(r"[ \t!-~]*")
_ENDPOINT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")

# SageMaker ends a real-time invocation that runs longer than 60 seconds; wait a little longer for its answer.
DEFAULT_TIMEOUT_SECONDS = 70.0
CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_ATTEMPTS = 3  # AWS_MAX_ATTEMPTS overrides it, as it does botocore's own retries
RETRY_BASE_SECONDS = 0.5
RETRY_MAX_SECONDS = 8.0
# Refusals that say the request was not processed, so sending it again cannot run the model twice
# (InvokeEndpoint API reference: ServiceUnavailable 503, ModelNotReadyException 429; throttling 400/429).
# ModelError, InternalFailure and InternalDependencyException may come after the model ran: never retried.
NOT_PROCESSED_CODES = frozenset({
    "ServiceUnavailable", "ModelNotReadyException", "ThrottlingException", "Throttling", "TooManyRequestsException",
})


class CustomAttributesError(InvalidArgumentError):
    """Text or a mapping that is not a valid ``CustomAttributes`` header."""


class InvocationError(EulaGateError, RuntimeError):
    """The endpoint or the SageMaker API refused the request, or could not be reached."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class InvocationResult:
    """The model's reply."""

    body: bytes
    content_type: str | None = None
    custom_attributes: str | None = None
    invoked_production_variant: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def _check_header_text(text: str) -> None:
    if len(text) > MAX_CUSTOM_ATTRIBUTES_LENGTH:
        raise CustomAttributesError(
            f"custom attributes are {len(text)} characters long; SageMaker allows at most "
            f"{MAX_CUSTOM_ATTRIBUTES_LENGTH}"
        )
    if not _VISIBLE_ASCII_WITH_SPACES.fullmatch(text):
        bad = next(ch for ch in text if not _VISIBLE_ASCII_WITH_SPACES.fullmatch(ch))
        raise CustomAttributesError(
            f"custom attributes may hold only visible US-ASCII characters and spaces, not {bad!r}"
        )


def parse_custom_attributes(text: str) -> dict[str, str]:
    """``"a=1; b = two ;a=3"`` -> ``{"a": "3", "b": "two"}``; the empty string is no attributes."""
    if not isinstance(text, str):
        raise CustomAttributesError(f"custom attributes must be a string, not {type(text).__name__}")
    _check_header_text(text)
    attributes: dict[str, str] = {}
    if not text.strip():
        return attributes
    for position, pair in enumerate(text.split(";"), start=1):
        key, separator, value = pair.partition("=")
        key = key.strip()
        if not separator or not key:
            raise CustomAttributesError(
                f"custom attribute {position} ({pair.strip()!r}) is not a key=value pair; "
                "write pairs like accept_eula=true joined by ';'"
            )
        if not _KEY.fullmatch(key):
            raise CustomAttributesError(f"custom attribute key {key!r} must not contain spaces")
        attributes[key] = value.strip()
    return attributes


def format_custom_attributes(attributes: Mapping[str, str]) -> str:
    """``{"a": "1", "b": "2"}`` -> ``"a=1;b=2"``; anything ``parse_custom_attributes`` would not return raises."""
    pairs = []
    for key, value in attributes.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise CustomAttributesError(
                f"custom attribute {key!r}: keys and values must be strings, not {type(value).__name__}"
            )
        if not _KEY.fullmatch(key) or "=" in key or ";" in key:
            raise CustomAttributesError(
                f"custom attribute key {key!r} must be visible ASCII without spaces, '=' or ';'"
            )
        if ";" in value or value != value.strip():
            raise CustomAttributesError(
                f"custom attribute {key}: value {value!r} must not contain ';' or start or end with whitespace"
            )
        pairs.append(f"{key}={value}")
    text = ";".join(pairs)
    _check_header_text(text)
    return text


def with_eula_acceptance(custom_attributes: str | Mapping[str, str] | None) -> str:
    """The header with ``accept_eula=true`` merged in; an explicit different ``accept_eula`` is a contradiction."""
    attributes = _as_mapping(custom_attributes)
    stated = attributes.get(ACCEPT_EULA_KEY)
    if stated is not None and stated.lower() != ACCEPTED:
        raise CustomAttributesError(
            f"custom attributes say {ACCEPT_EULA_KEY}={stated} but EULA acceptance was requested; drop one of them"
        )
    return format_custom_attributes({**attributes, ACCEPT_EULA_KEY: ACCEPTED})


def _as_mapping(custom_attributes: str | Mapping[str, str] | None) -> dict[str, str]:
    if custom_attributes is None:
        return {}
    if isinstance(custom_attributes, str):
        return parse_custom_attributes(custom_attributes)
    format_custom_attributes(custom_attributes)  # validates
    return dict(custom_attributes)


def _request_body(payload: Any) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return json.dumps(payload).encode("utf-8")


def invoke(
    endpoint_name: str,
    payload: Any,
    *,
    accept_eula: bool = False,
    custom_attributes: str | Mapping[str, str] | None = None,
    inference_component: str | None = None,
    region: str | None = None,
    content_type: str = "application/json",
    accept: str = "application/json",
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> InvocationResult:
    """Send ``payload`` (bytes and str as they are, anything else as JSON) to a SageMaker endpoint.

    ``accept_eula=True`` adds ``accept_eula=true`` to the ``CustomAttributes`` header. ``inference_component``
    names the component to serve the request on an endpoint that hosts several (``InferenceComponentName``).
    ``timeout`` is how many seconds to wait for the reply. A refusal that says the request was not processed
    (throttling, the service or the model not ready) or a connection that never opened is retried with backoff;
    anything after which the model may have run (a read timeout, ``ModelError``, ``InternalFailure``) is not, so
    a request never runs twice. Raises ``InvalidArgumentError`` (a ``ValueError``; ``CustomAttributesError``
    included) for bad input or missing AWS configuration, and ``InvocationError`` when the endpoint or the API
    refuses the request or cannot be reached.
    """
    request, accepted = _request(endpoint_name, timeout, accept_eula, custom_attributes, content_type, accept)
    request["Body"] = _request_body(payload)
    if inference_component is not None:
        _check_name(inference_component, "inference component")
        request["InferenceComponentName"] = inference_component
    response = _send("invoke_endpoint", endpoint_name, request, region=region, timeout=float(timeout),
                     accepted=accepted)
    return InvocationResult(
        body=response["Body"],
        content_type=response.get("ContentType"),
        custom_attributes=response.get("CustomAttributes"),
        invoked_production_variant=response.get("InvokedProductionVariant"),
    )


@dataclass(frozen=True)
class AsyncInvocation:
    """An asynchronous request SageMaker queued: where its response (or its error) will be written."""

    inference_id: str | None
    output_location: str | None
    failure_location: str | None


def invoke_async(
    endpoint_name: str,
    input_location: str,
    *,
    accept_eula: bool = False,
    custom_attributes: str | Mapping[str, str] | None = None,
    region: str | None = None,
    content_type: str = "application/json",
    accept: str = "application/json",
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> AsyncInvocation:
    """Queue the request stored at ``input_location`` (an S3 URI) on an asynchronous endpoint
    (``InvokeEndpointAsync``); the reply says where the response will be written. Same errors, acceptance and
    retries as ``invoke``."""
    from constructs_lib.aws_names import s3_uri_problem

    problem = s3_uri_problem(input_location) if isinstance(input_location, str) else "not a string"
    if problem:
        raise InvalidArgumentError(f"input location {input_location!r} is not an S3 URI like s3://bucket/request.json: "
                         f"{problem}")
    request, accepted = _request(endpoint_name, timeout, accept_eula, custom_attributes, content_type, accept)
    request["InputLocation"] = input_location
    response = _send("invoke_endpoint_async", endpoint_name, request, region=region, timeout=float(timeout),
                     accepted=accepted)
    return AsyncInvocation(response.get("InferenceId"), response.get("OutputLocation"),
                           response.get("FailureLocation"))


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not _ENDPOINT_NAME.fullmatch(name):
        raise InvalidArgumentError(f"{what} name {name!r} is not a SageMaker {what} name "
                         "(1 to 63 letters, digits and inner hyphens)")


def _request(
    endpoint_name: str, timeout: float, accept_eula: bool, custom_attributes: str | Mapping[str, str] | None,
    content_type: str, accept: str,
) -> tuple[dict[str, Any], bool]:
    """The request fields both invocations share, and whether they accept the EULA."""
    _check_name(endpoint_name, "endpoint")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
        raise InvalidArgumentError(f"timeout must be a number of seconds from 0 to 3600, got {timeout!r}")
    header = with_eula_acceptance(custom_attributes) if accept_eula else format_custom_attributes(
        _as_mapping(custom_attributes)
    )
    request: dict[str, Any] = {"EndpointName": endpoint_name, "ContentType": content_type, "Accept": accept}
    if header:
        request["CustomAttributes"] = header
    return request, parse_custom_attributes(header).get(ACCEPT_EULA_KEY) == ACCEPTED


def _send(
    operation: str, endpoint_name: str, request: dict[str, Any], *, region: str | None, timeout: float,
    accepted: bool, sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """One call of ``operation``, retried only while the request was certainly not processed."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = _client(region, timeout)
    attempts = _attempts()
    attempt = 1
    while True:
        try:
            response = dict(getattr(client, operation)(**request))
            if "Body" in response:  # read inside the retry guard: a read can time out too
                response["Body"] = response["Body"].read()
            return response
        except (BotoCoreError, ClientError) as error:
            failure, retryable = _failure(error, endpoint_name, timeout=timeout, accepted=accepted)
            if not retryable or attempt == attempts:
                raise failure from None
        sleep(random.uniform(0, min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** attempt)))  # full jitter
        attempt += 1


def _client(region: str | None, timeout: float) -> Any:
    import boto3.session
    from botocore.config import Config
    from botocore.exceptions import NoRegionError, ProfileNotFound

    config = Config(
        connect_timeout=min(timeout, CONNECT_TIMEOUT_SECONDS), read_timeout=timeout,
        retries={"total_max_attempts": 1},  # retried by _send, which knows which failures are safe to repeat
    )
    try:
        # A session of its own reads the AWS configuration as it is now (boto3's default session keeps the first).
        return boto3.session.Session().client("sagemaker-runtime", region_name=region, config=config)
    except NoRegionError:
        raise InvalidArgumentError(_no_region_message()) from None
    except ProfileNotFound as error:
        raise InvalidArgumentError(f"{one_line(error)}: check AWS_PROFILE and ~/.aws/config") from None


def _failure(error: Exception, endpoint_name: str, *, timeout: float, accepted: bool) -> tuple[Exception, bool]:
    """The error to raise for a failed call, and whether the call may be repeated: only when the request was
    certainly not processed (refused as not processed, or a connection that never opened)."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )

    if isinstance(error, NoRegionError):
        return InvalidArgumentError(_no_region_message()), False
    if isinstance(error, NoCredentialsError):
        return InvalidArgumentError("no AWS credentials found: configure a profile or set AWS_PROFILE"), False
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        return _refusal(endpoint_name, error, accepted=accepted), code in NOT_PROCESSED_CODES
    if isinstance(error, ReadTimeoutError):
        return InvocationError(
            f"endpoint {endpoint_name} did not reply within {timeout:g} seconds (--timeout); not retried, as the "
            "model may have processed the request"
        ), False
    unreachable = InvocationError(f"cannot reach endpoint {endpoint_name}: {one_line(error)}")
    return unreachable, isinstance(error, ConnectTimeoutError | EndpointConnectionError)  # never sent


def _attempts() -> int:
    value = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(value) if value.isdigit() and int(value) >= 1 else DEFAULT_ATTEMPTS


def _no_region_message() -> str:
    """Where boto3 looks for a region (botocore reads AWS_DEFAULT_REGION, not AWS_REGION, and the profile's)."""
    profile = os.environ.get("AWS_PROFILE")
    where = f"the `region` of profile {profile!r}" if profile else "the `region` of your AWS profile"
    note = "; AWS_REGION is set, but boto3 reads AWS_DEFAULT_REGION" if os.environ.get("AWS_REGION") else ""
    return (f"no AWS region: pass --region (region=), set AWS_DEFAULT_REGION, or set {where} in "
            f"~/.aws/config{note}")


def _refusal(endpoint_name: str, error: Any, *, accepted: bool) -> InvocationError:
    details = error.response.get("Error", {})
    code = details.get("Code") or "Error"
    message = one_line(details.get("Message") or error.response.get("OriginalMessage") or error)
    hint = ""
    if not accepted and ACCEPT_EULA_KEY in message.lower():
        hint = " (the model asks for EULA acceptance: read its EULA, then pass --accept-eula / accept_eula=True)"
    return InvocationError(f"endpoint {endpoint_name} refused the request: {code}: {message}{hint}", code=code)

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
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_CUSTOM_ATTRIBUTES_LENGTH = 1024
ACCEPT_EULA_KEY = "accept_eula"
ACCEPTED = "true"

# Keys are runs of visible ASCII without the separators; values may hold inner spaces (trimmed at the ends).
_KEY = re.compile(r"[!-~]+")
_VISIBLE_ASCII_WITH_SPACES = re.compile(r"[ \t!-~]*")
_ENDPOINT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


class CustomAttributesError(ValueError):
    """Text or a mapping that is not a valid ``CustomAttributes`` header."""


class InvocationError(RuntimeError):
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
    region: str | None = None,
    content_type: str = "application/json",
    accept: str = "application/json",
) -> InvocationResult:
    """Send ``payload`` (bytes and str as they are, anything else as JSON) to a SageMaker endpoint.

    ``accept_eula=True`` adds ``accept_eula=true`` to the ``CustomAttributes`` header. Raises ``ValueError``
    (``CustomAttributesError`` included) for bad input or missing AWS configuration, and ``InvocationError`` when
    the endpoint or the API refuses the request or cannot be reached.
    """
    if not isinstance(endpoint_name, str) or not _ENDPOINT_NAME.fullmatch(endpoint_name):
        raise ValueError(
            f"endpoint name {endpoint_name!r} is not a SageMaker endpoint name "
            "(1 to 63 letters, digits and inner hyphens)"
        )
    header = with_eula_acceptance(custom_attributes) if accept_eula else format_custom_attributes(
        _as_mapping(custom_attributes)
    )
    request: dict[str, Any] = {
        "EndpointName": endpoint_name,
        "Body": _request_body(payload),
        "ContentType": content_type,
        "Accept": accept,
    }
    if header:
        request["CustomAttributes"] = header
    accepted = parse_custom_attributes(header).get(ACCEPT_EULA_KEY) == ACCEPTED

    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        # Only the retry mode is fixed here, so AWS_MAX_ATTEMPTS still applies.
        client = boto3.client("sagemaker-runtime", region_name=region, config=Config(retries={"mode": "standard"}))
        response = client.invoke_endpoint(**request)
        body = response["Body"].read()
    except NoRegionError:
        raise ValueError("no AWS region: pass region= (--region) or set AWS_REGION") from None
    except NoCredentialsError:
        raise ValueError("no AWS credentials found: configure a profile or set AWS_PROFILE") from None
    except ClientError as error:
        raise _refusal(endpoint_name, error, accepted=accepted) from None
    except BotoCoreError as error:
        raise InvocationError(f"cannot reach endpoint {endpoint_name}: {_one_line(error)}") from None
    return InvocationResult(
        body=body,
        content_type=response.get("ContentType"),
        custom_attributes=response.get("CustomAttributes"),
        invoked_production_variant=response.get("InvokedProductionVariant"),
    )


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _refusal(endpoint_name: str, error: Any, *, accepted: bool) -> InvocationError:
    details = error.response.get("Error", {})
    code = details.get("Code") or "Error"
    message = _one_line(details.get("Message") or error.response.get("OriginalMessage") or error)
    hint = ""
    if not accepted and ACCEPT_EULA_KEY in message.lower():
        hint = " (the model asks for EULA acceptance: read its EULA, then pass --accept-eula / accept_eula=True)"
    return InvocationError(f"endpoint {endpoint_name} refused the request: {code}: {message}{hint}", code=code)

"""The template of a stack or change-set hook request: downloaded from the S3 presigned URL in ``payload``.

The object at the URL is JSON: ``{"template": "...", "previousTemplate": "..."}`` for stacks,
``{"template": "...", "changedResources": [...]}`` for change sets (CloudFormation Hooks User Guide, "Create
Lambda functions to evaluate resources for Lambda Hooks"). Standard library only (urllib): the Lambda runtime
has no ``requests``. The download is bounded in time and size, so a slow or huge object becomes an
``InternalFailure`` well inside the hook's 30 seconds, never a hang.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from constructs_lib.errors import EulaGateError

# A template given to CloudFormation by URL may be 1 MB; the payload holds it and the previous one, each
# JSON-escaped (up to 2x for quotes and newlines), with room to spare.
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
DOWNLOAD_SECONDS = 10.0
_CHUNK = 256 * 1024
# Plain HTTP only to this machine: the local tests and `eulagate hook simulate` serve payloads over loopback.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class PayloadError(EulaGateError):
    """The payload could not be downloaded or read: one line, reported as the hook's InternalFailure."""


def download_payload(url: str, *, timeout: float = DOWNLOAD_SECONDS, max_bytes: int = MAX_PAYLOAD_BYTES
                     ) -> Mapping[str, Any]:
    """The payload object at ``url``; ``PayloadError`` when it is unreachable, too slow, too large or not JSON."""
    parts = urlsplit(url)
    if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)):
        raise PayloadError(f"the payload URL is not an https URL ({parts.scheme or 'no scheme'}://"
                           f"{parts.hostname or ''})")
    where = f"{parts.hostname}{parts.path}"  # never the query: it holds the presigned signature
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # the scheme is checked above
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise PayloadError(f"the payload at {where} is {int(declared):,} bytes, over the hook's "
                                   f"{max_bytes:,}-byte limit")
            body = bytearray()
            while chunk := response.read1(_CHUNK):  # what has arrived: the deadline is checked as data trickles
                body += chunk
                if len(body) > max_bytes:
                    raise PayloadError(f"the payload at {where} is over the hook's {max_bytes:,}-byte limit")
                if time.monotonic() > deadline:
                    raise PayloadError(f"downloading the payload at {where} took over {timeout:g} s")
    except urllib.error.HTTPError as error:
        raise PayloadError(f"downloading the payload at {where} failed: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise PayloadError(f"downloading the payload at {where} failed: {reason}") from error
    except (http.client.HTTPException, ValueError) as error:  # their text may quote the URL: name the class only
        raise PayloadError(f"downloading the payload at {where} failed: {type(error).__name__}") from error
    return parse_payload(bytes(body), where)


def parse_payload(body: bytes, where: str) -> Mapping[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise PayloadError(f"the payload at {where} is not JSON: {str(error).splitlines()[0]}") from error
    if not isinstance(payload, dict):
        raise PayloadError(f"the payload at {where} is a JSON {type(payload).__name__}, not an object")
    return payload

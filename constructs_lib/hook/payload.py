"""The template of a stack or change-set hook request: downloaded from the S3 presigned URL in ``payload``.

The object at the URL is JSON: ``{"template": "...", "previousTemplate": "..."}`` for stacks,
``{"template": "...", "changedResources": [...]}`` for change sets (CloudFormation Hooks User Guide, "Create
Lambda functions to evaluate resources for Lambda Hooks").

The URL comes from the event, so the download treats it as hostile (docs/hook.md, "What the hook fetches"):

- HTTPS only, on port 443, to an Amazon S3 endpoint of the function's own partition (``s3_host_allowed``); every
  redirect is checked again against the same rule, and at most ``MAX_REDIRECTS`` are followed;
- one absolute deadline for connecting, the TLS handshake, the headers and the body, whatever the server drips;
  8 MB at most;
- whatever goes wrong, the reason the caller sees is only "could not download the template": what was refused,
  unreachable or slow is logged for the operator (host and path, never the presigned query), not answered.

Standard library only (``http.client``): the Lambda runtime has no ``requests``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from constructs_lib.aws_names import partition_of
from constructs_lib.catalog.catalog import s3_domain
from constructs_lib.errors import EulaGateError

# A template given to CloudFormation by URL may be 1 MB; the payload holds it and the previous one, each
# JSON-escaped (up to 2x for quotes and newlines), with room to spare.
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
DOWNLOAD_SECONDS = 10.0
# S3 answers a presigned GET of a young bucket in another region with a 307 to the regional endpoint.
MAX_REDIRECTS = 2
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DOWNLOAD_FAILED = "could not download the template"
HTTPS_PORT = 443
_CHUNK = 256 * 1024
# Where no AWS_REGION says which partition the function runs in (a local call): the commercial one.
_DEFAULT_REGION = "us-east-1"
# Bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens (Amazon S3 User Guide, "Bucket
# naming rules"); one with dots is several DNS labels of a virtual-hosted-style host.
_BUCKET_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
# A region name in an endpoint (us-east-1, us-gov-west-1, eusc-de-east-1); its partition is checked beside it.
_REGION_NAME = re.compile(r"[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}")


class PayloadError(EulaGateError):
    """The payload could not be downloaded or read. ``str()`` is only ``DOWNLOAD_FAILED``, what the hook answers;
    ``detail`` is what happened, for the function's log (host and path only, never the presigned query)."""

    def __init__(self, detail: str) -> None:
        super().__init__(DOWNLOAD_FAILED)
        self.detail = detail


CreateConnection = Callable[[tuple[str, int], float, Any], socket.socket]


@dataclass(frozen=True)
class Connector:
    """How the download reaches a host: the TLS context that verifies it, and how its address is opened.

    The production connector (``SYSTEM``) verifies certificates and host names against the system's CAs and
    opens the host's own address. Tests build another one explicitly (a test CA, the host name mapped to a
    server on 127.0.0.1), so that the allowlist, redirects and deadlines are exercised over real TLS; nothing
    in the hook or its function builds a connector other than ``SYSTEM``.
    """

    ssl_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)
    create_connection: CreateConnection = socket.create_connection


SYSTEM = Connector()


def home_region() -> str:
    """The region the function runs in (Lambda sets ``AWS_REGION``): its partition bounds the hosts fetched."""
    return os.environ.get("AWS_REGION") or _DEFAULT_REGION


def s3_host_allowed(host: str, region: str) -> bool:
    """Whether ``host`` is an Amazon S3 endpoint of ``region``'s partition, virtual-hosted or path style.

    The endpoint names (Amazon S3 User Guide, "Virtual hosting of buckets" and "Using Amazon S3 dual-stack
    endpoints"; AWS General Reference, "Amazon S3 endpoints"), each optionally after ``<bucket>.``:
    ``s3.<region>.<domain>``, ``s3.dualstack.<region>.<domain>``, ``s3-fips.<region>.<domain>``,
    ``s3-fips.dualstack.<region>.<domain>``, the legacy ``s3-<region>.<domain>`` and ``s3-fips-<region>.<domain>``,
    and in the commercial partition the global ``s3.amazonaws.com`` and ``s3-external-1.amazonaws.com``. The
    domain is the partition's DNS suffix (botocore's partitions data, ``constructs_lib.catalog.s3_domain``);
    regions are those of the same partition.
    """
    host = host.lower()
    suffix = "." + s3_domain(region)
    if not host.endswith(suffix):
        return False
    labels = host[: -len(suffix)].split(".")
    partition = partition_of(region)

    def in_partition(candidate: str) -> bool:
        return bool(_REGION_NAME.fullmatch(candidate)) and partition_of(candidate) == partition

    for size in (3, 2, 1):
        if len(labels) < size:
            continue
        endpoint, bucket = labels[-size:], labels[:-size]
        if bucket and not _bucket_labels(bucket):
            continue
        if size == 3 and endpoint[0] in ("s3", "s3-fips") and endpoint[1] == "dualstack":
            return in_partition(endpoint[2])
        if size == 2 and endpoint[0] in ("s3", "s3-fips"):
            return in_partition(endpoint[1])
        if size == 1:
            name = endpoint[0]
            if partition == "aws" and name in ("s3", "s3-external-1"):
                return True
            for prefix in ("s3-fips-", "s3-"):
                if name.startswith(prefix) and in_partition(name[len(prefix):]):
                    return True
    return False


def _bucket_labels(labels: list[str]) -> bool:
    name = ".".join(labels)
    return (3 <= len(name) <= 63 and set(name) <= _BUCKET_CHARACTERS and all(labels)
            and name[0].isalnum() and name[-1].isalnum())


def checked_target(url: str, region: str) -> tuple[str, str]:
    """(host, path and query) of ``url`` when it may be fetched; ``PayloadError`` saying why not."""
    # Before parsing: urlsplit silently drops tabs and newlines, which the URL as given must not hold either.
    if any(ord(character) < 0x21 or ord(character) == 0x7F for character in url):
        raise PayloadError("refused a payload URL holding control characters or spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # a malformed authority or port: never quote the URL, it holds the signature
        raise PayloadError(f"a malformed payload URL ({type(error).__name__})") from error
    host = (parts.hostname or "").rstrip(".")
    where = f"{parts.scheme or 'no scheme'}://{host}"
    if parts.scheme != "https":
        raise PayloadError(f"refused {where}: not https")
    if parts.username is not None or parts.password is not None:
        raise PayloadError(f"refused {where}: the URL carries credentials")
    if port not in (None, HTTPS_PORT):
        raise PayloadError(f"refused {where}:{port}: not port {HTTPS_PORT}")
    if not s3_host_allowed(host, region):
        raise PayloadError(f"refused {where}: not an Amazon S3 endpoint of the {partition_of(region)} partition")
    return host, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def download_payload(url: str, *, region: str | None = None, timeout: float = DOWNLOAD_SECONDS,
                     max_bytes: int = MAX_PAYLOAD_BYTES, connector: Connector = SYSTEM) -> Mapping[str, Any]:
    """The payload object at ``url``; ``PayloadError`` when it may not be fetched, is unreachable, slower than
    ``timeout`` in all (redirects included), larger than ``max_bytes`` or not a JSON object."""
    region = region or home_region()
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        host, target = checked_target(url, region)
        status, location, body = _get(host, target, deadline, timeout, max_bytes, connector)
        where = f"{host}{target.partition('?')[0]}"
        if status in REDIRECT_STATUSES:
            if not location:
                raise PayloadError(f"HTTP {status} without a Location from {where}")
            url = urljoin(url, location)
            continue
        if status != 200:
            raise PayloadError(f"HTTP {status} from {where}")
        return parse_payload(body, where)
    raise PayloadError(f"more than {MAX_REDIRECTS} redirects")


def _get(host: str, target: str, deadline: float, timeout: float, max_bytes: int, connector: Connector
         ) -> tuple[int, str | None, bytes]:
    """One GET: (status, Location, body). A watchdog shuts the socket at ``deadline``, so no read (a TLS handshake,
    a header line, a body chunk dripped byte by byte) outlives it: per-read socket timeouts alone would not."""
    remaining = deadline - time.monotonic()
    where = f"{host}{target.partition('?')[0]}"
    if remaining <= 0:
        raise PayloadError(f"downloading {where} took over {timeout:g} s")
    connection = http.client.HTTPSConnection(host, HTTPS_PORT, timeout=remaining, context=connector.ssl_context)
    connection._create_connection = connector.create_connection  # type: ignore[attr-defined]
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(remaining, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("GET", target, headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        if response.status != 200:
            return response.status, response.getheader("Location"), b""
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise PayloadError(f"{where} declares {int(declared):,} bytes, over {max_bytes:,}")
        body = bytearray()
        while chunk := response.read1(_CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise PayloadError(f"{where} sent over {max_bytes:,} bytes")
            if expired.is_set():
                break
        if expired.is_set() or time.monotonic() > deadline:
            raise PayloadError(f"downloading {where} took over {timeout:g} s")
        return response.status, None, bytes(body)
    except PayloadError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:
        if expired.is_set():
            raise PayloadError(f"downloading {where} took over {timeout:g} s") from error
        raise PayloadError(f"downloading {where} failed: {type(error).__name__}") from error
    finally:
        watchdog.cancel()
        connection.close()


def parse_payload(body: bytes, where: str) -> Mapping[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise PayloadError(f"the payload at {where} is not JSON ({type(error).__name__})") from error
    if not isinstance(payload, dict):
        raise PayloadError(f"the payload at {where} is a JSON {type(payload).__name__}, not an object")
    return payload

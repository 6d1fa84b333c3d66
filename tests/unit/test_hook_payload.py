"""The hook's payload download fetches only what CloudFormation sends: HTTPS to an Amazon S3 endpoint of the
function's partition, every redirect checked again, one deadline for connect, headers and body, 8 MB at most.

The S3 stand-in is an HTTPS server on 127.0.0.1 (tests/support/https_payloads.py), reached through the download's
explicit test seam (a ``Connector`` trusting a CA made for this run); URLs keep their real S3 host names.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.hook.payload import (
    DOWNLOAD_FAILED,
    MAX_PAYLOAD_BYTES,
    MAX_REDIRECTS,
    SYSTEM,
    Connector,
    PayloadError,
    download_payload,
    s3_host_allowed,
)
from tests.support.https_payloads import BUCKET_HOST, REGION, PayloadServer, payload_server

PAYLOAD = {"template": json.dumps({"Resources": {}})}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayloadServer]:
    with payload_server(tmp_path_factory.mktemp("tls")) as payloads:
        yield payloads


def download(server: PayloadServer, url: str, **limits: Any) -> Any:
    return download_payload(url, region=REGION, connector=server.connector, **limits)


def refused(server: PayloadServer, url: str, detail: str, **limits: Any) -> PayloadError:
    with pytest.raises(PayloadError) as raised:
        download(server, url, **limits)
    assert str(raised.value) == DOWNLOAD_FAILED  # all a caller (and the hook's answer) ever sees
    assert detail in raised.value.detail, raised.value.detail
    assert "secret" not in raised.value.detail  # the presigned signature is never logged
    return raised.value


# --- the host allowlist ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("host", "region"), [
    # virtual-hosted style, regional, dual-stack, FIPS, FIPS dual-stack, legacy dash, global (Amazon S3 User Guide)
    ("cf-templates-1a2b-us-east-1.s3.us-east-1.amazonaws.com", "us-east-1"),
    ("bucket.s3.dualstack.eu-west-1.amazonaws.com", "us-east-1"),
    ("bucket.s3-fips.us-east-2.amazonaws.com", "us-east-1"),
    ("bucket.s3-fips.dualstack.us-west-2.amazonaws.com", "us-east-1"),
    ("bucket.s3-us-west-2.amazonaws.com", "us-east-1"),
    ("bucket.s3.amazonaws.com", "us-east-1"),
    ("bucket.s3-external-1.amazonaws.com", "us-east-1"),
    ("my.dotted.bucket.s3.ap-southeast-2.amazonaws.com", "ap-southeast-2"),
    # path style
    ("s3.us-east-1.amazonaws.com", "us-east-1"),
    ("s3.dualstack.eu-central-1.amazonaws.com", "eu-west-1"),
    ("s3-fips.us-east-1.amazonaws.com", "us-east-1"),
    ("s3.amazonaws.com", "us-west-2"),
    ("S3.US-EAST-1.AMAZONAWS.COM", "us-east-1"),
    # other partitions: their own DNS suffix and regions (botocore's partitions data)
    ("bucket.s3.cn-north-1.amazonaws.com.cn", "cn-northwest-1"),
    ("s3.dualstack.cn-northwest-1.amazonaws.com.cn", "cn-north-1"),
    ("bucket.s3-fips.us-gov-west-1.amazonaws.com", "us-gov-east-1"),
    ("s3-fips-us-gov-west-1.amazonaws.com", "us-gov-west-1"),
    ("bucket.s3.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"),
    ("bucket.s3.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"),
])
def test_s3_endpoints_of_the_partition_are_allowed(host: str, region: str) -> None:
    assert s3_host_allowed(host, region)


@pytest.mark.parametrize(("host", "region"), [
    ("127.0.0.1", "us-east-1"),
    ("localhost", "us-east-1"),
    ("169.254.169.254", "us-east-1"),
    ("example.com", "us-east-1"),
    ("s3.us-east-1.amazonaws.com.evil.com", "us-east-1"),
    ("bucket.s3.us-east-1.amazonaws.com.cn", "us-east-1"),  # a China host from a commercial-region hook
    ("bucket.s3.cn-north-1.amazonaws.com.cn", "us-east-1"),
    ("bucket.s3.us-east-1.amazonaws.com", "cn-north-1"),  # and the other way round
    ("bucket.s3.us-gov-west-1.amazonaws.com", "us-east-1"),  # GovCloud shares the suffix, not the partition
    ("bucket.s3.us-east-1.amazonaws.com", "us-gov-west-1"),
    ("s3.amazonaws.com", "us-gov-west-1"),  # the global endpoint is the commercial partition's
    ("sqs.us-east-1.amazonaws.com", "us-east-1"),
    ("bucket.s3-accesspoint.us-east-1.amazonaws.com", "us-east-1"),
    ("bucket.s3-website-us-east-1.amazonaws.com", "us-east-1"),
    ("bucket.s3.nowhere.amazonaws.com", "us-east-1"),
    ("evil.s3.dualstack.amazonaws.com", "us-east-1"),
    ("-bad-.s3.us-east-1.amazonaws.com", "us-east-1"),
    ("a..b.s3.us-east-1.amazonaws.com", "us-east-1"),
    ("UPPER_case.s3.us-east-1.amazonaws.com", "us-east-1"),
    ("amazonaws.com", "us-east-1"),
    ("", "us-east-1"),
])
def test_other_hosts_are_refused(host: str, region: str) -> None:
    assert not s3_host_allowed(host, region)


@pytest.mark.parametrize(("url", "detail"), [
    ("http://cf-templates-payloads.s3.us-east-1.amazonaws.com/p.json", "not https"),
    ("ftp://cf-templates-payloads.s3.us-east-1.amazonaws.com/p.json", "not https"),
    ("file:///etc/passwd", "not https"),
    ("https://127.0.0.1/p.json", "not an Amazon S3 endpoint of the aws partition"),
    ("https://localhost:9001/2018-06-01/runtime/invocation/next", "not port 443"),
    ("https://cf-templates-payloads.s3.us-east-1.amazonaws.com:8443/p.json", "not port 443"),
    ("https://user:pw@cf-templates-payloads.s3.us-east-1.amazonaws.com/p.json", "carries credentials"),
    ("https://evil.example.com/p.json", "not an Amazon S3 endpoint"),
    ("https://cf-templates-payloads.s3.us-east-1.amazonaws.com/p.json?X-Amz-Signature=sec ret", "control characters"),
    ("https://[::1/p.json", "a malformed payload URL"),
])
def test_a_url_outside_the_rule_is_refused_before_connecting(server: PayloadServer, url: str, detail: str) -> None:
    before = len(server.requests)
    refused(server, url, detail)
    assert len(server.requests) == before


def test_an_allowed_host_is_fetched_over_verified_tls(server: PayloadServer) -> None:
    url = server.serve("/ok.json", PAYLOAD)
    assert download(server, url) == PAYLOAD
    assert server.requests[-1] == (BUCKET_HOST, "/ok.json")
    path_style = server.url("/ok.json", host=f"s3.{REGION}.amazonaws.com")
    assert download(server, path_style) == PAYLOAD


def test_a_certificate_not_for_the_host_is_refused(server: PayloadServer) -> None:
    # An S3 host the test certificate does not name: TLS host-name checking stops it.
    url = server.url("/ok.json", host=f"bucket.s3-fips.dualstack.{REGION}.amazonaws.com")
    refused(server, url, "failed: SSLCertVerificationError")


def test_the_production_connector_does_not_trust_the_test_ca(server: PayloadServer) -> None:
    # The system trust store, reaching the stand-in: its certificate is refused. Only an explicit Connector
    # (the test seam) trusts another CA; download_payload's default is SYSTEM.
    local = dataclasses.replace(SYSTEM, create_connection=server.connector.create_connection)
    with pytest.raises(PayloadError) as raised:
        download_payload(server.serve("/ok.json", PAYLOAD), region=REGION, connector=local)
    assert "SSLCertVerificationError" in raised.value.detail
    assert inspect.signature(download_payload).parameters["connector"].default is SYSTEM
    assert isinstance(SYSTEM, Connector)


# --- redirects: each hop checked again --------------------------------------------------------------------------

def test_a_redirect_to_another_s3_endpoint_is_followed(server: PayloadServer) -> None:
    server.serve("/moved.json", PAYLOAD)
    url = server.redirect("/redirect-s3.json", f"https://s3.{REGION}.amazonaws.com/moved.json?X-Amz-Signature=x")
    assert download(server, url) == PAYLOAD
    assert server.requests[-1] == (f"s3.{REGION}.amazonaws.com", "/moved.json")


@pytest.mark.parametrize(("location", "detail"), [
    ("http://127.0.0.2/latest/meta-data/", "not https"),
    ("ftp://cf-templates-payloads.s3.us-east-1.amazonaws.com/x", "not https"),
    ("https://evil.example.com/x", "not an Amazon S3 endpoint"),
    ("https://localhost:9001/2018-06-01/runtime/invocation/next", "not port 443"),
    ("http://cf-templates-payloads.s3.us-east-1.amazonaws.com/moved.json", "not https"),
])
def test_a_redirect_outside_the_rule_is_refused(server: PayloadServer, location: str, detail: str) -> None:
    url = server.redirect("/redirect-out.json", location, status=302)
    before = len(server.requests)
    refused(server, url, detail)
    assert len(server.requests) == before + 1  # the redirect itself, nothing after it


def test_a_relative_redirect_stays_on_its_host(server: PayloadServer) -> None:
    server.serve("/relative-target.json", PAYLOAD)
    assert download(server, server.redirect("/relative.json", "/relative-target.json", status=301)) == PAYLOAD


def test_redirects_are_bounded(server: PayloadServer) -> None:
    server.redirect("/loop.json", server.url("/loop.json"), status=307)
    refused(server, server.url("/loop.json"), f"more than {MAX_REDIRECTS} redirects")
    refused(server, server.redirect("/nowhere.json", ""), "without a Location")


# --- deadlines and size ------------------------------------------------------------------------------------------

def test_headers_dripped_byte_by_byte_are_bounded(server: PayloadServer) -> None:
    url = server.drip_headers("/slow-headers.json", 0.05)  # one header byte every 50 ms, 10 s in all
    started = time.monotonic()
    refused(server, url, "took over 0.5 s", timeout=0.5)
    assert time.monotonic() - started < 5  # stopped at the deadline, not at the end of the drip


def test_a_body_dripped_slowly_is_bounded(server: PayloadServer) -> None:
    url = server.serve("/slow-body.json", {"template": "x" * 4000}, drip_body=0.05)  # 64 bytes / 50 ms: 3 s
    started = time.monotonic()
    refused(server, url, "took over 0.5 s", timeout=0.5)
    assert time.monotonic() - started < 2.5


def test_the_deadline_spans_redirects(server: PayloadServer) -> None:
    server.serve("/slow-target.json", {"template": "x" * 4000}, drip_body=0.05)
    url = server.redirect("/to-slow.json", server.url("/slow-target.json"))
    refused(server, url, "took over 0.5 s", timeout=0.5)


def test_a_declared_size_over_8_mb_is_refused_before_reading(server: PayloadServer) -> None:
    url = server.serve("/declared-big.json", b"{}", headers={"Content-Length": str(MAX_PAYLOAD_BYTES + 1)})
    refused(server, url, f"declares {MAX_PAYLOAD_BYTES + 1:,} bytes")


def test_a_body_over_8_mb_without_content_length_is_cut_while_reading(server: PayloadServer) -> None:
    url = server.stream("/streamed-big.json", MAX_PAYLOAD_BYTES + 1024 * 1024)
    refused(server, url, f"sent over {MAX_PAYLOAD_BYTES:,} bytes")


def test_a_payload_just_under_the_limit_is_read(server: PayloadServer, tmp_path: Path) -> None:
    body = json.dumps({"template": "x" * (MAX_PAYLOAD_BYTES - 100)}).encode()
    assert len(body) <= MAX_PAYLOAD_BYTES
    assert len(download(server, server.serve("/big-ok.json", body))["template"]) == MAX_PAYLOAD_BYTES - 100


@pytest.mark.parametrize(("body", "detail"), [
    (b"<html></html>", "is not JSON"),
    (b"[1, 2]", "is a JSON list, not an object"),
    (b"[" * 100_000, "is not JSON"),
    (b"{\"template\": " + b"1" * 5000 + b"}", "is not JSON"),
    (b"\xff\xfe", "is not JSON"),
])
def test_a_body_that_is_not_a_json_object(server: PayloadServer, body: bytes, detail: str) -> None:
    refused(server, server.serve("/not-json.json", body), detail)


def test_an_http_error_is_refused(server: PayloadServer) -> None:
    refused(server, server.serve("/denied.json", b"<Error>AccessDenied</Error>", status=403), "HTTP 403 from")

"""``runtime.invoke`` and ``eulagate invoke`` against a local HTTP server standing in for SageMaker Runtime.

The server speaks InvokeEndpoint's REST-JSON wire format (``POST /endpoints/<name>/invocations``, the
``X-Amzn-SageMaker-Custom-Attributes`` header, ``x-amzn-ErrorType`` errors) and records every request, so the
tests assert the header boto3 actually sent. Its ``gated-llm`` endpoint behaves like a JumpStart Llama 2
endpoint deployed without ModelAccessConfig: it answers only requests whose header accepts the EULA. ``shared``
hosts inference components and answers only a request naming one (``X-Amzn-SageMaker-Inference-Component``);
``queue`` is asynchronous (``POST /endpoints/<name>/async-invocations``, the input in
``X-Amzn-SageMaker-InputLocation``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from constructs_lib.cli import main
from constructs_lib.client import runtime as runtime_module
from constructs_lib.client.runtime import AsyncInvocation, InvocationError, invoke, invoke_async
from tests.support.moto_server import DUMMY_CREDENTIALS

CUSTOM_ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"
COMPONENT_HEADER = "X-Amzn-SageMaker-Inference-Component"
INPUT_LOCATION_HEADER = "X-Amzn-SageMaker-InputLocation"
EULA_REFUSAL = (
    "Received client error (400) from primary with message \"Need to pass custom_attributes='accept_eula=true' "
    'as part of header. This means you have read and accept the end-user-license-agreement (EULA) of the model."'
)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeRuntime:
    url: str
    requests: list[RecordedRequest] = field(default_factory=list)

    def last_custom_attributes(self) -> str | None:
        return self.requests[-1].headers.get(CUSTOM_ATTRIBUTES_HEADER.lower())


# endpoint -> (how many requests fail, status, error code); later requests succeed.
FAILURES = {
    "throttled-twice": (2, 400, "ThrottlingException"),
    "loading-model": (99, 429, "ModelNotReadyException"),
    "internal-failure": (1, 500, "InternalFailure"),
    "model-error": (1, 424, "ModelError"),
}


def _accepts_eula(header: str | None) -> bool:
    # Written independently of the code under test: split pairs, trim, later pairs win.
    pairs = [pair.split("=", 1) for pair in (header or "").split(";") if "=" in pair]
    return {key.strip(): value.strip() for key, value in pairs}.get("accept_eula") == "true"


def _handler(runtime: FakeRuntime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            runtime.requests.append(RecordedRequest(self.path, headers, body))
            endpoint = self.path.split("/")[2] if self.path.startswith("/endpoints/") else ""
            attributes = headers.get(CUSTOM_ATTRIBUTES_HEADER.lower())
            seen = sum(1 for request in runtime.requests if request.path == self.path)
            if endpoint in FAILURES and seen <= FAILURES[endpoint][0]:
                _, status, code = FAILURES[endpoint]
                self._error(status, code, f"{code} (request {seen})")
            elif endpoint == "slow":
                time.sleep(1.5)
                self._reply(200, {"Content-Type": "application/json"}, b"{}")
            elif endpoint in FAILURES:
                self._reply(200, {"Content-Type": "application/json"}, json.dumps({"attempt": seen}).encode())
            elif endpoint == "gated-llm" and _accepts_eula(attributes):
                prompt = json.loads(body)["inputs"]
                self._reply(200, {"Content-Type": "application/json", CUSTOM_ATTRIBUTES_HEADER: "served=yes",
                                  "X-Amzn-Invoked-Production-Variant": "AllTraffic"},
                            json.dumps([{"generation": f"echo: {prompt}"}]).encode())
            elif endpoint == "gated-llm":
                self._error(424, "ModelError", EULA_REFUSAL)
            elif endpoint == "shared" and headers.get(COMPONENT_HEADER.lower()):
                self._reply(200, {"Content-Type": "application/json"},
                            json.dumps({"component": headers[COMPONENT_HEADER.lower()]}).encode())
            elif endpoint == "shared":
                self._error(400, "ValidationError", "Inference Component Name header is required for endpoints "
                                                    "to which you plan to deploy inference components.")
            elif endpoint == "queue" and self.path.endswith("/async-invocations"):
                location = headers.get(INPUT_LOCATION_HEADER.lower(), "")
                self._reply(202, {"Content-Type": "application/json",
                                  "X-Amzn-SageMaker-OutputLocation": location.replace("/in/", "/out/") + ".out",
                                  "X-Amzn-SageMaker-FailureLocation": location.replace("/in/", "/failed/")},
                            json.dumps({"InferenceId": "inference-1"}).encode())
            else:
                self._error(400, "ValidationError", f"Endpoint {endpoint} of account 123456789012 not found.")

        def _error(self, status: int, code: str, message: str) -> None:
            self._reply(status, {"Content-Type": "application/json", "x-amzn-ErrorType": code},
                        json.dumps({"message": message}).encode())

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture(scope="module")
def fake_runtime() -> Iterator[FakeRuntime]:
    runtime = FakeRuntime(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(runtime))
    runtime.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield runtime
    server.shutdown()
    server.server_close()


def runtime_environment(url: str) -> dict[str, str]:
    return {**DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1"}


@pytest.fixture
def runtime(fake_runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    for name, value in runtime_environment(fake_runtime.url).items():
        monkeypatch.setenv(name, value)
    fake_runtime.requests.clear()
    return fake_runtime


# --- the library ----------------------------------------------------------------------------------------


def test_accept_eula_sends_the_header_and_returns_the_reply(runtime: FakeRuntime) -> None:
    result = invoke("gated-llm", {"inputs": "hello"}, accept_eula=True)
    request = runtime.requests[-1]
    assert request.path == "/endpoints/gated-llm/invocations"
    assert runtime.last_custom_attributes() == "accept_eula=true"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"inputs": "hello"}
    assert result.json() == [{"generation": "echo: hello"}]
    assert result.custom_attributes == "served=yes"
    assert result.invoked_production_variant == "AllTraffic"


def test_acceptance_merges_into_other_custom_attributes(runtime: FakeRuntime) -> None:
    invoke("gated-llm", b'{"inputs": "x"}', accept_eula=True, custom_attributes="trace = t-1 ; accept_eula=false ;"
           "accept_eula=true")
    assert runtime.last_custom_attributes() == "trace=t-1;accept_eula=true"


def test_acceptance_given_only_in_the_custom_attributes_counts(runtime: FakeRuntime) -> None:
    result = invoke("gated-llm", {"inputs": "x"}, custom_attributes={"accept_eula": "true"})
    assert runtime.last_custom_attributes() == "accept_eula=true"
    assert result.json()[0]["generation"] == "echo: x"


def test_no_acceptance_sends_no_header_and_the_refusal_says_how_to_accept(runtime: FakeRuntime) -> None:
    with pytest.raises(InvocationError) as raised:
        invoke("gated-llm", {"inputs": "x"})
    assert runtime.last_custom_attributes() is None
    assert raised.value.code == "ModelError"
    assert "accept_eula" in str(raised.value) and "--accept-eula" in str(raised.value)


def test_a_contradiction_is_refused_before_any_request(runtime: FakeRuntime) -> None:
    with pytest.raises(ValueError, match="drop one of them"):
        invoke("gated-llm", {"inputs": "x"}, accept_eula=True, custom_attributes="accept_eula=false")
    assert runtime.requests == []


def test_an_inference_component_is_named_in_its_header(runtime: FakeRuntime) -> None:
    result = invoke("shared", {"inputs": "x"}, inference_component="S-Shared-llama-0D1275B0")
    assert runtime.requests[-1].headers[COMPONENT_HEADER.lower()] == "S-Shared-llama-0D1275B0"
    assert result.json() == {"component": "S-Shared-llama-0D1275B0"}


def test_an_async_request_is_queued_from_its_input_location(runtime: FakeRuntime) -> None:
    queued = invoke_async("queue", "s3://my-bucket/in/request-1.json", accept_eula=True)
    request = runtime.requests[-1]
    assert request.path == "/endpoints/queue/async-invocations"
    assert request.headers[INPUT_LOCATION_HEADER.lower()] == "s3://my-bucket/in/request-1.json"
    assert runtime.last_custom_attributes() == "accept_eula=true"
    assert queued == AsyncInvocation("inference-1", "s3://my-bucket/out/request-1.json.out",
                                     "s3://my-bucket/failed/request-1.json")


@pytest.mark.parametrize(("call", "message"), [
    (lambda: invoke("shared", {}, inference_component="bad_name"), "inference component name 'bad_name'"),
    (lambda: invoke_async("queue", "https://example.com/in.json"), "is not an S3 URI"),
])
def test_bad_component_names_and_input_locations_are_refused_before_any_request(
        runtime: FakeRuntime, call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
    assert runtime.requests == []


# --- the CLI --------------------------------------------------------------------------------------------


def test_cli_names_the_inference_component(runtime: FakeRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "shared", "--body", "{}", "--inference-component", "mistral"]) == 0
    assert json.loads(capsys.readouterr().out) == {"component": "mistral"}


def test_cli_queues_an_async_request_and_prints_where_the_response_goes(
        runtime: FakeRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "queue", "--input-location", "s3://my-bucket/in/r.json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "InferenceId": "inference-1", "OutputLocation": "s3://my-bucket/out/r.json.out",
        "FailureLocation": "s3://my-bucket/failed/r.json"}


def test_cli_refuses_a_component_on_an_async_request(runtime: FakeRuntime, capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    assert main(["invoke", "queue", "--input-location", "s3://b/in/r.json", "--inference-component", "x"]) == 2
    assert "asynchronous endpoints" in one_error_line(capsys.readouterr().err)
    assert runtime.requests == []


def test_cli_prints_the_reply(runtime: FakeRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "gated-llm", "--body", '{"inputs": "hi"}', "--accept-eula"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"generation": "echo: hi"}]
    assert runtime.last_custom_attributes() == "accept_eula=true"


def test_cli_reads_the_body_from_a_file(
    runtime: FakeRuntime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "prompt.json"
    body.write_text('{"inputs": "from a file"}')
    args = ["invoke", "gated-llm", "--body", f"@{body}", "--accept-eula", "--custom-attributes", "trace=7"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["generation"] == "echo: from a file"
    assert runtime.last_custom_attributes() == "trace=7;accept_eula=true"


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["gated-llm", "--body", "{inputs: 1}"], "--body is not valid JSON"),
        (["gated-llm", "--body", "@/nonexistent/prompt.json"],
         "--body @/nonexistent/prompt.json: cannot read the file"),
        (["gated-llm", "--body", "{}", "--accept-eula", "--custom-attributes", "accept_eula=false"],
         "drop one of them"),
        (["gated-llm", "--body", "{}", "--custom-attributes", "trace"], "is not a key=value pair"),
        (["not_an_endpoint!", "--body", "{}"], "is not a SageMaker endpoint name"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_and_sends_nothing(
    runtime: FakeRuntime, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert main(["invoke", *args]) == 2
    assert expected in one_error_line(capsys.readouterr().err)
    assert runtime.requests == []


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("gated-llm", "endpoint gated-llm refused the request: ModelError: Received client error (400)"),
        ("missing-endpoint", "ValidationError: Endpoint missing-endpoint of account 123456789012 not found."),
    ],
)
def test_cli_service_refusal_is_one_line_exit_1(
    runtime: FakeRuntime, capsys: pytest.CaptureFixture[str], endpoint: str, expected: str
) -> None:
    assert main(["invoke", endpoint, "--body", '{"inputs": "x"}']) == 1
    assert expected in one_error_line(capsys.readouterr().err)


def test_cli_unreachable_endpoint_is_one_line_exit_1(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_url)
    assert main(["invoke", "gated-llm", "--body", "{}", "--accept-eula"]) == 1
    assert "cannot reach endpoint gated-llm" in one_error_line(capsys.readouterr().err)


def test_installed_cli_sends_the_header(fake_runtime: FakeRuntime, tmp_path: Path) -> None:
    fake_runtime.requests.clear()
    env = {**os.environ, **runtime_environment(fake_runtime.url)}
    eulagate = Path(sys.executable).with_name("eulagate")
    completed = subprocess.run(
        [str(eulagate), "invoke", "gated-llm", "--body", '{"inputs": "cli"}', "--accept-eula"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == [{"generation": "echo: cli"}]
    assert fake_runtime.last_custom_attributes() == "accept_eula=true"


# --- timeouts and retries: only what was certainly not processed is sent again ----------------------------------


@pytest.fixture
def retrying(runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    monkeypatch.setattr(runtime_module, "RETRY_BASE_SECONDS", 0.001)
    return runtime


def test_throttling_is_retried_until_it_passes(retrying: FakeRuntime) -> None:
    result = invoke("throttled-twice", {"inputs": "x"})
    assert result.json() == {"attempt": 3}
    assert len(retrying.requests) == 3


def test_a_model_that_stays_unready_gives_up_after_the_attempts(retrying: FakeRuntime) -> None:
    with pytest.raises(InvocationError, match="ModelNotReadyException") as caught:
        invoke("loading-model", {"inputs": "x"})
    assert caught.value.code == "ModelNotReadyException"
    assert len(retrying.requests) == 3


@pytest.mark.parametrize("endpoint", ["internal-failure", "model-error"])
def test_failures_after_which_the_model_may_have_run_are_not_retried(retrying: FakeRuntime, endpoint: str) -> None:
    with pytest.raises(InvocationError):
        invoke(endpoint, {"inputs": "x"})
    assert len(retrying.requests) == 1


def test_timeout_is_one_line_exit_1_and_not_retried(
    retrying: FakeRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "slow", "--body", "{}", "--timeout", "0.3"]) == 1
    assert one_error_line(capsys.readouterr().err) == (
        "eulagate invoke: endpoint slow did not reply within 0.3 seconds (--timeout); not retried, as the model "
        "may have processed the request"
    )
    assert len(retrying.requests) == 1


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "3601"])
def test_a_timeout_out_of_range_is_bad_input(runtime: FakeRuntime, capsys: pytest.CaptureFixture[str],
                                             timeout: str) -> None:
    assert main(["invoke", "slow", "--body", "{}", "--timeout", timeout]) == 2
    assert "timeout must be a number of seconds from 0 to 3600" in one_error_line(capsys.readouterr().err)
    assert runtime.requests == []


@pytest.mark.parametrize(("environment", "expected"), [
    ({}, "no AWS region: pass --region (region=), set AWS_DEFAULT_REGION, or set the `region` of your AWS profile "
         "in ~/.aws/config"),
    ({"AWS_REGION": "us-east-1"}, "; AWS_REGION is set, but boto3 reads AWS_DEFAULT_REGION"),
    ({"AWS_PROFILE": "ml"}, "set the `region` of profile 'ml' in ~/.aws/config"),
])
def test_no_region_says_where_boto3_looks(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environment: dict[str, str], expected: str
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile ml]\noutput = json\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as caught:
        invoke("gated-llm", {"inputs": "x"})
    assert expected in str(caught.value)
    assert runtime.requests == []

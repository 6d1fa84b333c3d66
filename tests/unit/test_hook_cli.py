"""``eulagate hook simulate`` on the sample events: the hook's JSON response, exit 0 SUCCESS, 1 FAILED, 2 bad
input; ``eulagate hook bundle`` writes the rollout's zip."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from constructs_lib.cli import main
from constructs_lib.hook.bundle import bundle_key
from tests.support.deadline import returns_within

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "examples" / "hook-events"


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object], str]:
    code = main(["hook", "simulate", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


def test_unaccepted_llama2_model_fails_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, response, _ = simulate(capsys, str(EVENTS / "llama2-model-unaccepted.json"))
    assert code == 1
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "NonCompliant")
    assert "Llama2-7BChat" in str(response["message"])


def test_accepted_llama2_model_succeeds_with_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, response, _ = simulate(capsys, str(EVENTS / "llama2-model-accepted.json"))
    assert code == 0
    assert response["hookStatus"] == "SUCCESS" and "errorCode" not in response


def test_cloud_control_request(capsys: pytest.CaptureFixture[str]) -> None:
    code, response, _ = simulate(capsys, str(EVENTS / "cloud-control-llama2-model.json"))
    assert code == 1
    assert len(str(response["message"])) <= 1024


def test_stack_event_with_template_stand_in(capsys: pytest.CaptureFixture[str]) -> None:
    code, response, _ = simulate(capsys, str(EVENTS / "stack-llama2-tuning.json"),
                                 "--template", str(EVENTS / "stack-llama2-tuning.template.yaml"))
    assert code == 1
    assert [a["annotationName"] for a in response["annotations"]] == ["EULA003:SupportTuning"]  # type: ignore[attr-defined]


def test_stack_event_with_an_accepted_template(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    template = tmp_path / "ok.json"
    template.write_text(json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}))
    code, response, _ = simulate(capsys, str(EVENTS / "stack-llama2-tuning.json"), "--template", str(template))
    assert code == 0 and response["hookStatus"] == "SUCCESS"


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = simulate(capsys, str(tmp_path / "missing.json"))
    assert code == 2 and err.startswith(f"eulagate hook: {tmp_path / 'missing.json'}: cannot read the file") \
        and err.count("\n") == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = simulate(capsys, str(broken))
    assert code == 2 and "broken.json: malformed JSON at line 1 column 2" in err
    code, _, err = simulate(capsys, str(EVENTS / "llama2-model-accepted.json"), "--template", str(broken))
    assert code == 2 and "--template stands in for a stack or change-set payload" in err


def test_an_event_the_hook_cannot_evaluate_prints_its_internal_failure_and_exits_2(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"clientRequestToken": "t", "actionInvocationPoint": "CREATE_PRE_PROVISION"}))
    code, response, err = simulate(capsys, str(event))
    assert code == 2
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "InternalFailure")
    assert err == f"eulagate hook: {event}: {response['message']}\n"
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("Resources: [unclosed\n")
    code, response, _ = simulate(capsys, str(EVENTS / "stack-llama2-tuning.json"), "--template", str(malformed))
    assert code == 2 and "malformed YAML" in str(response["message"])


def test_bundle_writes_the_zip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["hook", "bundle", str(tmp_path / "hook.zip")]) == 0
    assert capsys.readouterr().out == f"{bundle_key()}\n"
    with zipfile.ZipFile(tmp_path / "hook.zip") as archive:
        assert "constructs_lib/hook/handler.py" in archive.namelist()


def test_a_fifo_is_refused_without_blocking(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "event.fifo"
    os.mkfifo(fifo)
    assert returns_within(lambda: main(["hook", "simulate", str(fifo)]), what="hook simulate on a FIFO") == 2
    assert capsys.readouterr().err == (f"eulagate hook: {fifo}: a FIFO, not a regular file; "
                                       "eulagate hook simulate reads only regular files\n")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_as_event_or_template(capsys: pytest.CaptureFixture[str], device: str) -> None:
    code, _, err = simulate(capsys, device)
    assert code == 2 and err.endswith("reads only regular files\n") and err.count("\n") == 1
    code, _, err = simulate(capsys, str(EVENTS / "stack-llama2-tuning.json"), "--template", device)
    assert code == 2 and err.startswith(f"eulagate hook: {device}: a character device, not a regular file")


def test_files_over_the_size_cap_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from constructs_lib.cli.hook import MAX_EVENT_BYTES

    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_EVENT_BYTES + 1))
    code, _, err = simulate(capsys, str(big))
    assert code == 2 and err == f"eulagate hook: {big}: {MAX_EVENT_BYTES + 1:,} bytes, more than the " \
                                f"{MAX_EVENT_BYTES:,} EulaGate reads (a hook request or payload holds no more)\n"


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 50_000 + "1" + "}" * 50_000])
def test_a_deeply_nested_event_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> None:
    event = tmp_path / "deep.json"
    event.write_text(text)
    code, _, err = simulate(capsys, str(event))
    assert code == 2 and err == f"eulagate hook: {event}: malformed JSON: nested too deeply to read\n"


def test_deep_properties_inside_an_event_are_evaluated_or_unevaluable(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path) -> None:
    event = json.loads((EVENTS / "llama2-model-accepted.json").read_text())
    deep: object = "x"
    for _ in range(300):  # 600 levels: under the JSON reader's limit, past what the engine walks
        deep = {"Fn::If": ["c", deep, "y"]}
    event["requestData"]["targetModel"]["resourceProperties"]["Environment"] = {"DEEP": deep}
    path = tmp_path / "deep-properties.json"
    path.write_text(json.dumps(event))
    code, response, err = simulate(capsys, str(path))
    assert code in (0, 1, 2) and "Traceback" not in err
    assert response["hookStatus"] in ("SUCCESS", "FAILED")


def test_a_stack_event_without_template_asks_for_one(capsys: pytest.CaptureFixture[str]) -> None:
    event = EVENTS / "stack-llama2-tuning.json"
    code, response, err = simulate(capsys, str(event))
    assert (code, response) == (2, {})
    assert err == (f"eulagate hook: {event}: a STACK event's template is downloaded from a presigned S3 URL that "
                   "only CloudFormation can give; pass --template FILE with the template to simulate it\n")

"""``eulagate hook simulate`` on the sample events: the hook's JSON response, exit 0 SUCCESS, 1 FAILED, 2 bad
input; ``eulagate hook bundle`` writes the rollout's zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from constructs_lib.cli import main
from constructs_lib.hook.bundle import bundle_key

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
    assert code == 2 and err.startswith("eulagate hook: cannot read") and err.count("\n") == 1
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
    code, response, _ = simulate(capsys, str(event))
    assert code == 2
    assert (response["hookStatus"], response["errorCode"]) == ("FAILED", "InternalFailure")
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("Resources: [unclosed\n")
    code, response, _ = simulate(capsys, str(EVENTS / "stack-llama2-tuning.json"), "--template", str(malformed))
    assert code == 2 and "malformed YAML" in str(response["message"])


def test_bundle_writes_the_zip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["hook", "bundle", str(tmp_path / "hook.zip")]) == 0
    assert capsys.readouterr().out == f"{bundle_key()}\n"
    with zipfile.ZipFile(tmp_path / "hook.zip") as archive:
        assert "constructs_lib/hook/handler.py" in archive.namelist()

"""``eulagate plan``: output rows, exit codes 0/1/2, and no jsii."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.cli import main
from constructs_lib.cli.plan import MAX_CDK_JSON_BYTES
from tests.support.deadline import returns_within

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "models.yaml"
UNACCEPTED = ROOT / "examples" / "unaccepted.yaml"
BAD = ROOT / "tests" / "fixtures" / "tables" / "bad"


def run_plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_accepted_table_passes_and_lists_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_plan(capsys, str(EXAMPLE))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("KIND"))
    for column in ("MODEL ID", "BASE MODEL", "GATED", "ACCEPT_EULA", "INSTANCE", "REGION", "STACK"):
        assert column in header
    llama = next(line for line in lines if line.startswith("endpoint") and "llama2-7b-chat" in line).split()
    assert llama[:6] == ["endpoint", "llama2-7b-chat", "meta-textgeneration-llama-2-7b-f", "Llama2-7BChat", "yes",
                         "true"]
    assert "ml.g5.12xlarge" in llama and "us-east-1" in llama
    assert llama[-1].startswith("EulaGate-us-east-1-s")
    flan = next(line for line in lines if "flan-t5-xl" in line).split()
    assert flan[4:6] == ["no", "-"]
    assert any(line.startswith("autopilot") and "llama2-7b-support" in line and "finetune" in line for line in lines)
    # The fine-tuned model's endpoint: own weights, so not gated and nothing to accept.
    deploy = next(line for line in lines if line.startswith("deploy")).split()
    assert deploy[1] == "llama2-7b-support" and deploy[4:6] == ["no", "-"]
    assert lines[-1].startswith("gate: PASS")


def test_unaccepted_table_fails_with_exit_1_naming_each_row(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_plan(capsys, str(UNACCEPTED))
    assert (code, err) == (1, "")
    errors = [line for line in out.splitlines() if ": error: " in line]
    assert len(errors) == 2
    assert errors[0].startswith(f"{UNACCEPTED}:9: error: endpoint 'llama2-7b-chat' deploys EULA-gated model")
    assert errors[1].startswith(f"{UNACCEPTED}:15: error: fine_tuning 'llama2-7b-support' fine-tunes")
    assert out.splitlines()[-1] == "gate: FAIL: 2 of 2 gated rows without `accept_eula: true`"


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_plan(capsys, str(UNACCEPTED), "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["verdict"] == "fail"
    rows = {(row["kind"], row["name"]): row for row in document["rows"]}
    assert rows[("endpoint", "llama2-7b-chat")] | {"stack": None} == {
        "kind": "endpoint", "name": "llama2-7b-chat", "model_id": "meta-textgeneration-llama-2-7b-f",
        "base_model_name": "Llama2-7BChat", "gated": True, "accept_eula": None, "instance_type": "ml.g5.12xlarge",
        "instance_count": 1, "region": "us-east-1", "account": None, "environment": None, "stack": None,
    }
    assert rows[("autopilot", "llama2-7b-support")]["accept_eula"] is False
    assert {f["logical_id"] for f in document["findings"]} == {"llama2-7b-chat", "llama2-7b-support"}
    assert all(stack["estimated_resources"] > 0 for stack in document["stacks"])
    assert {name for stack in document["stacks"] for name in stack["rows"]} == {
        "llama2-7b-chat", "flan-t5-xl", "llama2-7b-support",
    }


def test_environment_rows_show_account_environment_and_override(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_plan(capsys, str(ROOT / "tests" / "fixtures" / "tables" / "good" / "environments.yaml"))
    assert code == 0
    prod = [line.split() for line in out.splitlines() if "llama2-chat" in line and " prod " in line]
    assert len(prod) == 2
    assert all("ml.g5.24xlarge" in cells and "x2" in cells and "222222222222" in cells for cells in prod)


@pytest.mark.parametrize("fixture", ["yaml-syntax", "unknown-row-key", "unknown-model", "duplicate-name"])
def test_malformed_table_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], fixture: str) -> None:
    path = BAD / f"{fixture}.yaml"
    code, out, err = run_plan(capsys, str(path))
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"eulagate plan: {path}:")


def test_over_budget_table_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = "\n".join(f"  - {{name: e{i}, model: FlanT5XL}}" for i in range(150))  # about 600 resources
    path = tmp_path / "big.yaml"
    path.write_text(f"defaults: {{regions: [us-east-1], shards: 1}}\nendpoints:\n{rows}\n", encoding="utf-8")
    code, _, err = run_plan(capsys, str(path))
    assert code == 2
    assert "over the budget" in err and "defaults.shards" in err


def test_default_table_comes_from_cdk_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "mine.yaml").write_text(UNACCEPTED.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "x", "context": {"table": "tables/mine.yaml"}}))
    code, out, _ = run_plan(capsys)
    assert code == 1 and out.startswith("tables/mine.yaml:")
    (tmp_path / "cdk.json").unlink()
    code, _, err = run_plan(capsys)
    assert code == 2 and "models.yaml: model table not found" in err


def test_unreadable_cdk_json_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cdk.json").write_text("{not json")
    code, _, err = run_plan(capsys)
    assert code == 2 and err.startswith("eulagate plan: cdk.json: cannot read it")


@pytest.mark.parametrize(("make", "expected"), [
    (os.mkfifo, "cdk.json: a FIFO, not a regular file; EulaGate reads only regular files"),
    (Path.mkdir, "cdk.json: a directory, where a file is expected"),
    (lambda path: path.write_bytes(b" " * (MAX_CDK_JSON_BYTES + 1)),
     "cdk.json: 1,048,577 bytes, more than the 1,048,576 EulaGate reads (a cdk.json holds settings: kilobytes)"),
    (lambda path: path.write_bytes(b'{"context": {"table": "\xff"}}'),
     "cdk.json: not UTF-8 text (byte 23: invalid start byte)"),
    (lambda path: path.write_text("[" * 100_000),
     "cdk.json: cannot read it for the context `table`: malformed JSON: nested too deeply to read"),
])
def test_a_cdk_json_plan_cannot_read_is_one_line_naming_the_fix(
    make: Callable[[Path], object], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    make(tmp_path / "cdk.json")
    code, out, err = returns_within(lambda: run_plan(capsys), what="eulagate plan reading cdk.json")
    assert (code, out, err) == (2, "", f"eulagate plan: {expected}; pass the table instead: eulagate plan TABLE\n")


def test_plan_never_loads_jsii() -> None:
    probe = (
        "import sys\n"
        "from constructs_lib.cli import main\n"
        f"code = main(['plan', {str(EXAMPLE)!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('jsii', 'aws_cdk', 'constructs'))\n"
        "print('LOADED', loaded, code)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.splitlines()[-1] == "LOADED [] 0"


# -- bad input: whatever the file holds, plan ends in 0, 1 or 2, and 2 is one line -----------------------------

def assert_one_line_or_verdict(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        assert out == ""
        assert err.startswith("eulagate plan: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and len(err) < 2000, err


@pytest.mark.parametrize("content", [
    "a: !!float x", "endpoints: !!int x", "endpoints: [!!bool x]", "defaults: !!timestamp x",
    "endpoints: " + "[" * 300 + "]" * 300,
    "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n",
    "endpoints: [{name: '" + "x" * 5_000_000 + "', model: FlanT5XL}]",
    "endpoints: [{name: a, model: FlanT5XL, regions: [us-east-1], environment: {K: " + "9" * 5000 + "}}]",
], ids=["float", "int", "bool", "timestamp", "deep-flow", "deep-block", "huge-string", "huge-integer"])
def test_bad_input_is_one_line_and_exit_2(content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(content, encoding="utf-8")
    code, out, err = run_plan(capsys, str(path))
    assert code == 2
    assert_one_line_or_verdict(code, out, err)
    assert err.startswith(f"eulagate plan: {path}:")


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_table_that_is_not_a_file_is_one_line(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "models.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    code, out, err = run_plan(capsys, str(path))
    assert (code, out) == (2, "")
    expected = "is a FIFO (named pipe), not a regular file" if kind == "fifo" else "is a directory, not a model table"
    assert err.startswith(f"eulagate plan: {path}: {expected}") and err.count("\n") == 1


# Pieces of YAML that have broken loaders: typed tags, anchors and merges, YAML 1.1 spellings, odd scalars.
YAML_SCALARS = st.sampled_from([
    "!!float x", "!!int x", "!!bool x", "!!timestamp x", "!!binary AAAA", "!!set {a}", "!!omap [a]", "!!str 1",
    "!!null ''", "!!map [1]", "!foo x", "yes", "no", "1:30", "~", ".inf", ".nan", "0x1F", "0o17", "1e400", "-0",
    "''", '""', "'\t'", "true", "false", "null", "*missing", "s3://b/k*", "ml.g5.2xlarge", "g5.2xlarge",
    "us-east1", "FlanT5XL", "Llama2-7B", "x-note", "arn:aws:kms:us-east-1:111122223333:alias/a", "subnet-1",
]) | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8).map(json.dumps)
YAML_KEYS = st.sampled_from([
    "defaults", "environments", "endpoints", "fine_tuning", "name", "model", "base_model", "regions", "region",
    "targets", "account", "instance_type", "instance_count", "accept_eula", "autoscaling", "environment",
    "environment_overrides", "deploy", "hyperparameters", "kms_key_arn", "vpc", "subnet_ids", "security_group_ids",
    "network_isolation", "data_capture", "destination", "training_data", "output_path", "method", "shards",
    "x-anchor", "<<", "? [a]", "1", "true",
])


def flow_yaml(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(YAML_KEYS, children), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}"),
        children.map(lambda value: f"&a {value}"),
    )


YAML_DOCUMENTS = st.recursive(YAML_SCALARS, flow_yaml, max_leaves=25)
GOOD_TABLE = (ROOT / "models.yaml").read_text(encoding="utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.lists(st.tuples(YAML_KEYS, YAML_DOCUMENTS), max_size=4))
def test_arbitrary_tables_never_crash_plan(top: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    text = "\n".join(f"{key}: {value}" for key, value in top)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "models.yaml")
        path.write_text(text, encoding="utf-8")
        assert_one_line_or_verdict(*run_plan(capsys, str(path)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, len(GOOD_TABLE)), length=st.integers(0, 40), insert=YAML_DOCUMENTS | YAML_SCALARS,
       raw=st.binary(max_size=8))
def test_a_mutated_example_table_never_crashes_plan(
    start: int, length: int, insert: str, raw: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    data = GOOD_TABLE[:start].encode() + insert.encode() + raw + GOOD_TABLE[start + length:].encode()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "models.yaml")
        path.write_bytes(data)
        assert_one_line_or_verdict(*run_plan(capsys, str(path)))

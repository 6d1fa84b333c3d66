"""``app.py`` as the CDK CLI runs it: context selects the table, account and synthesizer; bad tables exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.cli import main
from constructs_lib.table import load_table
from constructs_lib.table.layout import plan_stacks

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]


def run_app(context: dict[str, object], outdir: Path) -> subprocess.CompletedProcess[str]:
    """Run app.py the way `cdk synth` does: context and output directory through the environment."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(outdir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_app_synthesizes_the_table_with_the_chosen_synthesizer_and_account(tmp_path: Path) -> None:
    result = run_app({"table": "models.yaml", "synthesizer": "bootstrapless", "account": "123456789012"}, tmp_path)
    assert result.returncode == 0, result.stderr
    table = load_table(ROOT / "models.yaml")
    assert result.stderr.splitlines()[0] == (  # the synth names the table it read, first
        f"app.py: model table models.yaml: {len(table.endpoints)} endpoints, {len(table.fine_tuning)} fine-tuning "
        f"job{'' if len(table.fine_tuning) == 1 else 's'}")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = {name: artifact for name, artifact in manifest["artifacts"].items()
              if artifact["type"] == "aws:cloudformation:stack"}
    expected = [plan.stack_id for plan in plan_stacks(load_table(ROOT / "models.yaml"))]
    assert sorted(stacks) == sorted(expected)
    assert {artifact["environment"] for artifact in stacks.values()} == {"aws://123456789012/us-east-1"}
    for name in stacks:
        template = json.loads((tmp_path / f"{name}.template.json").read_text())
        assert "BootstrapVersion" not in template.get("Parameters", {})  # deployable without a bootstrap


def test_app_reports_a_bad_table_in_one_line(tmp_path: Path) -> None:
    table = "tests/fixtures/tables/bad/unknown-model.yaml"
    result = run_app({"table": table}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"app.py: {table}:6: endpoint 'llama' field 'model': unknown JumpStart model 'Llama2-7bChat'; "
        "did you mean Llama2-7BChat, Llama2-13BChat, Llama2-7B? "
        "(run `eulagate models` for every model id and BaseModelName)"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("key", "meant"), [("tabel", "table"), ("synthesiser", "synthesizer"),
                                            ("acount", "account"), ("pipline", "pipeline")])
def test_a_misspelt_context_key_is_refused_before_the_default_table_is_synthesized(
        tmp_path: Path, key: str, meant: str) -> None:
    result = run_app({"table": "models.yaml", key: "mine.yaml"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"app.py: unknown context key {key!r}; did you mean {meant!r}? (-c {meant}=...)"]
    assert not (tmp_path / "manifest.json").exists()


def test_context_keys_of_cdk_and_of_others_pass(tmp_path: Path) -> None:
    """CDK's keys (feature flags, look-up caches) and a user's own keys far from ours are not refused."""
    result = run_app({"table": "models.yaml", "@aws-cdk/core:newStyleStackSynthesis": True, "cli-telemetry": False,
                      "availability-zones:account=123456789012:region=us-east-1": ["us-east-1a"],
                      "team_name": "ml-platform"}, tmp_path)
    assert result.returncode == 0, result.stderr


def test_sarif_of_a_failing_table_annotates_the_table_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The gate fails the synth after the templates are written; `eulagate check --format sarif` then reports each
    error at the row of the table to change (what code scanning annotates), the template as a related location."""
    table = "examples/unaccepted.yaml"
    result = run_app({"table": table}, tmp_path)
    assert result.returncode == 1  # the gate
    monkeypatch.chdir(ROOT)
    assert main(["check", "--format", "sarif", str(tmp_path)]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    rows = {row.name: row.line for row in load_table(ROOT / table).rows}
    assert sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results) == [
        ("EULA001", table, rows["llama2-7b-chat"]),
        ("EULA003", table, rows["llama2-7b-support"]),
    ]
    for sarif_result in results:
        [related] = sarif_result["relatedLocations"]
        assert related["physicalLocation"]["artifactLocation"]["uri"].endswith(".template.json")
        assert related["physicalLocation"]["region"]["startLine"] > 1


def test_a_construct_error_in_a_users_app_is_one_line_and_fails_it(tmp_path: Path) -> None:
    # One-line errors are opt-in (importing the package changes no global state): the app asks for them.
    app = tmp_path / "user_app.py"
    app.write_text(
        "import aws_cdk as cdk\n"
        "from constructs_lib import JumpStartEndpoint, install_one_line_errors\n"
        "install_one_line_errors()\n"
        "stack = cdk.Stack(cdk.App(), 'Serving', env=cdk.Environment(region='us-east-1'))\n"
        "JumpStartEndpoint(stack, 'Chat', model='Llama2-7BChat', accept_eula=True, instance_count=0)\n"
    )
    result = subprocess.run([sys.executable, str(app)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"})
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line == "user_app.py: Serving/Chat: instance_count must be an integer >= 1, got 0"

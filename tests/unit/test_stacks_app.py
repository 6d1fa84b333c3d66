"""``app.py`` as the CDK CLI runs it: context selects the table, account and synthesizer; bad tables exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
        "(run `eulagate models --all` for every model id and BaseModelName)"
    ]
    assert "Traceback" not in result.stderr

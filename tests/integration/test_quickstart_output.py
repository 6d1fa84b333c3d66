"""The README's first command prints setup's progress (a first run only), the table the synth read, the synth's
outcome and the EULA gate's verdict, and nothing else.

Run as a new user runs it: without JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION in the environment (app.py sets
it), with the project's cdk.json (no notices, no telemetry, feature flags pinned).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from constructs_lib.table import load_table

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]
# What the quickstart printed before: jsii's end-of-life banner (as Python byte literals), the CLI's notices,
# its feature-flag and telemetry lines, and its multi-stack chatter.
NOISE = ("end-of-life", "b'!!", "NOTICES", "feature flags", "telemetry", "Successfully synthesized",
         "Supply a stack id", "Traceback")


def test_the_quickstart_prints_the_synth_outcome_and_the_gates_verdict_only() -> None:
    environment = {key: value for key, value in os.environ.items()
                   if key != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
    result = subprocess.run(["bash", "scripts/quickstart.sh"], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for noise in NOISE:
        assert noise not in output
    lines = [line for line in output.splitlines() if not line.startswith("setup: ")]  # a first run installs
    table = load_table(ROOT / "models.yaml")
    assert lines[:3] == [
        "quickstart: cdk synth (the synth-time EULA gate runs inside it)",
        f"app.py: model table models.yaml: {len(table.endpoints)} endpoints, {len(table.fine_tuning)} fine-tuning job"
        f"{'' if len(table.fine_tuning) == 1 else 's'}",
        "quickstart: synthesized to cdk.out; the synth-time EULA gate passed",
    ]
    assert len(lines) == 4 and lines[3].startswith("eulagate check: no EULA problems in 3 templates (")


def test_setup_installs_what_the_quickstart_runs_and_the_tests_add_the_dev_tools() -> None:
    """The quickstart's setup installs the cdk lock (no test or lint tool); the test command adds the dev lock,
    whose pins agree with the cdk lock's."""
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh --dev" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh\n" in (ROOT / "scripts" / "quickstart.sh").read_text(encoding="utf-8")
    assert "-r requirements-cdk.lock" in setup and "-r requirements-dev.lock" in setup

    def pins(name: str) -> dict[str, str]:
        text = (ROOT / name).read_text(encoding="utf-8")
        return dict(line.split(" ")[0].split("==") for line in text.splitlines() if "==" in line.split(" ")[0])

    quickstart, dev = pins("requirements-cdk.lock"), pins("requirements-dev.lock")
    assert {"aws-cdk-lib", "cdk-nag", "boto3", "pyyaml", "setuptools"} <= set(quickstart)
    assert not {"pytest", "moto", "ruff", "mypy", "hypothesis"} & set(quickstart)
    assert {"pytest", "moto", "ruff", "mypy"} <= set(dev)
    assert all(dev[name] == version for name, version in quickstart.items())


def test_setup_leaves_aws_cdk_libs_own_cloud_assembly_schema_module() -> None:
    # aws-cdk.cloud-assembly-schema writes the same folder; jsii needs aws-cdk-lib's types there (scripts/setup.sh).
    import aws_cdk.cloud_assembly_schema as schema

    assert 'jsii_type="aws-cdk-lib.cloud_assembly_schema.' in Path(schema.__file__).read_text(encoding="utf-8")

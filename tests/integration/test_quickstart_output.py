"""The README's first command prints the synth's outcome and the EULA gate's verdict, and nothing else.

Run as a new user runs it: without JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION in the environment (app.py sets
it), with the project's cdk.json (no notices, no telemetry, feature flags pinned).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

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
    assert lines[:2] == [
        "quickstart: cdk synth (the synth-time EULA gate runs inside it)",
        "quickstart: synthesized to cdk.out; the synth-time EULA gate passed",
    ]
    assert len(lines) == 3 and lines[2].startswith("eulagate check: no EULA problems in 3 templates (")

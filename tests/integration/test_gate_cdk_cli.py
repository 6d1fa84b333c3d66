"""The EULA gate under the real CDK CLI: ``cdk synth`` of a small app with the gate registered exits non-zero and
prints the construct path and model id when a gated model is not accepted, and exits 0 when it is.

The app is written to a temporary directory and run by the CLI as ``.venv/bin/python app.py`` (offline: no
version check, notices or telemetry; no AWS credentials or metadata service needed for a synth).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from constructs_lib.catalog import Catalog

pytestmark = pytest.mark.synth

REPOSITORY = Path(__file__).resolve().parents[2]
CDK = REPOSITORY / "node_modules" / ".bin" / "cdk"
PYTHON = REPOSITORY / ".venv" / "bin" / "python"
MODEL_ID = "meta-textgeneration-llama-2-7b"

# The two lines any CDK app adds to get the gate are the EulaGate import and the add_plugins call.
APP_SOURCE = '''\
import aws_cdk as cdk

from constructs_lib import EulaGate
from constructs_lib.constructs.serving.jumpstart import JumpStartEndpoint

app = cdk.App()
stack = cdk.Stack(app, "Serving", env=cdk.Environment(region="us-east-1"))
accept_eula = app.node.try_get_context("accept_eula") == "true"
JumpStartEndpoint(stack, "Llama", model="Llama2-7B", accept_eula=True if accept_eula else None)
cdk.Validations.of(app).add_plugins(EulaGate())
app.synth()
'''


def cdk_synth(app_directory: Path, *context: str) -> subprocess.CompletedProcess[str]:
    (app_directory / "app.py").write_text(APP_SOURCE)
    # Without pytest's variables the app runs as under a developer's `cdk synth` (CDK's "in memory" mode
    # would raise the report as a Python exception instead).
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment.update({
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    })
    return subprocess.run(
        [str(CDK), "synth", "--app", f"{PYTHON} app.py", *context, "--quiet", "--no-notices",
         "--no-version-reporting"],
        cwd=app_directory, env=environment, capture_output=True, text=True, timeout=600, check=False,
    )


def test_an_unaccepted_gated_model_fails_cdk_synth(tmp_path: Path) -> None:
    result = cdk_synth(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    (block,) = [block for block in output.split("\n\n") if "Serving/Llama/Model" in block]
    assert block.startswith(f"FATAL {MODEL_ID} (Llama2-7B) is EULA-gated"), block
    assert f"EULA: {Catalog.default().get(MODEL_ID).eula_url('us-east-1')}" in block
    assert "accept_eula=True" in block and "Rule EulaGate::EULA001" in block
    assert "Traceback" not in output


def test_an_accepted_gated_model_passes_cdk_synth(tmp_path: Path) -> None:
    result = cdk_synth(tmp_path, "--context", "accept_eula=true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "EulaGate" not in result.stdout + result.stderr
    assert (tmp_path / "cdk.out" / "Serving.template.json").is_file()


@pytest.mark.parametrize("switch", ["@aws-cdk/core:failSynthOnValidationErrors=false",
                                    "@aws-cdk/core:appMode=process"])
def test_no_context_setting_switches_the_gate_off_under_the_cli(tmp_path: Path, switch: str) -> None:
    # Either setting makes the app itself return normally; the CLI reads validation-report.json and fails.
    result = cdk_synth(tmp_path, "--context", switch)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Serving/Llama/Model" in output and "Rule EulaGate::EULA001" in output
    assert "EulaGate: the EULA gate failed, but" not in output  # the CLI fails the synth: nothing to warn about


def non_empty_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


def test_a_malformed_table_is_one_line_of_the_app_then_the_clis_own(tmp_path: Path) -> None:
    """What docs/model-table.md says: app.py prints one line and exits 2; the CDK CLI adds one line and exits 1."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("PYTEST_") and key != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
    table = "tests/fixtures/tables/bad/unknown-model.yaml"
    result = subprocess.run([str(CDK), "synth", "--quiet", "-c", f"table={table}", "-o", str(tmp_path / "out")],
                            cwd=REPOSITORY, env={**environment, "AWS_EC2_METADATA_DISABLED": "true"},
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 1
    app_line, cli_line = non_empty_lines(result)
    assert app_line.startswith(f"app.py: {table}:6: endpoint 'llama' field 'model': unknown JumpStart model ")
    assert cli_line.endswith("app.py: Subprocess exited with error 2")


def test_a_construct_error_in_an_app_is_one_line_and_fails_the_synth(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import aws_cdk as cdk\n"
        "from constructs_lib import JumpStartEndpoint, install_one_line_errors\n"
        "install_one_line_errors()  # opt-in: importing the package changes no global state\n"
        "stack = cdk.Stack(cdk.App(), 'Serving', env=cdk.Environment(region='us-east-1'))\n"
        "JumpStartEndpoint(stack, 'Chat', model='Llama2-7BChat', accept_eula=True, instance_count=0)\n"
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    result = subprocess.run(
        [str(CDK), "synth", "--app", f"{PYTHON} app.py", "--quiet", "--no-notices"], cwd=tmp_path,
        env={**environment, "AWS_EC2_METADATA_DISABLED": "true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 1
    app_line, cli_line = non_empty_lines(result)
    assert app_line == "app.py: Serving/Chat: instance_count must be an integer >= 1, got 0"
    assert cli_line.endswith("app.py: Subprocess exited with error 1")

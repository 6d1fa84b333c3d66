"""pre-commit installs the package without its "cdk" extra (PyYAML and python-hcl2): check (every surface), plan,
rules and explain run without aws-cdk-lib, jsii, constructs, cdk-nag or boto3, and a command that needs them says
so in one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tests/fixtures/templates/bad/model-package-unaccepted.json"
# Runs the CLI with the cdk extra's modules made unimportable, as in a light install.
WITHOUT_CDK_EXTRA = """
import importlib.abc, sys
class LightInstall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"aws_cdk", "jsii", "constructs", "cdk_nag", "boto3", "botocore"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, LightInstall())
from constructs_lib.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(("arguments", "expected_exit"), [
    (["check", str(TEMPLATE)], 1),
    (["check", "--format", "sarif", str(TEMPLATE)], 1),
    (["plan", "examples/unaccepted.yaml"], 1),
    (["plan", "models.yaml"], 0),
    (["rules", "--format", "json"], 0),
    (["explain", "EULA004"], 0),
    (["check", "tests/fixtures/surfaces/python/bad/sdk_v2_deploy.py"], 1),
    (["check", "tests/fixtures/surfaces/python/bad/deploy.ipynb"], 1),
    (["check", "--format", "sarif", "tests/fixtures/surfaces/terraform/bad/main.tf"], 1),
    (["check", "tests/fixtures/surfaces/terraform/bad/plan.json"], 1),
    (["check", "--format", "junit", "tests/fixtures/surfaces/kubernetes/bad/models.yaml"], 1),
    (["check", "tests/fixtures/surfaces"], 1),
])
def test_the_light_commands_run_without_the_cdk_extra(arguments: list[str], expected_exit: int) -> None:
    result = subprocess.run([sys.executable, "-c", WITHOUT_CDK_EXTRA, *arguments], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == expected_exit, result.stderr
    assert result.stderr == ""


def test_a_command_that_needs_the_cdk_extra_says_so_in_one_line() -> None:
    result = subprocess.run([sys.executable, "-c", WITHOUT_CDK_EXTRA, "invoke", "my-endpoint", "--body", "{}",
                             "--region", "us-east-1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert re.fullmatch(r"eulagate invoke: needs (boto3|botocore), which comes with the cdk extra: "
                        r"pip install 'eulagate\[cdk\]' \(or run bash scripts/setup.sh\)", line), line

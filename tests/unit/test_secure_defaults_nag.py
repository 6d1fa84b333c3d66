"""Secure by default: the default table's stacks (``models.yaml`` as ``app.py`` builds them), the guard stacks and
the pipeline stack pass cdk-nag's AwsSolutions, HIPAA.Security, NIST.800.53.R5 and PCI.DSS.321 packs, and the
Serverless pack for the job handlers and the hook, with no unacknowledged finding; every acknowledgment sits on
the construct it covers and says why.

Each app is synthesized once per module, with every pack registered.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from constructs_lib.table import load_table
from stacks import add_guard_stacks, add_pipeline_stack, add_table_stacks

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
PACKS = ("AwsSolutions", *COMPLIANCE_PACKS, "Serverless")
PIPELINE_CONTEXT = {"pipeline": "true", "pipeline_source": "codecommit", "repository": "model-table",
                    "pipeline_account": "111122223333"}


@dataclass
class Nagged:
    report: dict[str, Any]
    templates: dict[str, dict[str, Any]]

    def findings(self, pack: str) -> list[tuple[str, str]]:
        """Unacknowledged findings (a pack with nothing to report, not even an acknowledgment, has no report)."""
        return sorted({(v["ruleName"], c["constructPath"]) for p in self.report["pluginReports"]
                       if p["pluginName"] == pack for v in p["violations"] for c in v["violatingConstructs"]})

    def acknowledged(self) -> list[tuple[str, dict[str, Any]]]:
        return [(p["pluginName"], v) for p in self.report["pluginReports"] for v in p.get("suppressedViolations", [])]


def synth(outdir: Path, declare: Callable[[cdk.App], Any], context: dict[str, str] | None = None) -> Nagged:
    app = cdk.App(outdir=str(outdir), context=context or {})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(), HIPAASecurityChecks(), NIST80053R5Checks(),
                                        PCIDSS321Checks(), ServerlessChecks())
    with contextlib.chdir(ROOT):  # the pipeline builds from the repository: its table path is relative to it
        declare(app)
        with contextlib.suppress(RuntimeError):  # a failing pack: the report says which
            app.synth()
    templates = {str(path.relative_to(outdir)): json.loads(path.read_text())
                 for path in outdir.rglob("*.template.json")}
    return Nagged(json.loads((outdir / "validation-report.json").read_text()), templates)


@pytest.fixture(scope="module")
def table_app(tmp_path_factory: pytest.TempPathFactory) -> Nagged:
    return synth(tmp_path_factory.mktemp("table"), lambda app: add_table_stacks(app, load_table("models.yaml")))


@pytest.fixture(scope="module")
def guard_app(tmp_path_factory: pytest.TempPathFactory) -> Nagged:
    return synth(tmp_path_factory.mktemp("guard"), lambda app: add_guard_stacks(app, load_table("models.yaml")))


@pytest.fixture(scope="module")
def pipeline_app(tmp_path_factory: pytest.TempPathFactory) -> Nagged:
    return synth(tmp_path_factory.mktemp("pipeline"),
                 lambda app: add_pipeline_stack(app, load_table("examples/pipeline.yaml")), PIPELINE_CONTEXT)


@pytest.mark.parametrize("pack", PACKS)
def test_the_default_table_stacks_pass(table_app: Nagged, pack: str) -> None:
    assert table_app.findings(pack) == []


@pytest.mark.parametrize("pack", PACKS)
def test_the_guard_stacks_pass(guard_app: Nagged, pack: str) -> None:
    assert guard_app.findings(pack) == []


@pytest.mark.parametrize("pack", PACKS)
def test_the_pipeline_stack_passes(pipeline_app: Nagged, pack: str) -> None:
    assert pipeline_app.findings(pack) == []


def test_cdk_pipelines_wildcards_are_acknowledged_one_by_one_on_their_policies(pipeline_app: Nagged) -> None:
    """The pipeline's (not the stages' table stacks, whose roles answer for themselves)."""
    wildcards = [v for _, v in pipeline_app.acknowledged() if v["ruleName"].startswith("AwsSolutions-IAM5[")
                 and v["acknowledgedAt"].startswith("EulaGatePipeline/Pipeline/")]
    assert len(wildcards) > 40
    assert all(v["acknowledgedAt"].endswith("/DefaultPolicy/Resource") for v in wildcards)


@pytest.mark.parametrize("app", ["table_app", "guard_app", "pipeline_app"])
def test_every_acknowledgment_is_on_its_construct_with_a_reason(app: str, request: pytest.FixtureRequest) -> None:
    nagged: Nagged = request.getfixturevalue(app)
    acknowledged = nagged.acknowledged()
    assert acknowledged
    for pack, violation in acknowledged:
        assert violation["acknowledgedId"] == f"{pack}::{violation['ruleName']}"
        assert len(violation["reason"].strip()) > 60, violation["acknowledgedId"]
        place = violation["acknowledgedAt"]
        assert "/" in place, f"{violation['acknowledgedId']} acknowledged on a whole stack: {place}"
        assert all(c["constructPath"] == place or c["constructPath"].startswith(f"{place}/")
                   for c in violation["violatingConstructs"])


def resources(nagged: Nagged, resource_type: str) -> list[dict[str, Any]]:
    return [r for template in nagged.templates.values() for r in template["Resources"].values()
            if r["Type"] == resource_type]


def test_endpoint_volumes_are_encrypted_with_a_key_or_by_the_instance(table_app: Nagged) -> None:
    """A volume takes the stack's key; an instance type with local NVMe storage (no volume) is acknowledged."""
    configs = resources(table_app, "AWS::SageMaker::EndpointConfig")
    assert configs
    keyed = [c for c in configs if "KmsKeyId" in c["Properties"]]
    hardware = {v["violatingConstructs"][0]["constructPath"] for pack, v in table_app.acknowledged()
                if v["ruleName"] == f"{pack}-SageMakerEndpointConfigurationKMSKeyConfigured"}
    assert len(keyed) + len(hardware) == len(configs)


def test_log_groups_are_encrypted_with_the_stack_key(table_app: Nagged, guard_app: Nagged) -> None:
    for nagged in (table_app, guard_app):
        log_groups = resources(nagged, "AWS::Logs::LogGroup")
        assert log_groups and all("KmsKeyId" in group["Properties"] for group in log_groups)
        keys = resources(nagged, "AWS::KMS::Key")
        assert keys and all(key["Properties"]["EnableKeyRotation"] is True for key in keys)


def test_every_pack_ran(table_app: Nagged, guard_app: Nagged, pipeline_app: Nagged) -> None:
    """A pack reports only where it has something to say (a finding or an acknowledgment): each did somewhere."""
    ran = {plugin["pluginName"] for nagged in (table_app, guard_app, pipeline_app)
           for plugin in nagged.report["pluginReports"]}
    assert ran == set(PACKS)

"""cdk-nag's AwsSolutions, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321 and Serverless packs over fine-tuning jobs
with the controls a regulated team sets (a KMS key, a VPC, network isolation), waited for and not: no
unacknowledged finding, and each acknowledgment of ours says why. Without a key the stack's own key encrypts the
log groups and the failure topic, and the packs pass too."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from constructs_lib.constructs.jobs.automl import AutoMLFineTuningJob
from constructs_lib.constructs.jobs.training import JumpStartFineTuningJob
from constructs_lib.constructs.placement import VpcPlacement

pytestmark = pytest.mark.synth

ACCOUNT = "111122223333"
REGION = "us-east-1"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless")


def nag_report(outdir: Path, *, kms_key_arn: str | None) -> dict[str, Any]:
    app = cdk.App(outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(), HIPAASecurityChecks(), NIST80053R5Checks(),
                                        PCIDSS321Checks(), ServerlessChecks())
    stack = cdk.Stack(app, "Regulated", env=cdk.Environment(account=ACCOUNT, region=REGION))
    vpc = VpcPlacement(subnet_ids=("subnet-0123456789abcdef0",), security_group_ids=("sg-0123456789abcdef0",))
    for waited in (False, True):
        props: dict[str, Any] = dict(
            training_data="s3://regulated-data/train/", output_path=f"s3://regulated-data/out-{waited}/",
            accept_eula=True, wait_for_completion=waited, kms_key_arn=kms_key_arn, vpc=vpc, network_isolation=True,
        )
        AutoMLFineTuningJob(stack, f"Chat{waited}", base_model="Llama2-7BChat", **props)
        JumpStartFineTuningJob(stack, f"Tune{waited}", model="meta-textgeneration-llama-2-7b-f", **props)
    with contextlib.suppress(RuntimeError):  # a failing pack: the report says which
        app.synth()
    report: dict[str, Any] = json.loads((outdir / "validation-report.json").read_text())
    return report


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return nag_report(tmp_path_factory.mktemp("encrypted"), kms_key_arn=KMS_KEY_ARN)


def violations(report: dict[str, Any]) -> dict[str, set[str]]:
    return {plugin["pluginName"]: {v["ruleName"] for v in plugin["violations"]} for plugin in report["pluginReports"]}


def test_regulated_jobs_pass_every_pack(encrypted: dict[str, Any]) -> None:
    assert violations(encrypted) == {pack: set() for pack in PACKS}


def test_every_acknowledgment_names_one_rule_and_says_why(encrypted: dict[str, Any]) -> None:
    acknowledged = [(plugin["pluginName"], v) for plugin in encrypted["pluginReports"]
                    for v in plugin.get("suppressedViolations", [])]
    assert acknowledged
    for pack, violation in acknowledged:
        assert violation["acknowledgedId"] == f"{pack}::{violation['ruleName']}"
        assert len(violation["reason"].strip()) > 60, violation["acknowledgedId"]
        assert "/" in violation["acknowledgedAt"]  # on our constructs, never a whole stack
    rules = {v["ruleName"] for _, v in acknowledged}
    assert {f"{pack}-LambdaInsideVPC" for pack in PACKS[1:4]} <= rules  # the compliance packs
    assert not any(rule.endswith(("CloudWatchLogGroupEncrypted", "SNSEncryptedKMS")) for rule in rules)


def test_without_a_key_the_stack_key_encrypts_the_logs_and_topic_and_the_packs_pass(tmp_path: Path) -> None:
    assert violations(nag_report(tmp_path, kms_key_arn=None)) == {pack: set() for pack in PACKS}

"""Suppressions: only warnings, only with a reason, written by hand in a template or by ``suppress_warning``."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Template

from constructs_lib.constructs.suppressions import suppress_warning
from constructs_lib.errors import ConstructValidationError
from constructs_lib.rules import scan_template

MARKETPLACE_ARN = ("arn:aws:sagemaker:us-east-1:865070037744:model-package/"
                   "llama2-7b-f-v4-71eeccf76ddf33f2a18d2e16b9c7f302")


def marketplace_model(scope: Any, construct_id: str) -> sagemaker.CfnModel:
    return sagemaker.CfnModel(
        scope, construct_id, execution_role_arn="arn:aws:iam::123456789012:role/sagemaker-execution",
        enable_network_isolation=True,
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(model_package_name=MARKETPLACE_ARN),
    )


@pytest.mark.synth
def test_suppress_warning_writes_the_metadata_the_check_reads(scratch: cdk.Stack) -> None:
    marketplace_model(scratch, "Subscribed")
    marketplace_model(scratch, "NotSubscribed")
    suppress_warning(scratch.node.find_child("Subscribed"), "EULA005", "subscribed in Marketplace (OPS-7)")
    template = Template.from_stack(scratch).to_json()
    result = scan_template(template)
    assert [(entry.finding.rule_id, entry.reason) for entry in result.suppressed] == [
        ("EULA005", "subscribed in Marketplace (OPS-7)")]
    assert [f.logical_id for f in result.findings] == ["NotSubscribed"]


@pytest.mark.synth
@pytest.mark.parametrize(("rule", "reason", "message"), [
    ("EULA001", "trust me", "EULA001 is an error and cannot be suppressed"),
    ("EULA005", "  ", "suppressing EULA005 needs a reason"),
    ("EULA099", "x", "unknown rule 'EULA099'"),
])
def test_suppress_warning_refuses_errors_empty_reasons_and_unknown_rules(
        scratch: cdk.Stack, rule: str, reason: str, message: str) -> None:
    with pytest.raises(ConstructValidationError, match=message):
        suppress_warning(marketplace_model(scratch, "Model"), rule, reason)


@pytest.mark.parametrize("metadata", [
    {"eulagate": {"suppress": [{"rule": "EULA005"}]}},  # no reason
    {"eulagate": {"suppress": [{"rule": "EULA005", "reason": ""}]}},
    {"eulagate": {"suppress": {"rule": "EULA005", "reason": "x"}}},  # not a list: ignored
    {"eulagate": "EULA005"},
    {"eulagate": {"suppress": [{"rule": "EULA001", "reason": "x"}]}},  # another rule
])
def test_a_malformed_or_unrelated_suppression_suppresses_nothing(metadata: dict[str, Any]) -> None:
    template = {"Resources": {"Model": {
        "Type": "AWS::SageMaker::Model", "Metadata": metadata,
        "Properties": {"ExecutionRoleArn": "arn:aws:iam::123456789012:role/r",
                       "PrimaryContainer": {"ModelPackageName": MARKETPLACE_ARN}}}}}
    result = scan_template(template)
    assert result.suppressed == ()
    assert [(f.rule_id, f.severity) for f in result.findings] == [("EULA005", "warning")]

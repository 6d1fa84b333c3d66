"""cdk-nag (v3) acknowledgments for the package's own resources: one per finding, as cdk-nag names it, each
with the reason the finding is needed.

cdk-nag 3 is a policy-validation plugin, so a finding is acknowledged with
``Validations.of(construct).acknowledge(Acknowledgment(id="AwsSolutions::<finding>", reason=...))``; the
acknowledgment covers the construct and its children. With the plugin prefix the acknowledged finding and its
reason appear in ``validation-report.json`` (``suppressedViolations``). Wildcard findings (IAM5) are named by
the policy resource (``AwsSolutions-IAM5[Resource::<resource>]``), so they are acknowledged per resource, never
for the whole rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.aws_names import is_token

NAG_PACK = "AwsSolutions"
# The compliance packs of cdk-nag whose rule ids read "<pack>-<rule>" (e.g. HIPAA.Security-LambdaInsideVPC).
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
WILDCARD_RULE = "AwsSolutions-IAM5"


def nag_resource_id(resource: Any) -> str:
    """A resolved policy resource as cdk-nag's IAM5 rule spells it in a finding (its `flattenCfnReference`)."""
    if isinstance(resource, str):
        return resource.replace("${", "<").replace("}", ">")
    if isinstance(resource, dict):
        if "Fn::Join" in resource:
            delimiter, parts = resource["Fn::Join"]
            return str(delimiter).join(nag_resource_id(part) for part in parts)
        if "Fn::Sub" in resource:
            return nag_resource_id(resource["Fn::Sub"])
        if "Fn::GetAtt" in resource:
            target, attribute = resource["Fn::GetAtt"]
            return f"<{nag_resource_id(target)}.{nag_resource_id(attribute)}>"
        if "Ref" in resource:
            return f"<{nag_resource_id(resource['Ref'])}>"
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False)


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding on ``scope`` and its children, named as its pack reports it (``AwsSolutions-SF2``,
    ``Serverless-LambdaTracing``; the pack is the finding's prefix)."""
    pack = finding.split("-", 1)[0]
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{pack}::{finding}", reason=reason))


def acknowledge_in_compliance_packs(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one rule of the HIPAA, NIST 800-53 R5 and PCI DSS 3.2.1 packs (e.g. ``LambdaInsideVPC``) on
    ``scope`` and its children."""
    cdk.Validations.of(scope).acknowledge(*(
        cdk.Acknowledgment(id=f"{pack}::{pack}-{rule}", reason=reason) for pack in COMPLIANCE_PACKS
    ))


def acknowledge_wildcards(scope: IConstruct, resources: Iterable[tuple[Any, str]]) -> None:
    """Acknowledge on ``scope`` each wildcard policy resource of ``(resource, why it is needed)`` pairs.

    Resources may hold tokens (they are resolved to spell the findings as cdk-nag does); resources without a
    ``*`` are not findings and are skipped. Reasons of resources that spell the same finding are joined.
    """
    pairs = list(resources)
    if is_token(json.dumps([resource for resource, _ in pairs])):
        resolved = cdk.Stack.of(scope).resolve([resource for resource, _ in pairs])
        pairs = list(zip(resolved, (why for _, why in pairs), strict=True))
    reasons_by_finding: dict[str, list[str]] = {}
    for resource, why in pairs:
        resource_id = nag_resource_id(resource)
        if "*" in resource_id:
            reasons = reasons_by_finding.setdefault(f"{WILDCARD_RULE}[Resource::{resource_id}]", [])
            if why and why not in reasons:
                reasons.append(why)
    if reasons_by_finding:  # one jsii call: endpoint tables declare hundreds of roles
        cdk.Validations.of(scope).acknowledge(*(
            cdk.Acknowledgment(id=f"{NAG_PACK}::{finding}", reason="; ".join(reasons) or "no narrower resource exists")
            for finding, reasons in reasons_by_finding.items()
        ))

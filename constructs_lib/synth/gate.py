"""``EulaGate``: the synth-time EULA gate, a CDK policy-validation plugin over the synthesized templates.

CDK calls ``validate`` once per synth, after aspects, escape hatches and template generation, with the
template file of every stack of the app (or of the Stage the gate is registered on, its inner Stages
included). The gate adds each stack's nested stack templates (``synth.assembly``, the reader ``eulagate check``
uses too), runs the rule engine over the plain JSON (no
Aspect, no jsii call per construct) and reports each finding: errors as ``fatal`` violations, which fail the
synth and cannot be acknowledged; warnings as ``warning`` violations, which do not fail it.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii

from constructs_lib import __version__
from constructs_lib.catalog import Catalog
from constructs_lib.errors import TemplateError
from constructs_lib.rules import RULES, Finding, check_template
from constructs_lib.synth.assembly import SynthesizedStacks

__all__ = ["EulaGate"]

GATE_NAME = "EulaGate"
FATAL = "fatal"
UNREADABLE_RULE = "UNREADABLE"


def synthesized_findings(stacks: SynthesizedStacks, catalog: Catalog | None = None) -> list[Finding]:
    """The rule engine's findings on every template of ``stacks``; ``TemplateError`` for an unreadable one."""
    findings: list[Finding] = []
    for path, template in stacks.templates():
        findings.extend(check_template(template, template_path=str(path), catalog=catalog))
    return findings


def policy_violation(finding: Finding, *, rule_name: str, description: str,
                     construct_path: str | None = None) -> cdk.PolicyViolation:
    """A finding as CDK reports it. Without ``construct_path``, CDK finds the construct by logical id."""
    metadata = {"modelId": finding.model_id, "eulaUrl": finding.eula_url, "resourceType": finding.resource_type}
    return cdk.PolicyViolation(
        rule_name=rule_name,
        description=description,
        fix=finding.fix,
        severity=FATAL if finding.severity == "error" else finding.severity,
        rule_metadata={key: value for key, value in metadata.items() if value is not None},
        violating_resources=[cdk.PolicyViolatingResource(
            construct_path=construct_path,
            resource_logical_id=finding.logical_id,
            template_path=finding.template,
            locations=["Properties"],
        )],
    )


def unreadable_report(error: TemplateError) -> cdk.PolicyValidationPluginReport:
    """A template the gate cannot read fails the synth: an unchecked template is not a passed one."""
    return cdk.PolicyValidationPluginReport(
        success=False,
        violations=[cdk.PolicyViolation(
            rule_name=UNREADABLE_RULE,
            description=f"The EULA gate cannot read a synthesized template: {error}",
            fix="Synthesize again into an output directory that no other process writes to",
            severity=FATAL,
            violating_resources=[],
        )],
    )


@jsii.implements(cdk.IPolicyValidationPlugin)
class EulaGate:
    """Fails ``cdk synth`` when a template uses an EULA-gated model without explicit acceptance.

    Register it once on the app (or on a Stage, to check only that Stage's stacks)::

        app = cdk.App()
        ...
        cdk.Validations.of(app).add_plugins(EulaGate())

    Each error is a ``fatal`` violation naming the construct path, the model, its EULA's URL and the fix;
    fatal violations cannot be acknowledged. Warnings (an EULA-gated model served through its AWS Marketplace
    model package) are reported without failing, and can be acknowledged with
    ``Validations.of(construct).acknowledge(Acknowledgment(id="EulaGate::EULA005", reason=...))``.

    :param catalog: the catalog that says which models are gated. Default: ``Catalog.default()``.
    """

    def __init__(self, *, catalog: Catalog | None = None) -> None:
        self._catalog = catalog

    # jsii reads these three through getters: plain class attributes would arrive in JavaScript as undefined.
    @property
    def name(self) -> str:
        return GATE_NAME

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in RULES]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        try:
            findings = synthesized_findings(SynthesizedStacks(context.template_paths), self._catalog)
        except TemplateError as error:
            return unreadable_report(error)
        return cdk.PolicyValidationPluginReport(
            success=not any(finding.severity == "error" for finding in findings),
            violations=[
                policy_violation(finding, rule_name=finding.rule_id, description=finding.message)
                for finding in findings
            ],
        )

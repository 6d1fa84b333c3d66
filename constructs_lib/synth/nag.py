"""``EulaChecks``: the EULA rules as a cdk-nag (v3) rule pack, for teams that already run cdk-nag.

cdk-nag walks the construct tree and calls ``_check_resource`` on each ``CfnResource``; resolving each
resource's properties there would cost jsii round trips per property. Instead the pack evaluates each
synthesized template once with the rule engine (as ``EulaGate`` does), indexes the findings by construct path
(from the stacks' construct metadata), and in ``_check_resource`` only looks its node's path up. cdk-nag then
applies its own acknowledgment logic (``Validations.of(c).acknowledge(...)``) to each finding it is given.

cdk-nag reports rule levels only as ``error`` or ``warning`` and lets every rule be acknowledged. The pack
hardens its report: EULA errors become ``fatal`` and are reported even where acknowledged (an acknowledgment
is not EULA acceptance); warnings keep cdk-nag's behaviour.
"""

from __future__ import annotations

import aws_cdk as cdk
import cdk_nag
import jsii
from constructs import IConstruct

from constructs_lib.catalog import Catalog
from constructs_lib.errors import TemplateError
from constructs_lib.rules import RULES, Finding
from constructs_lib.synth.assembly import SynthesizedStacks
from constructs_lib.synth.gate import check_synthesized, policy_violation, unreadable_violation

__all__ = ["EulaChecks"]

PACK_NAME = "EulaChecks"
_RULE_DESCRIPTIONS = {rule.id: rule.description for rule in RULES}


@jsii.implements(cdk_nag.IApplyRule)
class _FindingRule:
    """One engine finding on one node, in the shape cdk-nag's ``_apply_rule`` takes."""

    def __init__(self, node: cdk.CfnResource, finding: Finding) -> None:
        self._node = node
        self._finding = finding

    @property
    def node(self) -> cdk.CfnResource:
        return self._node

    @property
    def rule_suffix_override(self) -> str:
        return self._finding.rule_id

    @property
    def level(self) -> cdk_nag.NagMessageLevel:
        return cdk_nag.NagMessageLevel.ERROR if self._finding.severity == "error" else cdk_nag.NagMessageLevel.WARN

    @property
    def info(self) -> str:
        return self._finding.message

    @property
    def explanation(self) -> str:
        return _RULE_DESCRIPTIONS.get(self._finding.rule_id, "")

    def rule(self, node: cdk.CfnResource) -> cdk_nag.NagRuleCompliance:
        # The engine already judged this resource from its synthesized template.
        return cdk_nag.NagRuleCompliance.NON_COMPLIANT


class EulaChecks(cdk_nag.NagPack):
    """The EULA rules (EULA001..) as a cdk-nag pack: ``Validations.of(app).add_plugins(EulaChecks(app))``.

    Rule ids are ``EulaChecks-<rule>`` (``EulaChecks-EULA001``). Errors are ``fatal`` and cannot be
    acknowledged; warnings can, as any cdk-nag rule:
    ``Validations.of(construct).acknowledge(Acknowledgment(id="EulaChecks-EULA005", reason=...))``.

    :param scope: the app (or Stage), as for any cdk-nag pack. Default: none.
    :param verbose: add each rule's explanation to its violations. Default: False.
    :param write_suppressions_to_cloud_formation: as for any cdk-nag pack, write the acknowledgments into each
        resource's ``cdk_nag`` metadata (cdk-nag v2's audit trail). Default: False.
    :param catalog: the catalog that says which models are gated. Default: ``Catalog.default()``.
    """

    def __init__(self, scope: IConstruct | None = None, *, verbose: bool | None = None,
                 write_suppressions_to_cloud_formation: bool | None = None, catalog: Catalog | None = None) -> None:
        super().__init__(scope, verbose=verbose,
                         write_suppressions_to_cloud_formation=write_suppressions_to_cloud_formation)
        self._pack_name = PACK_NAME
        self._verbose = bool(verbose)
        self._catalog = catalog
        self._findings_by_path: dict[str, list[Finding]] = {}
        self._applied: list[tuple[Finding, str]] = []  # (finding, construct path) given to cdk-nag

    @property
    def name(self) -> str:
        return PACK_NAME

    @property
    def rule_ids(self) -> list[str]:
        return [self._rule_name(rule.id) for rule in RULES]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        stacks = SynthesizedStacks(context.template_paths)
        result = check_synthesized(stacks, self._catalog)
        findings = result.findings
        try:
            construct_paths = stacks.construct_paths() if findings else {}
        except TemplateError:  # its stack is among result.unreadable; its findings are reported by logical id
            construct_paths = {}
        self._findings_by_path = {}
        unplaced: list[Finding] = []
        for finding in findings:
            construct_path = construct_paths.get((finding.template, finding.logical_id))
            if construct_path is None:
                unplaced.append(finding)
            else:
                self._findings_by_path.setdefault(construct_path, []).append(finding)
        self._applied = []
        nag_report = super().validate(context)  # cdk-nag walks the tree and calls _check_resource per resource
        applied = {id(finding) for finding, _ in self._applied}
        # Findings no visited construct claimed (logical-id metadata turned off): reported by logical id.
        unplaced.extend(f for fs in self._findings_by_path.values() for f in fs if id(f) not in applied)
        return cdk.PolicyValidationPluginReport(
            success=result.passed,
            violations=[*(unreadable_violation(path, error) for path, error in result.unreadable),
                        *self._hardened(nag_report), *(
                policy_violation(f, rule_name=self._rule_name(f.rule_id), description=self._description(f))
                for f in unplaced
            )],
        )

    def _check_resource(self, node: cdk.CfnResource) -> None:
        if not self._findings_by_path:
            return
        construct_path = node.node.path
        for finding in self._findings_by_path.get(construct_path, ()):
            self._applied.append((finding, construct_path))
            # IApplyRule's stubs declare settable attributes; jsii only reads them, through these getters.
            self._apply_rule(_FindingRule(node, finding))  # type: ignore[arg-type]

    def _hardened(self, nag_report: cdk.PolicyValidationPluginReport) -> list[cdk.PolicyViolation]:
        """cdk-nag's verdicts on the findings it was given, with every EULA error fatal, acknowledged or not."""
        reported = {
            (violation.rule_name, resource.construct_path)
            for violation in nag_report.violations
            for resource in violation.violating_resources
        }
        violations = []
        for finding, construct_path in self._applied:
            rule_name = self._rule_name(finding.rule_id)
            acknowledged = (rule_name, construct_path) not in reported
            if acknowledged and finding.severity != "error":
                continue
            description = self._description(finding)
            if acknowledged:  # said first: the message ends with the EULA's URL
                description = (f"Acknowledgment of {rule_name} ignored: EULA errors cannot be acknowledged. "
                               f"{description}")
            violations.append(policy_violation(
                finding, rule_name=rule_name, description=description, construct_path=construct_path,
            ))
        return violations

    def _description(self, finding: Finding) -> str:
        if not self._verbose:
            return finding.message
        return f"{finding.message} {_RULE_DESCRIPTIONS.get(finding.rule_id, '')}".rstrip()

    @staticmethod
    def _rule_name(rule_id: str) -> str:
        return f"{PACK_NAME}-{rule_id}"

"""``EulaGate``: the synth-time EULA gate, a CDK policy-validation plugin over the synthesized templates.

CDK calls ``validate`` once per synth, after aspects, escape hatches and template generation, with the
template file of every stack of the app (or of the Stage the gate is registered on, its inner Stages
included). The gate adds each stack's nested stack templates (``synth.assembly``, the reader ``eulagate check``
uses too), runs the rule engine over the plain JSON (no
Aspect, no jsii call per construct) and reports each finding: errors as ``fatal`` violations, which fail the
synth and cannot be acknowledged; warnings as ``warning`` violations, which do not fail it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import jsii

from constructs_lib import __version__
from constructs_lib.catalog import Catalog
from constructs_lib.errors import TemplateError
from constructs_lib.rules import RULE_IDS, Finding, scan_template
from constructs_lib.rules.judgeable import UnjudgeableTemplate, refuse_unjudgeable
from constructs_lib.synth.assembly import SynthesizedStacks

__all__ = ["EulaGate"]

GATE_NAME = "EulaGate"
FATAL = "fatal"
UNREADABLE_RULE = "UNREADABLE"
FAIL_SYNTH_CONTEXT = "@aws-cdk/core:failSynthOnValidationErrors"
APP_MODE_CONTEXT = "@aws-cdk/core:appMode"
APP_MODE_ENVIRONMENT_VARIABLE = "CDK_APP_MODE"
CLI_VERSION_ENVIRONMENT_VARIABLE = "CDK_CLI_VERSION"


@dataclass(frozen=True)
class SynthesisCheck:
    """What the engine found in the templates of one validation, and the stacks it could not read."""

    findings: list[Finding]
    unreadable: list[tuple[Path, TemplateError]]  # (stack template, why): each fails the synth on its own

    @property
    def passed(self) -> bool:
        return not self.unreadable and not any(finding.severity == "error" for finding in self.findings)


def check_synthesized(stacks: SynthesizedStacks, catalog: Catalog | None = None) -> SynthesisCheck:
    """The rule engine over every template of ``stacks``; a stack that cannot be read does not stop the others."""
    findings: list[Finding] = []
    unreadable: list[tuple[Path, TemplateError]] = []
    for stack_path in stacks.stack_template_paths:
        try:
            for path, template, nested_read, passed in stacks.templates_of(stack_path):
                refuse_unjudgeable(template, path)  # fails the synth in one line, as `eulagate check` exits 2
                findings.extend(scan_template(template, template_path=str(path), catalog=catalog,
                                              nested_templates_read=nested_read, passed=passed).findings)
        except TemplateError as error:
            unreadable.append((stack_path, error))
    return SynthesisCheck(findings, unreadable)


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


def unreadable_violation(stack_path: Path, error: TemplateError) -> cdk.PolicyViolation:
    """A stack the gate cannot read fails the synth: an unchecked template is not a passed one.

    The violation names the template as its resource: CDK prints no violation without one, and a report it
    does not print does not fail the synth either.
    """
    judged = isinstance(error, UnjudgeableTemplate)  # it reads, but a resource in it cannot be judged
    return cdk.PolicyViolation(
        rule_name=UNREADABLE_RULE,
        description=f"The EULA gate cannot {'judge' if judged else 'read'} a synthesized template: {error}",
        fix=("Correct the resource the description names (its Type, or the rule id in its eulagate suppression)"
             if judged else "Synthesize again into an output directory that no other process writes to"),
        severity=FATAL,
        violating_resources=[cdk.PolicyViolatingResource(
            resource_logical_id=stack_path.name, template_path=str(stack_path), locations=["Resources"])],
    )


def reporting_disabled(context: cdk.IPolicyValidationContext) -> str | None:
    """The context setting under which CDK reports a failed validation without failing ``app.synth()``, if any.

    aws-cdk-lib 2.275: with ``@aws-cdk/core:failSynthOnValidationErrors`` false the app leaves the verdict to
    the CDK CLI, and with ``@aws-cdk/core:appMode`` (or ``CDK_APP_MODE``) ``process`` it only sets the exit code
    of its Node.js process. The CDK CLI reads ``validation-report.json`` and fails either way (it runs apps with
    the first setting, and ``CDK_CLI_VERSION`` in their environment); an in-process ``app.synth()`` returns
    normally.
    """
    if os.environ.get(CLI_VERSION_ENVIRONMENT_VARIABLE):  # run by the CDK CLI, which sets the setting itself
        return None
    app = context.app_construct
    fail_synth = app.node.try_get_context(FAIL_SYNTH_CONTEXT)
    if fail_synth is False or fail_synth == "false":
        return f"{FAIL_SYNTH_CONTEXT} is false"
    mode = app.node.try_get_context(APP_MODE_CONTEXT) or os.environ.get(APP_MODE_ENVIRONMENT_VARIABLE)
    return f"{APP_MODE_CONTEXT} is process" if mode == "process" else None


@jsii.implements(cdk.IPolicyValidationPlugin)
class EulaGate:
    """Fails ``cdk synth`` when a template uses an EULA-gated model without explicit acceptance.

    Register it once on the app (or on a Stage, to check only that Stage's stacks)::

        app = cdk.App()
        ...
        cdk.Validations.of(app).add_plugins(EulaGate())

    Each error is a ``fatal`` violation naming the construct path, the model, its EULA's URL and the fix;
    fatal violations cannot be acknowledged. Warnings (an EULA-gated model served through one of JumpStart's model
    packages, accepted per request) are reported without failing, and can be acknowledged with
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
        return list(RULE_IDS)

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        result = check_synthesized(SynthesizedStacks(context.template_paths), self._catalog)
        if not result.passed:
            _warn_when_reporting_is_disabled(context)
        return cdk.PolicyValidationPluginReport(
            success=result.passed,
            violations=[
                *(unreadable_violation(path, error) for path, error in result.unreadable),
                *(policy_violation(finding, rule_name=finding.rule_id, description=finding.message)
                  for finding in result.findings),
            ],
        )


def _warn_when_reporting_is_disabled(context: cdk.IPolicyValidationContext) -> None:
    setting = reporting_disabled(context)
    if setting is not None:
        print(f"EulaGate: the EULA gate failed, but {setting}, so app.synth() does not raise; the CDK CLI still "
              "refuses this cloud assembly (cdk synth/deploy, also with --app cdk.out). Deploying its templates "
              "with any other tool needs `eulagate check cdk.out` first.", file=sys.stderr)

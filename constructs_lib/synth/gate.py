"""``EulaGate``: the synth-time EULA gate, a CDK policy-validation plugin over the synthesized templates.

CDK calls ``validate`` once per synth, after aspects, escape hatches and template generation, with the
template file of every stack of the app (or of the Stage the gate is registered on, its inner Stages
included). The gate adds each stack's nested stack templates, runs the rule engine over the plain JSON (no
Aspect, no jsii call per construct) and reports each finding: errors as ``fatal`` violations, which fail the
synth and cannot be acknowledged; warnings as ``warning`` violations, which do not fail it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from constructs_lib import __version__
from constructs_lib.catalog import Catalog
from constructs_lib.rules import RULES, Finding, check_template
from constructs_lib.synth.templates import STACK_ARTIFACT, TemplateError, load_template

__all__ = ["EulaGate"]

GATE_NAME = "EulaGate"
FATAL = "fatal"
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
# Construct metadata CDK writes for every stack artifact (``<stack>.metadata.json``), keyed by construct path.
TEMPLATE_FILE_METADATA = "aws:cdk:templateFile"  # on each stack and nested stack: its template's file name
LOGICAL_ID_METADATA = "aws:cdk:logicalId"  # on each CloudFormation element: its final logical id
UNREADABLE_RULE = "UNREADABLE"


class SynthesizedStacks:
    """The templates of the stacks one validation covers, their nested stack templates included.

    Nested stack templates are not among the stack templates CDK hands to plugins; each stack's construct
    metadata names them (``aws:cdk:templateFile``), so stale files left in the output directory by an
    earlier synth are never read.
    """

    def __init__(self, template_paths: Iterable[str]) -> None:
        self.stack_template_paths = [Path(path) for path in template_paths]
        self._manifests: dict[Path, Mapping[str, Any]] = {}
        self._metadata: dict[Path, dict[str, list[Mapping[str, Any]]]] = {}

    def templates(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        """Each template file and its parsed JSON, stacks first and each stack's nested templates after it."""
        for stack_path in self.stack_template_paths:
            template = load_template(stack_path)
            yield stack_path, template
            if _declares_nested_stacks(template):
                for nested_path in self._nested_template_paths(stack_path):
                    yield nested_path, load_template(nested_path)

    def construct_paths(self) -> dict[tuple[str, str], str]:
        """(template path, logical id) -> construct path, for every CloudFormation element of the stacks."""
        paths: dict[tuple[str, str], str] = {}
        for stack_path in self.stack_template_paths:
            metadata = self._stack_metadata(stack_path)
            template_of_scope = {
                scope: str(stack_path.parent / entry["data"])
                for scope, entries in metadata.items()
                for entry in entries
                if entry.get("type") == TEMPLATE_FILE_METADATA
            }
            for construct_path, entries in metadata.items():
                for entry in entries:
                    if entry.get("type") == LOGICAL_ID_METADATA:
                        template = _innermost(construct_path, template_of_scope) or str(stack_path)
                        paths[(template, str(entry.get("data")))] = construct_path.lstrip("/")
        return paths

    def _stack_metadata(self, stack_path: Path) -> dict[str, list[Mapping[str, Any]]]:
        """The construct metadata of the stack whose template is ``stack_path``, nested stacks included.

        Read once per stack: both the nested templates and the construct paths come from it.
        """
        if stack_path not in self._metadata:
            self._metadata[stack_path] = self._read_stack_metadata(stack_path)
        return self._metadata[stack_path]

    def _read_stack_metadata(self, stack_path: Path) -> dict[str, list[Mapping[str, Any]]]:
        manifest = self._manifest(stack_path.parent)
        artifacts = manifest.get("artifacts")
        for artifact in artifacts.values() if isinstance(artifacts, Mapping) else ():
            if not isinstance(artifact, Mapping) or artifact.get("type") != STACK_ARTIFACT:
                continue
            if (artifact.get("properties") or {}).get("templateFile") != stack_path.name:
                continue
            metadata = dict(artifact.get("metadata") or {})
            extra_file = artifact.get("additionalMetadataFile")
            if isinstance(extra_file, str):
                metadata.update(load_template(stack_path.parent / extra_file))
            return metadata
        raise TemplateError(
            f"{stack_path}: the cloud assembly manifest names no stack with this template; synthesize again"
        )

    def _nested_template_paths(self, stack_path: Path) -> list[Path]:
        return [
            stack_path.parent / entry["data"]
            for entries in self._stack_metadata(stack_path).values()
            for entry in entries
            if entry.get("type") == TEMPLATE_FILE_METADATA and entry.get("data") != stack_path.name
        ]

    def _manifest(self, directory: Path) -> Mapping[str, Any]:
        if directory not in self._manifests:
            # load_template reads any JSON object, with one-line errors naming the file
            self._manifests[directory] = load_template(directory / "manifest.json")
        return self._manifests[directory]


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


def _declares_nested_stacks(template: Mapping[str, Any]) -> bool:
    resources = template.get("Resources") or {}
    return any(isinstance(r, Mapping) and r.get("Type") == NESTED_STACK_TYPE for r in resources.values())


def _innermost(construct_path: str, template_of_scope: Mapping[str, str]) -> str | None:
    """The template of the innermost stack or nested stack whose construct path contains ``construct_path``."""
    scope = construct_path
    while scope:
        template = template_of_scope.get(scope)
        if template is not None:
            return template
        scope = scope.rpartition("/")[0]
    return None

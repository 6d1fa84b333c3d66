"""Reports of ``eulagate check`` in each output format; each format is one module with ``render(report)``.

Every format reports a finding at its source when the template records one (the model-table row that declared
the resource), with the template location beside it, and lists the warnings suppressed with their reasons.
"""

import importlib
from collections.abc import Mapping
from typing import Any

from constructs_lib.records import Record
from constructs_lib.rules import Finding, TemplateScan
from constructs_lib.rules.detection.sources import SourceLocation, construct_path, declared_at

# Formats whose output depends on -q/-v.
VERBOSITY_FORMATS = frozenset({"text", "concise"})
FORMATS = {
    "text": "constructs_lib.cli.reporters.text",
    "concise": "constructs_lib.cli.reporters.concise",
    "json": "constructs_lib.cli.reporters.json_report",
    "sarif": "constructs_lib.cli.reporters.sarif",
    "junit": "constructs_lib.cli.reporters.junit",
    "markdown": "constructs_lib.cli.reporters.markdown",
}


class ReportedFinding(Record):  # a Record: a NamedTuple compiles its constructor at start-up
    """A finding with where its resource was declared and, for a suppressed warning, the reason given."""

    finding: Finding
    source: SourceLocation | None  # the model-table row, when the template records it
    construct_path: str | None  # CDK's aws:cdk:path of the resource
    suppression: str | None

    def __init__(self, finding: Finding, source: SourceLocation | None = None, construct_path: str | None = None,
                 suppression: str | None = None) -> None:
        vars(self).update(finding=finding, source=source, construct_path=construct_path, suppression=suppression)

    @property
    def template_location(self) -> str:
        """``template:line`` of the resource in the template (just the template when the line is unknown)."""
        finding = self.finding
        return f"{finding.template}:{finding.line}" if finding.line else finding.template

    @property
    def location(self) -> str:
        """Where to fix it: the source row when recorded, else the template."""
        return str(self.source) if self.source else self.template_location


class TemplateReport(Record):  # a Record: a NamedTuple compiles its constructor at start-up
    """One template: what the rules looked at, the findings reported and the warnings suppressed."""

    scan: TemplateScan
    findings: tuple[ReportedFinding, ...]
    suppressed: tuple[ReportedFinding, ...]
    source_file: bool  # a script, notebook, Terraform file or manifest rather than a template

    def __init__(self, scan: TemplateScan, findings: tuple[ReportedFinding, ...],
                 suppressed: tuple[ReportedFinding, ...], source_file: bool = False) -> None:
        vars(self).update(scan=scan, findings=findings, suppressed=suppressed, source_file=source_file)


def template_report(scan: TemplateScan, template: Mapping[str, Any]) -> TemplateReport:
    """``scan``'s findings and suppressed warnings with their declarations attached."""
    resources = template.get("Resources")
    resources = resources if isinstance(resources, Mapping) else {}

    def reported(finding: Finding, suppression: str | None = None) -> ReportedFinding:
        resource = resources.get(finding.logical_id)
        return ReportedFinding(finding, declared_at(resource), construct_path(resource), suppression)

    return TemplateReport(
        scan,
        tuple(reported(finding) for finding in scan.findings),
        tuple(reported(entry.finding, entry.reason) for entry in scan.suppressed),
    )


class Report(Record):  # a Record: a NamedTuple compiles its constructor at start-up
    """The templates one ``eulagate check`` read, and what the rules found in them."""

    templates: tuple[TemplateReport, ...]

    def __init__(self, templates: tuple[TemplateReport, ...]) -> None:
        vars(self).update(templates=templates)

    @property
    def findings(self) -> list[ReportedFinding]:
        return [finding for template in self.templates for finding in template.findings]

    @property
    def suppressed(self) -> list[ReportedFinding]:
        return [finding for template in self.templates for finding in template.suppressed]

    @property
    def errors(self) -> list[ReportedFinding]:
        return [finding for finding in self.findings if finding.finding.severity == "error"]

    @property
    def warnings(self) -> list[ReportedFinding]:
        return [finding for finding in self.findings if finding.finding.severity == "warning"]

    @property
    def resource_count(self) -> int:
        return sum(template.scan.resource_count for template in self.templates)

    def summary(self) -> str:
        """``2 EULA errors, 1 warning (1 suppressed) in 3 templates (120 resources)``, and ``... and 4 source files
        (7 requests)`` when scripts, notebooks, Terraform or manifests were read too."""
        templates = [template for template in self.templates if not template.source_file]
        sources = [template for template in self.templates if template.source_file]
        scopes = []
        if templates or not sources:
            resources = sum(template.scan.resource_count for template in templates)
            scopes.append(f"{_count(len(templates), 'template')} ({_count(resources, 'resource')})")
        if sources:
            requests = sum(template.scan.resource_count for template in sources)
            scopes.append(f"{_count(len(sources), 'source file')} ({_count(requests, 'request')})")
        scope = " and ".join(scopes)
        suppressed = f" ({len(self.suppressed)} suppressed)" if self.suppressed else ""
        if not self.findings:
            return f"no EULA problems{suppressed} in {scope}"
        counts = f"{_count(len(self.errors), 'EULA error')}, {_count(len(self.warnings), 'warning')}"
        return f"{counts}{suppressed} in {scope}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def render(report: Report, output_format: str, verbosity: int = 0) -> str:
    """The report as text in ``output_format`` (a key of ``FORMATS``); ``verbosity`` matters to text only."""
    module = importlib.import_module(FORMATS[output_format])
    text: str = module.render(report, verbosity) if output_format in VERBOSITY_FORMATS else module.render(report)
    return text

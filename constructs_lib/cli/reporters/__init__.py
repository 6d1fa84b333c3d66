"""Reports of ``eulagate check`` in each output format; each format is one module with ``render(report)``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from constructs_lib.rules import Finding, TemplateScan

FORMATS = {
    "text": "constructs_lib.cli.reporters.text",
    "json": "constructs_lib.cli.reporters.json_report",
    "sarif": "constructs_lib.cli.reporters.sarif",
    "junit": "constructs_lib.cli.reporters.junit",
    "markdown": "constructs_lib.cli.reporters.markdown",
}


@dataclass(frozen=True)
class Report:
    """The templates one ``eulagate check`` read, and what the rules found in them."""

    scans: tuple[TemplateScan, ...]

    @property
    def findings(self) -> list[Finding]:
        return [finding for scan in self.scans for finding in scan.findings]

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    @property
    def resource_count(self) -> int:
        return sum(scan.resource_count for scan in self.scans)

    def summary(self) -> str:
        """``2 EULA errors, 1 warning in 3 templates (120 resources)``."""
        scope = (f"{_count(len(self.scans), 'template')} "
                 f"({_count(self.resource_count, 'resource')})")
        if not self.findings:
            return f"no EULA problems in {scope}"
        return f"{_count(len(self.errors), 'EULA error')}, {_count(len(self.warnings), 'warning')} in {scope}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def render(report: Report, output_format: str) -> str:
    """The report as text in ``output_format`` (a key of ``FORMATS``)."""
    module = importlib.import_module(FORMATS[output_format])
    text: str = module.render(report)
    return text

"""Plain text: one line per finding (``file:line: severity rule resource: message Fix: ...``), then a summary.

A finding is placed at its model-table row when the template records one, else at its template line.
Verbosity: quiet (-1) prints the findings only; verbose (1) adds where each was declared and synthesized.
"""

from __future__ import annotations

from constructs_lib.cli.reporters import Report, ReportedFinding


def _line(reported: ReportedFinding, label: str, tail: str) -> str:
    finding = reported.finding
    return (f"{reported.location}: {label} {finding.rule_id} {finding.logical_id} ({finding.resource_type}): "
            f"{finding.message} {tail}")


def _declaration(reported: ReportedFinding) -> str:
    parts = [f"template {reported.template_location}"]
    if reported.construct_path:
        parts.append(f"construct {reported.construct_path}")
    return "    " + ", ".join(parts)


def render(report: Report, verbosity: int = 0) -> str:
    lines = []
    for reported in report.findings:
        lines.append(_line(reported, reported.finding.severity, f"Fix: {reported.finding.fix}"))
        if verbosity > 0:
            lines.append(_declaration(reported))
    if verbosity >= 0:
        for reported in report.suppressed:
            lines.append(_line(reported, f"suppressed {reported.finding.severity}", f"Reason: {reported.suppression}"))
        lines.append(f"eulagate check: {report.summary()}")
    return "".join(f"{line}\n" for line in lines)

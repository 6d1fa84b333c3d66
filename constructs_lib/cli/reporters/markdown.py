"""Markdown for a pull-request comment: the verdict, a table of findings and how to fix each, then the warnings
suppressed and why."""

from __future__ import annotations

from constructs_lib.cli.reporters import Report, ReportedFinding


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _cells(reported: ReportedFinding) -> str:
    finding = reported.finding
    where = f"`{_cell(reported.location)}`"
    if reported.source:
        where += f" (`{_cell(reported.template_location)}`)"
    model = f"`{finding.model_id}`" if finding.model_id else "unknown"
    return (f"| {finding.severity} | {finding.rule_id} | {where} | `{_cell(finding.logical_id)}` "
            f"({_cell(finding.resource_type)}) | {model} | {_cell(finding.message)} |")


def render(report: Report) -> str:
    verdict = "❌ EULA check failed" if report.errors else "✅ EULA check passed"
    lines = [f"### {verdict}", "", f"`eulagate check`: {report.summary()}.", ""]
    if report.findings:
        lines += ["| Severity | Rule | Where | Resource | Model | Problem | Fix |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"{_cells(reported)} {_cell(reported.finding.fix)} |" for reported in report.findings]
        lines.append("")
    if report.suppressed:
        lines += ["Suppressed warnings:", "",
                  "| Severity | Rule | Where | Resource | Model | Problem | Reason |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"{_cells(reported)} {_cell(reported.suppression or '')} |" for reported in report.suppressed]
        lines.append("")
    return "\n".join(lines)

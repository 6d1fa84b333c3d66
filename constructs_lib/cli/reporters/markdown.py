"""Markdown for a pull-request comment: the verdict, a table of findings, and how to fix each."""

from __future__ import annotations

from constructs_lib.cli.reporters import Report


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render(report: Report) -> str:
    verdict = "❌ EULA check failed" if report.errors else "✅ EULA check passed"
    lines = [f"### {verdict}", "", f"`eulagate check`: {report.summary()}.", ""]
    if report.findings:
        lines += ["| Severity | Rule | Template | Resource | Model | Problem | Fix |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for finding in report.findings:
            where = f"{finding.template}:{finding.line}" if finding.line else finding.template
            model = f"`{finding.model_id}`" if finding.model_id else "unknown"
            lines.append(
                f"| {finding.severity} | {finding.rule_id} | `{_cell(where)}` | `{_cell(finding.logical_id)}` "
                f"({_cell(finding.resource_type)}) | {model} | {_cell(finding.message)} | {_cell(finding.fix)} |"
            )
        lines.append("")
    return "\n".join(lines)

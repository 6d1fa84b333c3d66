"""Plain text: one line per finding (``file:line: severity rule resource: message Fix: ...``), then a summary."""

from __future__ import annotations

from constructs_lib.cli.reporters import Report


def render(report: Report) -> str:
    lines = []
    for finding in report.findings:
        where = f"{finding.template}:{finding.line}" if finding.line else finding.template
        lines.append(f"{where}: {finding.severity} {finding.rule_id} {finding.logical_id} "
                     f"({finding.resource_type}): {finding.message} Fix: {finding.fix}")
    lines.append(f"eulagate check: {report.summary()}")
    return "\n".join(lines) + "\n"

"""Plain text, as ruff and cfn-lint print it: per finding a header line (``file:line: severity rule resource
(type)``), then the message, the fix and the EULA's URL on their own indented lines; then a summary. The
``concise`` format (``constructs_lib.cli.reporters.concise``) keeps one line per finding, for grep and editors.

A finding is placed at its model-table row when the template records one, else at its template line.
Verbosity: quiet (-1) prints the findings only; verbose (1) adds where each was declared and synthesized.
"""

from __future__ import annotations

from constructs_lib.cli.reporters import Report, ReportedFinding

INDENT = "    "


def _header(reported: ReportedFinding, label: str) -> str:
    finding = reported.finding
    return f"{reported.location}: {label} {finding.rule_id} {finding.logical_id} ({finding.resource_type})"


def _declaration(reported: ReportedFinding) -> str:
    parts = [f"template {reported.template_location}"]
    if reported.construct_path:
        parts.append(f"construct {reported.construct_path}")
    return ", ".join(parts)


def _block(reported: ReportedFinding, label: str, verbosity: int) -> list[str]:
    finding = reported.finding
    message = finding.message
    if finding.eula_url:  # the engine's one-line message names the EULA too: here it gets its own line
        message = message.replace(f" EULA: {finding.eula_url}", "")
    lines = [_header(reported, label), f"{INDENT}{message}"]
    if reported.suppression is not None:
        lines.append(f"{INDENT}reason: {reported.suppression}")
    else:
        lines.append(f"{INDENT}fix: {finding.fix}")
        if finding.eula_url:
            lines.append(f"{INDENT}EULA: {finding.eula_url}")
    if verbosity > 0:
        lines.append(f"{INDENT}declared: {_declaration(reported)}")
    return [*lines, ""]


def _one_line(reported: ReportedFinding, label: str, verbosity: int) -> list[str]:
    finding = reported.finding
    tail = f"Reason: {reported.suppression}" if reported.suppression is not None else f"Fix: {finding.fix}"
    lines = [f"{_header(reported, label)}: {finding.message} {tail}"]
    if verbosity > 0:
        lines.append(f"{INDENT}{_declaration(reported)}")
    return lines


def render(report: Report, verbosity: int = 0, *, concise: bool = False) -> str:
    entry = _one_line if concise else _block
    lines = []
    for reported in report.findings:
        lines += entry(reported, reported.finding.severity, verbosity)
    if verbosity >= 0:
        for reported in report.suppressed:
            lines += entry(reported, f"suppressed {reported.finding.severity}", verbosity)
        lines.append(f"eulagate check: {report.summary()}")
    while lines and lines[-1] == "":
        lines.pop()
    return "".join(f"{line}\n" for line in lines)

"""One line per finding (``file:line: severity rule resource (type): message Fix: ...``), then a summary: the
format for grep, editors' problem matchers and logs that cut long blocks."""

from __future__ import annotations

from constructs_lib.cli.reporters import Report, text


def render(report: Report, verbosity: int = 0) -> str:
    return text.render(report, verbosity, concise=True)

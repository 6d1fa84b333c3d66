"""JSON: ``{"findings": [...], "suppressed": [...], "summary": {"templates", "resources", "findings", "suppressed"}}``.

Each finding has the rule engine's keys, then ``line`` (in the template), ``source`` (``{file, line, column}`` of
the model-table row, or null) and ``construct_path``; a suppressed one adds its ``reason``.
"""

from __future__ import annotations

import json
from typing import Any

from constructs_lib.cli.reporters import Report, ReportedFinding
from constructs_lib.records import field_values


def finding_json(reported: ReportedFinding) -> dict[str, Any]:
    return {
        **reported.finding.to_json(),
        "line": reported.finding.line,
        "source": field_values(reported.source) if reported.source else None,
        "construct_path": reported.construct_path,
    }


def render(report: Report) -> str:
    document = {
        "findings": [finding_json(reported) for reported in report.findings],
        "suppressed": [{**finding_json(reported), "reason": reported.suppression} for reported in report.suppressed],
        "summary": {
            "templates": len(report.templates),
            "resources": report.resource_count,
            "findings": len(report.findings),
            "suppressed": len(report.suppressed),
        },
    }
    return json.dumps(document, indent=2) + "\n"

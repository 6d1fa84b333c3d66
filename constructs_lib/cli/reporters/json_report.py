"""JSON: ``{"findings": [...], "summary": {"templates", "resources", "findings"}}``."""

from __future__ import annotations

import json

from constructs_lib.cli.reporters import Report


def render(report: Report) -> str:
    document = {
        "findings": [finding.to_json() for finding in report.findings],
        "summary": {
            "templates": len(report.scans),
            "resources": report.resource_count,
            "findings": len(report.findings),
        },
    }
    return json.dumps(document, indent=2) + "\n"

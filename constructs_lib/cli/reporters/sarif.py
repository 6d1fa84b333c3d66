"""SARIF 2.1.0 for GitHub code scanning: rule metadata, and each finding at its template's resource line."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from constructs_lib import __version__
from constructs_lib.cli.reporters import Report
from constructs_lib.rules import RULES, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "eulagateFinding/v1"


def artifact_uri(template: str) -> str:
    """A relative template path as a forward-slash URI (what code scanning maps to repository files)."""
    path = Path(template)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def _rule_descriptor(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.__name__,
        "shortDescription": {"text": rule.short_description},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.description},
        "defaultConfiguration": {"level": rule.severity},
        "properties": {"tags": ["eula", "sagemaker", "jumpstart", "cloudformation"], "precision": "very-high"},
    }


def _result(finding: Finding, rule_index: int, occurrence: int) -> dict[str, Any]:
    uri = artifact_uri(finding.template)
    identity = "|".join((finding.rule_id, uri, finding.logical_id, finding.model_id or "", str(occurrence)))
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": finding.severity,
        "message": {"text": f"{finding.message} Fix: {finding.fix}"},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": {"startLine": finding.line or 1},
            },
            "logicalLocations": [{
                "name": finding.logical_id,
                "fullyQualifiedName": f"{uri}#/Resources/{finding.logical_id}",
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: hashlib.sha256(identity.encode()).hexdigest()},
        "properties": {"resourceType": finding.resource_type, "modelId": finding.model_id},
    }


def render(report: Report) -> str:
    rule_index = {rule.id: position for position, rule in enumerate(RULES)}
    occurrences: Counter[tuple[str, str, str, str | None]] = Counter()
    results = []
    for finding in report.findings:
        key = (finding.rule_id, finding.template, finding.logical_id, finding.model_id)
        occurrences[key] += 1
        results.append(_result(finding, rule_index[finding.rule_id], occurrences[key]))
    document = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "eulagate",
                "version": __version__,
                "rules": [_rule_descriptor(rule) for rule in RULES],
            }},
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"

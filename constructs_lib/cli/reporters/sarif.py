"""SARIF 2.1.0 for GitHub code scanning: rule metadata, and each finding where the user fixes it.

A resource declared from a model-table row is reported at that row (``models.yaml``, line and column), so code
scanning annotates the file the pull request changes; the synthesized template's resource line follows as a
related location (``cdk.out`` is not committed). Other resources are reported at their template line. Suppressed
warnings are results with a ``suppressions`` entry (kind ``inSource``: the template's metadata) and the reason.

Files inside the repository (the nearest directory above the current one holding ``.git``, else the current
directory) are URIs relative to ``%SRCROOT%`` (``uriBaseId``), as code scanning maps them; a file outside it keeps
an absolute ``file://`` URI. Each rule carries ``helpUri``, ``help.markdown`` and ``properties.security-severity``
(GitHub's severity scale: an error is high, a warning medium).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from constructs_lib import __version__
from constructs_lib.cli.reporters import Report, ReportedFinding
from constructs_lib.cli.rules import documentation_url
from constructs_lib.rules import RULES, Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"
# GitHub code scanning reads security-severity as a CVSS-like score: 7.0-8.9 is high, 4.0-6.9 medium.
SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0"}
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "eulagateFinding/v1"


def repository_root(start: Path | None = None) -> Path:
    """The repository the run is in: the nearest directory at or above ``start`` holding ``.git``, else ``start``."""
    here = (start or Path.cwd()).resolve()
    return next((directory for directory in (here, *here.parents) if (directory / ".git").exists()), here)


def artifact_location(path: str, root: Path) -> dict[str, str]:
    """A file as a URI relative to the repository root (``uriBaseId``), or absolute when it lies outside."""
    absolute = Path(path).resolve()
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": relative.as_posix(), "uriBaseId": SOURCE_ROOT}


def artifact_uri(path: str) -> str:
    """A relative path as a forward-slash URI (the identity of a finding, stable across checkouts)."""
    as_path = Path(path)
    return as_path.as_uri() if as_path.is_absolute() else as_path.as_posix()


def _help_markdown(rule: type[Rule]) -> str:
    return "\n".join([
        f"**{rule.id}** ({rule.severity}): {rule.short_description}",
        "",
        rule.description,
        "",
        f"Where it looks: {'; '.join(rule.surfaces)}.",
        "",
        "Non-compliant:",
        "",
        "```yaml",
        rule.noncompliant_example.rstrip(),
        "```",
        "",
        "Compliant:",
        "",
        "```yaml",
        rule.compliant_example.rstrip(),
        "```",
        "",
        f"[Documentation]({documentation_url(rule)}), or run `eulagate explain {rule.id}`.",
    ])


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.__name__,
        "shortDescription": {"text": rule.short_description},
        "fullDescription": {"text": rule.description},
        "helpUri": documentation_url(rule),
        "help": {
            "text": f"{rule.description} More: {documentation_url(rule)} or `eulagate explain {rule.id}`.",
            "markdown": _help_markdown(rule),
        },
        "defaultConfiguration": {"level": rule.severity},
        "properties": {
            "tags": ["security", "eula", "sagemaker", "jumpstart", "cloudformation"],
            "precision": "very-high",
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    }


def _template_location(reported: ReportedFinding, root: Path) -> dict[str, Any]:
    return {
        "artifactLocation": artifact_location(reported.finding.template, root),
        "region": {"startLine": reported.finding.line or 1},
    }


def _result(reported: ReportedFinding, rule_index: int, occurrence: int, root: Path) -> dict[str, Any]:
    finding = reported.finding
    template_uri = artifact_uri(finding.template)
    identity = "|".join((finding.rule_id, template_uri, finding.logical_id, finding.model_id or "", str(occurrence)))
    logical_locations = [{
        "name": finding.logical_id,
        "fullyQualifiedName": f"{template_uri}#/Resources/{finding.logical_id}",
        "kind": "resource",
    }]
    if reported.construct_path:
        logical_locations.append({"fullyQualifiedName": reported.construct_path, "kind": "module"})
    if reported.source:
        physical = {
            "artifactLocation": artifact_location(reported.source.file, root),
            "region": {"startLine": reported.source.line, "startColumn": reported.source.column},
        }
    else:
        physical = _template_location(reported, root)
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": finding.severity,
        "message": {"text": f"{finding.message} Fix: {finding.fix}"},
        "locations": [{"physicalLocation": physical, "logicalLocations": logical_locations}],
        "partialFingerprints": {FINGERPRINT_KEY: hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()},
        "properties": {"resourceType": finding.resource_type, "modelId": finding.model_id},
    }
    if reported.source:
        result["relatedLocations"] = [{
            "id": 1,
            "physicalLocation": _template_location(reported, root),
            "message": {"text": f"{finding.logical_id} in the synthesized template"},
        }]
    if reported.suppression is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": reported.suppression}]
    return result


def render(report: Report) -> str:
    root = repository_root()
    rule_index = {rule.id: position for position, rule in enumerate(RULES)}
    occurrences: Counter[tuple[str, str, str, str | None]] = Counter()
    results = []
    for reported in (*report.findings, *report.suppressed):
        finding = reported.finding
        key = (finding.rule_id, finding.template, finding.logical_id, finding.model_id)
        occurrences[key] += 1
        results.append(_result(reported, rule_index[finding.rule_id], occurrences[key], root))
    document = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "eulagate",
                "version": __version__,
                "rules": [_rule_descriptor(rule) for rule in RULES],
            }},
            "originalUriBaseIds": {SOURCE_ROOT: {"uri": root.as_uri() + "/"}},
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"

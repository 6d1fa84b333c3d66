"""Suppressions: a warning silenced on one resource, with a reason, through its CloudFormation metadata.

A resource suppresses a rule with::

    Metadata:
      eulagate:
        suppress:
          - rule: EULA005
            reason: the deploying account subscribed to the Marketplace package (ticket OPS-123)

Only warnings can be suppressed. A suppression naming a rule that does not exist is bad input (``eulagate check``
refuses the template with one line, ``unknown_suppressed_rules``), never silently ignored. An error stays an
error whatever the metadata says, and its message says that the suppression was ignored, so nobody believes it
took effect. A suppression without a non-empty reason is
ignored the same way. Pure: one function over the parsed template and the rule engine's findings, applied by
``scan_template`` itself, so ``eulagate check``, the synth-time gate and the deploy-time hook all honour it.
"""

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from constructs_lib.records import replace
from constructs_lib.rules.finding import Finding, normalized_rule_id

METADATA_KEY = "eulagate"
SUPPRESS_KEY = "suppress"
# A dict first: the parsers' own type is then told apart without the (slower) Mapping ABC check.
_MAPPINGS = (dict, Mapping)


class SuppressedFinding(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    """A warning that its resource suppressed, and the reason the resource gives."""

    finding: Finding
    reason: str


class SuppressionResult(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    """The findings still reported (errors always among them) and the warnings suppressed."""

    findings: tuple[Finding, ...]
    suppressed: tuple[SuppressedFinding, ...]


def apply_suppressions(template: Mapping[str, Any], findings: Iterable[Finding]) -> SuppressionResult:
    """Split ``findings`` of ``template`` into those still reported and the warnings their resources suppress."""
    resources = template.get("Resources")
    resources = resources if isinstance(resources, Mapping) else {}
    reported: list[Finding] = []
    suppressed: list[SuppressedFinding] = []
    for finding in findings:
        entry = _suppression_of(resources.get(finding.logical_id), finding.rule_id)
        if entry is None:
            reported.append(finding)
            continue
        reason = entry.get("reason")
        if finding.severity == "error":
            reported.append(_noted(finding, f"{finding.rule_id} is an error and cannot be suppressed: the "
                                            f"suppression in the resource's Metadata.{METADATA_KEY} is ignored"))
        elif not isinstance(reason, str) or not reason.strip():
            reported.append(_noted(finding, f"its suppression in Metadata.{METADATA_KEY}.{SUPPRESS_KEY} is "
                                            "ignored: give it a non-empty `reason`"))
        else:
            suppressed.append(SuppressedFinding(finding, reason.strip()))
    return SuppressionResult(tuple(reported), tuple(suppressed))


def unknown_suppressed_rules(template: Mapping[str, Any], known: Collection[str]) -> Iterator[tuple[str, str]]:
    """``(logical id, rule)`` of each suppression that names no rule of ``known``."""
    resources = template.get("Resources")
    for logical_id, resource in (resources.items() if isinstance(resources, Mapping) else ()):
        # Every resource of every template checked comes here; nearly all have no suppressions: skip them first.
        metadata = resource.get("Metadata") if type(resource) is dict else True
        if not metadata or (type(metadata) is dict and METADATA_KEY not in metadata):
            continue
        for entry in _entries(resource):
            if normalized_rule_id(entry["rule"]) not in known:
                yield str(logical_id), entry["rule"]


def _entries(resource: Any) -> list[Mapping[str, Any]]:
    """The ``{rule, reason}`` entries a resource's metadata lists; anything malformed is left out."""
    metadata = resource.get("Metadata") if isinstance(resource, _MAPPINGS) else None
    settings = metadata.get(METADATA_KEY) if metadata and isinstance(metadata, _MAPPINGS) else None
    entries = settings.get(SUPPRESS_KEY) if settings and isinstance(settings, _MAPPINGS) else None
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, Mapping) and isinstance(entry.get("rule"), str)]


def _suppression_of(resource: Any, rule_id: str) -> Mapping[str, Any] | None:
    return next((entry for entry in _entries(resource)
                 if normalized_rule_id(entry["rule"]) == rule_id), None)


def _noted(finding: Finding, note: str) -> Finding:
    return replace(finding, message=f"{finding.message} ({note}.)")

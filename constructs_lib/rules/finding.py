"""What the rule engine reports: plain data, shared by the CLI, the synth-time gate and the cdk-nag pack."""

from __future__ import annotations

from typing import Any, Literal

from constructs_lib.records import Record, field_values

Severity = Literal["error", "warning"]


def normalized_rule_id(text: str) -> str:
    """A rule id as a user writes it (``eula005``, `` EULA005 ``), in the registry's spelling (``EULA005``)."""
    return text.strip().upper()


class Finding(Record):
    """One resource that deploys or fine-tunes an EULA-gated model without provable acceptance.

    A frozen dataclass in behaviour (``constructs_lib.records``): ``dataclasses.replace``, ``asdict`` and
    ``fields`` work on it.
    """

    rule_id: str
    severity: Severity
    template: str
    logical_id: str
    resource_type: str
    model_id: str | None
    message: str
    fix: str
    eula_url: str | None
    line: int | None

    def __init__(self, rule_id: str, severity: Severity, template: str, logical_id: str, resource_type: str,
                 model_id: str | None, message: str, fix: str, eula_url: str | None = None,
                 line: int | None = None) -> None:
        vars(self).update(
            rule_id=rule_id, severity=severity, template=template, logical_id=logical_id, resource_type=resource_type,
            model_id=model_id, message=message, fix=fix, eula_url=eula_url, line=line,
        )

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON shape: ``rule`` rather than ``rule_id``; no ``eula_url``/``line`` keys."""
        data = field_values(self)
        data["rule"] = data.pop("rule_id")
        return {key: data[key] for key in (
            "rule", "severity", "template", "logical_id", "resource_type", "model_id", "message", "fix"
        )}

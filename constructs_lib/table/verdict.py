"""The EULA gate's verdict on the table itself, before any synthesis (``eulagate plan``).

The same rule the template gate applies, read from the rows: a row that deploys or fine-tunes an EULA-gated
model needs ``accept_eula: true``. A ``deploy:`` block serves the fine-tuned weights, the user's own, and needs
nothing. ``accept_eula: true`` on a model without an EULA is harmless but declares acceptance nowhere needed:
a warning.
"""

from __future__ import annotations

from constructs_lib.rules.finding import Finding, Severity
from constructs_lib.table.model import ComponentRow, EndpointRow, ModelTable, Row

TABLE_RULE_ID = "EULA-TABLE"


def check_table(table: ModelTable) -> list[Finding]:
    """One finding per row whose acceptance is missing (error) or needless (warning), in table order."""
    findings = []
    for row in table.rows:
        for served in row.served if isinstance(row, EndpointRow) else (row,):
            finding = _check_row(table, row, served)
            if finding is not None:
                findings.append(finding)
    return findings


def _check_row(table: ModelTable, row: Row, served: Row | ComponentRow) -> Finding | None:
    spec = served.spec
    subject = f"{row.kind} '{row.name}'" + (f" component '{served.name}'" if served is not row else "")
    place = "component" if served is not row else "row"
    if spec.gated and served.accept_eula is not True:
        action = "deploys" if isinstance(row, EndpointRow) else "fine-tunes"
        state = "false" if served.accept_eula is False else "not set"
        url = spec.eula_url(_first_region(table, row))
        severity: Severity = "error"
        message = f"{subject} {action} EULA-gated model {spec.display_name} but accept_eula is {state}"
        fix = f"read the EULA at {url} and set `accept_eula: true` on the {place}"
    elif not spec.gated and served.accept_eula is True:
        url, severity = None, "warning"
        message = f"{subject}: model {spec.display_name} has no EULA; accept_eula has no effect"
        fix = f"remove `accept_eula: true` from the {place}"
    else:
        return None
    return Finding(
        rule_id=TABLE_RULE_ID,
        severity=severity,
        template=table.source,
        logical_id=row.name if served is row else f"{row.name}/{served.name}",
        resource_type="endpoint" if isinstance(row, EndpointRow) else f"fine_tuning ({row.method})",
        model_id=spec.model_id,
        message=message,
        fix=fix,
        eula_url=url,
        line=served.line,
    )


def _first_region(table: ModelTable, row: Row) -> str:
    targets = table.targets_of(row)
    return targets[0][1].region if targets else "us-east-1"

"""``eulagate plan [TABLE ...]``: validate model tables and show what the stacks will declare, without jsii.

Exit codes: 0 when every gated row accepts its EULA, 1 when one does not, 2 on a malformed table. Several tables
(the pre-commit hook passes each staged one) are planned one after the other.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from constructs_lib.errors import InputError
from constructs_lib.files import MISSING, UnreadableFile, decode_text, read_file_bytes
from constructs_lib.rules.finding import Finding
from constructs_lib.table import DEFAULT_TABLE, FineTuningRow, ModelTable, load_table
from constructs_lib.table.layout import StackPlan, plan_stacks
from constructs_lib.table.verdict import check_table

EXIT_GATED_WITHOUT_ACCEPTANCE = 1
CDK_JSON = "cdk.json"
# cdk.json holds the app command, feature flags and context settings: kilobytes. CDK caches its look-ups in
# cdk.context.json, so even a long-lived app's cdk.json stays far below this.
MAX_CDK_JSON_BYTES = 1024 * 1024
_CDK_JSON_FIX = "pass the table instead: eulagate plan TABLE"
COLUMNS = (
    ("kind", "KIND"), ("name", "NAME"), ("model_id", "MODEL ID"), ("base_model_name", "BASE MODEL"),
    ("gated", "GATED"), ("accept_eula", "ACCEPT_EULA"), ("instance", "INSTANCE"), ("region", "REGION"),
    ("account", "ACCOUNT"), ("environment", "ENV"), ("stack", "STACK"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="validate the model table and show what it declares, with the EULA gate's verdict",
        description=(
            "Validate a model table and print each row per target (model id, BaseModelName, gated, accept_eula, "
            "instance type, region, stack) and the EULA gate's verdict. Exit 0: pass; 1: a gated row lacks "
            "`accept_eula: true`; 2: the table is malformed."
        ),
    )
    parser.add_argument(
        "tables", nargs="*", metavar="TABLE",
        help=f"the model table (default: cdk.json's context `table` in this directory, else {DEFAULT_TABLE})",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tables = args.tables or [default_table_path()]
    if args.format == "json" and len(tables) > 1:
        raise InputError(f"--format json plans one table; got {len(tables)}: {' '.join(tables)}")
    failed = False
    for position, path in enumerate(tables):
        table = load_table(path)
        stacks = plan_stacks(table)
        findings = check_table(table)
        if args.format == "json":
            print(json.dumps(as_json(table, stacks, findings), indent=2))
        else:
            print(("\n" if position else "") + render_text(table, stacks, findings, quiet=args.verbosity < 0))
        failed = failed or any(f.severity == "error" for f in findings)
    return EXIT_GATED_WITHOUT_ACCEPTANCE if failed else 0


def default_table_path() -> str:
    """The table ``cdk synth`` would use in this directory: cdk.json's context ``table``, else ``models.yaml``."""
    from constructs_lib.rules.detection.template_text import TemplateTextError, parse_json_text

    try:
        data = read_file_bytes(CDK_JSON, limit=MAX_CDK_JSON_BYTES, limit_note="(a cdk.json holds settings: kilobytes)")
        text = decode_text(CDK_JSON, data)
    except InputError as refused:
        if isinstance(refused, UnreadableFile) and refused.reason == MISSING:
            return DEFAULT_TABLE
        raise InputError(f"{refused}; {_CDK_JSON_FIX}") from None
    try:  # the template reader's JSON: one line for syntax, nesting and 4,300-digit integers
        document = parse_json_text(text)
    except TemplateTextError as error:
        raise InputError(f"{CDK_JSON}: cannot read it for the context `table`: {error}; {_CDK_JSON_FIX}") from None
    context = document.get("context") if isinstance(document, dict) else None
    table = context.get("table") if isinstance(context, dict) else None
    return table if isinstance(table, str) and table else DEFAULT_TABLE


def plan_rows(stacks: Sequence[StackPlan]) -> list[dict[str, Any]]:
    """One entry per row and target (plus one per fine-tuned endpoint), in stack order."""
    rows = []
    for stack in stacks:
        for placement in stack.placements:
            row, spec = placement.row, placement.row.spec
            common = {
                "name": row.name,
                "model_id": spec.model_id,
                "base_model_name": spec.base_model_name,
                "region": placement.target.region,
                "account": placement.target.account,
                "environment": placement.environment,
                "stack": stack.stack_id,
            }
            rows.append({
                **common,
                "kind": row.method if isinstance(row, FineTuningRow) else "endpoint",
                "gated": spec.gated,
                "accept_eula": row.accept_eula,
                "instance_type": placement.instance_type,
                "instance_count": placement.instance_count if placement.instance_type else None,
            })
            if isinstance(row, FineTuningRow) and row.deploy:
                # The fine-tuned weights are the user's own: no EULA applies to serving them.
                rows.append({
                    **common,
                    "kind": "deploy",
                    "gated": False,
                    "accept_eula": None,
                    "instance_type": row.deploy.instance_type,
                    "instance_count": row.deploy.instance_count,
                })
    return rows


def as_json(table: ModelTable, stacks: Sequence[StackPlan], findings: Sequence[Finding]) -> dict[str, Any]:
    return {
        "table": table.source,
        "rows": plan_rows(stacks),
        "stacks": [
            {
                "stack": stack.stack_id,
                "region": stack.target.region,
                "account": stack.target.account,
                "environment": stack.environment,
                "estimated_resources": stack.estimated_resources,
                "rows": [p.row.name for p in stack.placements],
            }
            for stack in stacks
        ],
        "findings": [{**finding.to_json(), "line": finding.line} for finding in findings],
        "verdict": "fail" if any(f.severity == "error" for f in findings) else "pass",
    }


def render_text(table: ModelTable, stacks: Sequence[StackPlan], findings: Sequence[Finding], *,
                quiet: bool = False) -> str:
    """The rows table, each finding and the verdict; ``quiet``: the findings and the verdict only."""
    rows = [_cells(row) for row in plan_rows(stacks)]
    header = tuple(title for _, title in COLUMNS)
    widths = [max(len(cells[i]) for cells in (header, *rows)) for i in range(len(header))]
    lines = [] if quiet else [
        f"{table.source}: {len(table.endpoints)} endpoint rows, {len(table.fine_tuning)} fine-tuning rows, "
        f"{len(stacks)} stacks",
        "",
        *("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() for cells in (header, *rows)),
        "",
    ]
    errors = [f for f in findings if f.severity == "error"]
    gated = sum(row.spec.gated for row in table.rows)
    for finding in findings:
        lines.append(f"{finding.template}:{finding.line}: {finding.severity}: {finding.message}; {finding.fix}")
    if errors:
        lines.append(f"gate: FAIL: {len(errors)} of {gated} gated rows without `accept_eula: true`")
    else:
        lines.append(f"gate: PASS: {gated} gated rows, every one with `accept_eula: true`")
    return "\n".join(lines)


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    instance = f"{row['instance_type']} x{row['instance_count']}" if row["instance_type"] else "(Autopilot)"
    accept = row["accept_eula"]
    values = {
        **row,
        "base_model_name": row["base_model_name"] or "-",
        "gated": "yes" if row["gated"] else "no",
        "accept_eula": "-" if accept is None else str(accept).lower(),
        "instance": instance,
        "account": row["account"] or "-",
        "environment": row["environment"] or "-",
    }
    return tuple(str(values[key]) for key, _ in COLUMNS)

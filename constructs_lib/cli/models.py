"""``eulagate models``: the catalog as a table or JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from constructs_lib.catalog import Catalog, ModelSpec


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the JumpStart models in the catalog",
        description="List the 18 models Autopilot can fine-tune (or, with --all, every catalog model).",
    )
    parser.add_argument("--all", action="store_true", help="every model in the catalog, not only Autopilot's")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)
    parser.add_subparsers(dest="models_command", metavar="SUBCOMMAND")


def run(args: argparse.Namespace) -> int:
    catalog = Catalog.default()
    models = list(catalog) if args.all else catalog.autopilot_models()
    if args.format == "json":
        print(json.dumps([as_json(spec) for spec in models], indent=2))
    else:
        print(render_table(models))
    return 0


def as_json(spec: ModelSpec) -> dict[str, object]:
    return {
        "model_id": spec.model_id,
        "base_model_name": spec.base_model_name,
        "gated": spec.gated,
        "eula_key": spec.eula_key,
        "default_instance_type": spec.default_instance_type,
    }


def render_table(models: Sequence[ModelSpec]) -> str:
    header = ("MODEL ID", "BASE MODEL NAME", "GATED", "DEFAULT INSTANCE")
    rows = [
        (m.model_id, m.base_model_name or "-", "yes" if m.gated else "no", m.default_instance_type or "-")
        for m in models
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]
    gated = sum(m.gated for m in models)
    lines.append(f"\n{len(models)} models, {gated} EULA-gated")
    return "\n".join(lines)

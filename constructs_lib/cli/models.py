"""``eulagate models``: the catalog as a table or JSON; ``eulagate models refresh`` rebuilds it from JumpStart."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from constructs_lib.catalog import CATALOG_ENV_VAR, DEFAULT_CATALOG_PATH, Catalog, ModelSpec
from constructs_lib.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the JumpStart models in the catalog",
        description="List the 18 models Autopilot can fine-tune (or, with --all, every catalog model).",
    )
    parser.add_argument("--all", action="store_true", help="every model in the catalog, not only Autopilot's")
    parser.add_argument("--trainable", action="store_true", help="only the models a JumpStart training job can tune")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)
    commands = parser.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    refresh = commands.add_parser(
        "refresh",
        help="rebuild the catalog from JumpStart's public bucket",
        description="Rebuild the catalog from jumpstart-cache-prod-REGION (models_manifest.json and its specs), "
        "then report the models added, removed and newly gated.",
    )
    refresh.add_argument("--region", required=True, help="the AWS region whose JumpStart bucket to read")
    refresh.add_argument(
        "--output", type=Path, help=f"where to write the catalog (default: ${CATALOG_ENV_VAR} or the built-in one)"
    )
    refresh.set_defaults(handler=run_refresh)


def run(args: argparse.Namespace) -> int:
    catalog = Catalog.default()
    if args.trainable:
        models = catalog.trainable_models()
    elif args.all:
        models = list(catalog)
    else:
        models = catalog.autopilot_models()
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


def catalog_in_use() -> Path:
    return Path(os.environ.get(CATALOG_ENV_VAR) or DEFAULT_CATALOG_PATH)


def run_refresh(args: argparse.Namespace) -> int:
    from constructs_lib.catalog.refresh import refresh_catalog

    current_path = catalog_in_use()
    output = args.output or current_path
    current = Catalog.from_file(current_path)
    progress = ProgressBar(sys.stderr, "fetching JumpStart specs")
    try:
        result = refresh_catalog(args.region, current, on_progress=progress)
    finally:
        progress.close()
    try:
        result.catalog.write(output)
    except OSError as error:
        raise InputError(f"cannot write the catalog to {output}: {error.strerror or error}") from None
    changes = result.changes
    print(
        f"wrote {output}: {len(result.catalog)} models from s3://{result.bucket} "
        f"({result.manifest_models} model ids in the manifest, {len(result.deprecated)} deprecated skipped)"
    )
    for title, ids in (
        ("added", changes.added),
        ("removed", changes.removed),
        ("newly gated", changes.newly_gated),
        ("no longer gated", changes.no_longer_gated),
        ("kept from the current catalog (Autopilot and EULA-gated models the bucket does not list)",
         result.kept_from_current),
    ):
        print(f"{title} ({len(ids)})" + (":" if ids else ""))
        for model_id in ids:
            print(f"  {model_id}")
    return 0


class ProgressBar:
    """A text progress bar on a stream: redrawn in place on a terminal, a few plain lines otherwise."""

    WIDTH = 30
    PLAIN_STEPS = 4  # a line at each quarter when the stream is a file or pipe

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.interactive = stream.isatty()
        self.drawn = False
        self.last_step = 0

    def __call__(self, done: int, total: int) -> None:
        if self.interactive:
            filled = self.WIDTH * done // max(total, 1)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total}")
            self.drawn = True
        else:
            step = self.PLAIN_STEPS * done // max(total, 1)
            if step <= self.last_step:
                return
            self.last_step = step
            self.stream.write(f"{self.label}: {done}/{total}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()

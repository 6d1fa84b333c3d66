"""``eulagate models``: find catalog models (table or JSON); ``models show MODEL`` prints what a table row needs;
``models refresh`` rebuilds the catalog from JumpStart."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from constructs_lib.catalog import CATALOG_ENV_VAR, DEFAULT_CATALOG_PATH, Catalog, ModelSpec
from constructs_lib.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="find JumpStart models in the catalog",
        description="List the 18 models Autopilot can fine-tune; with --all or any filter, search every catalog "
        "model. `eulagate models show MODEL` prints what a model table row needs.",
    )
    parser.add_argument("--all", action="store_true", help="every model in the catalog, not only Autopilot's")
    parser.add_argument("--trainable", action="store_true", help="only the models a JumpStart training job can tune")
    gating = parser.add_mutually_exclusive_group()
    gating.add_argument("--gated", action="store_const", const=True, dest="gated", help="only EULA-gated models")
    gating.add_argument("--not-gated", action="store_const", const=False, dest="gated", help="only models without "
                        "an EULA")
    parser.add_argument("--deployable", action="store_true", help="only models an endpoint can serve")
    parser.add_argument("--search", metavar="TEXT", help="only models whose id or Autopilot name contains TEXT "
                        "(any letter case)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)
    commands = parser.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    show = commands.add_parser(
        "show",
        help="what a model table row needs: version, regions, instance types, EULA, environment",
        description="Print one model's catalog entry: version, regions, supported and default instance types, the "
        "EULA URL per region, model package regions, container environment and the catalog's snapshot date.",
    )
    show.add_argument("model", metavar="MODEL", help="a JumpStart model id or Autopilot BaseModelName")
    # SUPPRESS keeps a --format given before the subcommand (`models --format json show X`).
    show.add_argument("--format", choices=("table", "json"), default=argparse.SUPPRESS)
    show.set_defaults(handler=run_show)
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


def select(catalog: Catalog, args: argparse.Namespace) -> list[ModelSpec]:
    """The Autopilot models, unless --all or a filter asks for the whole catalog; then the filters."""
    filtered = args.gated is not None or args.deployable or args.search is not None
    if args.trainable:
        models = catalog.trainable_models()
    elif args.all or filtered:
        models = list(catalog)
    else:
        models = catalog.autopilot_models()
    text = (args.search or "").lower()
    return [
        spec for spec in models
        if (args.gated is None or spec.gated == args.gated)
        and (not args.deployable or spec.deployable)
        and (text in spec.model_id.lower() or text in (spec.base_model_name or "").lower())
    ]


def run(args: argparse.Namespace) -> int:
    catalog = Catalog.default()
    models = select(catalog, args)
    if args.format == "json":
        print(json.dumps([as_json(spec) for spec in models], indent=2))
    else:
        print(render_table(models, catalog))
    return 0


def as_json(spec: ModelSpec) -> dict[str, object]:
    return {
        "model_id": spec.model_id,
        "base_model_name": spec.base_model_name,
        "version": spec.version,
        "gated": spec.gated,
        "deployable": spec.deployable,
        "eula_key": spec.eula_key,
        "default_instance_type": spec.default_instance_type,
    }


def render_table(models: Sequence[ModelSpec], catalog: Catalog) -> str:
    header = ("MODEL ID", "BASE MODEL NAME", "GATED", "DEPLOYABLE", "DEFAULT INSTANCE")
    rows = [
        (m.model_id, m.base_model_name or "-", "yes" if m.gated else "no", "yes" if m.deployable else "no",
         m.default_instance_type or "-")
        for m in models
    ]
    lines = aligned((header, *rows))
    gated = sum(m.gated for m in models)
    lines.append(f"\n{len(models)} models, {gated} EULA-gated{snapshot_note(catalog)}")
    return "\n".join(lines)


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def snapshot_note(catalog: Catalog) -> str:
    snapshot = catalog.snapshot
    return f" (catalog snapshot {snapshot.date or 'of unknown date'})" if snapshot else ""


def describe(spec: ModelSpec, catalog: Catalog) -> dict[str, Any]:
    """Everything a model table row needs to know about a model, as JSON."""
    regions = list(spec.supported_regions) if spec.deployable else []
    snapshot = catalog.snapshot
    return {
        "model_id": spec.model_id,
        "base_model_name": spec.base_model_name,
        "version": spec.version,
        "newest_version_in_source": spec.newest_version or spec.version,
        "gated": spec.gated,
        "deployable": spec.deployable,
        "deploys_through": ("model package" if spec.deploys_through_package else "artifact") if spec.deployable
        else None,
        "regions": regions,
        "default_instance_type": spec.default_instance_type,
        "supported_instance_types": list(spec.supported_instance_types),
        "eula_key": spec.eula_key,
        "eula_urls": {region: spec.eula_url(region) for region in regions} if spec.eula_key else {},
        "artifact_bucket": "gated" if spec.gated_bucket else "public",
        "model_package_regions": list(spec.package_regions),
        "environment": dict(spec.default_environment),
        "instance_type_environment": {t: dict(env) for t, env in spec.instance_type_environment.items()},
        "trainable": spec.trainable,
        "source": spec.source,
        "catalog": {"path": catalog.source, "snapshot_date": snapshot.date if snapshot else None,
                    "snapshot_source": snapshot.source if snapshot else None},
    }


def run_show(args: argparse.Namespace) -> int:
    catalog = Catalog.default()
    spec = catalog.get(args.model)
    details = describe(spec, catalog)
    if args.format == "json":
        print(json.dumps(details, indent=2))
    else:
        print(render_details(details))
    return 0


def render_details(details: dict[str, Any]) -> str:
    def listing(values: Sequence[str]) -> str:
        return ", ".join(values) or "none"

    newest = details["newest_version_in_source"]
    version = details["version"] + (
        f" (the newest in the source, {newest}, has no deployable images)" if newest != details["version"] else ""
    )
    if not details["deployable"]:
        deploys = "no: this catalog has no images and artifacts for it (run `eulagate models refresh`)"
    else:
        deploys = f"yes, from its {details['deploys_through']}" + (
            f" in JumpStart's {details['artifact_bucket']} content bucket"
            if details["deploys_through"] == "artifact" else ""
        )
    fields = [
        ("model", details["model_id"]),
        ("Autopilot name", details["base_model_name"] or "-"),
        ("version", version),
        ("gated", "yes: declare `accept_eula: true` in the row" if details["gated"] else "no"),
        ("deployable", deploys),
        ("default instance type", details["default_instance_type"] or "-"),
        ("supported instance types", listing(details["supported_instance_types"])),
        ("regions", listing(details["regions"])),
        ("model package regions (any version)", listing(details["model_package_regions"])),
        ("trainable (JumpStart training)", "yes" if details["trainable"] else "no"),
    ]
    lines = aligned([(f"{name}:", value) for name, value in fields])
    if details["eula_urls"]:
        lines.append("EULA, per region:")
        lines.extend(f"  {line}" for line in aligned(list(details["eula_urls"].items())))
    elif details["eula_key"]:
        lines.append(f"EULA key: {details['eula_key']}")
    lines.append("environment (defaults; the row's `environment` overrides them):")
    lines.extend(f"  {name}={value}" for name, value in details["environment"].items())
    for instance_type, environment in details["instance_type_environment"].items():
        overrides = " ".join(f"{name}={value}" for name, value in environment.items())
        lines.append(f"  on {instance_type}: {overrides}")
    catalog = details["catalog"]
    lines.append(
        f"catalog: {catalog['path']}, snapshot {catalog['snapshot_date'] or 'of unknown date'}"
        + (f" ({catalog['snapshot_source']})" if catalog["snapshot_source"] else "")
    )
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

"""``eulagate models``: find catalog models (table or JSON); ``models show MODEL`` prints what a table row needs;
``models refresh`` rebuilds the catalog from JumpStart."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from constructs_lib.catalog import CATALOG_ENV_VAR, DEFAULT_CATALOG_PATH, Catalog, ModelSpec
from constructs_lib.catalog.errors import natural_key
from constructs_lib.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="find JumpStart models in the catalog",
        description="List the catalog's JumpStart models (every one; --autopilot: the 18 Autopilot can fine-tune), "
        "narrowed by the filters. `eulagate models show MODEL` prints what a model table row needs.",
    )
    parser.add_argument("--autopilot", action="store_true", help="only the models Autopilot can fine-tune")
    # Until 0.2 the default listed Autopilot's models and --all every model; --all is now the default.
    parser.add_argument("--all", action="store_true", help=argparse.SUPPRESS)
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
    """Every catalog model (the Autopilot ones with --autopilot), narrowed by the filters."""
    if args.all and args.verbosity >= 0:
        print("eulagate models: --all is the default now (every catalog model) and will be removed; drop it "
              "(--autopilot lists the models Autopilot can fine-tune)", file=sys.stderr)
    models = catalog.autopilot_models() if args.autopilot else list(catalog)
    text = (args.search or "").lower()
    return [
        spec for spec in models
        if (not args.trainable or spec.trainable)
        and (args.gated is None or spec.gated == args.gated)
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
    # The AUTOPILOT column is the model's Autopilot BaseModelName, the name a fine_tuning row may use. A model the
    # catalog cannot deploy (a refreshed catalog may know only its gating) says so in its DEFAULT INSTANCE.
    header = ("MODEL ID", "AUTOPILOT NAME", "GATED", "DEFAULT INSTANCE")
    rows = [
        (m.model_id, m.base_model_name or "-", "yes" if m.gated else "no",
         (m.default_instance_type or "-") if m.deployable else "(not deployable)")
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
        "supported_instance_types": sorted(spec.supported_instance_types, key=natural_key),
        "eula_key": spec.eula_key,
        "eula_urls": {region: spec.eula_url(region) for region in regions} if spec.eula_key else {},
        "artifact_bucket": "gated" if spec.gated_bucket else "public",
        "model_package_regions": list(spec.package_regions),
        "environment": dict(spec.default_environment),
        "instance_type_environment": {t: dict(env) for t, env in spec.instance_type_environment.items()},
        "trainable": spec.trainable,
        "source": spec.source,
        "catalog": {"path": catalog_path(catalog), "snapshot_date": snapshot.date if snapshot else None,
                    "snapshot_source": public_text(snapshot.source) if snapshot and snapshot.source else None},
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
        lines.extend(eula_lines(details["eula_urls"]))
    elif details["eula_key"]:
        lines.append(f"EULA key: {details['eula_key']}")
    lines.append("environment (defaults; the row's `environment` overrides them):")
    lines.extend(f"  {name}={value}" for name, value in details["environment"].items())
    for instance_type, environment in details["instance_type_environment"].items():
        overrides = " ".join(f"{name}={value}" for name, value in environment.items())
        lines.append(f"  on {instance_type}: {overrides}")
    catalog = details["catalog"]
    lines.append(
        f"catalog: {catalog['path'] or 'built-in'}, snapshot {catalog['snapshot_date'] or 'of unknown date'}"
        + (f" ({catalog['snapshot_source']})" if catalog["snapshot_source"] else "")
    )
    return "\n".join(lines)


def eula_lines(urls: dict[str, str]) -> list[str]:
    """The EULA's URL once for the regions that share it, with ``{region}`` standing for each region's name."""
    by_pattern: dict[str, list[str]] = {}
    for region, url in urls.items():
        by_pattern.setdefault(url.replace(region, "{region}"), []).append(region)
    if len(by_pattern) == 1:
        [(pattern, regions)] = by_pattern.items()
        where = "in each region above" if len(regions) > 1 else f"in {regions[0]}"
        return [f"EULA ({where}): {pattern}"]
    # The URL most regions share first, then the few partitions (GovCloud, ISO) whose domains differ.
    common, *others = sorted(by_pattern.items(), key=lambda item: -len(item[1]))
    lines = ["EULA:", f"  {common[0]} (every other region above)"]
    lines.extend(f"  {pattern} ({', '.join(regions)})" for pattern, regions in others)
    return lines


def catalog_path(catalog: Catalog) -> str | None:
    """The catalog file a user chose (${EULAGATE_CATALOG}); None for the built-in one, whose path is internal."""
    return None if Path(catalog.source).resolve() == DEFAULT_CATALOG_PATH.resolve() else str(catalog.source)


# "via ../shared/...": where the project's maintainers built the snapshot from; meaningless to a user.
_BUILD_PATH = re.compile(r",? via (?:\.{1,2}/|/)[^\s;)]+")


def public_text(text: str) -> str:
    return _BUILD_PATH.sub("", text)


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

"""Builds the shipped catalog from the project's JumpStart data (``../shared/jumpstart``).

    python -m constructs_lib.catalog.build [--jumpstart-dir ../shared/jumpstart] [--output FILE]

``seed-models.json`` gives the 18 Autopilot models with resolved images; ``all-models-index.json`` gives gated
flags for every other model id. Both are extracts of JumpStart's public model specs (their README names the
sources and commits); the output records that provenance per model.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from constructs_lib.catalog.catalog import DEFAULT_CATALOG_PATH, Catalog, ModelSpec

DEFAULT_JUMPSTART_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "jumpstart"


def as_environment(values: Mapping[str, Any]) -> dict[str, str]:
    """SageMaker container environments take strings; the specs hold some values as numbers."""
    return {name: value if isinstance(value, str) else json.dumps(value) for name, value in values.items()}


def spec_from_seed(record: Mapping[str, Any]) -> ModelSpec:
    source = record.get("source") or {}
    return ModelSpec(
        model_id=record["model_id"],
        version=record["version"],
        gated=bool(record["eula_key"]) or bool(record["gated_bucket"]),
        eula_key=record["eula_key"],
        default_instance_type=record["default_instance_type"],
        base_model_name=record["autopilot_base_model_name"],
        gated_bucket=bool(record["gated_bucket"]),
        supported_instance_types=tuple(record["supported_instance_types"]),
        artifact_key=record["artifact_key"],
        prepacked_artifact_key=record["prepacked_artifact_key"],
        default_environment=as_environment(record["environment"]),
        instance_type_environment={
            instance_type: as_environment(env) for instance_type, env in record["instance_type_environment"].items()
        },
        images=record["images"],
        source=f"{source.get('repo')}@{source.get('commit')} {source.get('entry')}" if source else None,
    )


def spec_from_index(row: Mapping[str, Any]) -> ModelSpec:
    return ModelSpec(
        model_id=row["model_id"],
        version=row["latest_version"],
        gated=bool(row["gated"]),
        eula_key=row["eula_key"],
        default_instance_type=row["default_instance_type"],
    )


def build_catalog(seed: Iterable[Mapping[str, Any]], index: Iterable[Mapping[str, Any]]) -> Catalog:
    """Seed records win; index rows add every other model id with its gated flag."""
    specs = {record["model_id"]: spec_from_seed(record) for record in seed}
    for row in index:
        seeded = specs.get(row["model_id"])
        if seeded is None:
            specs[row["model_id"]] = spec_from_index(row)
        elif seeded.gated != bool(row["gated"]):
            raise ValueError(f"seed and index disagree on whether {row['model_id']} is gated")
    return Catalog(specs.values(), source="built-in")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jumpstart-dir", type=Path, default=DEFAULT_JUMPSTART_DIR)
    parser.add_argument("--output", type=Path, default=DEFAULT_CATALOG_PATH)
    args = parser.parse_args(argv)
    seed = json.loads((args.jumpstart_dir / "seed-models.json").read_text())
    index = json.loads((args.jumpstart_dir / "all-models-index.json").read_text())
    catalog = build_catalog(seed, index)
    catalog.write(args.output)
    print(f"wrote {args.output}: {len(catalog)} models, {len(catalog.autopilot_models())} Autopilot models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

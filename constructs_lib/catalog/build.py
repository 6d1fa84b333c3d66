"""Builds the shipped catalog from the project's JumpStart data (``../shared/jumpstart``).

    python -m constructs_lib.catalog.build [--jumpstart-dir ../shared/jumpstart] [--output FILE]

``seed-models.json`` gives the 18 Autopilot models with resolved images; ``all-models-index.json`` gives gated
flags for every other model id; ``raw-spec-samples/`` (indexed by ``models_manifest.local.json``) adds the
training data and model package ARNs of the catalog models it has specs for. All are extracts of JumpStart's
public model specs (their README names the sources and commits); the output records that provenance per model.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from constructs_lib.catalog.catalog import DEFAULT_CATALOG_PATH, Catalog, ModelSpec
from constructs_lib.catalog.raw_spec import as_environment, parse_model_spec

DEFAULT_JUMPSTART_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "jumpstart"
SAMPLES_DIR_NAME = "raw-spec-samples"
SAMPLES_MANIFEST = "models_manifest.local.json"

# Sample values that are unit-test stand-ins rather than JumpStart data: the llama-2-7b 3.0.0 sample is a trimmed
# sagemaker-python-sdk fixture whose training artifact key reads "some/dummy/key". We leave such fields out.
FIXTURE_PLACEHOLDERS: Mapping[tuple[str, str], frozenset[str]] = {
    ("meta-textgeneration-llama-2-7b", "3.0.0"): frozenset({"training_artifact_key"}),
}


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


def load_samples(jumpstart_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(file name, spec document)`` for every sample the local manifest lists, placeholders removed."""
    samples_dir = jumpstart_dir / SAMPLES_DIR_NAME
    samples = []
    for entry in json.loads((samples_dir / SAMPLES_MANIFEST).read_text()):
        document = json.loads((samples_dir / entry["spec_key"]).read_text())
        placeholders = FIXTURE_PLACEHOLDERS.get((document["model_id"], document["version"]), frozenset())
        samples.append((entry["spec_key"], {k: v for k, v in document.items() if k not in placeholders}))
    return samples


def merge_samples(specs: dict[str, ModelSpec], samples: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Give catalog models the training data and model package ARNs of their raw samples; returns the ids merged.

    Hosting data stays as the seed has it (the samples are other, often older, versions); the model's ``source``
    names the sample each added part came from. Samples of models the catalog lacks add nothing.
    """
    merged = []
    for file_name, document in samples:
        sample = parse_model_spec(document, source=f"{SAMPLES_DIR_NAME}/{file_name}")
        spec = specs.get(sample.model_id)
        if spec is None or not (sample.training or sample.model_package_arns):
            continue
        parts = [name for name, value in (("training", sample.training),
                                           ("model package ARNs", sample.model_package_arns)) if value]
        provenance = f"{' and '.join(parts)} from {sample.source} (version {sample.version})"
        specs[sample.model_id] = dataclasses.replace(
            spec,
            training=sample.training or spec.training,
            # Index rows don't say where artifacts live; a sample's gated bucket also holds its training artifacts.
            gated_bucket=spec.gated_bucket or sample.gated_bucket,
            model_package_arns={**spec.model_package_arns, **sample.model_package_arns},
            source=f"{spec.source}; {provenance}" if spec.source else provenance,
        )
        merged.append(sample.model_id)
    return merged


def build_catalog(
    seed: Iterable[Mapping[str, Any]],
    index: Iterable[Mapping[str, Any]],
    samples: Iterable[tuple[str, Mapping[str, Any]]] = (),
) -> Catalog:
    """Seed records win; index rows add every other model id with its gated flag; samples add training data."""
    specs = {record["model_id"]: spec_from_seed(record) for record in seed}
    for row in index:
        seeded = specs.get(row["model_id"])
        if seeded is None:
            specs[row["model_id"]] = spec_from_index(row)
        elif seeded.gated != bool(row["gated"]):
            raise ValueError(f"seed and index disagree on whether {row['model_id']} is gated")
    merge_samples(specs, samples)
    return Catalog(specs.values(), source="built-in")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jumpstart-dir", type=Path, default=DEFAULT_JUMPSTART_DIR)
    parser.add_argument("--output", type=Path, default=DEFAULT_CATALOG_PATH)
    args = parser.parse_args(argv)
    seed = json.loads((args.jumpstart_dir / "seed-models.json").read_text())
    index = json.loads((args.jumpstart_dir / "all-models-index.json").read_text())
    catalog = build_catalog(seed, index, load_samples(args.jumpstart_dir))
    catalog.write(args.output)
    print(
        f"wrote {args.output}: {len(catalog)} models, {len(catalog.autopilot_models())} Autopilot models, "
        f"{len(catalog.trainable_models())} trainable"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Builds the shipped catalog from the project's JumpStart data (``../shared/jumpstart``).

    python -m constructs_lib.catalog.build [--jumpstart-dir ../shared/jumpstart] [--output FILE]

``catalog-models.json.gz`` gives a deployable record for each of the 343 models (the newest deployable version,
regional images, artifacts, environment, gated flag, every model package ARN of any version);
``raw-spec-samples/`` (indexed by ``models_manifest.local.json``) adds the training data of the catalog models it
has specs for. Both are extracts of JumpStart's public model specs (their README names the sources and commits);
the output records that provenance per model and, as its ``Snapshot``, for the whole file.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from constructs_lib.catalog.catalog import DEFAULT_CATALOG_PATH, Catalog, ModelSpec, Snapshot
from constructs_lib.catalog.raw_spec import as_environment, parse_model_spec

DEFAULT_JUMPSTART_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "jumpstart"
CATALOG_MODELS = "catalog-models.json.gz"
SEED_MODELS = "seed-models.json"
SAMPLES_DIR_NAME = "raw-spec-samples"
SAMPLES_MANIFEST = "models_manifest.local.json"

# The JumpStart data is as of awslabs/generative-ai-cdk-constructs f162fdac (2026-07-31, "upgrade list of models
# and DLC images"), re-read from its wheel 0.1.320, which adds 9 newer entries; see the data's README.
SNAPSHOT = Snapshot(
    date="2026-07-31",
    source=(
        "JumpStart specs (us-east-1 manifest) as extracted in awslabs/generative-ai-cdk-constructs "
        "f162fdac571a964da2011aa5ff5dddb05ea15fe5 and its wheel cdklabs.generative-ai-cdk-constructs==0.1.320 "
        "(jumpstart-models.json), via ../shared/jumpstart/catalog-models.json.gz; training data from "
        "aws/sagemaker-python-sdk spec samples"
    ),
)

# Sample values that are unit-test stand-ins rather than JumpStart data: the llama-2-7b 3.0.0 sample is a trimmed
# sagemaker-python-sdk fixture whose training artifact key reads "some/dummy/key". We leave such fields out.
FIXTURE_PLACEHOLDERS: Mapping[tuple[str, str], frozenset[str]] = {
    ("meta-textgeneration-llama-2-7b", "3.0.0"): frozenset({"training_artifact_key"}),
}


def record_source(source: Mapping[str, Any] | None) -> str | None:
    """The record's entry in the source data, with the commit that holds it (or the wheel, when only it does)."""
    if not source:
        return None
    where = source.get("commit") or source.get("package")
    return f"{source.get('repo')}@{where} {source.get('entry')}"


def spec_from_record(record: Mapping[str, Any]) -> ModelSpec:
    """A ``ModelSpec`` from a ``catalog-models.json`` (or ``seed-models.json``) record."""
    newest = record.get("latest_version_in_source")
    return ModelSpec(
        model_id=record["model_id"],
        version=record["version"],
        # The record's flag also counts the newest version's EULA, so picking an older version never un-gates.
        gated=bool(record.get("gated")) or bool(record["eula_key"]) or bool(record["gated_bucket"]),
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
        # A region the spec lists with an empty alias map (the 405B fp8 models' eu-central-2 and me-central-1)
        # has no image: the model does not deploy there.
        images={region: images for region, images in record["images"].items() if images},
        model_package_arns=record["model_package_arns"] or {},
        source=record_source(record.get("source")),
        newest_version=newest if newest and newest != record["version"] else None,
        all_model_package_arns={
            region: tuple(arns) for region, arns in (record.get("all_model_package_arns") or {}).items()
        },
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
    """Give catalog models the training data of their raw samples; returns the ids merged.

    Hosting data stays as the catalog record has it (the samples are other, often older, versions). A sample's
    model package ARNs join the model's ``all_model_package_arns`` (they name packages of the model, whatever
    the version), never the packages its chosen version deploys through. The model's ``source`` names the
    sample each added part came from. Samples of models the catalog lacks add nothing.
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
        packages = {region: set(arns) for region, arns in spec.all_model_package_arns.items()}
        for region, arn in sample.model_package_arns.items():
            packages.setdefault(region, set()).add(arn)
        specs[sample.model_id] = dataclasses.replace(
            spec,
            training=sample.training or spec.training,
            # A sample's gated bucket also holds its training artifacts.
            gated_bucket=spec.gated_bucket or sample.gated_bucket,
            all_model_package_arns={region: tuple(sorted(arns)) for region, arns in sorted(packages.items())},
            source=f"{spec.source}; {provenance}" if spec.source else provenance,
        )
        merged.append(sample.model_id)
    return merged


def build_catalog(
    records: Iterable[Mapping[str, Any]], samples: Iterable[tuple[str, Mapping[str, Any]]] = ()
) -> Catalog:
    """The catalog of ``records``, in their order; samples add training data."""
    specs = {record["model_id"]: spec_from_record(record) for record in records}
    merge_samples(specs, samples)
    return Catalog(specs.values(), source="built-in", snapshot=SNAPSHOT)


def load_records(jumpstart_dir: Path) -> list[dict[str, Any]]:
    """The catalog records in catalog order: the Autopilot models in Autopilot's own order (that of
    ``seed-models.json``, which the schema's examples and ``eulagate models`` follow), then the others by id."""
    with gzip.open(jumpstart_dir / CATALOG_MODELS, "rt", encoding="utf-8") as handle:
        records: list[dict[str, Any]] = json.load(handle)
    seed = json.loads((jumpstart_dir / SEED_MODELS).read_text(encoding="utf-8"))
    autopilot_order = {record["model_id"]: position for position, record in enumerate(seed)}
    return sorted(records, key=lambda record: (autopilot_order.get(record["model_id"], len(seed)),
                                               record["model_id"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jumpstart-dir", type=Path, default=DEFAULT_JUMPSTART_DIR)
    parser.add_argument("--output", type=Path, default=DEFAULT_CATALOG_PATH)
    args = parser.parse_args(argv)
    catalog = build_catalog(load_records(args.jumpstart_dir), load_samples(args.jumpstart_dir))
    catalog.write(args.output)
    print(
        f"wrote {args.output}: {len(catalog)} models ({sum(spec.deployable for spec in catalog)} deployable, "
        f"{sum(spec.gated for spec in catalog)} gated), {len(catalog.autopilot_models())} Autopilot models, "
        f"{len(catalog.trainable_models())} trainable; snapshot {SNAPSHOT.date}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Rebuild the catalog from JumpStart's public bucket (``jumpstart-cache-prod-<region>``).

The bucket's ``models_manifest.json`` lists every (model id, version) with the key of its spec document. The
refresh keeps the newest version of each id that the manifest does not mark deprecated, fetches those specs
concurrently, skips specs that call themselves deprecated, and parses the rest with ``raw_spec``. Autopilot
BaseModelNames come from the current catalog; an Autopilot model the bucket no longer lists keeps its current
entry, so a refreshed catalog still resolves all the BaseModelNames Autopilot accepts. Every model package the
current catalog knows for a model stays known (the newest spec lists only its own version's), and the new catalog's
``Snapshot`` is today's date and the manifest it was read from.

Every failure (network, missing key, malformed JSON or spec) raises ``RefreshError`` with one line naming the
S3 object, before anything is written.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from constructs_lib.catalog.catalog import Catalog, ModelSpec, Snapshot, content_bucket
from constructs_lib.catalog.errors import CatalogError
from constructs_lib.catalog.raw_spec import MalformedSpecError, parse_model_spec, version_key
from constructs_lib.errors import one_line

MANIFEST_KEY = "models_manifest.json"
REGION_NAME = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d+")
DEFAULT_WORKERS = 16

ProgressCallback = Callable[[int, int], None]


class RefreshError(CatalogError):
    """The refresh could not read or understand the bucket; the current catalog is left as it is."""


@dataclass(frozen=True)
class ManifestEntry:
    model_id: str
    version: str
    spec_key: str


@dataclass(frozen=True)
class CatalogChanges:
    """Model ids that differ between two catalogs, in a stable order."""

    added: list[str]
    removed: list[str]
    newly_gated: list[str]
    no_longer_gated: list[str]


@dataclass(frozen=True)
class RefreshResult:
    catalog: Catalog
    bucket: str
    changes: CatalogChanges
    manifest_models: int
    deprecated: list[str]
    kept_from_current: list[str]


def newest_entries(manifest: Any, *, source: str) -> tuple[list[ManifestEntry], list[str]]:
    """The newest non-deprecated entry per model id, and the ids whose every version is deprecated."""
    if not isinstance(manifest, list):
        raise RefreshError(f"{source}: the manifest must be a JSON list of model entries")
    newest: dict[str, ManifestEntry] = {}
    deprecated: set[str] = set()
    for index, row in enumerate(manifest):
        fields = [row.get(name) for name in ("model_id", "version", "spec_key")] if isinstance(row, dict) else []
        if len(fields) != 3 or not all(isinstance(value, str) and value for value in fields):
            raise RefreshError(f"{source}: entry {index} needs string fields model_id, version and spec_key")
        entry = ManifestEntry(str(fields[0]), str(fields[1]), str(fields[2]))
        if row.get("deprecated") is True:
            deprecated.add(entry.model_id)
            continue
        current = newest.get(entry.model_id)
        if current is None or version_key(entry.version) > version_key(current.version):
            newest[entry.model_id] = entry
    return list(newest.values()), sorted(deprecated - set(newest))


def diff_catalogs(old: Catalog, new: Catalog) -> CatalogChanges:
    old_ids = {spec.model_id: spec for spec in old}
    new_ids = {spec.model_id: spec for spec in new}
    removed = sorted(set(old_ids) - set(new_ids))
    return CatalogChanges(
        added=sorted(set(new_ids) - set(old_ids)),
        removed=removed,
        newly_gated=sorted(
            i for i, spec in new_ids.items() if spec.gated and i in old_ids and not old_ids[i].gated
        ),
        no_longer_gated=sorted(i for i, spec in new_ids.items() if not spec.gated and i in old_ids
                               and old_ids[i].gated),
    )


class BucketReader:
    """Reads JSON objects from one bucket; every failure becomes a one-line ``RefreshError``."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def read_json(self, key: str) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404"):
                raise RefreshError(f"{self.url(key)} does not exist") from None
            if code == "NoSuchBucket":
                raise RefreshError(
                    f"bucket {self.bucket} does not exist: is the region one where JumpStart publishes models?"
                ) from None
            raise RefreshError(f"cannot read {self.url(key)}: {one_line(error)}") from None
        except BotoCoreError as error:
            raise RefreshError(f"cannot read {self.url(key)}: {one_line(error)}") from None
        try:
            return json.loads(body)
        except ValueError as error:
            raise RefreshError(f"{self.url(key)} is not valid JSON: {one_line(error)}") from None


def s3_client(region: str, workers: int) -> Any:
    """An S3 client for the region; unsigned when no credentials are configured (the bucket is public)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    session = boto3.Session(region_name=region)
    signing = {} if session.get_credentials() is not None else {"signature_version": UNSIGNED}
    # Only the retry mode is fixed here, so AWS_MAX_ATTEMPTS still applies.
    config = Config(retries={"mode": "standard"}, connect_timeout=10, read_timeout=60,
                    max_pool_connections=workers, **signing)
    return session.client("s3", config=config)


def fetch_specs(
    reader: BucketReader,
    entries: list[ManifestEntry],
    *,
    workers: int,
    on_progress: ProgressCallback | None = None,
) -> list[tuple[ManifestEntry, Any]]:
    """Every entry's spec document, in entry order; the first failure cancels the rest and is raised."""
    documents: dict[int, Any] = {}
    executor = ThreadPoolExecutor(max_workers=max(1, min(workers, len(entries) or 1)))
    try:
        futures = {executor.submit(reader.read_json, entry.spec_key): i for i, entry in enumerate(entries)}
        for future in as_completed(futures):
            documents[futures[future]] = future.result()
            if on_progress:
                on_progress(len(documents), len(entries))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return [(entry, documents[i]) for i, entry in enumerate(entries)]


def parse_fetched(
    fetched: Iterable[tuple[ManifestEntry, Any]], reader: BucketReader, current: Catalog
) -> tuple[list[ModelSpec], list[str]]:
    """Parsed specs (BaseModelNames from ``current``), and the ids skipped because their spec is deprecated."""
    specs, deprecated = [], []
    for entry, document in fetched:
        source = reader.url(entry.spec_key)
        if isinstance(document, Mapping) and document.get("deprecated") is True:
            deprecated.append(entry.model_id)
            continue
        known = current.find(entry.model_id)
        try:
            spec = parse_model_spec(document, source=source, base_model_name=known.base_model_name if known else None)
        except MalformedSpecError as error:
            raise RefreshError(f"malformed JumpStart spec {error}") from None
        if (spec.model_id, spec.version) != (entry.model_id, entry.version):
            raise RefreshError(
                f"malformed JumpStart spec {source}: it describes {spec.model_id} {spec.version}, "
                f"but the manifest lists it for {entry.model_id} {entry.version}"
            )
        specs.append(spec)
    return specs, deprecated


def with_known_packages(spec: ModelSpec, current: Catalog) -> ModelSpec:
    """``spec`` with every model package ARN the current catalog knows for its model, per region.

    A spec lists only its own version's packages; templates keep serving older versions' packages, which the rule
    engine must still recognise (EULA005).
    """
    known = current.find(spec.model_id)
    packages: dict[str, set[str]] = {}
    sources = [spec] if known is None else [spec, known]
    for source in sources:
        for region, arn in source.model_package_arns.items():
            packages.setdefault(region, set()).add(arn)
        for region, arns in source.all_model_package_arns.items():
            packages.setdefault(region, set()).update(arns)
    return dataclasses.replace(
        spec, all_model_package_arns={region: tuple(sorted(arns)) for region, arns in sorted(packages.items())}
    )


def order_like(current: Catalog, specs: Iterable[ModelSpec]) -> list[ModelSpec]:
    """Autopilot models first, in the current catalog's order, then every other model by id."""
    by_id = {spec.model_id: spec for spec in specs}
    autopilot = [by_id.pop(spec.model_id) for spec in current.autopilot_models() if spec.model_id in by_id]
    return autopilot + [by_id[model_id] for model_id in sorted(by_id)]


def refresh_catalog(
    region: str,
    current: Catalog,
    *,
    client: Any = None,
    workers: int = DEFAULT_WORKERS,
    on_progress: ProgressCallback | None = None,
    today: datetime.date | None = None,
) -> RefreshResult:
    """A new catalog from the region's JumpStart bucket, compared with ``current``; nothing is written.

    ``today`` dates the snapshot (default: today's UTC date)."""
    if not REGION_NAME.fullmatch(region):
        raise RefreshError(f"{region!r} is not an AWS region name; pass one like us-east-1")
    bucket = content_bucket(region, gated=False)
    reader = BucketReader(client or s3_client(region, workers), bucket)
    entries, deprecated = newest_entries(reader.read_json(MANIFEST_KEY), source=reader.url(MANIFEST_KEY))
    fetched = fetch_specs(reader, entries, workers=workers, on_progress=on_progress)
    parsed, deprecated_specs = parse_fetched(fetched, reader, current)
    specs = [with_known_packages(spec, current) for spec in parsed]
    refreshed_ids = {spec.model_id for spec in specs}
    # Autopilot models keep their BaseModelNames, and gated models stay known as gated: an id that leaves the
    # manifest still names EULA-gated artifacts in existing templates, and the gate must keep flagging them.
    kept = [
        spec
        for spec in current
        if spec.model_id not in refreshed_ids and (spec.autopilot_supported or spec.gated)
    ]
    manifest = f"s3://{bucket}/{MANIFEST_KEY}"
    new_catalog = Catalog(
        order_like(current, [*specs, *kept]), source=f"refreshed from {manifest}",
        snapshot=Snapshot((today or datetime.datetime.now(datetime.UTC).date()).isoformat(), manifest),
    )
    return RefreshResult(
        catalog=new_catalog,
        bucket=bucket,
        changes=diff_catalogs(current, new_catalog),
        manifest_models=len(entries) + len(deprecated),
        deprecated=sorted([*deprecated, *deprecated_specs]),
        kept_from_current=[spec.model_id for spec in kept],
    )


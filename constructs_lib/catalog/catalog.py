"""The JumpStart model catalog: which models exist, which are EULA-gated, and how to deploy them.

The built-in catalog ships as ``data/jumpstart-catalog.json.gz`` (see ``build.py`` and docs/catalog.md for where
its values come from). ``EULAGATE_CATALOG=/path/to/catalog.json[.gz]`` selects another file, such as one written by
``eulagate models refresh``. A catalog records its ``Snapshot``: when its JumpStart data was taken, and from where.

The file stores each repeated value once (image URIs, per-family region maps, instance type lists, environments)
and models refer to them by index; images are decoded per model on first use, so loading stays fast.
"""

from __future__ import annotations

import functools
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from constructs_lib.aws_names import partition_of
from constructs_lib.catalog.errors import (
    AutopilotUnsupportedModelError,
    CatalogError,
    NotDeployableError,
    NotTrainableError,
    UnknownModelError,
    UnsupportedInstanceTypeError,
    UnsupportedRegionError,
    supported_list,
)
from constructs_lib.files import MISSING, UNREADABLE, UnreadableFile, read_file_bytes
from constructs_lib.records import NEW_DICT, Record, made

if TYPE_CHECKING:  # imported where a model's training data is first read: `eulagate check` starts without it
    from constructs_lib.catalog.hyperparameters import Hyperparameter

CATALOG_FORMAT = 2
# Format 1 (before snapshots and shared tables) still loads, so a team's refreshed catalog keeps working.
READABLE_FORMATS = (1, CATALOG_FORMAT)
DEFAULT_CATALOG_PATH = Path(__file__).with_name("data") / "jumpstart-catalog.json.gz"
GZIP_MAGIC = b"\x1f\x8b"
CATALOG_ENV_VAR = "EULAGATE_CATALOG"
PUBLIC_BUCKET_PREFIX = "jumpstart-cache-prod-"
GATED_BUCKET_PREFIX = "jumpstart-private-cache-prod-"
# How JumpStart names a model's tarballs: train-<id>.tar.gz, infer-<id>.tar.gz, infer-prepack-<id>.tar.gz.
TARBALL_PREFIXES = ("train-", "infer-prepack-", "infer-")
_T = TypeVar("_T")
# Partitions whose DNS suffix is not amazonaws.com, from botocore's data/partitions.json (outputs.dnsSuffix).
_DNS_SUFFIXES = {
    "aws-cn": "amazonaws.com.cn",
    "aws-eusc": "amazonaws.eu",
    "aws-iso": "c2s.ic.gov",
    "aws-iso-b": "sc2s.sgov.gov",
    "aws-iso-e": "cloud.adc-e.uk",
    "aws-iso-f": "csp.hci.ic.gov",
}
# The built-in catalog is 30 KB gzipped, 0.5 MB as JSON: a file (or what it inflates to) far bigger is no catalog.
MAX_CATALOG_BYTES = 64 * 1024 * 1024
_CATALOG_FIX = (
    f"; point {CATALOG_ENV_VAR} at a catalog written by `eulagate models refresh`, or unset it for the built-in one"
)


def instance_family(instance_type: str) -> str:
    """``ml.g5.12xlarge`` -> ``g5``; ``ml.p6-b200.48xlarge`` -> ``p6-b200``."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "ml" else instance_type


def s3_domain(region: str) -> str:
    """The DNS suffix of the region's partition (``amazonaws.com`` in the commercial and GovCloud ones)."""
    return _DNS_SUFFIXES.get(partition_of(region), "amazonaws.com")


def content_bucket(region: str, *, gated: bool) -> str:
    """JumpStart's content bucket in a region: the private one holds gated-bucket artifacts."""
    return f"{GATED_BUCKET_PREFIX if gated else PUBLIC_BUCKET_PREFIX}{region}"


class TrainingSpec(Record):
    """What a SageMaker training job needs to fine-tune a JumpStart model directly (a frozen dataclass in
    behaviour: ``constructs_lib.records``)."""

    default_instance_type: str
    supported_instance_types: tuple[str, ...]
    artifact_key: str | None
    script_key: str | None
    images: Mapping[str, Mapping[str, str]]
    gated_model_key: str | None
    # name -> type, default, bounds and options (``Hyperparameter.from_default`` infers them from a default alone)
    hyperparameter_specs: Mapping[str, Hyperparameter]

    def __init__(self, default_instance_type: str, supported_instance_types: tuple[str, ...], artifact_key: str | None,
                 script_key: str | None, images: Mapping[str, Mapping[str, str]], gated_model_key: str | None = None,
                 hyperparameter_specs: Mapping[str, Hyperparameter] = NEW_DICT) -> None:
        vars(self).update(
            default_instance_type=default_instance_type, supported_instance_types=supported_instance_types,
            artifact_key=artifact_key, script_key=script_key, images=images, gated_model_key=gated_model_key,
            hyperparameter_specs=made(hyperparameter_specs),
        )

    @property
    def hyperparameters(self) -> dict[str, str]:
        """name -> default text, as the SageMaker SDK renders it (what a job gets unless the table overrides it)."""
        return {name: spec.default for name, spec in self.hyperparameter_specs.items()}

    def hyperparameter_problem(self, name: str, value: Any) -> str | None:
        """Why ``name: value`` is not a valid override of this model's hyperparameters, or None.

        Unknown names (with the closest known ones) and reserved ``sagemaker_*`` names, then the value's type,
        range and options. A spec that lists no hyperparameters accepts any name.
        """
        from constructs_lib.catalog.hyperparameters import scalar_problem, unknown_hyperparameter_problem

        spec = self.hyperparameter_specs.get(name)
        return unknown_hyperparameter_problem(name, self.hyperparameter_specs) or (
            spec.problem(value) if spec else scalar_problem(value)
        )

    def hyperparameter_value(self, name: str, value: Any) -> Any:
        """A checked override as the job receives it (booleans spelled as the spec's ``True``/``False`` options)."""
        spec = self.hyperparameter_specs.get(name)
        return spec.value(value) if spec else value


class Snapshot(Record):
    """When a catalog's JumpStart data was taken and where from: the catalog knows nothing newer."""

    date: str | None
    """ISO date (``YYYY-MM-DD``) of the JumpStart data, or None when the file does not say."""
    source: str
    """Where the data came from: a JumpStart bucket's manifest, or the extract the shipped catalog is built from."""

    def __init__(self, date: str | None, source: str) -> None:
        vars(self).update(date=date, source=source)


class RegionalImages(Mapping[str, Mapping[str, str]]):
    """``{region: {instance family or full instance type: image URI}}``, decoded on first use.

    The shipped catalog holds some 350,000 (region, family) images, and a synth needs a handful: each model's
    images are decoded when first read, so loading the catalog stays fast.
    """

    __slots__ = ("_decoded", "_image_table", "_regions", "_variants")

    def __init__(
        self, variants: Iterable[tuple[Iterable[str], Mapping[str, int]]], image_table: Sequence[str]
    ) -> None:
        self._variants = variants
        self._image_table = image_table
        self._regions: list[str] | None = None
        self._decoded: dict[str, dict[str, str]] | None = None

    def _images(self) -> dict[str, dict[str, str]]:
        if self._decoded is None:
            images: dict[str, dict[str, str]] = {}
            for families, region_map in self._variants:
                for region, index in region_map.items():
                    images.setdefault(region, {}).update(dict.fromkeys(families, self._image_table[index]))
            self._decoded = {region: images[region] for region in sorted(images)}
        return self._decoded

    def __getitem__(self, region: str) -> Mapping[str, str]:
        return self._images()[region]

    def _region_names(self) -> list[str]:
        """The regions alone (the table loader checks region names against every model's): no images decoded."""
        if self._regions is None:
            self._regions = sorted({region for _, region_map in self._variants for region in region_map})
        return self._regions

    def __iter__(self) -> Iterator[str]:
        return iter(self._region_names())

    def __len__(self) -> int:
        return len(self._region_names())

    def __repr__(self) -> str:
        return f"RegionalImages({self._images()!r})"


class HyperparameterRecords(Mapping[str, "Hyperparameter"]):
    """``{name: Hyperparameter}`` from a catalog file's records, built on first read (a check reads none).

    Older catalog files keep only name -> default text, which ``Hyperparameter.from_default`` reads.
    """

    __slots__ = ("_built", "_records")

    def __init__(self, records: Mapping[str, Any]) -> None:
        self._records = records
        self._built: dict[str, Hyperparameter] | None = None

    def _specs(self) -> dict[str, Hyperparameter]:
        if self._built is None:
            from constructs_lib.catalog.hyperparameters import Hyperparameter

            self._built = {
                name: Hyperparameter.from_default(name, spec) if isinstance(spec, str)
                else Hyperparameter.from_record(name, spec)
                for name, spec in self._records.items()
            }
        return self._built

    def __getitem__(self, name: str) -> Hyperparameter:
        return self._specs()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return repr(self._specs())


class ModelSpec(Record):
    """One JumpStart model: whether it is gated, and how to deploy it (images and artifacts, or model packages).

    A spec that has neither (``deployable`` False) still answers ``gated`` and ``eula_key``. A frozen dataclass in
    behaviour (``constructs_lib.records``): ``dataclasses.replace``, ``asdict`` and ``fields`` work on it.
    """

    model_id: str
    version: str
    gated: bool
    eula_key: str | None
    default_instance_type: str | None
    base_model_name: str | None
    gated_bucket: bool
    supported_instance_types: tuple[str, ...]
    artifact_key: str | None
    prepacked_artifact_key: str | None
    default_environment: Mapping[str, str]
    instance_type_environment: Mapping[str, Mapping[str, str]]
    images: Mapping[str, Mapping[str, str]]
    # The packages this version deploys through, one per region (the spec's ``hosting_model_package_arns``).
    model_package_arns: Mapping[str, str]
    training: TrainingSpec | None
    source: str | None
    # The newest version the source lists, when ``version`` is older (the newest had no deployable images).
    newest_version: str | None
    # Every JumpStart model package of any version of the model, per region: to recognise them in templates.
    all_model_package_arns: Mapping[str, tuple[str, ...]]
    _hidden_from_repr = frozenset({"images", "model_package_arns", "training", "all_model_package_arns"})

    def __init__(
        self, model_id: str, version: str, gated: bool, eula_key: str | None, default_instance_type: str | None,
        base_model_name: str | None = None, gated_bucket: bool = False, supported_instance_types: tuple[str, ...] = (),
        artifact_key: str | None = None, prepacked_artifact_key: str | None = None,
        default_environment: Mapping[str, str] = NEW_DICT,
        instance_type_environment: Mapping[str, Mapping[str, str]] = NEW_DICT,
        images: Mapping[str, Mapping[str, str]] = NEW_DICT, model_package_arns: Mapping[str, str] = NEW_DICT,
        training: TrainingSpec | None = None, source: str | None = None, newest_version: str | None = None,
        all_model_package_arns: Mapping[str, tuple[str, ...]] = NEW_DICT,
    ) -> None:
        vars(self).update(
            model_id=model_id, version=version, gated=gated, eula_key=eula_key,
            default_instance_type=default_instance_type, base_model_name=base_model_name, gated_bucket=gated_bucket,
            supported_instance_types=supported_instance_types, artifact_key=artifact_key,
            prepacked_artifact_key=prepacked_artifact_key, default_environment=made(default_environment),
            instance_type_environment=made(instance_type_environment), images=made(images),
            model_package_arns=made(model_package_arns), training=training, source=source,
            newest_version=newest_version, all_model_package_arns=made(all_model_package_arns),
        )

    @property
    def deploys_through_package(self) -> bool:
        """No uncompressed artifact to load, but JumpStart model packages to serve: deployed by package ARN."""
        return self.hosting_artifact_key is None and bool(self.model_package_arns)

    @property
    def deployable(self) -> bool:
        return self.deploys_through_package or (bool(self.images) and self.hosting_artifact_key is not None)

    @property
    def trainable(self) -> bool:
        """Whether a JumpStart training job can fine-tune this model: the catalog has its training data."""
        return self.training is not None

    @property
    def autopilot_supported(self) -> bool:
        return self.base_model_name is not None

    @property
    def hosting_artifact_key(self) -> str | None:
        """The uncompressed prefix an endpoint loads: the prepacked one (with inference code) when there is one."""
        return self.prepacked_artifact_key or self.artifact_key

    @property
    def supported_regions(self) -> tuple[str, ...]:
        """Where the model deploys: its package regions, or the regions with an image and a content bucket."""
        if self.deploys_through_package:
            return tuple(sorted(self.model_package_arns))
        return self._regions_with_content(self.images)

    @property
    def training_regions(self) -> tuple[str, ...]:
        return self._regions_with_content(self.training.images if self.training else {})

    @property
    def package_regions(self) -> tuple[str, ...]:
        """Regions where JumpStart has published a model package of any version of this model."""
        return tuple(sorted({*self.model_package_arns, *self.all_model_package_arns}))

    def _regions_with_content(self, images: Mapping[str, Mapping[str, str]]) -> tuple[str, ...]:
        regions = sorted(images)
        if self.gated_bucket:
            # The source data knows no gated content bucket in the China partition.
            regions = [r for r in regions if not r.startswith("cn-")]
        return tuple(regions)

    @property
    def display_name(self) -> str:
        return f"{self.model_id} ({self.base_model_name})" if self.base_model_name else self.model_id

    def eula_url(self, region: str = "us-east-1") -> str | None:
        """Where the model's EULA text is published (JumpStart's public bucket), or None when not gated."""
        if not self.eula_key:
            return None
        bucket = content_bucket(region, gated=False)
        return f"https://{bucket}.s3.{region}.{s3_domain(region)}/{self.eula_key}"

    def _require_deployable(self) -> None:
        if self.images and not self.deployable:
            raise NotDeployableError(
                f"model {self.model_id!r} version {self.version} has no uncompressed artifact prefix and no "
                "model package in this catalog (its spec ships a tarball), so it cannot be deployed with "
                "ModelAccessConfig; run `eulagate models refresh` for a newer version"
            )
        if not self.deployable:
            raise NotDeployableError(
                f"model {self.model_id!r} has no images, artifacts or model packages in this catalog, only its "
                "gating; run `eulagate models refresh --region REGION` to add them"
            )

    def check_region(self, region: str) -> None:
        self._require_deployable()
        if region in self.supported_regions:
            return
        if self.deploys_through_package:
            raise UnsupportedRegionError(
                f"model {self.model_id!r} version {self.version} deploys only through JumpStart model packages, "
                f"and it has none in region {region!r}; model package regions: "
                f"{supported_list(self.supported_regions)}"
            )
        raise UnsupportedRegionError(
            f"model {self.model_id!r} is not available in region {region!r}; "
            f"supported regions: {supported_list(self.supported_regions)}"
        )

    def check_instance_type(self, instance_type: str) -> None:
        self._require_deployable()
        if instance_type not in self.supported_instance_types:
            raise UnsupportedInstanceTypeError(
                f"model {self.model_id!r} does not support instance type {instance_type!r}; "
                f"supported instance types: {supported_list(self.supported_instance_types)}"
            )

    def model_package_arn(self, region: str) -> str:
        """The JumpStart model package this version deploys through in the region (``check_region`` first)."""
        self.check_region(region)
        if not self.deploys_through_package:
            raise NotDeployableError(
                f"model {self.model_id!r} version {self.version} deploys from its artifacts, not a model package"
            )
        return self.model_package_arns[region]

    def image_uri(self, region: str, instance_type: str | None = None) -> str:
        """The inference container image for a region and instance type (default: the model's default)."""
        instance_type = instance_type or self.default_instance_type or ""
        self.check_region(region)
        self.check_instance_type(instance_type)
        if self.deploys_through_package:
            raise NotDeployableError(
                f"model {self.model_id!r} version {self.version} deploys through model packages, which bring "
                "their own image"
            )
        return self._regional_image(self.images, region, instance_type, "image", self.supported_instance_types)

    def _regional_image(
        self,
        images: Mapping[str, Mapping[str, str]],
        region: str,
        instance_type: str,
        what: str,
        supported: Iterable[str],
    ) -> str:
        """An image keyed by the full instance type or, as usual, by its family."""
        regional = images[region]
        uri = regional.get(instance_type) or regional.get(instance_family(instance_type))
        if uri is None:
            served = [t for t in supported if t in regional or instance_family(t) in regional]
            raise UnsupportedInstanceTypeError(
                f"model {self.model_id!r} has no {what} for instance type {instance_type!r} in {region!r}; "
                f"instance types with one there: {supported_list(served)}"
            )
        return uri

    def check_trainable(self, trainable_models: Iterable[str] | None = None) -> TrainingSpec:
        """The model's training data, or ``NotTrainableError`` naming the models that are trainable.

        ``Catalog.get_trainable`` passes its trainable model ids; without them the message points to
        ``eulagate models --trainable``.
        """
        if self.training is not None:
            return self.training
        # Absent training data means the spec lacks it or the catalog's source did not carry it; say only that.
        reason = "this catalog has no JumpStart training data (training support and a training image) for it"
        names = sorted(trainable_models) if trainable_models is not None else None
        listing = (
            f"trainable models: {supported_list(names)}" if names is not None
            else "run `eulagate models --trainable` for the models that are"
        )
        raise NotTrainableError(
            f"model {self.model_id!r} cannot be fine-tuned with a JumpStart training job: {reason}; {listing}"
        )

    def training_image_uri(self, region: str, instance_type: str | None = None) -> str:
        """The training container image for a region and instance type (default: the training default)."""
        training = self.check_trainable()
        instance_type = instance_type or training.default_instance_type
        if instance_type not in training.supported_instance_types:
            raise UnsupportedInstanceTypeError(
                f"model {self.model_id!r} does not support training on {instance_type!r}; "
                f"supported training instance types: {supported_list(training.supported_instance_types)}"
            )
        if region not in self.training_regions:
            raise UnsupportedRegionError(
                f"model {self.model_id!r} has no training image in region {region!r}; "
                f"training regions: {supported_list(self.training_regions)}"
            )
        return self._regional_image(
            training.images, region, instance_type, "training image", training.supported_instance_types
        )

    def artifact_bucket(self, region: str) -> str:
        return content_bucket(region, gated=self.gated_bucket)

    def artifact_uri(self, region: str) -> str:
        """The model's uncompressed artifact prefix in the region's JumpStart content bucket."""
        self.check_region(region)
        return f"s3://{self.artifact_bucket(region)}/{self.hosting_artifact_key}"

    def environment(self, instance_type: str | None = None) -> dict[str, str]:
        """The container environment: the spec's defaults with the instance type's overrides (as strings)."""
        instance_type = instance_type or self.default_instance_type or ""
        self.check_instance_type(instance_type)
        env = dict(self.default_environment)
        env.update(self.instance_type_environment.get(instance_type, {}))
        return env


class Catalog:
    """A set of ``ModelSpec``s, looked up by JumpStart model id or Autopilot BaseModelName."""

    def __init__(
        self, models: Iterable[ModelSpec], *, source: str = "", snapshot: Snapshot | None = None
    ) -> None:
        self.source = source
        self.snapshot = snapshot
        # model id -> its spec, or the file record it is built from on first use, with ``_tables`` (``from_document``)
        self._models: dict[str, ModelSpec | dict[str, Any]] = {}
        self._tables = _Tables()
        self._by_base_name: dict[str, str] = {}  # BaseModelName -> model id
        self._by_package_arn: dict[str, ModelSpec] | None = None
        for spec in models:
            self._add(spec.model_id, spec.base_model_name, spec)

    def _add(self, model_id: str, base_model_name: str | None, entry: ModelSpec | dict[str, Any]) -> None:
        if model_id in self._models:
            raise CatalogError(f"catalog {self.source or '(in memory)'}: model id {model_id!r} appears twice")
        self._models[model_id] = entry
        if base_model_name:
            self._by_base_name[base_model_name] = model_id

    def _spec(self, model_id: str) -> ModelSpec | None:
        entry = self._models.get(model_id)
        if entry is None or isinstance(entry, ModelSpec):
            return entry
        spec = self._models[model_id] = _spec_from_record(entry, self._tables)
        return spec

    @classmethod
    def default(cls) -> Catalog:
        """The built-in catalog, or the file named by ``EULAGATE_CATALOG``; loaded once per process."""
        return _load_cached(os.environ.get(CATALOG_ENV_VAR) or str(DEFAULT_CATALOG_PATH))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Catalog:
        """A catalog file, plain JSON or gzip-compressed (told apart by its first bytes, not its name)."""
        return cls.from_document(read_document(path), source=str(path))

    @classmethod
    def from_document(cls, document: Mapping[str, Any], *, source: str = "") -> Catalog:
        """A catalog from its JSON document; any other shape (a JumpStart spec or index, a hand-edited file)
        is one ``CatalogError`` naming the file, never a KeyError from deep inside."""
        found = document.get("format") if isinstance(document, Mapping) else None
        if found not in READABLE_FORMATS:
            shape = f"format {found!r}" if isinstance(document, Mapping) else f"a JSON {type(document).__name__}"
            raise CatalogError(
                f"catalog {source}: {shape} is not an EulaGate catalog of format {CATALOG_FORMAT}{_CATALOG_FIX}"
            )
        try:
            tables = _Tables.read(document)
            snapshot = document.get("snapshot")
            records = list(document["models"])
            # A check does not need most of the catalog's 343 models: a record that provably builds is built on
            # first use; any other is built now, so a malformed one still fails the load, never a later look-up.
            entries: list[tuple[Any, Any, ModelSpec | dict[str, Any]]] = []
            for index, record in enumerate(records):
                try:
                    if _builds(record, tables):
                        entries.append((record["model_id"], record.get("base_model_name"), record))
                    else:
                        spec = _spec_from_record(record, tables)
                        entries.append((spec.model_id, spec.base_model_name, spec))
                except (KeyError, TypeError, IndexError, AttributeError, ValueError) as error:
                    model = record.get("model_id") if isinstance(record, Mapping) else None
                    raise CatalogError(
                        f"catalog {source}: model record #{index + 1}"
                        f"{f' ({model!r})' if isinstance(model, str) else ''} is malformed "
                        f"({type(error).__name__}: {error}){_CATALOG_FIX}"
                    ) from None
            catalog = cls(
                (), source=source,
                snapshot=Snapshot(snapshot.get("date"), str(snapshot["source"])) if snapshot is not None else None,
            )
            catalog._tables = tables
            for model_id, base_model_name, entry in entries:
                catalog._add(model_id, base_model_name, entry)
            return catalog
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as error:
            raise CatalogError(
                f"catalog {source}: malformed ({type(error).__name__}: {error}){_CATALOG_FIX}"
            ) from None

    def to_document(self) -> dict[str, Any]:
        tables = _Tables()
        records = [_record_from_spec(spec, tables) for spec in self]
        document: dict[str, Any] = {"format": CATALOG_FORMAT}
        if self.snapshot is not None:
            document["snapshot"] = {"date": self.snapshot.date, "source": self.snapshot.source}
        return {**document, **tables.document(), "models": records}

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write atomically, so a failed write leaves the previous file as it was; gzip when the name ends in
        ``.gz`` (byte-for-byte reproducible: no name or time in the gzip header)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_document(), separators=(",", ":"), sort_keys=False) + "\n"
        data = text.encode("utf-8")
        if target.name.endswith(".gz"):
            import gzip  # only a refresh writes one: `eulagate check` reads the catalog with zlib alone

            data = gzip.compress(data, compresslevel=9, mtime=0)
        import tempfile  # only a catalog refresh writes: `eulagate check` starts without it (and random, shutil)

        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as handle:
            try:
                handle.write(data)
            except BaseException:
                handle.close()
                os.unlink(handle.name)
                raise
        try:
            os.chmod(handle.name, 0o644)
            os.replace(handle.name, target)
        except BaseException:
            os.unlink(handle.name)  # leave no temporary file beside the untouched target
            raise

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter([self.get(model_id) for model_id in self._models])

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    @property
    def names(self) -> list[str]:
        """Every name ``get`` accepts."""
        return [*self._models, *self._by_base_name]

    def find(self, name: str) -> ModelSpec | None:
        spec = self._spec(name)
        if spec is None and name in self._by_base_name:
            spec = self._spec(self._by_base_name[name])
        return spec

    def get(self, name: str) -> ModelSpec:
        """Exact look-up by JumpStart model id or Autopilot BaseModelName."""
        spec = self.find(name)
        if spec is None:
            raise UnknownModelError(name, self.names)
        return spec

    def autopilot_models(self) -> list[ModelSpec]:
        """The models Autopilot can fine-tune, in catalog order."""
        return [self.get(model_id) for model_id in self._by_base_name.values()]

    def trainable_models(self) -> list[ModelSpec]:
        """The models a JumpStart training job can fine-tune, in catalog order."""
        return [spec for spec in self if spec.trainable]

    def get_autopilot(self, model: str | ModelSpec) -> ModelSpec:
        """The model of a BaseModelName or JumpStart id that Autopilot fine-tunes; otherwise an
        ``AutopilotUnsupportedModelError`` listing the models it does."""
        spec = model if isinstance(model, ModelSpec) else self.get(model)
        if spec.base_model_name is None:
            choices = ", ".join(f"{m.base_model_name} ({m.model_id})" for m in self.autopilot_models())
            raise AutopilotUnsupportedModelError(
                f"Autopilot cannot fine-tune {spec.model_id!r}; it fine-tunes these models (BaseModelName and "
                f"JumpStart id): {choices}. Other trainable JumpStart models fine-tune in a JumpStart training job "
                "(JumpStartFineTuningJob, or `method: jumpstart-training` in a model table)"
            )
        return spec

    def get_trainable(self, name: str) -> ModelSpec:
        """Like ``get``, but a model without training data is a ``NotTrainableError`` listing those with it."""
        spec = self.get(name)
        spec.check_trainable(model.model_id for model in self.trainable_models())
        return spec

    def model_for_package_arn(self, arn: str) -> ModelSpec | None:
        """The JumpStart model a model package ARN belongs to: any version's package, in any region.

        JumpStart publishes a package under one resource name (``model-package/llama2-13b-f-v4-<hash>``) in
        every region, from a different account per region, so a SageMaker ARN in a region or account the catalog
        does not list still matches by that name.
        """
        if self._by_package_arn is None:
            by_arn = {}
            for spec in self:
                arns = [*spec.model_package_arns.values(), *(a for per_region in spec.all_model_package_arns.values()
                                                             for a in per_region)]
                for package_arn in arns:
                    by_arn[package_arn] = spec
                    by_arn.setdefault(_package_resource(package_arn) or package_arn, spec)
            self._by_package_arn = by_arn
        return self._by_package_arn.get(arn) or self._by_package_arn.get(_package_resource(arn) or arn)

    def model_in_s3_key(self, key: str) -> ModelSpec | None:
        """The model whose id is a whole path segment of a JumpStart S3 key.

        Keys name models as a folder (``meta-textgeneration/<id>/artifacts/...``) or a tarball
        (``meta-training/train-<id>.tar.gz``, ``meta-infer/infer-<id>.tar.gz``,
        ``huggingface-infer/prepack/v1.0.0/infer-prepack-<id>.tar.gz``); matching whole segments keeps
        ``...-llama-2-7b`` apart from ``...-llama-2-7b-f``.
        """
        for segment in key.split("/"):
            name = segment.removesuffix(".tar.gz")
            for candidate in (name, *(name.removeprefix(prefix) for prefix in TARBALL_PREFIXES)):
                spec = self._spec(candidate)
                if spec is not None:
                    return spec
        return None


def _package_resource(arn: str) -> str | None:
    """``model-package/<name>`` of a SageMaker model package ARN (``arn:<partition>:sagemaker:...``), or None."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "sagemaker" and parts[5].startswith("model-package/"):
        return parts[5]
    return None


def read_document(path: str | os.PathLike[str]) -> Any:
    """The JSON document of a catalog file, plain or gzip-compressed; unreadable input is a ``CatalogError``."""
    try:
        data = read_file_bytes(os.fspath(path), limit=MAX_CATALOG_BYTES,
                               reads="a catalog is a JSON file, plain or gzipped")
    except UnreadableFile as refused:
        problem = refused.detail if refused.reason in (MISSING, UNREADABLE) else \
            str(refused).removeprefix(f"{path}: ")
        raise CatalogError(f"cannot read catalog {path}: {problem}{_CATALOG_FIX}") from None
    try:
        if data.startswith(GZIP_MAGIC):
            data = _gunzip(data)
        return json.loads(data)
    except _Inflated as error:
        raise CatalogError(f"cannot read catalog {path}: {error}{_CATALOG_FIX}") from None
    except (zlib.error, EOFError) as error:
        raise CatalogError(f"cannot read catalog {path}: damaged gzip data ({error}){_CATALOG_FIX}") from None
    except ValueError as error:
        raise CatalogError(f"cannot read catalog {path}: not JSON ({error}){_CATALOG_FIX}") from None


class _Inflated(CatalogError):
    """Gzip data that decompresses to more than a catalog can be."""


def _gunzip(data: bytes) -> bytes:
    """``gzip.decompress`` with zlib alone (importing gzip costs every `eulagate check` more than decompressing the
    shipped catalog): each member of the stream in turn, at most ``MAX_CATALOG_BYTES`` in all (a small file can
    inflate without bound); a damaged one is a ``zlib.error``, a truncated one an ``EOFError``."""
    members = []
    room = MAX_CATALOG_BYTES
    while data:
        member = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16: a gzip header and trailer around the data
        members.append(member.decompress(data, room + 1))
        room -= len(members[-1])
        if room < 0:
            raise _Inflated(f"gzip data of more than {MAX_CATALOG_BYTES:,} bytes once decompressed")
        if not member.eof:
            raise EOFError("the data ends before the end of its gzip stream")
        data = member.unused_data
    return b"".join(members)


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> Catalog:
    return Catalog.from_file(path)


class _Tables:
    """The values the catalog file stores once and models refer to by index (format 2).

    Format 1 files hold the same values inline, so every reference is read as "an index, or the value itself".
    """

    NAMES = ("images", "region_maps", "lists", "environments")

    def __init__(self) -> None:
        self.images: list[str] = []
        self.region_maps: list[dict[str, int]] = []
        self.lists: list[list[str]] = []
        self.environments: list[dict[str, str]] = []
        self._index: dict[tuple[str, str], int] = {}

    @classmethod
    def read(cls, document: Mapping[str, Any]) -> _Tables:
        """The tables of a document, each reference checked once here so no later look-up can fail."""
        tables = cls()
        tables.images = [str(uri) for uri in document["images"]]
        for name in cls.NAMES[1:]:
            setattr(tables, name, list(document.get(name, ())))
        for region_map in tables.region_maps:
            tables.check_region_map(region_map)
        for values in tables.lists:
            if not all(isinstance(value, str) for value in values):
                raise ValueError(f"list {values!r} must hold strings")
        return tables

    def check_region_map(self, region_map: Mapping[str, int]) -> Mapping[str, int]:
        for region, index in region_map.items():
            if not isinstance(index, int) or not 0 <= index < len(self.images):
                raise IndexError(f"image index {index!r} of region {region!r} is not in the image table")
        return region_map

    def region_map(self, reference: Any) -> Mapping[str, int]:
        return _entry(self.region_maps, reference) if isinstance(reference, int) else self.check_region_map(reference)

    def strings(self, reference: Any) -> list[str]:
        return _entry(self.lists, reference) if isinstance(reference, int) else [str(value) for value in reference]

    def environment(self, reference: Any) -> Mapping[str, str]:
        return _entry(self.environments, reference) if isinstance(reference, int) else reference

    def variants(self, encoded: Iterable[Any]) -> RegionalImages:
        """``[[family list, region map], ...]`` (format 1: ``[{"families": ..., "regions": ...}]``)."""
        variants = []
        for variant in encoded:
            families, regions = (variant["families"], variant["regions"]) if isinstance(variant, Mapping) else variant
            variants.append((self.strings(families), self.region_map(regions)))
        return RegionalImages(variants, self.images)

    def _intern(self, name: str, value: Any) -> int:
        key = (name, json.dumps(value, sort_keys=True))
        index = self._index.get(key)
        if index is None:
            table = getattr(self, name)
            index = self._index[key] = len(table)
            table.append(value)
        return index

    def add_list(self, values: Iterable[str]) -> int:
        return self._intern("lists", list(values))

    def add_environment(self, environment: Mapping[str, str]) -> int:
        return self._intern("environments", dict(environment))

    def add_images(self, images: Mapping[str, Mapping[str, str]]) -> list[list[int]]:
        """Group the families that share one image in every region, and store each region map once."""
        by_family: dict[str, dict[str, int]] = {}
        for region in sorted(images):
            for family, uri in images[region].items():
                by_family.setdefault(family, {})[region] = self._intern("images", uri)
        groups: dict[int, list[str]] = {}
        for family in sorted(by_family):
            groups.setdefault(self._intern("region_maps", by_family[family]), []).append(family)
        return [[self.add_list(families), region_map] for region_map, families in groups.items()]

    def document(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.NAMES}


def _entry(table: Sequence[_T], index: int) -> _T:
    """``table[index]``, where a negative index is as malformed as one past the end."""
    if not 0 <= index < len(table):
        raise IndexError(f"index {index} is not in a table of {len(table)}")
    return table[index]


def _spec_from_record(record: Mapping[str, Any], tables: _Tables) -> ModelSpec:
    training = record.get("training")
    return ModelSpec(
        model_id=record["model_id"],
        version=record["version"],
        gated=record["gated"],
        eula_key=record.get("eula_key"),
        default_instance_type=record.get("default_instance_type"),
        base_model_name=record.get("base_model_name"),
        gated_bucket=record.get("gated_bucket", False),
        supported_instance_types=tuple(tables.strings(record.get("supported_instance_types", ()))),
        artifact_key=record.get("artifact_key"),
        prepacked_artifact_key=record.get("prepacked_artifact_key"),
        default_environment=tables.environment(record.get("environment", {})),
        instance_type_environment={
            instance_type: tables.environment(environment)
            for instance_type, environment in record.get("instance_type_environment", {}).items()
        },
        images=tables.variants(record.get("image_variants", ())),
        model_package_arns=record.get("model_package_arns", {}),
        training=_training_from_record(training, tables) if training else None,
        source=record.get("source"),
        newest_version=record.get("newest_version"),
        all_model_package_arns={
            region: tuple(arns) for region, arns in record.get("all_model_package_arns", {}).items()
        },
    )


def _builds(record: Any, tables: _Tables) -> bool:
    """Whether ``_spec_from_record`` surely builds ``record`` without an error, so it can wait until first use.

    Only the plain shape ``Catalog.write`` gives is recognised (every reference an index into a table); any other
    record is built at once, where a malformed one fails the load as it always has.
    """
    if type(record) is not dict or "version" not in record or "gated" not in record:
        return False
    if type(record.get("model_id")) is not str or type(record.get("base_model_name", "")) not in (str, type(None)):
        return False
    lists, environments = len(tables.lists), len(tables.environments)
    for key, size in (("supported_instance_types", lists), ("environment", environments)):
        if key in record and not _indexes(record[key], size):  # absent: an empty default, which builds
            return False
    by_instance_type = record.get("instance_type_environment", {})
    package_arns = record.get("all_model_package_arns", {})
    if type(by_instance_type) is not dict or type(package_arns) is not dict:
        return False
    for environment in by_instance_type.values():
        if not _indexes(environment, environments):
            return False
    training = record.get("training")
    return (
        _variants_build(record.get("image_variants", []), tables)
        and (not package_arns or all(type(arns) is list for arns in package_arns.values()))  # most have none
        and (not training or _training_builds(training, tables))
    )


def _training_builds(training: Any, tables: _Tables) -> bool:
    """``_builds`` for a record's training data (``_training_from_record``)."""
    if type(training) is not dict or "default_instance_type" not in training or "image_variants" not in training:
        return False
    return (
        _indexes(training.get("supported_instance_types"), len(tables.lists))
        and _hyperparameters_build(training.get("hyperparameters", {}))
        and _variants_build(training["image_variants"], tables)
    )


def _hyperparameters_build(records: Any) -> bool:
    """Whether ``HyperparameterRecords`` builds each of ``records`` without an error."""
    if type(records) is not dict:
        return False
    for spec in records.values():
        if type(spec) is not str and (type(spec) is not dict or "type" not in spec or "default" not in spec
                                      or type(spec.get("options", [])) is not list):
            return False
    return True


def _variants_build(variants: Any, tables: _Tables) -> bool:
    """Whether ``_Tables.variants`` reads ``variants`` without an error: each an index pair into the tables."""
    if type(variants) is not list:
        return False
    lists, region_maps = len(tables.lists), len(tables.region_maps)
    for variant in variants:
        if type(variant) is not list or len(variant) != 2:
            return False
        families, regions = variant
        if type(families) is not int or type(regions) is not int or not (
                0 <= families < lists and 0 <= regions < region_maps):
            return False
    return True


def _indexes(reference: Any, size: int) -> bool:
    """Whether ``reference`` is an index into a table of ``size`` (a format 1 file's inline values are not)."""
    return type(reference) is int and 0 <= reference < size


def _training_from_record(record: Mapping[str, Any], tables: _Tables) -> TrainingSpec:
    hyperparameters = record.get("hyperparameters", {})
    return TrainingSpec(
        default_instance_type=record["default_instance_type"],
        supported_instance_types=tuple(tables.strings(record["supported_instance_types"])),
        artifact_key=record.get("artifact_key"),
        script_key=record.get("script_key"),
        images=tables.variants(record["image_variants"]),
        gated_model_key=record.get("gated_model_key"),
        hyperparameter_specs=HyperparameterRecords(hyperparameters) if _hyperparameters_build(hyperparameters)
        else dict(HyperparameterRecords(hyperparameters)),
    )


def _record_from_spec(spec: ModelSpec, tables: _Tables) -> dict[str, Any]:
    record: dict[str, Any] = {
        "model_id": spec.model_id,
        "version": spec.version,
        "gated": spec.gated,
        "eula_key": spec.eula_key,
        "default_instance_type": spec.default_instance_type,
    }
    if spec.newest_version:
        record["newest_version"] = spec.newest_version
    if spec.base_model_name:
        record["base_model_name"] = spec.base_model_name
    if spec.gated_bucket:
        record["gated_bucket"] = True
    if spec.images or spec.model_package_arns:
        record.update(
            supported_instance_types=tables.add_list(spec.supported_instance_types),
            artifact_key=spec.artifact_key,
            prepacked_artifact_key=spec.prepacked_artifact_key,
            environment=tables.add_environment(spec.default_environment),
            instance_type_environment={
                instance_type: tables.add_environment(environment)
                for instance_type, environment in spec.instance_type_environment.items()
            },
            image_variants=tables.add_images(spec.images),
        )
    if spec.model_package_arns:
        record["model_package_arns"] = dict(spec.model_package_arns)
    if spec.all_model_package_arns:
        record["all_model_package_arns"] = {region: list(arns) for region, arns in spec.all_model_package_arns.items()}
    if spec.training:
        t = spec.training
        record["training"] = {
            "default_instance_type": t.default_instance_type,
            "supported_instance_types": tables.add_list(t.supported_instance_types),
            "artifact_key": t.artifact_key,
            "script_key": t.script_key,
            "gated_model_key": t.gated_model_key,
            "hyperparameters": {name: spec.to_record() for name, spec in t.hyperparameter_specs.items()},
            "image_variants": tables.add_images(t.images),
        }
    if spec.source:
        record["source"] = spec.source
    return record

"""The JumpStart model catalog: which models exist, which are EULA-gated, and how to deploy them.

The built-in catalog ships as ``data/jumpstart-catalog.json`` (see ``build.py`` and the README for where its
values come from). ``EULAGATE_CATALOG=/path/to/catalog.json`` selects another file, such as one written by
``eulagate models refresh``.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_lib.catalog.errors import (
    CatalogError,
    NotDeployableError,
    NotTrainableError,
    UnknownModelError,
    UnsupportedInstanceTypeError,
    UnsupportedRegionError,
    supported_list,
)
from constructs_lib.catalog.hyperparameters import Hyperparameter, scalar_problem, unknown_hyperparameter_problem

CATALOG_FORMAT = 1
DEFAULT_CATALOG_PATH = Path(__file__).with_name("data") / "jumpstart-catalog.json"
CATALOG_ENV_VAR = "EULAGATE_CATALOG"
PUBLIC_BUCKET_PREFIX = "jumpstart-cache-prod-"
GATED_BUCKET_PREFIX = "jumpstart-private-cache-prod-"
# How JumpStart names a model's tarballs: train-<id>.tar.gz, infer-<id>.tar.gz, infer-prepack-<id>.tar.gz.
TARBALL_PREFIXES = ("train-", "infer-prepack-", "infer-")
_CATALOG_FIX = (
    f"; point {CATALOG_ENV_VAR} at a catalog written by `eulagate models refresh`, or unset it for the built-in one"
)


def instance_family(instance_type: str) -> str:
    """``ml.g5.12xlarge`` -> ``g5``; ``ml.p6-b200.48xlarge`` -> ``p6-b200``."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "ml" else instance_type


def s3_domain(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def content_bucket(region: str, *, gated: bool) -> str:
    """JumpStart's content bucket in a region: the private one holds gated-bucket artifacts."""
    return f"{GATED_BUCKET_PREFIX if gated else PUBLIC_BUCKET_PREFIX}{region}"


@dataclass(frozen=True)
class TrainingSpec:
    """What a SageMaker training job needs to fine-tune a JumpStart model directly."""

    default_instance_type: str
    supported_instance_types: tuple[str, ...]
    artifact_key: str | None
    script_key: str | None
    images: Mapping[str, Mapping[str, str]]
    gated_model_key: str | None = None
    # name -> default text, as the SDK renders it; kept alongside hyperparameter_specs for existing callers
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    # name -> type, default, bounds and options; a default given without a spec gets one inferred from it
    hyperparameter_specs: Mapping[str, Hyperparameter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        specs = {name: Hyperparameter.from_default(name, default) for name, default in self.hyperparameters.items()}
        specs.update(self.hyperparameter_specs)
        object.__setattr__(self, "hyperparameter_specs", specs)
        object.__setattr__(self, "hyperparameters", {name: spec.default for name, spec in specs.items()})

    def hyperparameter_problem(self, name: str, value: Any) -> str | None:
        """Why ``name: value`` is not a valid override of this model's hyperparameters, or None.

        Unknown names (with the closest known ones) and reserved ``sagemaker_*`` names, then the value's type,
        range and options. A spec that lists no hyperparameters accepts any name.
        """
        spec = self.hyperparameter_specs.get(name)
        return unknown_hyperparameter_problem(name, self.hyperparameter_specs) or (
            spec.problem(value) if spec else scalar_problem(value)
        )

    def hyperparameter_value(self, name: str, value: Any) -> Any:
        """A checked override as the job receives it (booleans spelled as the spec's ``True``/``False`` options)."""
        spec = self.hyperparameter_specs.get(name)
        return spec.value(value) if spec else value


@dataclass(frozen=True)
class ModelSpec:
    """One JumpStart model. Index-only models (``deployable`` False) still answer ``gated`` and ``eula_key``."""

    model_id: str
    version: str
    gated: bool
    eula_key: str | None
    default_instance_type: str | None
    base_model_name: str | None = None
    gated_bucket: bool = False
    supported_instance_types: tuple[str, ...] = ()
    artifact_key: str | None = None
    prepacked_artifact_key: str | None = None
    default_environment: Mapping[str, str] = field(default_factory=dict)
    instance_type_environment: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    images: Mapping[str, Mapping[str, str]] = field(default_factory=dict, repr=False)
    model_package_arns: Mapping[str, str] = field(default_factory=dict, repr=False)
    training: TrainingSpec | None = field(default=None, repr=False)
    source: str | None = None

    @property
    def deployable(self) -> bool:
        return bool(self.images) and self.hosting_artifact_key is not None

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
        return self._regions_with_content(self.images)

    @property
    def training_regions(self) -> tuple[str, ...]:
        return self._regions_with_content(self.training.images if self.training else {})

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
                f"model {self.model_id!r} version {self.version} has no uncompressed artifact prefix in this "
                "catalog (its spec ships a tarball"
                + (" or deploys through model packages" if self.model_package_arns else "")
                + "), so it cannot be deployed with ModelAccessConfig; choose another model version"
            )
        if not self.deployable:
            raise NotDeployableError(
                f"model {self.model_id!r} is known only from the JumpStart index: its images and artifacts "
                "are not in this catalog; run `eulagate models refresh --region REGION` to add them"
            )

    def check_region(self, region: str) -> None:
        self._require_deployable()
        if region not in self.supported_regions:
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

    def image_uri(self, region: str, instance_type: str | None = None) -> str:
        """The inference container image for a region and instance type (default: the model's default)."""
        instance_type = instance_type or self.default_instance_type or ""
        self.check_region(region)
        self.check_instance_type(instance_type)
        return self._regional_image(self.images, region, instance_type, "image")

    def _regional_image(
        self, images: Mapping[str, Mapping[str, str]], region: str, instance_type: str, what: str
    ) -> str:
        """An image keyed by the full instance type or, as usual, by its family."""
        regional = images[region]
        uri = regional.get(instance_type) or regional.get(instance_family(instance_type))
        if uri is None:
            raise UnsupportedInstanceTypeError(
                f"model {self.model_id!r} has no {what} for instance type {instance_type!r} in {region!r}"
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
        return self._regional_image(training.images, region, instance_type, "training image")

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

    def __init__(self, models: Iterable[ModelSpec], *, source: str = "") -> None:
        self.source = source
        self._models: dict[str, ModelSpec] = {}
        self._by_base_name: dict[str, ModelSpec] = {}
        self._by_package_arn: dict[str, ModelSpec] | None = None
        for spec in models:
            if spec.model_id in self._models:
                raise CatalogError(f"catalog {source or '(in memory)'}: model id {spec.model_id!r} appears twice")
            self._models[spec.model_id] = spec
            if spec.base_model_name:
                self._by_base_name[spec.base_model_name] = spec

    @classmethod
    def default(cls) -> Catalog:
        """The built-in catalog, or the file named by ``EULAGATE_CATALOG``; loaded once per process."""
        return _load_cached(os.environ.get(CATALOG_ENV_VAR) or str(DEFAULT_CATALOG_PATH))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Catalog:
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except OSError as error:
            raise CatalogError(f"cannot read catalog {path}: {error.strerror or error}{_CATALOG_FIX}") from None
        except ValueError as error:
            raise CatalogError(f"cannot read catalog {path}: not JSON ({error}){_CATALOG_FIX}") from None
        return cls.from_document(document, source=str(path))

    @classmethod
    def from_document(cls, document: Mapping[str, Any], *, source: str = "") -> Catalog:
        """A catalog from its JSON document; any other shape (a JumpStart spec or index, a hand-edited file)
        is one ``CatalogError`` naming the file, never a KeyError from deep inside."""
        found = document.get("format") if isinstance(document, Mapping) else None
        if found != CATALOG_FORMAT:
            shape = f"format {found!r}" if isinstance(document, Mapping) else f"a JSON {type(document).__name__}"
            raise CatalogError(
                f"catalog {source}: {shape} is not an EulaGate catalog of format {CATALOG_FORMAT}{_CATALOG_FIX}"
            )
        try:
            image_table: list[str] = document["images"]
            records = list(document["models"])
            specs = []
            for index, record in enumerate(records):
                try:
                    specs.append(_spec_from_record(record, image_table))
                except (KeyError, TypeError, IndexError, AttributeError, ValueError) as error:
                    model = record.get("model_id") if isinstance(record, Mapping) else None
                    raise CatalogError(
                        f"catalog {source}: model record #{index + 1}"
                        f"{f' ({model!r})' if isinstance(model, str) else ''} is malformed "
                        f"({type(error).__name__}: {error}){_CATALOG_FIX}"
                    ) from None
        except (KeyError, TypeError) as error:
            raise CatalogError(
                f"catalog {source}: malformed ({type(error).__name__}: {error}){_CATALOG_FIX}"
            ) from None
        return cls(specs, source=source)

    def to_document(self) -> dict[str, Any]:
        image_table: list[str] = []
        image_index: dict[str, int] = {}
        records = [_record_from_spec(spec, image_table, image_index) for spec in self]
        return {"format": CATALOG_FORMAT, "images": image_table, "models": records}

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write atomically, so a failed write leaves the previous file as it was."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
        ) as handle:
            try:
                json.dump(self.to_document(), handle, separators=(",", ":"), sort_keys=False)
                handle.write("\n")
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
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    @property
    def names(self) -> list[str]:
        """Every name ``get`` accepts."""
        return [*self._models, *self._by_base_name]

    def find(self, name: str) -> ModelSpec | None:
        return self._models.get(name) or self._by_base_name.get(name)

    def get(self, name: str) -> ModelSpec:
        """Exact look-up by JumpStart model id or Autopilot BaseModelName."""
        spec = self.find(name)
        if spec is None:
            raise UnknownModelError(name, self.names)
        return spec

    def by_base_model_name(self, base_model_name: str) -> ModelSpec | None:
        return self._by_base_name.get(base_model_name)

    def autopilot_models(self) -> list[ModelSpec]:
        """The models Autopilot can fine-tune, in catalog order."""
        return list(self._by_base_name.values())

    def trainable_models(self) -> list[ModelSpec]:
        """The models a JumpStart training job can fine-tune, in catalog order."""
        return [spec for spec in self if spec.trainable]

    def get_trainable(self, name: str) -> ModelSpec:
        """Like ``get``, but a model without training data is a ``NotTrainableError`` listing those with it."""
        spec = self.get(name)
        spec.check_trainable(model.model_id for model in self.trainable_models())
        return spec

    def model_for_package_arn(self, arn: str) -> ModelSpec | None:
        """The JumpStart model a (Marketplace) model package ARN belongs to, when the catalog lists it."""
        if self._by_package_arn is None:
            self._by_package_arn = {
                package_arn: spec for spec in self for package_arn in spec.model_package_arns.values()
            }
        return self._by_package_arn.get(arn)

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
                spec = self._models.get(candidate)
                if spec is not None:
                    return spec
        return None


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> Catalog:
    return Catalog.from_file(path)


def _spec_from_record(record: Mapping[str, Any], image_table: list[str]) -> ModelSpec:
    training = record.get("training")
    return ModelSpec(
        model_id=record["model_id"],
        version=record["version"],
        gated=record["gated"],
        eula_key=record.get("eula_key"),
        default_instance_type=record.get("default_instance_type"),
        base_model_name=record.get("base_model_name"),
        gated_bucket=record.get("gated_bucket", False),
        supported_instance_types=tuple(record.get("supported_instance_types", ())),
        artifact_key=record.get("artifact_key"),
        prepacked_artifact_key=record.get("prepacked_artifact_key"),
        default_environment=record.get("environment", {}),
        instance_type_environment=record.get("instance_type_environment", {}),
        images=_decode_images(record.get("image_variants", ()), image_table),
        model_package_arns=record.get("model_package_arns", {}),
        training=_training_from_record(training, image_table) if training else None,
        source=record.get("source"),
    )


def _training_from_record(record: Mapping[str, Any], image_table: list[str]) -> TrainingSpec:
    return TrainingSpec(
        default_instance_type=record["default_instance_type"],
        supported_instance_types=tuple(record["supported_instance_types"]),
        artifact_key=record.get("artifact_key"),
        script_key=record.get("script_key"),
        images=_decode_images(record["image_variants"], image_table),
        gated_model_key=record.get("gated_model_key"),
        # Older catalog files keep only name -> default text.
        hyperparameter_specs={
            name: Hyperparameter.from_default(name, spec) if isinstance(spec, str) else Hyperparameter.from_record(
                name, spec)
            for name, spec in record.get("hyperparameters", {}).items()
        },
    )


def _decode_images(variants: Iterable[Mapping[str, Any]], image_table: list[str]) -> dict[str, dict[str, str]]:
    """``[{"families": [...], "regions": {region: index}}]`` -> ``{region: {family: uri}}``."""
    images: dict[str, dict[str, str]] = {}
    for variant in variants:
        for region, index in variant["regions"].items():
            regional = images.setdefault(region, {})
            for family in variant["families"]:
                regional[family] = image_table[index]
    return images


def encode_images(
    images: Mapping[str, Mapping[str, str]], image_table: list[str], image_index: dict[str, int]
) -> list[dict[str, Any]]:
    """Group the families that share one image in every region: the catalog file stays small."""
    by_family: dict[str, dict[str, int]] = {}
    for region in sorted(images):
        for family, uri in images[region].items():
            if uri not in image_index:
                image_index[uri] = len(image_table)
                image_table.append(uri)
            by_family.setdefault(family, {})[region] = image_index[uri]
    groups: dict[str, dict[str, Any]] = {}
    for family in sorted(by_family):
        regions = by_family[family]
        key = json.dumps(regions, sort_keys=True)
        groups.setdefault(key, {"families": [], "regions": regions})["families"].append(family)
    return list(groups.values())


def _record_from_spec(spec: ModelSpec, image_table: list[str], image_index: dict[str, int]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "model_id": spec.model_id,
        "version": spec.version,
        "gated": spec.gated,
        "eula_key": spec.eula_key,
        "default_instance_type": spec.default_instance_type,
    }
    if spec.base_model_name:
        record["base_model_name"] = spec.base_model_name
    if spec.gated_bucket:
        record["gated_bucket"] = True
    if spec.images:
        record.update(
            supported_instance_types=list(spec.supported_instance_types),
            artifact_key=spec.artifact_key,
            prepacked_artifact_key=spec.prepacked_artifact_key,
            environment=dict(spec.default_environment),
            instance_type_environment={k: dict(v) for k, v in spec.instance_type_environment.items()},
            image_variants=encode_images(spec.images, image_table, image_index),
        )
    if spec.model_package_arns:
        record["model_package_arns"] = dict(spec.model_package_arns)
    if spec.training:
        t = spec.training
        record["training"] = {
            "default_instance_type": t.default_instance_type,
            "supported_instance_types": list(t.supported_instance_types),
            "artifact_key": t.artifact_key,
            "script_key": t.script_key,
            "gated_model_key": t.gated_model_key,
            "hyperparameters": {name: spec.to_record() for name, spec in t.hyperparameter_specs.items()},
            "image_variants": encode_images(t.images, image_table, image_index),
        }
    if spec.source:
        record["source"] = spec.source
    return record

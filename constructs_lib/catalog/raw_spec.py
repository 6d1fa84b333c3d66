"""Parse raw JumpStart spec documents (the ``specs_v<version>.json`` files of ``jumpstart-cache-prod-<region>``).

The field names and their meaning follow the public spec format as the SageMaker Python SDK reads it
(``sagemaker.jumpstart.types``): images come from ``*_instance_type_variants`` (``regional_aliases`` plus
``variants[family].regional_properties.image_uri = "$alias"``); newer specs keep their hosting data under
``inference_configs``, whose top-ranked config is the spec's default, resolved by deep-merging its components
over the top-level fields. Only what the catalog needs is read; a field of the wrong JSON type is a
``MalformedSpecError`` naming the document and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from constructs_lib.catalog.catalog import ModelSpec, TrainingSpec, instance_family
from constructs_lib.catalog.errors import CatalogError
from constructs_lib.catalog.hyperparameters import BOUND_KEYS, HYPERPARAMETER_TYPES, Hyperparameter

# The SDK resolves a spec's default config from this ranking, falling back to the config names in order.
DEFAULT_CONFIG_RANKING = "overall"

# Fields a config component may not override (the SDK's ``JumpStartConfigComponent.OVERRIDING_DENY_LIST``).
COMPONENT_DENY_LIST = frozenset({
    "model_id", "url", "version", "min_sdk_version", "deprecated", "deprecated_message",
    "deprecate_warn_message", "resource_name_base", "gated_bucket", "training_supported",
    "incremental_training_supported",
})

_VERSION_PART = re.compile(r"(\d*)(.*)")


class MalformedSpecError(CatalogError, ValueError):
    """A JumpStart spec document that does not have the shape the catalog needs."""


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Numeric ordering for JumpStart versions: ``2.10.0`` sorts after ``2.9.1``."""
    parts = []
    for part in version.split("."):
        match = _VERSION_PART.fullmatch(part)
        digits, rest = match.groups() if match else ("", part)
        parts.append((int(digits) if digits else -1, rest))
    return tuple(parts)


def as_environment(values: Mapping[str, Any]) -> dict[str, str]:
    """SageMaker container environments take strings; the specs hold some values as numbers."""
    return {name: value if isinstance(value, str) else json.dumps(value) for name, value in values.items()}


class _Fields:
    """Typed reads of one document; every error names the document and the field's path."""

    def __init__(self, document: Any, source: str, path: str = "") -> None:
        if not isinstance(document, Mapping):
            where = f"field {path!r}" if path else "the document"
            raise MalformedSpecError(f"{source}: {where} must be a JSON object, not {_kind(document)}")
        self.document = document
        self.source = source
        self.path = path

    def _get(self, key: str, expected: type | tuple[type, ...], description: str) -> Any:
        value = self.document.get(key)
        if value is not None and not isinstance(value, expected):
            raise MalformedSpecError(
                f"{self.source}: field {self._name(key)!r} must be {description}, not {_kind(value)}"
            )
        return value

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def string(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key, str, "a string")
        if required and not value:
            raise MalformedSpecError(f"{self.source}: required field {self._name(key)!r} is missing")
        return value

    def boolean(self, key: str) -> bool:
        return bool(self._get(key, bool, "true or false"))

    def number(self, key: str) -> float | None:
        value = self._get(key, (int, float), "a number")
        if isinstance(value, bool):
            raise MalformedSpecError(f"{self.source}: field {self._name(key)!r} must be a number, not a boolean")
        return value

    def items(self, key: str) -> list[Any]:
        return list(self._get(key, list, "a list") or [])

    def strings(self, key: str) -> list[str]:
        values = self._get(key, list, "a list of strings") or []
        for value in values:
            if not isinstance(value, str):
                raise MalformedSpecError(
                    f"{self.source}: field {self._name(key)!r} must be a list of strings, "
                    f"but holds {_kind(value)}"
                )
        return list(values)

    def string_map(self, key: str) -> dict[str, str]:
        block = self.mapping(key)
        if block is None:
            return {}
        return {name: value for name in block.document if (value := block.string(name))}

    def mapping(self, key: str) -> _Fields | None:
        value = self._get(key, Mapping, "a JSON object")
        return None if value is None else _Fields(value, self.source, self._name(key))

    def objects(self, key: str) -> list[_Fields]:
        values = self._get(key, list, "a list of JSON objects") or []
        return [_Fields(value, self.source, f"{self._name(key)}[{i}]") for i, value in enumerate(values)]

    def children(self) -> list[tuple[str, _Fields]]:
        return [(key, _Fields(value, self.source, self._name(key))) for key, value in self.document.items()]


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def deep_override(base: Mapping[str, Any], override: Mapping[str, Any], skip: frozenset[str]) -> dict[str, Any]:
    """``base`` with ``override`` merged in, nested objects merged key by key; ``skip`` keys keep base values."""
    merged = dict(base)
    for key, value in override.items():
        if key in skip:
            continue
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_override(merged[key], value, frozenset())
        else:
            merged[key] = value
    return merged


def resolve_default_config(document: Mapping[str, Any], *, source: str, scope: str = "inference") -> dict[str, Any]:
    """The spec as the SDK sees it by default: the top-ranked ``<scope>_configs`` entry merged over the base.

    ``scope`` is ``inference`` or ``training``. Specs without such configs come back unchanged.
    """
    fields = _Fields(document, source)
    configs = fields.mapping(f"{scope}_configs")
    if configs is None or not configs.document:
        return dict(document)
    components = fields.mapping(f"{scope}_config_components")
    rankings = fields.mapping(f"{scope}_config_rankings")
    ranking = rankings.mapping(DEFAULT_CONFIG_RANKING) if rankings else None
    ranked = ranking.strings("rankings") if ranking else []
    names = ranked or sorted(configs.document)
    top = names[0]
    config = configs.mapping(top)
    if config is None:
        raise MalformedSpecError(
            f"{source}: {scope}_config_rankings ranks {top!r} first, but {scope}_configs has no such config"
        )
    resolved = dict(document)
    for component_name in config.strings("component_names"):
        component = components.mapping(component_name) if components else None
        if component is None:
            raise MalformedSpecError(
                f"{source}: {scope} config {top!r} names component {component_name!r}, "
                f"which {scope}_config_components does not define"
            )
        resolved = deep_override(resolved, component.document, COMPONENT_DENY_LIST)
    return resolved


def resolve_images(variants_block: _Fields | None) -> dict[str, dict[str, str]]:
    """``{region: {family or instance type: image URI}}`` from an ``*_instance_type_variants`` block.

    A variant's ``regional_properties.image_uri`` names an alias (``$gpu_ecr_uri_1``) that each region's
    ``regional_aliases`` resolves; a value without ``$`` or an alias a region lacks gives no image (as in the SDK).
    """
    if variants_block is None:
        return {}
    aliases = variants_block.mapping("regional_aliases")
    variants = variants_block.mapping("variants")
    if aliases is None or variants is None:
        return {}
    image_aliases: dict[str, str] = {}
    for name, variant in variants.children():
        regional = variant.mapping("regional_properties")
        alias = regional.string("image_uri") if regional else None
        if alias and alias.startswith("$"):
            image_aliases[name] = alias[1:]
    images: dict[str, dict[str, str]] = {}
    for region, regional_aliases in aliases.children():
        resolved = {}
        for name, alias in image_aliases.items():
            uri = regional_aliases.string(alias)
            if uri:
                resolved[name] = uri
        if resolved:
            images[region] = resolved
    return images


def _variant_properties(variants_block: _Fields | None, instance_type: str) -> list[_Fields]:
    """The ``properties`` of the instance family's variant, then of the instance type's (the SDK's order)."""
    variants = variants_block.mapping("variants") if variants_block else None
    if variants is None:
        return []
    found = []
    for name in (instance_family(instance_type), instance_type):
        variant = variants.mapping(name)
        properties = variant.mapping("properties") if variant else None
        if properties is not None:
            found.append(properties)
    return found


def instance_environment(variants_block: _Fields | None, instance_types: Sequence[str]) -> dict[str, dict[str, str]]:
    """Per instance type, the family's then the instance type's ``environment_variables`` overrides."""
    overrides: dict[str, dict[str, str]] = {}
    for instance_type in instance_types:
        env: dict[str, Any] = {}
        for properties in _variant_properties(variants_block, instance_type):
            block = properties.mapping("environment_variables")
            if block is not None:
                env.update(block.document)
        if env:
            overrides[instance_type] = as_environment(env)
    return overrides


def _instance_type_variants(variants_block: _Fields | None) -> list[str]:
    """The full instance types (``ml.g5.12xlarge``) that have their own variant entry."""
    variants = variants_block.mapping("variants") if variants_block else None
    return [name for name in (variants.document if variants else ()) if name.startswith("ml.")]


def _uncompressed_prefix(key: str | None) -> str | None:
    """Endpoints here load uncompressed ``S3Prefix`` artifacts; older specs' ``.tar.gz`` keys do not qualify."""
    return key if key and key.endswith("/") else None


def _default_environment(fields: _Fields) -> dict[str, str]:
    defaults: dict[str, Any] = {}
    for variable in fields.objects("inference_environment_variables"):
        name = variable.string("name", required=True)
        if "default" not in variable.document:
            raise MalformedSpecError(f"{fields.source}: environment variable {name!r} has no default")
        defaults[str(name)] = variable.document["default"]
    return as_environment(defaults)


def parse_training_spec(document: Mapping[str, Any], *, source: str) -> TrainingSpec | None:
    """The training part of a spec, or None when the spec does not support training or names no image."""
    fields = _Fields(resolve_default_config(document, source=source, scope="training"), source)
    if not fields.boolean("training_supported"):
        return None
    default_instance_type = fields.string("default_training_instance_type")
    variants = fields.mapping("training_instance_type_variants")
    images = resolve_images(variants)
    if not default_instance_type or not images:
        return None
    gated_model_key = None
    for properties in _variant_properties(variants, default_instance_type):
        gated_model_key = properties.string("gated_model_key_env_var_value") or gated_model_key
    hyperparameters = {}
    for hyperparameter in fields.objects("hyperparameters"):
        # Only algorithm hyperparameters are the user's to set; container ones are the job's script-mode settings.
        if hyperparameter.string("scope") in (None, "algorithm"):
            parsed = parse_hyperparameter(hyperparameter)
            hyperparameters[parsed.name] = parsed
    return TrainingSpec(
        default_instance_type=default_instance_type,
        supported_instance_types=tuple(fields.strings("supported_training_instance_types"))
        or (default_instance_type,),
        artifact_key=fields.string("training_artifact_key"),
        script_key=fields.string("training_prepacked_script_key") or fields.string("training_script_key"),
        images=images,
        gated_model_key=gated_model_key,
        hyperparameter_specs=hyperparameters,
    )


def parse_hyperparameter(fields: _Fields) -> Hyperparameter:
    """One ``hyperparameters`` entry: its default as the SDK renders it (``str()``), its type and the bounds and
    options the spec gives."""
    name = str(fields.string("name", required=True))
    if "default" not in fields.document:
        raise MalformedSpecError(f"{fields.source}: hyperparameter {name!r} has no default")
    kind = fields.string("type", required=True)
    if kind not in HYPERPARAMETER_TYPES:
        raise MalformedSpecError(
            f"{fields.source}: hyperparameter {name!r} has type {kind!r}; expected one of "
            f"{', '.join(HYPERPARAMETER_TYPES)}"
        )
    bounds = {key: fields.number(key) for key in BOUND_KEYS if fields.document.get(key) is not None}
    return Hyperparameter(
        name, kind, str(fields.document["default"]), **bounds,
        options=tuple(str(option) for option in fields.items("options")),
    )


def parse_model_spec(
    document: Mapping[str, Any], *, source: str, base_model_name: str | None = None
) -> ModelSpec:
    """A ``ModelSpec`` (with its ``TrainingSpec``) from one raw spec document.

    ``gated`` is true when the spec names an EULA key or keeps its artifacts in the gated bucket. Artifacts count
    only as uncompressed prefixes, so a spec whose hosting artifact is a tarball is not deployable here (its gated
    flag and model package ARNs still are recorded).
    """
    raw = _Fields(document, source)
    fields = _Fields(resolve_default_config(raw.document, source=source), source)
    eula_key = fields.string("hosting_eula_key")
    gated_bucket = fields.boolean("gated_bucket")
    supported = fields.strings("supported_inference_instance_types")
    variants = fields.mapping("hosting_instance_type_variants")
    return ModelSpec(
        model_id=str(raw.string("model_id", required=True)),
        version=str(raw.string("version", required=True)),
        gated=bool(eula_key) or gated_bucket,
        eula_key=eula_key,
        default_instance_type=fields.string("default_inference_instance_type"),
        base_model_name=base_model_name,
        gated_bucket=gated_bucket,
        supported_instance_types=tuple(supported),
        artifact_key=_uncompressed_prefix(fields.string("hosting_artifact_key")),
        prepacked_artifact_key=_uncompressed_prefix(fields.string("hosting_prepacked_artifact_key")),
        default_environment=_default_environment(fields),
        instance_type_environment=instance_environment(variants, [*supported, *_instance_type_variants(variants)]),
        images=resolve_images(variants),
        model_package_arns=fields.string_map("hosting_model_package_arns"),
        training=parse_training_spec(raw.document, source=source),
        source=source,
    )


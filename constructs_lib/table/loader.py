"""Load and validate the model table: every problem is one ``TableError`` naming file, line, row and field.

Pure Python (PyYAML + the catalog): ``eulagate plan`` uses it without starting jsii. Gated rows without
``accept_eula: true`` load fine: the gate and ``eulagate plan`` report them, so every problem shows at once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from constructs_lib.catalog import Catalog, CatalogError, ModelSpec, NotDeployableError, UnsupportedRegionError
from constructs_lib.catalog.autopilot import (
    AUTOPILOT_CONTENT_TYPES,
    AUTOPILOT_HYPERPARAMETERS,
    DEFAULT_AUTOPILOT_CONTENT_TYPE,
    autopilot_hyperparameter_problem,
)
from constructs_lib.catalog.errors import suggestion, supported_list
from constructs_lib.table.controls import (
    CONTROL_KEYS,
    check_controls_fit_targets,
    read_controls,
    read_data_capture,
)
from constructs_lib.table.fields import (
    MISSING,
    Fields,
    catalog_check,
    describe,
    did_you_mean,
    hinted,
    read_account,
    read_boolean,
    read_integer,
    read_mapping,
    read_name,
    read_positive_number,
    read_s3_uri,
    read_string,
    read_string_list,
)
from constructs_lib.table.model import (
    DEFAULT_SHARDS,
    SERVING_MODES,
    Autoscaling,
    CapacityOverride,
    Controls,
    DeployBlock,
    EndpointRow,
    Environment,
    FineTuningMethod,
    FineTuningRow,
    ModelTable,
    ServingMode,
    Target,
)
from constructs_lib.table.serving import (
    MODE_KEYS,
    check_mode_keys,
    read_async,
    read_components,
    read_serverless,
)
from constructs_lib.table.yaml_source import YamlMap, quote, read_yaml

TOP_LEVEL_KEYS = ("defaults", "environments", "endpoints", "fine_tuning")
DEFAULTS_KEYS = ("regions", "account", "shards", *CONTROL_KEYS)
ENVIRONMENT_KEYS = ("targets", "approval")
TARGET_KEYS = ("account", "region")
ENDPOINT_KEYS = (
    "name", "model", "instance_type", "instance_count", "accept_eula", "regions", "environments",
    "environment_overrides", "autoscaling", "environment", *CONTROL_KEYS, "data_capture", "serving",
    *(key for keys in MODE_KEYS.values() for key in keys),
)
OVERRIDE_KEYS = ("instance_type", "instance_count")
AUTOSCALING_KEYS = ("min_capacity", "max_capacity", "target_invocations_per_instance")
FINE_TUNING_KEYS = (
    "name", "method", "base_model", "training_data", "validation_data", "content_type", "output_path",
    "accept_eula", "hyperparameters", "instance_type", "max_runtime", "regions", "environments", "deploy",
    *CONTROL_KEYS,
)
DEPLOY_KEYS = ("instance_type", "instance_count", "autoscaling", "data_capture")
FINE_TUNING_METHODS: tuple[FineTuningMethod, ...] = ("autopilot", "jumpstart-training")

# Row names become construct ids and SageMaker-style names: the SageMaker name pattern, short enough to prefix.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*\Z")
NAME_MAX_LENGTH = 40
ENVIRONMENT_NAME_MAX_LENGTH = 30
ENV_VAR_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
ENV_VALUE_MAX_LENGTH = 1024  # SageMaker's ContainerDefinition Environment value limit
MAX_SHARDS = 64
MAX_INSTANCE_COUNT = 1000


def load_table(path: str | Path, *, catalog: Catalog | None = None) -> ModelTable:
    """Read and validate a model table file. Raises ``TableError`` (one line) on any problem."""
    return parse_table(read_yaml(path), source=str(path), catalog=catalog)


def parse_table(document: Any, *, source: str = "<table>", catalog: Catalog | None = None) -> ModelTable:
    """Validate a parsed table (``YamlMap`` from ``read_yaml`` for line numbers, or plain dicts)."""
    catalog = catalog or Catalog.default()
    top = Fields(source, "table", None, document, line=1)
    if document is None:
        top.fail(None, "the table is empty; declare at least one row under `endpoints:` or `fine_tuning:`")
    top.require_mapping("a mapping with keys " + ", ".join(TOP_LEVEL_KEYS))
    top.check_keys(TOP_LEVEL_KEYS, noun="top-level key", extensions=True)

    defaults = top.nested("defaults", DEFAULTS_KEYS, kind="defaults")
    default_regions, default_account, shards, default_controls = (
        _defaults(defaults, catalog) if defaults else ((), None, DEFAULT_SHARDS, Controls())
    )
    environments = _environments(top, default_account, catalog)
    context = _TableContext(catalog, default_regions, environments, default_controls)
    endpoints = tuple(_endpoint(row, context) for row in top.rows("endpoints", ENDPOINT_KEYS, "endpoint"))
    fine_tuning = tuple(
        _fine_tuning(row, context) for row in top.rows("fine_tuning", FINE_TUNING_KEYS, "fine_tuning")
    )
    if not endpoints and not fine_tuning:
        top.fail(None, "the table declares no rows; add at least one row under `endpoints:` or `fine_tuning:`",
                 line=top.line_of("endpoints" if "endpoints" in document else "fine_tuning"))
    return ModelTable(
        source=source,
        endpoints=endpoints,
        fine_tuning=fine_tuning,
        environments=environments,
        default_regions=default_regions,
        default_account=default_account,
        shards=shards,
    )


def _defaults(
    defaults: Fields, catalog: Catalog
) -> tuple[tuple[str, ...], str | None, int, Controls]:
    return (
        read_string_list(defaults, "regions", check=functools.partial(_check_region_name, catalog=catalog)),
        read_account(defaults, "account"),
        read_integer(defaults, "shards", default=DEFAULT_SHARDS, minimum=1, maximum=MAX_SHARDS),
        read_controls(defaults),
    )


class _TableContext:
    """What row validation needs from the rest of the table; also tracks names for duplicate detection."""

    def __init__(
        self, catalog: Catalog, default_regions: tuple[str, ...], environments: dict[str, Environment],
        default_controls: Controls,
    ) -> None:
        self.catalog = catalog
        self.default_regions = default_regions
        self.environments = environments
        self.default_controls = default_controls
        self.names: dict[str, tuple[str, int, str]] = {}  # lower-case name -> kind, line, name as written

    def claim_name(self, row: Fields) -> str:
        name = read_name(row, "name", NAME_MAX_LENGTH, name_pattern=NAME_PATTERN)
        # SageMaker compares endpoint names without regard to case, so `Llama` and `llama` would collide.
        if name.lower() in self.names:
            kind, line, first = self.names[name.lower()]
            same = "" if first == name else f" as {first!r}: the two differ only in case"
            row.fail("name", f"duplicate name {name!r} (already used by the {kind} row on line {line}{same}); "
                             "names must be unique across endpoints and fine_tuning, ignoring case")
        self.names[name.lower()] = (row.kind, row.line, name)
        return name


def _environments(top: Fields, default_account: str | None, catalog: Catalog) -> dict[str, Environment]:
    value = read_mapping(top, "environments")
    if value is None:
        return {}
    if not value:
        top.fail("environments", "expected at least one named environment, got an empty mapping")
    environments: dict[str, Environment] = {}
    for name, raw in value.items():
        line = value.line_of(name) if isinstance(value, YamlMap) else top.line_of("environments")
        env = Fields(top.source, "environment", f"'{name}'", raw, line=line)
        if not isinstance(name, str) or len(name) > ENVIRONMENT_NAME_MAX_LENGTH or not NAME_PATTERN.match(name):
            env.fail(None, f"expected an environment name of 1 to {ENVIRONMENT_NAME_MAX_LENGTH} letters, digits "
                           "and single hyphens (it becomes part of stack names)")
        environments[name] = _environment(env, name, default_account, catalog)
    return environments


def _environment(env: Fields, name: str, default_account: str | None, catalog: Catalog) -> Environment:
    env.require_mapping("a mapping with keys " + ", ".join(ENVIRONMENT_KEYS))
    env.check_keys(ENVIRONMENT_KEYS)
    raw_targets = env.get("targets")
    if raw_targets is MISSING:
        env.fail("targets", "required field is missing; list the account/region pairs of this environment")
    if not isinstance(raw_targets, list) or not raw_targets:
        env.fail("targets", f"expected a non-empty list of {{account, region}} mappings, got {describe(raw_targets)}")
    targets: list[Target] = []
    for index, raw in enumerate(raw_targets):
        target = Fields(env.source, env.kind, env.label, raw, line=env.item_line("targets", index),
                        prefix=f"targets[{index}].")
        target.require_mapping("a mapping with keys account, region")
        target.check_keys(TARGET_KEYS)
        region = read_string(target, "region", required=True)
        catalog_check(target, "region", functools.partial(_check_region_name, catalog=catalog), region)
        resolved = Target(region=region, account=read_account(target, "account") or default_account)
        if resolved in targets:
            target.fail("region", f"target {resolved.account or '(any account)'}/{region} is listed twice")
        targets.append(resolved)
    approval = read_boolean(env, "approval")
    return Environment(
        name=name,
        targets=tuple(targets),
        approval=(name == "prod") if approval is None else approval,
        line=env.line,
    )


def _endpoint(row: Fields, context: _TableContext) -> EndpointRow:
    name = context.claim_name(row)
    serving: ServingMode = read_string(row, "serving", choices=SERVING_MODES) or "instance"
    check_mode_keys(row, serving)
    if serving == "inference_components":
        components, instance_type, instance_scaling = read_components(row, context.catalog, _container_environment)
        spec = components[0].spec
        model, accept_eula = components[0].model, components[0].accept_eula
    else:
        components, instance_scaling = (), None
        model = read_string(row, "model", required=True)
        spec = _model_spec(row, "model", model, context.catalog)
        accept_eula = read_boolean(row, "accept_eula")
    serverless, model_data = read_serverless(row, spec) if serving == "serverless" else (None, None)
    if serving == "serverless":
        served_on: str | None = None
    elif serving == "inference_components":
        served_on = instance_type
    else:
        served_on = _serving_instance_type(row, "model", spec)
    served_specs = [component.spec for component in components] or [spec]
    regions, environments = _targets(row, context, _with_region_hint(_check_every_region(served_specs),
                                                                     spec.supported_regions))
    instance_count = read_integer(row, "instance_count", default=1, minimum=1, maximum=MAX_INSTANCE_COUNT)
    controls = _controls(row, context, regions, environments)
    if serving == "serverless":  # the table's defaults of what serverless endpoints cannot take do not apply
        controls = Controls()
    return EndpointRow(
        controls=controls,
        data_capture=read_data_capture(row),
        name=name,
        model=model,
        spec=spec,
        instance_type=served_on,
        instance_count=instance_count,
        accept_eula=accept_eula,
        regions=regions,
        environments=environments,
        line=row.line,
        environment_overrides=_overrides(row, spec, environments),
        autoscaling=_autoscaling(row),
        environment=_container_environment(row) if serving != "inference_components" else {},
        serving=serving,
        components=components,
        instance_scaling=instance_scaling,
        async_inference=read_async(row, instance_count) if serving == "async" else None,
        serverless=serverless,
        model_data=model_data,
    )


def _fine_tuning(row: Fields, context: _TableContext) -> FineTuningRow:
    name = context.claim_name(row)
    method: FineTuningMethod = read_string(row, "method", choices=FINE_TUNING_METHODS) or "autopilot"
    base_model = read_string(row, "base_model", required=True)
    spec = _model_spec(row, "base_model", base_model, context.catalog)
    if method == "autopilot":
        instance_type, check_region = _autopilot_model(row, spec, context.catalog)
        content_type = read_string(row, "content_type", choices=AUTOPILOT_CONTENT_TYPES) \
            or DEFAULT_AUTOPILOT_CONTENT_TYPE
        hyperparameters = _autopilot_hyperparameters(row)
    else:
        instance_type, check_region = _training_model(row, spec, context.catalog)
        content_type = None
        hyperparameters = _training_hyperparameters(row, spec)
    regions, environments = _targets(row, context, check_region)
    return FineTuningRow(
        controls=_controls(row, context, regions, environments),
        name=name,
        method=method,
        base_model=base_model,
        spec=spec,
        training_data=read_s3_uri(row, "training_data", required=True),
        validation_data=read_s3_uri(row, "validation_data"),
        content_type=content_type,
        output_path=read_s3_uri(row, "output_path", required=True),
        accept_eula=read_boolean(row, "accept_eula"),
        hyperparameters=hyperparameters,
        instance_type=instance_type,
        max_runtime=read_integer(row, "max_runtime", minimum=1),
        regions=regions,
        environments=environments,
        line=row.line,
        deploy=_deploy(row, spec),
    )


def _controls(
    row: Fields, context: _TableContext, regions: tuple[str, ...], environments: tuple[str, ...]
) -> Controls:
    controls = read_controls(row, context.default_controls)
    targets = [target for name in environments for target in context.environments[name].targets] \
        or [Target(region) for region in regions]
    check_controls_fit_targets(row, controls, targets)
    return controls


def _model_spec(row: Fields, field: str, name: str, catalog: Catalog) -> ModelSpec:
    try:
        return catalog.get(name)
    except CatalogError as error:
        row.fail(field, str(error))


def _serving_instance_type(fields: Fields, model_field: str, spec: ModelSpec) -> str:
    """The endpoint instance type (default: the model's), checked; an index-only model is the model's error."""
    instance_type = read_string(fields, "instance_type") or spec.default_instance_type or ""
    try:
        spec.check_instance_type(instance_type)
    except NotDeployableError as error:
        fields.fail(model_field, str(error), line=fields.line if fields.prefix else None)
    except CatalogError as error:
        fields.fail("instance_type", hinted(str(error), instance_type, spec.supported_instance_types))
    return instance_type


def _autopilot_model(row: Fields, spec: ModelSpec, catalog: Catalog) -> tuple[None, Callable[[str], None]]:
    catalog_check(row, "base_model", catalog.get_autopilot, spec.model_id)
    if row.get("instance_type") is not MISSING:
        row.fail("instance_type", "only for `method: jumpstart-training` (Autopilot chooses its training "
                                  "instances); for the endpoint of the fine-tuned model use `deploy.instance_type`")
    # Autopilot jobs run where the base model is served (the deploy block reuses its inference image).
    return None, _with_region_hint(spec.check_region, spec.supported_regions)


def _training_model(row: Fields, spec: ModelSpec, catalog: Catalog) -> tuple[str, Callable[[str], None]]:
    """The training instance type, and the per-region check: the model needs a training image there."""
    catalog_check(row, "base_model", catalog.get_trainable, spec.model_id)
    if row.get("content_type") is not MISSING:
        row.fail("content_type", "only for `method: autopilot` (JumpStart training scripts read the files as given)")
    training = spec.check_trainable()
    instance_type = read_string(row, "instance_type") or training.default_instance_type
    if instance_type not in training.supported_instance_types:
        row.fail("instance_type", f"model {spec.model_id!r} does not train on {quote(instance_type)}"
                                  f"{suggestion(instance_type, training.supported_instance_types)}; "
                                  f"supported training instance types: "
                                  f"{supported_list(training.supported_instance_types)}")

    def check_training_region(region: str) -> None:
        spec.training_image_uri(region, instance_type)

    return instance_type, _with_region_hint(check_training_region, spec.training_regions)


def _targets(
    row: Fields, context: _TableContext, check_region: Callable[[str], None]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The row's regions (its own or the defaults) or environments, every target checked against the model."""
    if row.get("regions") is not MISSING and row.get("environments") is not MISSING:
        row.fail("environments", "give either `regions` or `environments`, not both")
    environments = read_string_list(row, "environments")
    for index, name in enumerate(environments):
        line = row.item_line("environments", index)
        if name not in context.environments:
            known = ", ".join(context.environments) or "none (add an `environments:` section)"
            row.fail(f"environments[{index}]", f"unknown environment {quote(name)}"
                                               f"{suggestion(name, context.environments)}; the table defines: {known}",
                     line=line)
        for target in context.environments[name].targets:
            catalog_check(row, f"environments[{index}]", check_region, target.region,
                          note=f" (environment {name!r})", line=line)
    if environments:
        return (), environments
    regions = read_string_list(row, "regions", check=check_region)
    if regions:
        return regions, ()
    if not context.default_regions:
        row.fail("regions", "the row has no target: set `regions: [...]` or `environments: [...]` on it, "
                            "or `defaults: {regions: [...]}` for the table")
    for region in context.default_regions:
        catalog_check(row, "regions", check_region, region, note=" (from defaults.regions)")
    return context.default_regions, ()


def _overrides(row: Fields, spec: ModelSpec, environments: tuple[str, ...]) -> dict[str, CapacityOverride]:
    value = read_mapping(row, "environment_overrides")
    if value is None:
        return {}
    overrides = {}
    for name, raw in value.items():
        if name not in environments:
            targeted = ", ".join(environments) or "none (the row uses `regions`)"
            row.fail(f"environment_overrides.{name}", f"the row does not target environment {quote(str(name))}; "
                                                      f"it targets: {targeted}",
                     line=value.line_of(name) if isinstance(value, YamlMap) else None)
        override = row.child(f"environment_overrides.{name}", raw, OVERRIDE_KEYS,
                             line=value.line_of(name) if isinstance(value, YamlMap) else None)
        instance_type = read_string(override, "instance_type")
        if instance_type is not None:
            catalog_check(override, "instance_type", spec.check_instance_type, instance_type,
                          choices=spec.supported_instance_types)
        overrides[name] = CapacityOverride(
            instance_type=instance_type,
            instance_count=read_integer(override, "instance_count", minimum=1, maximum=MAX_INSTANCE_COUNT),
        )
    return overrides


def _autoscaling(row: Fields) -> Autoscaling | None:
    scaling = row.nested("autoscaling", AUTOSCALING_KEYS)
    if scaling is None:
        return None
    min_capacity = read_integer(scaling, "min_capacity", default=1, minimum=1, maximum=MAX_INSTANCE_COUNT)
    max_capacity = read_integer(scaling, "max_capacity", minimum=1, maximum=MAX_INSTANCE_COUNT)
    if max_capacity is None:
        scaling.fail("max_capacity", "required field is missing")
    if max_capacity < min_capacity:
        scaling.fail("max_capacity", f"expected at least min_capacity ({min_capacity}), got {max_capacity}")
    target = scaling.get("target_invocations_per_instance")
    if target is MISSING:
        scaling.fail("target_invocations_per_instance", "required field is missing (invocations per minute "
                                                        "per instance that scaling keeps, e.g. 100)")
    return Autoscaling(min_capacity, max_capacity, read_positive_number(scaling, "target_invocations_per_instance"))


def _container_environment(row: Fields) -> dict[str, str]:
    value = row.get("environment")
    if value is MISSING:
        return {}
    if not isinstance(value, dict):
        hint = "; did you mean 'environments' (the table's named environments)?" if isinstance(value, list) else ""
        row.fail("environment", f"expected a mapping of container environment variables, "
                                f"got {describe(value)}{hint}")
    environment = {}
    for key, item in value.items():
        line = value.line_of(key) if isinstance(value, YamlMap) else None
        if not isinstance(key, str) or len(key) > ENV_VALUE_MAX_LENGTH or not ENV_VAR_PATTERN.match(key):
            shown = quote(key) if isinstance(key, str) else describe(key)
            row.fail("environment", f"expected environment variable names like MAX_INPUT_LENGTH, got {shown}",
                     line=line)
        if isinstance(item, str) and len(item) > ENV_VALUE_MAX_LENGTH:
            row.fail(f"environment.{key}", f"expected at most {ENV_VALUE_MAX_LENGTH} characters (SageMaker's limit), "
                                           f"got {describe(item)}", line=line)
        if isinstance(item, bool):
            environment[key] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            environment[key] = str(item)
        else:
            row.fail(f"environment.{key}", f"expected a string or number, got {describe(item)}", line=line)
    return environment


def _autopilot_hyperparameters(row: Fields) -> dict[str, int | float | str]:
    value = read_mapping(row, "hyperparameters")
    if value is None:
        return {}
    for key, item in value.items():
        line = value.line_of(key) if isinstance(value, YamlMap) else None
        problem = autopilot_hyperparameter_problem(str(key), item)
        if problem is not None:
            problem += did_you_mean(str(key), AUTOPILOT_HYPERPARAMETERS) if key not in AUTOPILOT_HYPERPARAMETERS \
                else ""
            row.fail(f"hyperparameters.{key}", problem, line=line)
    return dict(value)


def _training_hyperparameters(row: Fields, spec: ModelSpec) -> dict[str, int | float | str]:
    """Each override checked by the model's training spec (name, type, range, options); booleans become the
    spec's ``True``/``False`` spelling."""
    value = read_mapping(row, "hyperparameters")
    if value is None or spec.training is None:
        return {}
    result: dict[str, int | float | str] = {}
    for key, item in value.items():
        problem = spec.training.hyperparameter_problem(str(key), item)
        if problem:
            line = value.line_of(key) if isinstance(value, YamlMap) else None
            row.fail(f"hyperparameters.{key}", f"model {spec.model_id!r}: {problem}", line=line)
        result[key] = spec.training.hyperparameter_value(str(key), item)
    return result


def _deploy(row: Fields, spec: ModelSpec) -> DeployBlock | None:
    deploy = row.nested("deploy", DEPLOY_KEYS)
    if deploy is None:
        return None
    instance_type = _serving_instance_type(deploy, "base_model", spec)
    return DeployBlock(
        instance_type=instance_type,
        instance_count=read_integer(deploy, "instance_count", default=1, minimum=1, maximum=MAX_INSTANCE_COUNT),
        autoscaling=_autoscaling(deploy),
        data_capture=read_data_capture(deploy),
    )


def _check_every_region(specs: list[ModelSpec]) -> Callable[[str], None]:
    """A region check of every model a row serves (the components of a shared endpoint)."""
    def check(region: str) -> None:
        for spec in specs:
            spec.check_region(region)
    return check


def _with_region_hint(check: Callable[[str], object], regions: Collection[str]) -> Callable[[str], None]:
    """``check`` of a region, its error ending in the nearest of ``regions`` (``us-east1``: ``us-east-1``)."""
    def checked(region: str) -> None:
        try:
            check(region)
        except UnsupportedRegionError as error:
            raise UnsupportedRegionError(hinted(str(error), region, regions)) from None
    return checked


@functools.lru_cache(maxsize=8)
def _known_regions(catalog: Catalog) -> frozenset[str]:
    return frozenset(region for spec in catalog for region in spec.images)


def _check_region_name(region: str, catalog: Catalog) -> None:
    """A region any catalog model supports: catches typos in targets that no model is checked against yet."""
    known = _known_regions(catalog)
    if region not in known:
        raise UnsupportedRegionError(
            f"unknown region {region!r}{did_you_mean(region, known)} "
            f"(no catalog model is available there; expected a region like us-east-1)"
        )

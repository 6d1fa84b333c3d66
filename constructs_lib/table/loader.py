"""Load and validate the model table: every problem is one ``TableError`` naming file, line, row and field.

Pure Python (PyYAML + the catalog): ``eulagate plan`` uses it without starting jsii. Gated rows without
``accept_eula: true`` load fine: the gate and ``eulagate plan`` report them, so every problem shows at once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, NoReturn

from constructs_lib.aws_names import ACCOUNT_PATTERN, s3_uri_problem
from constructs_lib.catalog import Catalog, CatalogError, ModelSpec, NotDeployableError, UnsupportedRegionError
from constructs_lib.catalog.autopilot import (
    AUTOPILOT_CONTENT_TYPES,
    AUTOPILOT_HYPERPARAMETERS,
    DEFAULT_AUTOPILOT_CONTENT_TYPE,
    autopilot_hyperparameter_problem,
)
from constructs_lib.catalog.errors import closest_names, supported_list
from constructs_lib.catalog.hyperparameters import describe_value
from constructs_lib.errors import TableError
from constructs_lib.table.model import (
    DEFAULT_SHARDS,
    Autoscaling,
    CapacityOverride,
    DeployBlock,
    EndpointRow,
    Environment,
    FineTuningMethod,
    FineTuningRow,
    ModelTable,
    Target,
)
from constructs_lib.table.yaml_source import YamlList, YamlMap, read_yaml

TOP_LEVEL_KEYS = ("defaults", "environments", "endpoints", "fine_tuning")
DEFAULTS_KEYS = ("regions", "account", "shards")
ENVIRONMENT_KEYS = ("targets", "approval")
TARGET_KEYS = ("account", "region")
ENDPOINT_KEYS = (
    "name", "model", "instance_type", "instance_count", "accept_eula", "regions", "environments",
    "environment_overrides", "autoscaling", "environment",
)
OVERRIDE_KEYS = ("instance_type", "instance_count")
AUTOSCALING_KEYS = ("min_capacity", "max_capacity", "target_invocations_per_instance")
FINE_TUNING_KEYS = (
    "name", "method", "base_model", "training_data", "validation_data", "content_type", "output_path",
    "accept_eula", "hyperparameters", "instance_type", "max_runtime", "regions", "environments", "deploy",
)
DEPLOY_KEYS = ("instance_type", "instance_count", "autoscaling")
FINE_TUNING_METHODS: tuple[FineTuningMethod, ...] = ("autopilot", "jumpstart-training")

# Row names become construct ids and SageMaker-style names: the SageMaker name pattern, short enough to prefix.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*\Z")
NAME_MAX_LENGTH = 40
ENVIRONMENT_NAME_MAX_LENGTH = 30
ENV_VAR_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_SHARDS = 64
MAX_INSTANCE_COUNT = 1000

_MISSING: Any = object()


def load_table(path: str | Path, *, catalog: Catalog | None = None) -> ModelTable:
    """Read and validate a model table file. Raises ``TableError`` (one line) on any problem."""
    return parse_table(read_yaml(path), source=str(path), catalog=catalog)


def parse_table(document: Any, *, source: str = "<table>", catalog: Catalog | None = None) -> ModelTable:
    """Validate a parsed table (``YamlMap`` from ``read_yaml`` for line numbers, or plain dicts)."""
    catalog = catalog or Catalog.default()
    top = _Fields(source, "table", None, document, line=1)
    if document is None:
        top.fail(None, "the table is empty; declare at least one row under `endpoints:` or `fine_tuning:`")
    top.require_mapping("a mapping with keys " + ", ".join(TOP_LEVEL_KEYS))
    top.check_keys(TOP_LEVEL_KEYS, noun="top-level key")

    defaults = top.nested("defaults", DEFAULTS_KEYS, kind="defaults")
    default_regions = defaults.string_list(
        "regions", check=functools.partial(_check_region_name, catalog=catalog)
    ) if defaults else ()
    default_account = defaults.account("account") if defaults else None
    shards = defaults.integer("shards", default=DEFAULT_SHARDS, minimum=1, maximum=MAX_SHARDS) \
        if defaults else DEFAULT_SHARDS

    environments = _environments(top, default_account, catalog)
    context = _TableContext(catalog, default_regions, environments)
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


class _TableContext:
    """What row validation needs from the rest of the table; also tracks names for duplicate detection."""

    def __init__(
        self, catalog: Catalog, default_regions: tuple[str, ...], environments: dict[str, Environment]
    ) -> None:
        self.catalog = catalog
        self.default_regions = default_regions
        self.environments = environments
        self.names: dict[str, tuple[str, int, str]] = {}  # lower-case name -> kind, line, name as written

    def claim_name(self, row: _Fields) -> str:
        name = row.name()
        # SageMaker compares endpoint names without regard to case, so `Llama` and `llama` would collide.
        if name.lower() in self.names:
            kind, line, first = self.names[name.lower()]
            same = "" if first == name else f" as {first!r}: the two differ only in case"
            row.fail("name", f"duplicate name {name!r} (already used by the {kind} row on line {line}{same}); "
                             "names must be unique across endpoints and fine_tuning, ignoring case")
        self.names[name.lower()] = (row.kind, row.line, name)
        return name


class _Fields:
    """Reads the fields of one YAML mapping; every error names the file, line, row and field."""

    def __init__(
        self, source: str, kind: str, label: str | None, value: Any, *, line: int, prefix: str = ""
    ) -> None:
        self.source = source
        self.kind = kind
        self.label = label
        self.value = value
        self.line = getattr(value, "line", line)
        self.prefix = prefix

    # -- errors -------------------------------------------------------------------------------------------
    def where(self) -> str:
        if self.kind == "table":
            return ""
        return f"{self.kind} {self.label}" if self.label else self.kind

    def line_of(self, field: str | None) -> int:
        if field is not None and isinstance(self.value, YamlMap):
            return self.value.line_of(field)
        return self.line

    def fail(self, field: str | None, message: str, *, line: int | None = None) -> NoReturn:
        line = line or self.line_of(field)
        where = self.where()
        if field is not None:
            subject = f"field '{self.prefix}{field}'" if where or self.prefix else f"key '{field}'"
            where = f"{where} {subject}".strip()
        text = f"{self.source}:{line}: {where}: {message}" if where else f"{self.source}:{line}: {message}"
        raise TableError(text, source=self.source, line=line)

    # -- structure ----------------------------------------------------------------------------------------
    def require_mapping(self, expected: str) -> None:
        if not isinstance(self.value, dict):
            self.fail(None, f"expected {expected}, got {_describe(self.value)}")

    def check_keys(self, allowed: Sequence[str], *, noun: str = "key") -> None:
        for key in self.value:
            if key not in allowed:
                hint = closest_names(str(key), allowed, limit=1)
                did_you_mean = f"; did you mean '{hint[0]}'?" if hint else ""
                self.fail(
                    str(key),
                    f"unknown {noun}; expected one of {', '.join(allowed)}{did_you_mean}",
                )

    def get(self, field: str) -> Any:
        return self.value.get(field, _MISSING)

    def nested(self, field: str, allowed: Sequence[str], *, kind: str | None = None) -> _Fields | None:
        """The mapping under ``field`` (None when absent), its keys checked."""
        value = self.get(field)
        return None if value is _MISSING else self.child(field, value, allowed, kind=kind)

    def child(
        self, field: str, value: Any, allowed: Sequence[str], *, kind: str | None = None, line: int | None = None
    ) -> _Fields:
        """Fields of a nested mapping. Its errors keep this row's name and say ``field.key``, unless ``kind``
        starts a new subject (``defaults``)."""
        if not isinstance(value, dict):
            self.fail(field, f"expected a mapping with keys {', '.join(allowed)}, got {_describe(value)}", line=line)
        nested = _Fields(
            self.source, kind or self.kind, None if kind else self.label, value,
            line=line or self.line_of(field), prefix="" if kind else f"{self.prefix}{field}.",
        )
        nested.check_keys(allowed)
        return nested

    def rows(self, field: str, allowed: Sequence[str], kind: str) -> list[_Fields]:
        value = self.get(field)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.fail(field, f"expected a list of {kind} rows (`- name: ...`), got {_describe(value)}")
        rows = []
        for index, item in enumerate(value):
            line = value.line_of(index) if isinstance(value, YamlList) else self.line_of(field)
            row = _Fields(self.source, kind, f"#{index + 1}", item, line=line)
            row.require_mapping(f"a mapping with keys {', '.join(allowed)}")
            name = item.get("name")
            if isinstance(name, str) and name:
                row.label = f"'{name}'"
            row.check_keys(allowed)
            rows.append(row)
        return rows

    # -- scalar fields ------------------------------------------------------------------------------------
    def name(self) -> str:
        name = self.string("name", required=True)
        self.check_name("name", name, NAME_MAX_LENGTH)
        return name

    def check_name(self, field: str, name: str, max_length: int) -> None:
        if not NAME_PATTERN.match(name) or len(name) > max_length:
            self.fail(field, f"expected 1 to {max_length} letters, digits and single hyphens "
                             f"(pattern [a-zA-Z0-9](-*[a-zA-Z0-9])*), got {name!r}")

    def string(self, field: str, *, required: bool = False, choices: Collection[str] = ()) -> Any:
        value = self.get(field)
        if value is _MISSING:
            if required:
                self.fail(field, "required field is missing")
            return None
        if not isinstance(value, str) or not value:
            self.fail(field, f"expected a non-empty string, got {_describe(value)}")
        if choices and value not in choices:
            self.fail(field, f"expected one of {', '.join(choices)}, got {value!r}{_did_you_mean(value, choices)}")
        return value

    def s3_uri(self, field: str, *, required: bool = False) -> Any:
        value = self.string(field, required=required)
        problem = None if value is None else s3_uri_problem(value)
        if problem:
            self.fail(field, f"expected an S3 URI like s3://my-bucket/prefix/, got {value!r}: {problem}")
        return value

    def integer(self, field: str, *, default: Any = None, minimum: int = 0, maximum: int | None = None) -> Any:
        value = self.get(field)
        if value is _MISSING:
            return default
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        if isinstance(value, bool) or not isinstance(value, int) \
                or value < minimum or (maximum is not None and value > maximum):
            self.fail(field, f"expected an integer {bounds}, got {_describe(value)}")
        return value

    def boolean(self, field: str) -> bool | None:
        value = self.get(field)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.fail(field, f"expected true or false (a YAML boolean, unquoted), got {_describe(value)}")
        return value

    def account(self, field: str) -> str | None:
        value = self.get(field)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not ACCOUNT_PATTERN.match(value):
            self.fail(field, f"expected a 12-digit AWS account id as a quoted string (\"123456789012\"), "
                             f"got {_describe(value)}")
        return value

    def string_list(self, field: str, *, check: Callable[[str], None] | None = None) -> tuple[str, ...]:
        """A non-empty list of distinct strings; ``check`` raises ``CatalogError`` for a bad item."""
        value = self.get(field)
        if value is _MISSING:
            return ()
        if not isinstance(value, list) or not value:
            self.fail(field, f"expected a non-empty list of strings, got {_describe(value)}")
        seen: set[str] = set()
        for index, item in enumerate(value):
            line = value.line_of(index) if isinstance(value, YamlList) else None
            if not isinstance(item, str) or not item:
                self.fail(f"{field}[{index}]", f"expected a non-empty string, got {_describe(item)}", line=line)
            if item in seen:
                self.fail(f"{field}[{index}]", f"{item!r} is listed twice", line=line)
            seen.add(item)
            if check is not None:
                try:
                    check(item)
                except CatalogError as error:
                    self.fail(f"{field}[{index}]", str(error), line=line)
        return tuple(value)

    def mapping(self, field: str) -> dict[Any, Any] | None:
        value = self.get(field)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(field, f"expected a mapping, got {_describe(value)}")
        return value

    def catalog_check(
        self, field: str, check: Callable[[str], object], value: str, *, note: str = "", line: int | None = None
    ) -> None:
        """Run a catalog check of ``value``; its error (plus ``note``) becomes this field's one-line error."""
        try:
            check(value)
        except CatalogError as error:
            self.fail(field, f"{error}{note}", line=line)


def _environments(top: _Fields, default_account: str | None, catalog: Catalog) -> dict[str, Environment]:
    value = top.mapping("environments")
    if value is None:
        return {}
    if not value:
        top.fail("environments", "expected at least one named environment, got an empty mapping")
    environments: dict[str, Environment] = {}
    for name, raw in value.items():
        line = value.line_of(name) if isinstance(value, YamlMap) else top.line_of("environments")
        env = _Fields(top.source, "environment", f"'{name}'", raw, line=line)
        if not isinstance(name, str) or not NAME_PATTERN.match(name) or len(name) > ENVIRONMENT_NAME_MAX_LENGTH:
            env.fail(None, f"expected an environment name of 1 to {ENVIRONMENT_NAME_MAX_LENGTH} letters, digits "
                           "and single hyphens (it becomes part of stack names)")
        environments[name] = _environment(env, name, default_account, catalog)
    return environments


def _environment(env: _Fields, name: str, default_account: str | None, catalog: Catalog) -> Environment:
    env.require_mapping("a mapping with keys " + ", ".join(ENVIRONMENT_KEYS))
    env.check_keys(ENVIRONMENT_KEYS)
    raw_targets = env.get("targets")
    if raw_targets is _MISSING:
        env.fail("targets", "required field is missing; list the account/region pairs of this environment")
    if not isinstance(raw_targets, list) or not raw_targets:
        env.fail("targets", f"expected a non-empty list of {{account, region}} mappings, got {_describe(raw_targets)}")
    targets: list[Target] = []
    for index, raw in enumerate(raw_targets):
        line = raw_targets.line_of(index) if isinstance(raw_targets, YamlList) else env.line
        target = _Fields(env.source, env.kind, env.label, raw, line=line, prefix=f"targets[{index}].")
        target.require_mapping("a mapping with keys account, region")
        target.check_keys(TARGET_KEYS)
        region = target.string("region", required=True)
        target.catalog_check("region", functools.partial(_check_region_name, catalog=catalog), region)
        resolved = Target(region=region, account=target.account("account") or default_account)
        if resolved in targets:
            target.fail("region", f"target {resolved.account or '(any account)'}/{region} is listed twice")
        targets.append(resolved)
    approval = env.boolean("approval")
    return Environment(
        name=name,
        targets=tuple(targets),
        approval=(name == "prod") if approval is None else approval,
        line=env.line,
    )


def _endpoint(row: _Fields, context: _TableContext) -> EndpointRow:
    name = context.claim_name(row)
    model = row.string("model", required=True)
    spec = _model_spec(row, "model", model, context.catalog)
    instance_type = _serving_instance_type(row, "model", spec)
    regions, environments = _targets(row, context, spec.check_region)
    return EndpointRow(
        name=name,
        model=model,
        spec=spec,
        instance_type=instance_type,
        instance_count=row.integer("instance_count", default=1, minimum=1, maximum=MAX_INSTANCE_COUNT),
        accept_eula=row.boolean("accept_eula"),
        regions=regions,
        environments=environments,
        line=row.line,
        environment_overrides=_overrides(row, spec, environments),
        autoscaling=_autoscaling(row),
        environment=_container_environment(row),
    )


def _fine_tuning(row: _Fields, context: _TableContext) -> FineTuningRow:
    name = context.claim_name(row)
    method: FineTuningMethod = row.string("method", choices=FINE_TUNING_METHODS) or "autopilot"
    base_model = row.string("base_model", required=True)
    spec = _model_spec(row, "base_model", base_model, context.catalog)
    if method == "autopilot":
        instance_type, check_region = _autopilot_model(row, spec, context.catalog)
        content_type = row.string("content_type", choices=AUTOPILOT_CONTENT_TYPES) or DEFAULT_AUTOPILOT_CONTENT_TYPE
        hyperparameters = _autopilot_hyperparameters(row)
    else:
        instance_type, check_region = _training_model(row, spec, context.catalog)
        content_type = None
        hyperparameters = _training_hyperparameters(row, spec)
    regions, environments = _targets(row, context, check_region)
    return FineTuningRow(
        name=name,
        method=method,
        base_model=base_model,
        spec=spec,
        training_data=row.s3_uri("training_data", required=True),
        validation_data=row.s3_uri("validation_data"),
        content_type=content_type,
        output_path=row.s3_uri("output_path", required=True),
        accept_eula=row.boolean("accept_eula"),
        hyperparameters=hyperparameters,
        instance_type=instance_type,
        max_runtime=row.integer("max_runtime", minimum=1),
        regions=regions,
        environments=environments,
        line=row.line,
        deploy=_deploy(row, spec),
    )


def _model_spec(row: _Fields, field: str, name: str, catalog: Catalog) -> ModelSpec:
    try:
        return catalog.get(name)
    except CatalogError as error:
        row.fail(field, str(error))


def _serving_instance_type(fields: _Fields, model_field: str, spec: ModelSpec) -> str:
    """The endpoint instance type (default: the model's), checked; an index-only model is the model's error."""
    instance_type = fields.string("instance_type") or spec.default_instance_type or ""
    try:
        spec.check_instance_type(instance_type)
    except NotDeployableError as error:
        fields.fail(model_field, str(error), line=fields.line if fields.prefix else None)
    except CatalogError as error:
        fields.fail("instance_type", str(error))
    return instance_type


def _autopilot_model(row: _Fields, spec: ModelSpec, catalog: Catalog) -> tuple[None, Callable[[str], None]]:
    if not spec.autopilot_supported:
        names = ", ".join(m.base_model_name or m.model_id for m in catalog.autopilot_models())
        row.fail("base_model", f"Autopilot cannot fine-tune {spec.model_id!r}; it fine-tunes: {names} "
                               "(or use `method: jumpstart-training`)")
    if row.get("instance_type") is not _MISSING:
        row.fail("instance_type", "only for `method: jumpstart-training` (Autopilot chooses its training "
                                  "instances); for the endpoint of the fine-tuned model use `deploy.instance_type`")
    # Autopilot jobs run where the base model is served (the deploy block reuses its inference image).
    return None, spec.check_region


def _training_model(row: _Fields, spec: ModelSpec, catalog: Catalog) -> tuple[str, Callable[[str], None]]:
    """The training instance type, and the per-region check: the model needs a training image there."""
    row.catalog_check("base_model", catalog.get_trainable, spec.model_id)
    if row.get("content_type") is not _MISSING:
        row.fail("content_type", "only for `method: autopilot` (JumpStart training scripts read the files as given)")
    training = spec.check_trainable()
    instance_type = row.string("instance_type") or training.default_instance_type
    if instance_type not in training.supported_instance_types:
        row.fail("instance_type", f"model {spec.model_id!r} does not train on {instance_type!r}; "
                                  f"supported training instance types: "
                                  f"{supported_list(training.supported_instance_types)}")

    def check_training_region(region: str) -> None:
        spec.training_image_uri(region, instance_type)

    return instance_type, check_training_region


def _targets(
    row: _Fields, context: _TableContext, check_region: Callable[[str], None]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The row's regions (its own or the defaults) or environments, every target checked against the model."""
    if row.get("regions") is not _MISSING and row.get("environments") is not _MISSING:
        row.fail("environments", "give either `regions` or `environments`, not both")
    environments = row.string_list("environments")
    for index, name in enumerate(environments):
        line = _item_line(row, "environments", index)
        if name not in context.environments:
            known = ", ".join(context.environments) or "none (add an `environments:` section)"
            row.fail(f"environments[{index}]", f"unknown environment {name!r}; the table defines: {known}"
                                               f"{_did_you_mean(name, context.environments)}", line=line)
        for target in context.environments[name].targets:
            row.catalog_check(
                f"environments[{index}]", check_region, target.region, note=f" (environment {name!r})", line=line
            )
    if environments:
        return (), environments
    regions = row.string_list("regions", check=check_region)
    if regions:
        return regions, ()
    if not context.default_regions:
        row.fail("regions", "the row has no target: set `regions: [...]` or `environments: [...]` on it, "
                            "or `defaults: {regions: [...]}` for the table")
    for region in context.default_regions:
        row.catalog_check("regions", check_region, region, note=" (from defaults.regions)")
    return context.default_regions, ()


def _overrides(row: _Fields, spec: ModelSpec, environments: tuple[str, ...]) -> dict[str, CapacityOverride]:
    value = row.mapping("environment_overrides")
    if value is None:
        return {}
    overrides = {}
    for name, raw in value.items():
        if name not in environments:
            targeted = ", ".join(environments) or "none (the row uses `regions`)"
            row.fail(f"environment_overrides.{name}", f"the row does not target environment {name!r}; "
                                                      f"it targets: {targeted}",
                     line=value.line_of(name) if isinstance(value, YamlMap) else None)
        override = row.child(f"environment_overrides.{name}", raw, OVERRIDE_KEYS,
                             line=value.line_of(name) if isinstance(value, YamlMap) else None)
        instance_type = override.string("instance_type")
        if instance_type is not None:
            override.catalog_check("instance_type", spec.check_instance_type, instance_type)
        overrides[name] = CapacityOverride(
            instance_type=instance_type,
            instance_count=override.integer("instance_count", minimum=1, maximum=MAX_INSTANCE_COUNT),
        )
    return overrides


def _autoscaling(row: _Fields) -> Autoscaling | None:
    scaling = row.nested("autoscaling", AUTOSCALING_KEYS)
    if scaling is None:
        return None
    min_capacity = scaling.integer("min_capacity", default=1, minimum=1, maximum=MAX_INSTANCE_COUNT)
    max_capacity = scaling.integer("max_capacity", minimum=1, maximum=MAX_INSTANCE_COUNT)
    if max_capacity is None:
        scaling.fail("max_capacity", "required field is missing")
    if max_capacity < min_capacity:
        scaling.fail("max_capacity", f"expected at least min_capacity ({min_capacity}), got {max_capacity}")
    target = scaling.get("target_invocations_per_instance")
    if target is _MISSING:
        scaling.fail("target_invocations_per_instance", "required field is missing (invocations per minute "
                                                        "per instance that scaling keeps, e.g. 100)")
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target < float("inf"):
        scaling.fail("target_invocations_per_instance", f"expected a number greater than 0, got {_describe(target)}")
    return Autoscaling(min_capacity, max_capacity, target)


def _container_environment(row: _Fields) -> dict[str, str]:
    value = row.get("environment")
    if value is _MISSING:
        return {}
    if not isinstance(value, dict):
        hint = "; did you mean 'environments' (the table's named environments)?" if isinstance(value, list) else ""
        row.fail("environment", f"expected a mapping of container environment variables, "
                                f"got {_describe(value)}{hint}")
    environment = {}
    for key, item in value.items():
        line = value.line_of(key) if isinstance(value, YamlMap) else None
        if not isinstance(key, str) or not ENV_VAR_PATTERN.match(key):
            row.fail("environment", f"expected environment variable names like MAX_INPUT_LENGTH, got {key!r}",
                     line=line)
        if isinstance(item, bool):
            environment[key] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            environment[key] = str(item)
        else:
            row.fail(f"environment.{key}", f"expected a string or number, got {_describe(item)}", line=line)
    return environment


def _autopilot_hyperparameters(row: _Fields) -> dict[str, int | float | str]:
    value = row.mapping("hyperparameters")
    if value is None:
        return {}
    for key, item in value.items():
        line = value.line_of(key) if isinstance(value, YamlMap) else None
        problem = autopilot_hyperparameter_problem(str(key), item)
        if problem is not None:
            problem += _did_you_mean(str(key), AUTOPILOT_HYPERPARAMETERS) if key not in AUTOPILOT_HYPERPARAMETERS \
                else ""
            row.fail(f"hyperparameters.{key}", problem, line=line)
    return dict(value)


def _training_hyperparameters(row: _Fields, spec: ModelSpec) -> dict[str, int | float | str]:
    """Each override checked by the model's training spec (name, type, range, options); booleans become the
    spec's ``True``/``False`` spelling."""
    value = row.mapping("hyperparameters")
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


def _deploy(row: _Fields, spec: ModelSpec) -> DeployBlock | None:
    deploy = row.nested("deploy", DEPLOY_KEYS)
    if deploy is None:
        return None
    instance_type = _serving_instance_type(deploy, "base_model", spec)
    return DeployBlock(
        instance_type=instance_type,
        instance_count=deploy.integer("instance_count", default=1, minimum=1, maximum=MAX_INSTANCE_COUNT),
        autoscaling=_autoscaling(deploy),
    )


@functools.lru_cache(maxsize=8)
def _known_regions(catalog: Catalog) -> frozenset[str]:
    return frozenset(region for spec in catalog for region in spec.images)


def _check_region_name(region: str, catalog: Catalog) -> None:
    """A region any catalog model supports: catches typos in targets that no model is checked against yet."""
    known = _known_regions(catalog)
    if region not in known:
        raise UnsupportedRegionError(
            f"unknown region {region!r}{_did_you_mean(region, known)} "
            f"(no catalog model is available there; expected a region like us-east-1)"
        )


def _item_line(row: _Fields, field: str, index: int) -> int:
    value = row.get(field)
    return value.line_of(index) if isinstance(value, YamlList) else row.line_of(field)


def _did_you_mean(value: str, choices: Collection[str]) -> str:
    hint = closest_names(value, choices)
    return f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""


def _describe(value: Any) -> str:
    return describe_value(None if value is _MISSING else value)


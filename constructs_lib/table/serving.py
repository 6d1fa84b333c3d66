"""The serving modes of an endpoint row (``serving:``): the fields each mode takes, read into the props of its
construct (``constructs_lib.props``), and the one-line refusals of what SageMaker does not allow in a mode.

- ``inference_components``: ``components:`` (each a model, its ``accept_eula``, copies and compute per copy),
  ``min_instances``/``max_instances`` (managed instance scaling);
- ``async``: an ``async:`` block (S3 output and failure paths, SNS topics, backlog scaling);
- ``serverless``: a ``serverless:`` block (memory, concurrency) and ``model_data`` (the compressed artifact:
  serverless endpoints cannot load ``ModelDataSource``, so they cannot accept an EULA either).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from constructs_lib.catalog import Catalog, CatalogError, ModelSpec
from constructs_lib.catalog.errors import supported_list
from constructs_lib.catalog.instances import accelerators_per_copy, runs_on_cpu
from constructs_lib.errors import InvalidArgumentError
from constructs_lib.props import (
    AsyncInference,
    BacklogScaling,
    ComponentCompute,
    CopyScaling,
    InferenceComponent,
    InstanceScaling,
    ServerlessInference,
)
from constructs_lib.props.serving import SERVERLESS_MEMORY_SIZES, check_topic_arn
from constructs_lib.table.fields import (
    MISSING,
    Fields,
    did_you_mean,
    read_boolean,
    read_integer,
    read_positive_number,
    read_s3_uri,
    read_string,
)
from constructs_lib.table.model import ComponentRow, ServingMode
from constructs_lib.table.yaml_source import quote

# Keys of an endpoint row that only one mode takes, and keys a mode refuses.
MODE_KEYS: dict[str, tuple[str, ...]] = {
    "inference_components": ("components", "min_instances", "max_instances"),
    "async": ("async",),
    "serverless": ("serverless", "model_data"),
}
REFUSED_KEYS: dict[str, dict[str, str]] = {
    "inference_components": {
        "model": "each component names its model under `components:`",
        "accept_eula": "each component accepts its own model's EULA under `components:`",
        "environment": "give each component its `environment`",
        "autoscaling": "components scale their copies (`min_copies`/`max_copies`) and the endpoint its instances "
                       "(`min_instances`/`max_instances`)",
        "environment_overrides": "an endpoint hosting components keeps one instance type everywhere",
        "data_capture": "SageMaker captures data per endpoint variant, not per inference component",
    },
    "async": {
        "autoscaling": "an asynchronous endpoint scales on its backlog: `async.min_instances`/`max_instances`",
    },
    "serverless": {
        "instance_type": "serverless endpoints have no instances",
        "instance_count": "serverless endpoints have no instances",
        "environment_overrides": "serverless endpoints have no instances",
        "autoscaling": "serverless endpoints scale by themselves up to `serverless.max_concurrency`",
        "data_capture": "serverless endpoints take no data capture",
        "vpc": "serverless endpoints cannot attach to a VPC",
        "kms_key_arn": "serverless endpoints have no storage volume to encrypt and take no data capture",
    },
}
COMPONENT_KEYS = ("name", "model", "accept_eula", "copies", "min_copies", "max_copies",
                  "target_invocations_per_copy", "accelerators", "cpu_cores", "memory_mb", "environment")
ASYNC_KEYS = ("output_path", "failure_path", "success_topic", "error_topic",
              "max_concurrent_invocations_per_instance", "min_instances", "max_instances",
              "target_backlog_per_instance")
SERVERLESS_KEYS = ("memory_mb", "max_concurrency", "provisioned_concurrency")
MAX_COMPONENTS = 100
MAX_COPIES = 1000
MAX_INSTANCES = 1000


def check_mode_keys(row: Fields, serving: ServingMode) -> None:
    """Refuse, in one line, a key another mode takes or this mode cannot use."""
    for mode, keys in MODE_KEYS.items():
        for key in keys:
            if mode != serving and row.get(key) is not MISSING:
                row.fail(key, f"only for `serving: {mode}` (the row serves `{serving}`)")
    for key, why in REFUSED_KEYS.get(serving, {}).items():
        if row.get(key) is not MISSING:
            row.fail(key, f"not with `serving: {serving}`: {why}")
    if serving == "serverless" and row.get("network_isolation") is True:
        row.fail("network_isolation", "not with `serving: serverless`: serverless endpoints cannot isolate the "
                                      "container's network")


def _props(fields: Fields, field: str | None, build: Callable[[], Any]) -> Any:
    """Build a props value; its ``InvalidArgumentError`` becomes the field's one-line error."""
    try:
        return build()
    except InvalidArgumentError as error:
        fields.fail(field, str(error))


# -- inference components ----------------------------------------------------------------------------------

def read_components(
    row: Fields, catalog: Catalog, read_environment: Callable[[Fields], dict[str, str]],
) -> tuple[tuple[ComponentRow, ...], str, InstanceScaling]:
    """The components, the endpoint's instance type (default: the first component's model's), and its managed
    instance scaling. Every component's model must serve on that instance type."""
    value = row.get("components")
    if value is MISSING:
        row.fail("components", "required with `serving: inference_components`: list the models the endpoint "
                               "hosts (`- name: ..., model: ...`)")
    if not isinstance(value, list) or not value:
        row.fail("components", "expected a non-empty list of components (`- name: ..., model: ...`)")
    if len(value) > MAX_COMPONENTS:
        row.fail("components", f"expected at most {MAX_COMPONENTS} components, got {len(value)}")
    items = [row.child(f"components[{index}]", item, COMPONENT_KEYS, line=row.item_line("components", index))
             for index, item in enumerate(value)]
    specs = [_component_spec(item, catalog) for item in items]
    instance_type = read_string(row, "instance_type") or specs[0].default_instance_type or ""
    components: list[ComponentRow] = []
    names: set[str] = set()
    for item, spec in zip(items, specs, strict=True):
        if instance_type not in spec.supported_instance_types:
            where = "instance_type" if row.get("instance_type") is not MISSING else None
            item.fail("model", f"model {spec.model_id!r} does not serve on the endpoint's instance type "
                               f"{quote(instance_type)}{'' if where else ' (the first component model default)'}; "
                               f"it serves on: {supported_list(spec.supported_instance_types)}")
        component = _component(item, spec, instance_type, read_environment)
        if component.name.lower() in names:
            item.fail("name", f"duplicate component name {component.name!r} on this endpoint")
        names.add(component.name.lower())
        components.append(component)
    min_instances = read_integer(row, "min_instances", default=1, minimum=0, maximum=MAX_INSTANCES)
    max_instances = read_integer(row, "max_instances", default=max(1, min_instances,
                                                                   read_integer(row, "instance_count", default=1)),
                                 minimum=1, maximum=MAX_INSTANCES)
    scaling = _props(row, "max_instances",
                     lambda: InstanceScaling(min_instances=min_instances, max_instances=max_instances))
    return tuple(components), instance_type, scaling


def _component_spec(item: Fields, catalog: Catalog) -> ModelSpec:
    model = read_string(item, "model", required=True)
    try:
        return catalog.get(model)
    except CatalogError as error:
        item.fail("model", str(error))


def _component(
    item: Fields, spec: ModelSpec, instance_type: str, read_environment: Callable[[Fields], dict[str, str]],
) -> ComponentRow:
    name = read_string(item, "name", required=True)
    min_copies = read_integer(item, "min_copies", default=1, minimum=0, maximum=MAX_COPIES)
    copies = read_integer(item, "copies", default=max(1, min_copies), minimum=0, maximum=MAX_COPIES)
    max_copies = read_integer(item, "max_copies", default=max(copies, min_copies, 1), minimum=1, maximum=MAX_COPIES)
    scaled = max_copies > min_copies or item.get("target_invocations_per_copy") is not MISSING
    scaling = _props(item, "max_copies", lambda: CopyScaling(
        min_copies=min_copies, max_copies=max_copies,
        target_invocations_per_copy=read_positive_number(item, "target_invocations_per_copy", default=10.0),
    )) if scaled else None
    accelerators = read_integer(item, "accelerators", minimum=1, maximum=64)
    compute = _props(item, None, lambda: ComponentCompute(
        memory_mb=read_integer(item, "memory_mb", default=1024, minimum=128, maximum=4_000_000),
        accelerators=accelerators if accelerators is not None else accelerators_per_copy(spec, instance_type),
        cpu_cores=read_positive_number(item, "cpu_cores"),
    ))
    if spec.deploys_through_package:
        item.fail("model", f"model {spec.model_id!r} {spec.version} deploys only through a JumpStart model "
                           "package, which an inference component cannot name; serve it with `serving: instance`")
    props = _props(item, "copies", lambda: InferenceComponent(
        name=name, model=spec, accept_eula=read_boolean(item, "accept_eula"), copies=copies, compute=compute,
        scaling=scaling, environment=read_environment(item),
    ))
    return ComponentRow(props=props, model=spec.model_id if item.get("model") is MISSING else item.get("model"),
                        line=item.line)


# -- asynchronous --------------------------------------------------------------------------------------------

def read_async(row: Fields, instance_count: int) -> AsyncInference:
    block = row.nested("async", ASYNC_KEYS)
    if block is None:
        row.fail("async", "required with `serving: async`: give at least `async: {output_path: s3://...}`")
    min_instances = read_integer(block, "min_instances", default=0, minimum=0, maximum=MAX_INSTANCES)
    max_instances = read_integer(block, "max_instances", default=max(1, instance_count, min_instances), minimum=1,
                                 maximum=MAX_INSTANCES)
    scaling = _props(block, "max_instances", lambda: BacklogScaling(
        min_instances=min_instances, max_instances=max_instances,
        target_backlog_per_instance=read_positive_number(block, "target_backlog_per_instance", default=5.0),
    ))
    return _props(block, None, lambda: AsyncInference(
        output_path=read_s3_uri(block, "output_path", required=True),
        failure_path=read_s3_uri(block, "failure_path"),
        success_topic_arn=_topic(block, "success_topic"),
        error_topic_arn=_topic(block, "error_topic"),
        max_concurrent_invocations_per_instance=read_integer(
            block, "max_concurrent_invocations_per_instance", minimum=1, maximum=1000),
        scaling=scaling,
    ))


def _topic(block: Fields, field: str) -> str | None:
    value = read_string(block, field)
    if value is not None:
        _props(block, field, lambda: check_topic_arn(field, value))
    return value


# -- serverless --------------------------------------------------------------------------------------------

def read_serverless(row: Fields, spec: ModelSpec) -> tuple[ServerlessInference, str]:
    """The serverless settings and the compressed artifact; a gated model or one that needs a GPU is refused."""
    if spec.gated:
        row.fail("model", f"model {spec.display_name} is EULA-gated, and serverless endpoints cannot load "
                          "ModelDataSource, the only place acceptance can be given: serve it with `serving: "
                          "instance`, `inference_components` or `async`")
    if not runs_on_cpu(spec):
        row.fail("model", f"model {spec.model_id!r} needs an accelerator instance (it serves on "
                          f"{supported_list(spec.supported_instance_types)}), and serverless endpoints run on CPU "
                          "only: serve it with `serving: instance`, `inference_components` or `async`")
    if spec.deploys_through_package:
        row.fail("model", f"model {spec.model_id!r} deploys only through a model package, which serverless "
                          "endpoints cannot serve")
    block = row.nested("serverless", SERVERLESS_KEYS)
    memory = read_integer(block, "memory_mb", default=6144, minimum=1024, maximum=6144) if block else 6144
    if memory not in SERVERLESS_MEMORY_SIZES:
        assert block is not None
        block.fail("memory_mb", f"expected one of {', '.join(map(str, SERVERLESS_MEMORY_SIZES))}, got {memory}"
                                f"{did_you_mean(str(memory), [str(size) for size in SERVERLESS_MEMORY_SIZES])}")
    settings = _props(block or row, None, lambda: ServerlessInference(
        memory_mb=memory,
        max_concurrency=read_integer(block, "max_concurrency", default=5, minimum=1, maximum=200) if block else 5,
        provisioned_concurrency=read_integer(block, "provisioned_concurrency", minimum=1, maximum=200)
        if block else None,
    ))
    model_data = read_s3_uri(row, "model_data")
    if model_data is None or not model_data.endswith(".tar.gz"):
        row.fail("model_data", "required with `serving: serverless`: the S3 URI of the model's compressed "
                               "artifact (model.tar.gz): serverless endpoints load only ModelDataUrl, and the "
                               "catalog knows only uncompressed prefixes" + (f"; got {quote(model_data)}"
                                                                              if model_data else ""))
    return settings, model_data

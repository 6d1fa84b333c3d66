"""The model table as typed, validated data: what ``load_table`` returns and the stacks consume."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from constructs_lib.catalog import ModelSpec
from constructs_lib.errors import TableError
from constructs_lib.props import AsyncInference, InferenceComponent, InstanceScaling, ServerlessInference

FineTuningMethod = Literal["autopilot", "jumpstart-training"]
ServingMode = Literal["instance", "inference_components", "async", "serverless"]
SERVING_MODES: tuple[ServingMode, ...] = ("instance", "inference_components", "async", "serverless")
DEFAULT_SHARDS = 4  # stacks per target and kind; see constructs_lib/table/layout.py


@dataclass(frozen=True)
class Target:
    """One place rows deploy to. ``account`` None means an environment-agnostic account."""

    region: str
    account: str | None = None


@dataclass(frozen=True)
class Environment:
    """A named group of targets (``environments:`` in the table) that rows can target as a wave."""

    name: str
    targets: tuple[Target, ...]
    approval: bool
    line: int


@dataclass(frozen=True)
class Autoscaling:
    min_capacity: int
    max_capacity: int
    target_invocations_per_instance: float  # invocations per minute per instance


@dataclass(frozen=True)
class CapacityOverride:
    """Per-environment instance type/count of an endpoint row (None: keep the row's value)."""

    instance_type: str | None = None
    instance_count: int | None = None


@dataclass(frozen=True)
class VpcSettings:
    """``vpc:`` of a row: where SageMaker attaches the containers' network interfaces (``VpcConfig``)."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True)
class Controls:
    """The security controls of a row: its own ``kms_key_arn``, ``vpc`` and ``network_isolation``, else the
    table's ``defaults:``. None leaves the construct's default."""

    kms_key_arn: str | None = None
    vpc: VpcSettings | None = None
    network_isolation: bool | None = None

    def kms_key_arn_in(self, region: str) -> str | None:
        """The key to use in ``region``: the key itself, or a multi-region key's replica there (same key id; the
        loader allows a key of another region only when it is multi-region)."""
        if self.kms_key_arn is None:
            return None
        parts = self.kms_key_arn.split(":", 5)  # arn, partition, kms, region, account, key/<id>
        parts[3] = region
        return ":".join(parts)


@dataclass(frozen=True)
class DataCaptureSettings:
    """``data_capture:`` of an endpoint: requests and responses written to S3 (encrypted with the row's key)."""

    destination: str
    sampling_percentage: int = 100
    capture_input: bool = True
    capture_output: bool = True


@dataclass(frozen=True, kw_only=True)
class TableRow:
    """What every row has: a unique name, its catalog model, acceptance, and where it deploys."""

    name: str
    spec: ModelSpec = field(repr=False)
    accept_eula: bool | None
    regions: tuple[str, ...]  # the row's own or defaults.regions; empty when it targets environments
    environments: tuple[str, ...]
    line: int  # where the row starts in the table file
    controls: Controls = Controls()


@dataclass(frozen=True, kw_only=True)
class ComponentRow:
    """One model of an ``inference_components`` endpoint row (``components:``), resolved into the props of its
    construct; ``props.model`` is the catalog spec."""

    props: InferenceComponent
    model: str  # as written in the table
    line: int

    kind = "component"

    @property
    def name(self) -> str:
        return self.props.name

    @property
    def spec(self) -> ModelSpec:
        assert isinstance(self.props.model, ModelSpec)  # the loader resolves it
        return self.props.model

    @property
    def accept_eula(self) -> bool | None:
        return self.props.accept_eula


@dataclass(frozen=True, kw_only=True)
class EndpointRow(TableRow):
    """An endpoint row. For ``serving: inference_components`` its ``model``, ``spec`` and ``accept_eula`` are
    those of its first component (every component is checked on its own: ``served``)."""

    model: str  # as written in the table
    instance_type: str | None  # None for serverless
    instance_count: int = 1
    environment_overrides: Mapping[str, CapacityOverride] = field(default_factory=dict)
    autoscaling: Autoscaling | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    data_capture: DataCaptureSettings | None = None
    serving: ServingMode = "instance"
    components: tuple[ComponentRow, ...] = ()
    instance_scaling: InstanceScaling | None = None  # inference_components
    async_inference: AsyncInference | None = None
    serverless: ServerlessInference | None = None
    model_data: str | None = None  # serverless: the compressed artifact (ModelDataUrl)

    kind = "endpoint"

    @property
    def served(self) -> tuple[EndpointRow | ComponentRow, ...]:
        """What loads a model, each with its own ``spec``, ``accept_eula``, ``name`` and ``line``: the
        components of a shared endpoint, else the row itself."""
        return self.components or (self,)


@dataclass(frozen=True)
class DeployBlock:
    """``deploy:`` of a fine-tuning row: serve the fine-tuned weights (the user's own; no EULA needed)."""

    instance_type: str
    instance_count: int = 1
    autoscaling: Autoscaling | None = None
    data_capture: DataCaptureSettings | None = None


@dataclass(frozen=True, kw_only=True)
class FineTuningRow(TableRow):
    method: FineTuningMethod
    base_model: str  # as written in the table
    training_data: str
    output_path: str
    validation_data: str | None = None
    content_type: str | None = None  # autopilot only
    hyperparameters: Mapping[str, int | float | str] = field(default_factory=dict)
    instance_type: str | None = None  # jumpstart-training only: the training instance type
    max_runtime: int | None = None
    deploy: DeployBlock | None = None

    kind = "fine_tuning"


Row = EndpointRow | FineTuningRow


@dataclass(frozen=True)
class Placement:
    """One row resolved for one target: what a stack declares (instance settings after overrides)."""

    row: Row
    target: Target
    environment: str | None
    instance_type: str | None  # endpoint: serving type; jumpstart-training: training type; autopilot: None
    instance_count: int


@dataclass(frozen=True)
class ModelTable:
    source: str
    endpoints: tuple[EndpointRow, ...]
    fine_tuning: tuple[FineTuningRow, ...]
    environments: Mapping[str, Environment]
    default_regions: tuple[str, ...] = ()
    default_account: str | None = None
    shards: int = DEFAULT_SHARDS

    @property
    def rows(self) -> tuple[Row, ...]:
        return (*self.endpoints, *self.fine_tuning)

    def row(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def placements(self, environment: str | None = None) -> list[Placement]:
        """Every row resolved per target, in table order; ``environment`` keeps only that environment's."""
        if environment is not None and environment not in self.environments:
            raise TableError(
                f"{self.source}: unknown environment {environment!r}; the table defines: "
                f"{', '.join(self.environments) or 'none'}",
                source=self.source,
            )
        return [
            placement
            for row in self.rows
            for placement in self._placements_of(row)
            if environment is None or placement.environment == environment
        ]

    def _placements_of(self, row: Row) -> Iterator[Placement]:
        for environment, target in self.targets_of(row):
            instance_type, instance_count = _capacity(row, environment)
            yield Placement(row, target, environment, instance_type, instance_count)

    def targets_of(self, row: Row) -> list[tuple[str | None, Target]]:
        """(environment name or None, target) pairs a row deploys to."""
        if row.environments:
            return [(name, target) for name in row.environments for target in self.environments[name].targets]
        return [(None, Target(region, self.default_account)) for region in row.regions]


def _capacity(row: Row, environment: str | None) -> tuple[str | None, int]:
    if isinstance(row, FineTuningRow):
        return row.instance_type, 1
    override = row.environment_overrides.get(environment, CapacityOverride()) if environment else CapacityOverride()
    return (
        override.instance_type or row.instance_type,
        override.instance_count if override.instance_count is not None else row.instance_count,
    )

"""The props of the serving modes besides dedicated instances: inference components, asynchronous and serverless
endpoints.

Limits from the SageMaker API reference: ``ProductionVariantServerlessConfig`` (MemorySizeInMB 1024-6144 in 1 GB
steps, MaxConcurrency 1-200, ProvisionedConcurrency 1-200 and at most MaxConcurrency),
``AsyncInferenceClientConfig`` (MaxConcurrentInvocationsPerInstance 1-1000),
``InferenceComponentComputeResourceRequirements`` (MinMemoryRequiredInMb at least 128, NumberOfCpuCoresRequired
at least 0.25, NumberOfAcceleratorDevicesRequired at least 1), ``InferenceComponentRuntimeConfig`` (CopyCount at
least 0) and ``ProductionVariantManagedInstanceScaling`` (MinInstanceCount at least 0, MaxInstanceCount at least 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs_lib.aws_names import is_token, s3_uri_problem
from constructs_lib.errors import InvalidArgumentError
from constructs_lib.props.values import check_integer, check_number

if TYPE_CHECKING:
    from constructs_lib.catalog import ModelSpec

SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_SERVERLESS_CONCURRENCY = 200
MAX_ASYNC_CONCURRENCY = 1000
MIN_COMPONENT_MEMORY_MB = 128
MIN_COMPONENT_CPU_CORES = 0.25
COMPONENT_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}\Z")
SNS_TOPIC_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}\Z")


def _s3_uri(name: str, value: str | None) -> None:
    problem = None if value is None or is_token(value) else s3_uri_problem(value)
    if problem:
        raise InvalidArgumentError(f"{name} must be an S3 URI like s3://my-bucket/prefix/, got {value!r}: {problem}")


def check_topic_arn(name: str, value: str | None) -> None:
    if value is not None and not is_token(value) and not SNS_TOPIC_ARN_PATTERN.match(value):
        raise InvalidArgumentError(f"{name} must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), "
                                f"got {value!r}")


@dataclass(frozen=True, kw_only=True)
class InstanceScaling:
    """Managed instance scaling of an endpoint that hosts inference components: SageMaker adds and removes
    instances as the components' copies need them (``ManagedInstanceScaling``)."""

    max_instances: int
    """Most instances the endpoint scales out to (at least 1 and at least ``min_instances``)."""
    min_instances: int = 1
    """Fewest instances; 0 lets the endpoint scale to zero when every component has zero copies. Default: 1."""

    def __post_init__(self) -> None:
        check_integer("min_instances", self.min_instances, 0)
        check_integer("max_instances", self.max_instances, max(1, self.min_instances))


@dataclass(frozen=True, kw_only=True)
class CopyScaling:
    """Application Auto Scaling of a component's copy count (``sagemaker:inference-component:DesiredCopyCount``),
    by target tracking on invocations per copy. With ``min_copies`` 0 the component also gets the scale-out-from-
    zero policy AWS documents: a step scaling policy adding a copy when the ``NoCapacityInvocationFailures``
    alarm fires."""

    max_copies: int
    """Most copies (at least 1 and at least ``min_copies``)."""
    min_copies: int = 1
    """Fewest copies; 0 scales the component to zero when idle. Default: 1."""
    target_invocations_per_copy: float = 10.0
    """Average invocations per copy per minute that scaling aims for. Default: 10 (a generative model's copy
    serves a few requests at a time)."""
    scale_in_cooldown_seconds: int = 300
    """Seconds after a scale-in before another. Default: 300."""
    scale_out_cooldown_seconds: int = 60
    """Seconds after a scale-out before another. Default: 60."""

    def __post_init__(self) -> None:
        check_integer("min_copies", self.min_copies, 0)
        check_integer("max_copies", self.max_copies, max(1, self.min_copies))
        check_number("target_invocations_per_copy", self.target_invocations_per_copy)
        check_integer("scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0)
        check_integer("scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0)


@dataclass(frozen=True, kw_only=True)
class ComponentCompute:
    """What one copy of a component reserves on an instance (``ComputeResourceRequirements``)."""

    memory_mb: int = 1024
    """Memory reserved per copy, in MB (at least 128). Default: 1024."""
    accelerators: int | None = None
    """GPUs (or Neuron devices) per copy. Default: none (a CPU model)."""
    cpu_cores: float | None = None
    """CPU cores per copy (at least 0.25). Default: SageMaker's."""

    def __post_init__(self) -> None:
        check_integer("memory_mb", self.memory_mb, MIN_COMPONENT_MEMORY_MB)
        if self.accelerators is not None:
            check_integer("accelerators", self.accelerators, 1)
        if self.cpu_cores is not None:
            check_number("cpu_cores", self.cpu_cores, MIN_COMPONENT_CPU_CORES)


@dataclass(frozen=True, kw_only=True)
class InferenceComponent:
    """One model on an endpoint that hosts several: an ``AWS::SageMaker::Model`` (carrying the EULA acceptance of
    a gated model) and an ``AWS::SageMaker::InferenceComponent`` naming it."""

    name: str
    """The component's construct id and the suffix of its SageMaker name (letters, digits, hyphens)."""
    model: str | ModelSpec
    """A catalog ``ModelSpec``, or a JumpStart model id / Autopilot BaseModelName."""
    accept_eula: bool | None = None
    """Declares (True) or declines (False) the model's EULA on its Model's ``ModelAccessConfig``. Default: None,
    which declares nothing (a gated model then fails the EULA gate)."""
    copies: int = 1
    """Copies at creation (``RuntimeConfig.CopyCount``, at least 0). Default: 1."""
    compute: ComponentCompute | None = None
    """What each copy reserves. Default: from the catalog: the model's accelerator count for the endpoint's
    instance type where the catalog knows it (else every accelerator of the instance), and 1024 MB."""
    scaling: CopyScaling | None = None
    """Autoscaling of the copy count. Default: a fixed copy count."""
    environment: Mapping[str, str | int | float] = field(default_factory=dict)
    """Container environment overrides. Default: none."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not COMPONENT_NAME_PATTERN.match(self.name):
            raise InvalidArgumentError(f"component name must be 1 to 63 letters, digits and single hyphens, "
                                    f"got {self.name!r}")
        check_integer("copies", self.copies, 0)
        if self.scaling is not None and not self.scaling.min_copies <= self.copies <= self.scaling.max_copies:
            raise InvalidArgumentError(f"component {self.name!r}: copies ({self.copies}) must lie between "
                                    f"min_copies ({self.scaling.min_copies}) and max_copies "
                                    f"({self.scaling.max_copies})")


@dataclass(frozen=True, kw_only=True)
class BacklogScaling:
    """Autoscaling of an asynchronous endpoint on its queue: target tracking on
    ``ApproximateBacklogSizePerInstance``, and, with ``min_instances`` 0, the scale-out-from-zero policy AWS
    documents (a step scaling policy adding an instance when the ``HasBacklogWithoutCapacity`` alarm fires)."""

    max_instances: int
    """Most instances (at least 1 and at least ``min_instances``)."""
    min_instances: int = 0
    """Fewest instances; 0 (the default) scales to zero on an empty queue."""
    target_backlog_per_instance: float = 5.0
    """Queued requests per instance that scaling aims for. Default: 5."""
    scale_in_cooldown_seconds: int = 600
    """Seconds after a scale-in before another. Default: 600 (long generations)."""
    scale_out_cooldown_seconds: int = 300
    """Seconds after a scale-out before another. Default: 300 (an instance takes minutes to start)."""

    def __post_init__(self) -> None:
        check_integer("min_instances", self.min_instances, 0)
        check_integer("max_instances", self.max_instances, max(1, self.min_instances))
        check_number("target_backlog_per_instance", self.target_backlog_per_instance)
        check_integer("scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0)
        check_integer("scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0)


@dataclass(frozen=True, kw_only=True)
class AsyncInference:
    """An asynchronous endpoint (``AsyncInferenceConfig``): requests are queued, read from S3, and answered in
    S3, with optional SNS notifications."""

    output_path: str
    """S3 URI SageMaker writes responses under."""
    failure_path: str | None = None
    """S3 URI SageMaker writes error responses under. Default: none (errors only in the output's place)."""
    success_topic_arn: str | None = None
    """SNS topic told of each success. Default: none."""
    error_topic_arn: str | None = None
    """SNS topic told of each failure. Default: none."""
    max_concurrent_invocations_per_instance: int | None = None
    """Requests one instance works on at once (1-1000). Default: SageMaker's choice."""
    scaling: BacklogScaling | None = None
    """Autoscaling on the backlog. Default: a fixed instance count."""

    def __post_init__(self) -> None:
        if self.output_path is None:
            raise InvalidArgumentError("async output_path is required (the S3 URI responses are written under)")
        _s3_uri("async output_path", self.output_path)
        _s3_uri("async failure_path", self.failure_path)
        check_topic_arn("async success_topic_arn", self.success_topic_arn)
        check_topic_arn("async error_topic_arn", self.error_topic_arn)
        if self.max_concurrent_invocations_per_instance is not None:
            check_integer("max_concurrent_invocations_per_instance", self.max_concurrent_invocations_per_instance, 1,
                     MAX_ASYNC_CONCURRENCY)


@dataclass(frozen=True, kw_only=True)
class ServerlessInference:
    """A serverless endpoint (``ServerlessConfig``): no instances, billed per request's compute time. Serverless
    endpoints run on CPU only, take no VPC, network isolation or data capture, and cannot load a model through
    ``ModelDataSource``, so they cannot serve an EULA-gated model."""

    memory_mb: int = 6144
    """Memory of each worker, 1024 to 6144 MB in 1024 MB steps. Default: 6144 (language models are large)."""
    max_concurrency: int = 5
    """Concurrent invocations (1-200). Default: 5."""
    provisioned_concurrency: int | None = None
    """Warm workers kept ready (1 to ``max_concurrency``). Default: none (cold starts after idle periods)."""

    def __post_init__(self) -> None:
        if self.memory_mb not in SERVERLESS_MEMORY_SIZES or isinstance(self.memory_mb, bool):
            raise InvalidArgumentError(f"serverless memory_mb must be one of "
                                    f"{', '.join(map(str, SERVERLESS_MEMORY_SIZES))}, got {self.memory_mb!r}")
        check_integer("serverless max_concurrency", self.max_concurrency, 1, MAX_SERVERLESS_CONCURRENCY)
        if self.provisioned_concurrency is not None:
            check_integer("serverless provisioned_concurrency", self.provisioned_concurrency, 1, self.max_concurrency)

"""The props of a real-time endpoint that are values, not constructs: target-tracking autoscaling of its
variant and the capture of its traffic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_lib.aws_names import is_token, split_s3_uri
from constructs_lib.errors import InvalidArgumentError
from constructs_lib.props.values import check_integer, check_number

if TYPE_CHECKING:  # a type only: the model table builds these props without starting jsii
    from aws_cdk import aws_kms as kms


@dataclass(frozen=True, kw_only=True)
class EndpointAutoScaling:
    """Target-tracking autoscaling of the endpoint's variant on invocations per instance.

    Application Auto Scaling keeps the instance count between ``min_capacity`` and ``max_capacity`` (it moves
    an initial ``instance_count`` outside that range into it).
    """

    max_capacity: int
    """Most instances the variant scales out to (at least ``min_capacity``)."""
    target_invocations_per_instance: float
    """Average invocations per instance per minute that scaling aims for (greater than 0)."""
    min_capacity: int = 1
    """Fewest instances the variant scales in to. Default: 1."""
    scale_in_cooldown_seconds: int = 300
    """Seconds after a scale-in before another scale-in. Default: 300."""
    scale_out_cooldown_seconds: int = 60
    """Seconds after a scale-out before another scale-out. Default: 60."""

    def __post_init__(self) -> None:
        for name in ("min_capacity", "max_capacity", "scale_in_cooldown_seconds", "scale_out_cooldown_seconds"):
            check_integer(f"autoscaling {name}", getattr(self, name), 1 if name.endswith("capacity") else 0)
        if self.min_capacity > self.max_capacity:
            raise InvalidArgumentError(
                f"autoscaling min_capacity {self.min_capacity} exceeds max_capacity {self.max_capacity}"
            )
        check_number("autoscaling target_invocations_per_instance", self.target_invocations_per_instance)


@dataclass(frozen=True, kw_only=True)
class DataCapture:
    """Capture of the endpoint's requests and responses to S3 (for model monitoring)."""

    destination: str
    """S3 URI under which SageMaker writes the captured data (``s3://bucket/prefix``)."""
    sampling_percentage: int = 100
    """Percentage of requests captured, 0 to 100. Default: 100."""
    capture_input: bool = True
    """Capture request payloads. Default: True."""
    capture_output: bool = True
    """Capture response payloads. Default: True."""
    kms_key: kms.IKey | None = None
    """Key SageMaker encrypts the captured data with. Default: the bucket's encryption."""

    def __post_init__(self) -> None:
        if not is_token(self.destination):
            split_s3_uri(self.destination, what="data capture destination")
        check_integer("data capture sampling_percentage", self.sampling_percentage, 0, 100)
        if not (self.capture_input or self.capture_output):
            raise InvalidArgumentError("data capture must capture the input, the output or both")

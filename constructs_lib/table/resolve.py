"""A placed table row resolved into the keyword props of the construct that declares it, once, here: the stack
only creates constructs (``stacks/table_stack.py``). Pure Python: the props are ``constructs_lib.props`` values.

- an endpoint row: ``JumpStartEndpoint`` (real-time, asynchronous or serverless) or, for ``serving:
  inference_components``, ``InferenceComponentEndpoint``;
- a fine-tuning row: its job (``AutoMLFineTuningJob`` or ``JumpStartFineTuningJob``) and, with ``deploy:``, the
  ``FineTunedEndpoint`` of its output, less the job outputs the stack wires in (``model_data``, ``image_uri``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from constructs_lib.catalog.autopilot import DEFAULT_AUTOPILOT_CONTENT_TYPE
from constructs_lib.props import DataCapture, EndpointAutoScaling, VpcPlacement
from constructs_lib.table.model import (
    Autoscaling,
    Controls,
    DataCaptureSettings,
    EndpointRow,
    FineTuningRow,
    Placement,
)

EndpointConstruct = Literal["JumpStartEndpoint", "InferenceComponentEndpoint"]
JobConstruct = Literal["AutoMLFineTuningJob", "JumpStartFineTuningJob"]


@dataclass(frozen=True)
class EndpointProps:
    construct: EndpointConstruct
    props: dict[str, Any]


@dataclass(frozen=True)
class FineTuningProps:
    job_construct: JobConstruct
    job: dict[str, Any]
    endpoint: dict[str, Any] | None  # FineTunedEndpoint's props without model_data and image_uri


def endpoint_props(placement: Placement) -> EndpointProps:
    row = placement.row
    assert isinstance(row, EndpointRow)
    region = placement.target.region
    if row.serving == "inference_components":
        return EndpointProps("InferenceComponentEndpoint", {
            "components": [component.props for component in row.components],
            "instance_type": placement.instance_type,
            "instance_count": placement.instance_count,
            "instance_scaling": row.instance_scaling,
            **control_props(row.controls, region),
        })
    props: dict[str, Any] = {
        "model": row.spec,
        "accept_eula": row.accept_eula,
        "environment": dict(row.environment) or None,
    }
    if row.serving == "serverless":  # no instances, no controls (the loader refuses them): docs/serving-modes.md
        return EndpointProps("JumpStartEndpoint", {
            **props, "serverless": row.serverless, "model_data_url": row.model_data, "network_isolation": False,
        })
    return EndpointProps("JumpStartEndpoint", {
        **props,
        "instance_type": placement.instance_type,
        "instance_count": placement.instance_count,
        "autoscaling": autoscaling_props(row.autoscaling),
        "async_inference": row.async_inference,
        **serving_controls(row.controls, row.data_capture, region),
    })


def fine_tuning_props(placement: Placement) -> FineTuningProps:
    row = placement.row
    assert isinstance(row, FineTuningRow)
    region = placement.target.region
    job: dict[str, Any] = {
        "accept_eula": row.accept_eula,
        "training_data": row.training_data,
        "output_path": row.output_path,
        "validation_data": row.validation_data,
        "hyperparameters": dict(row.hyperparameters) or None,
        "max_runtime": row.max_runtime,
        "wait_for_completion": row.deploy is not None,  # serving the result needs the job's output
        **control_props(row.controls, region),
    }
    construct: JobConstruct
    if row.method == "autopilot":
        construct = "AutoMLFineTuningJob"
        job.update(base_model=row.spec, content_type=row.content_type or DEFAULT_AUTOPILOT_CONTENT_TYPE)
    else:
        construct = "JumpStartFineTuningJob"
        job.update(model=row.spec, instance_type=placement.instance_type)
    endpoint = None
    if row.deploy is not None:
        endpoint = {
            "base_model": row.spec,
            "instance_type": row.deploy.instance_type,
            "instance_count": row.deploy.instance_count,
            "autoscaling": autoscaling_props(row.deploy.autoscaling),
            **serving_controls(row.controls, row.deploy.data_capture, region),
        }
    return FineTuningProps(construct, job, endpoint)


def control_props(controls: Controls, region: str) -> dict[str, Any]:
    """The construct props of a row's controls in one region, as endpoints and jobs both name them (absent
    controls leave the construct's defaults)."""
    props: dict[str, Any] = {}
    if controls.kms_key_arn is not None:
        props["kms_key_arn"] = controls.kms_key_arn_in(region)
    if controls.vpc is not None:
        props["vpc"] = VpcPlacement(
            subnet_ids=controls.vpc.subnet_ids, security_group_ids=controls.vpc.security_group_ids)
    if controls.network_isolation is not None:
        props["network_isolation"] = controls.network_isolation
    return props


def serving_controls(controls: Controls, capture: DataCaptureSettings | None, region: str) -> dict[str, Any]:
    """The endpoint props of a row's controls and data capture."""
    props = control_props(controls, region)
    if capture is not None:
        props["data_capture"] = DataCapture(
            destination=capture.destination,
            sampling_percentage=capture.sampling_percentage,
            capture_input=capture.capture_input,
            capture_output=capture.capture_output,
        )
    return props


def autoscaling_props(autoscaling: Autoscaling | None) -> EndpointAutoScaling | None:
    if autoscaling is None:
        return None
    return EndpointAutoScaling(
        min_capacity=autoscaling.min_capacity,
        max_capacity=autoscaling.max_capacity,
        target_invocations_per_instance=autoscaling.target_invocations_per_instance,
    )

"""One stack of a model table: the rows of one kind and shard for one target.

Each row's constructs take the row name as their construct id, directly under the stack, so logical ids derive
from the row name only: adding, removing or reordering other rows never renames a resource.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from constructs_lib.catalog import CatalogError
from constructs_lib.catalog.autopilot import DEFAULT_AUTOPILOT_CONTENT_TYPE
from constructs_lib.constructs.jobs.automl import AutoMLFineTuningJob
from constructs_lib.constructs.jobs.training import JumpStartFineTuningJob
from constructs_lib.constructs.placement import VpcPlacement
from constructs_lib.constructs.serving.components import InferenceComponentEndpoint
from constructs_lib.constructs.serving.finetuned import FineTunedEndpoint
from constructs_lib.constructs.serving.jumpstart import DataCapture, EndpointAutoScaling, JumpStartEndpoint
from constructs_lib.rules.sources import SOURCE_METADATA, source_metadata
from constructs_lib.table import (
    Autoscaling,
    Controls,
    DataCaptureSettings,
    EndpointRow,
    FineTuningRow,
    Placement,
    Row,
    TableError,
)
from constructs_lib.table.layout import StackPlan

# The L1 resources of a row's constructs that the EULA rules read, besides the jobs' custom resources.
READ_BY_RULES = (sagemaker.CfnModel, sagemaker.CfnModelPackage, sagemaker.CfnInferenceComponent,
                 sagemaker.CfnEndpointConfig)


class ModelTableStack(cdk.Stack):
    """Declares the rows of one ``StackPlan``: a ``JumpStartEndpoint`` per endpoint row (real-time, asynchronous or
    serverless) or an ``InferenceComponentEndpoint`` for ``serving: inference_components``; per fine-tuning row a
    construct named after the row holding the ``Job`` and, with ``deploy:``, its fine-tuned ``Endpoint``."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: StackPlan, source: str, **kwargs: Any) -> None:
        target = plan.target
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=target.account, region=target.region),
            description=f"EulaGate: {plan.kind} of model table {source} (shard {plan.shard})",
            **kwargs,
        )
        self.plan = plan
        for placement in plan.placements:
            try:
                if isinstance(placement.row, EndpointRow):
                    self._add_endpoint(placement, placement.row)
                else:
                    self._add_fine_tuning(placement, placement.row)
                _record_row_sources(self.node.find_child(placement.row.name), placement.row, source)
            except (ValueError, CatalogError) as error:  # a construct refused the row's props: name the row
                row = placement.row
                raise TableError(
                    f"{source}:{row.line}: {row.kind} '{row.name}' ({target.region}): {error}",
                    source=source, line=row.line,
                ) from None

    def _add_endpoint(self, placement: Placement, row: EndpointRow) -> None:
        region = placement.target.region
        if row.serving == "inference_components":
            InferenceComponentEndpoint(
                self, row.name,
                components=[component.props for component in row.components],
                instance_type=placement.instance_type,
                instance_count=placement.instance_count,
                instance_scaling=row.instance_scaling,
                **control_props(row.controls, region),
            )
            return
        if row.serving == "serverless":
            JumpStartEndpoint(
                self, row.name, model=row.spec, accept_eula=row.accept_eula,
                environment=dict(row.environment) or None,
                serverless=row.serverless, model_data_url=row.model_data, network_isolation=False,
            )
            return
        JumpStartEndpoint(
            self,
            row.name,
            model=row.spec,
            instance_type=placement.instance_type,
            instance_count=placement.instance_count,
            accept_eula=row.accept_eula,
            environment=dict(row.environment) or None,
            autoscaling=_autoscaling(row.autoscaling),
            async_inference=row.async_inference,
            **serving_controls(row, row.data_capture, region),
        )

    def _add_fine_tuning(self, placement: Placement, row: FineTuningRow) -> None:
        # A parent named after the row keeps the job's logical id when a `deploy:` block comes or goes.
        parent = Construct(self, row.name)
        wait = row.deploy is not None  # serving the result needs the job's output
        job: AutoMLFineTuningJob | JumpStartFineTuningJob
        props: dict[str, Any] = dict(
            accept_eula=row.accept_eula,
            training_data=row.training_data,
            output_path=row.output_path,
            validation_data=row.validation_data,
            hyperparameters=dict(row.hyperparameters) or None,
            max_runtime=row.max_runtime,
            wait_for_completion=wait,
            **control_props(row.controls, placement.target.region),
        )
        if row.method == "autopilot":
            job = AutoMLFineTuningJob(
                parent, "Job", base_model=row.spec, content_type=row.content_type or DEFAULT_AUTOPILOT_CONTENT_TYPE,
                **props,
            )
        else:
            job = JumpStartFineTuningJob(parent, "Job", model=row.spec, instance_type=placement.instance_type, **props)
        if row.deploy is None:
            return
        model_data, image_uri = (
            (job.best_candidate_model_data, job.best_candidate_image)
            if isinstance(job, AutoMLFineTuningJob)
            else (job.model_data, job.inference_image)
        )
        FineTunedEndpoint(
            parent,
            "Endpoint",
            model_data=model_data,
            image_uri=image_uri,
            base_model=row.spec,
            instance_type=row.deploy.instance_type,
            instance_count=row.deploy.instance_count,
            autoscaling=_autoscaling(row.deploy.autoscaling),
            **serving_controls(row, row.deploy.data_capture, placement.target.region),
        )


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


def serving_controls(row: Row, capture: DataCaptureSettings | None, region: str) -> dict[str, Any]:
    """The endpoint props of a row's controls and data capture."""
    props = control_props(row.controls, region)
    if capture is not None:
        props["data_capture"] = DataCapture(
            destination=capture.destination,
            sampling_percentage=capture.sampling_percentage,
            capture_input=capture.capture_input,
            capture_output=capture.capture_output,
        )
    return props


def _record_row_sources(row_construct: IConstruct, row: Row, source: str) -> None:
    """Each component of a shared endpoint records its own line (a finding names the component's row), the rest
    of the row the row's line."""
    components = row.components if isinstance(row, EndpointRow) else ()
    for component in components:
        _record_row_source(row_construct.node.find_child(component.name), source, component.line)
    named = {component.name for component in components}
    for child in row_construct.node.children:
        if child.node.id not in named:
            _record_row_source(child, source, row.line)


def _record_row_source(row_construct: IConstruct, source: str, line: int) -> None:
    """The resources of a row that rules read (models, custom resources) record the row's file and line, so
    `eulagate check` (and code scanning) reports a finding at the row to change, not in the generated template.
    Only those: one jsii call per resource is the cost, and no finding is ever on another resource."""
    metadata = source_metadata(source, line)
    for construct in row_construct.node.find_all():
        if isinstance(construct, READ_BY_RULES) or type(construct) is cdk.CfnResource:  # custom resources
            construct.add_metadata(SOURCE_METADATA, metadata)


def _autoscaling(autoscaling: Autoscaling | None) -> EndpointAutoScaling | None:
    if autoscaling is None:
        return None
    return EndpointAutoScaling(
        min_capacity=autoscaling.min_capacity,
        max_capacity=autoscaling.max_capacity,
        target_invocations_per_instance=autoscaling.target_invocations_per_instance,
    )

"""One stack of a model table: the rows of one kind and shard for one target.

Each row arrives resolved into its constructs' props (``constructs_lib.table.resolve``); the stack only creates
the constructs and wires a fine-tuning job's output into its endpoint. Each row's constructs take the row name as
their construct id, directly under the stack, so logical ids derive from the row name only: adding, removing or
reordering other rows never renames a resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from constructs_lib.catalog import CatalogError
from constructs_lib.constructs.jobs.automl import AutoMLFineTuningJob
from constructs_lib.constructs.jobs.training import JumpStartFineTuningJob
from constructs_lib.constructs.serving.components import InferenceComponentEndpoint
from constructs_lib.constructs.serving.finetuned import FineTunedEndpoint
from constructs_lib.constructs.serving.jumpstart import JumpStartEndpoint
from constructs_lib.rules.detection.sources import SOURCE_METADATA, source_metadata
from constructs_lib.table import EndpointRow, Placement, Row, TableError
from constructs_lib.table.layout import StackPlan
from constructs_lib.table.resolve import endpoint_props, fine_tuning_props

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
                    self._add_endpoint(placement)
                else:
                    self._add_fine_tuning(placement)
                _record_row_sources(self.node.find_child(placement.row.name), placement.row, source)
            except (ValueError, CatalogError) as error:  # a construct refused the row's props: name the row
                row = placement.row
                raise TableError(
                    f"{source}:{row.line}: {row.kind} '{row.name}' ({target.region}): {error}",
                    source=source, line=row.line,
                ) from None

    def _add_endpoint(self, placement: Placement) -> None:
        resolved = endpoint_props(placement)
        ENDPOINT_CONSTRUCTS[resolved.construct](self, placement.row.name, **resolved.props)

    def _add_fine_tuning(self, placement: Placement) -> None:
        resolved = fine_tuning_props(placement)
        # A parent named after the row keeps the job's logical id when a `deploy:` block comes or goes.
        parent = Construct(self, placement.row.name)
        job = JOB_CONSTRUCTS[resolved.job_construct](parent, "Job", **resolved.job)
        if resolved.endpoint is None:
            return
        model_data, image_uri = (
            (job.best_candidate_model_data, job.best_candidate_image)
            if isinstance(job, AutoMLFineTuningJob)
            else (job.model_data, job.inference_image)
        )
        FineTunedEndpoint(parent, "Endpoint", model_data=model_data, image_uri=image_uri, **resolved.endpoint)


ENDPOINT_CONSTRUCTS: dict[str, Callable[..., Construct]] = {
    "JumpStartEndpoint": JumpStartEndpoint, "InferenceComponentEndpoint": InferenceComponentEndpoint,
}
JOB_CONSTRUCTS: dict[str, Callable[..., AutoMLFineTuningJob | JumpStartFineTuningJob]] = {
    "AutoMLFineTuningJob": AutoMLFineTuningJob, "JumpStartFineTuningJob": JumpStartFineTuningJob,
}


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


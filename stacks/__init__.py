"""The stacks that deploy a model table: per target, endpoint and fine-tuning stacks, sharded by row name.

``add_table_stacks(scope, table)`` is what ``app.py`` (and the deployment pipeline, per environment) calls. The
layout itself (which row lands in which stack) is pure Python in ``constructs_lib.table.layout``, so
``eulagate plan`` shows the same stacks without jsii.
"""

from stacks.guard_stack import GuardRolloutStack, GuardStack, add_guard_stacks, guard_requested
from stacks.pipeline import PipelineStack, add_pipeline_stack, pipeline_requested
from stacks.table_stack import ModelTableStack
from stacks.table_stacks import SYNTHESIZERS, add_table_stacks, synthesizer_for

__all__ = [
    "SYNTHESIZERS", "GuardRolloutStack", "GuardStack", "ModelTableStack", "PipelineStack", "add_guard_stacks",
    "add_pipeline_stack", "add_table_stacks", "guard_requested", "pipeline_requested", "synthesizer_for",
]

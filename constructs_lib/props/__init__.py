"""Construct props as plain, jsii-free values: what the model table resolves a row into (``table/``) and the
constructs take (``constructs/``), so a row's settings are translated once.

Keyword-only frozen dataclasses; each checks its own values and raises ``InvalidArgumentError`` (a
``ValueError``), which a construct re-raises with its path.
"""

from constructs_lib.props.endpoint import DataCapture, EndpointAutoScaling
from constructs_lib.props.placement import VpcPlacement
from constructs_lib.props.serving import (
    AsyncInference,
    BacklogScaling,
    ComponentCompute,
    CopyScaling,
    InferenceComponent,
    InstanceScaling,
    ServerlessInference,
)

__all__ = [
    "AsyncInference",
    "BacklogScaling",
    "ComponentCompute",
    "CopyScaling",
    "DataCapture",
    "EndpointAutoScaling",
    "InferenceComponent",
    "InstanceScaling",
    "ServerlessInference",
    "VpcPlacement",
]

"""EulaGate: CDK constructs, a JumpStart catalog and an EULA rule engine for SageMaker LLMs.

Importing this package is cheap: the catalog, the rule engine and the CLI are pure Python, and the CDK
constructs (which start jsii) load on first use of their names.

Importing it changes no global state but one environment default, ``NODE_BANNER_VARIABLE``: jsii prints an 11-line
"Node 20 is end-of-life" banner to stderr each time it starts (every ``cdk synth`` of an app) unless that variable
names the Node major version. The project runs on Node 20 (README), so a user's own app that imports
``constructs_lib`` before ``aws_cdk`` gets no banner. A value the user set is kept.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

__version__ = "0.2.0"

# jsii's name for it; the jsii runtime starts when aws_cdk is first imported and inherits the environment then.
NODE_BANNER_VARIABLE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
SUPPORTED_NODE_MAJOR = "20"
os.environ.setdefault(NODE_BANNER_VARIABLE, SUPPORTED_NODE_MAJOR)

# Public name -> module that defines it; each module is imported on first access.
_LAZY_EXPORTS = {
    "Catalog": "constructs_lib.catalog",
    "ModelSpec": "constructs_lib.catalog",
    "UnknownModelError": "constructs_lib.catalog",
    "EulaGateError": "constructs_lib.errors",
    "InputError": "constructs_lib.errors",
    "InvalidArgumentError": "constructs_lib.errors",
    "ConstructError": "constructs_lib.errors",
    "ConstructValidationError": "constructs_lib.errors",
    "JobNotAwaitedError": "constructs_lib.errors",
    "install_one_line_errors": "constructs_lib.constructs.one_line_errors",
    "Finding": "constructs_lib.rules",
    "check_template": "constructs_lib.rules",
    "EulaGate": "constructs_lib.synth.gate",
    "EulaChecks": "constructs_lib.synth.nag",
    "JumpStartEndpoint": "constructs_lib.constructs.serving.jumpstart",
    "EndpointAutoScaling": "constructs_lib.props",
    "DataCapture": "constructs_lib.props",
    "FineTunedEndpoint": "constructs_lib.constructs.serving.finetuned",
    "AutoMLFineTuningJob": "constructs_lib.constructs.jobs.automl",
    "FineTuningJobProps": "constructs_lib.constructs.jobs.base",
    "VpcPlacement": "constructs_lib.props",
    "JumpStartFineTuningJob": "constructs_lib.constructs.jobs.training",
    "EulaGuardHook": "constructs_lib.constructs.guard_hook",
    "InferenceComponentEndpoint": "constructs_lib.constructs.serving.components",
    "ImportedEndpoint": "constructs_lib.constructs.serving.access",
    "InferenceComponent": "constructs_lib.props",
    "ComponentCompute": "constructs_lib.props",
    "CopyScaling": "constructs_lib.props",
    "InstanceScaling": "constructs_lib.props",
    "AsyncInference": "constructs_lib.props",
    "BacklogScaling": "constructs_lib.props",
    "ServerlessInference": "constructs_lib.props",
}

__all__ = sorted(_LAZY_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _LAZY_EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value

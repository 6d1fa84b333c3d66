"""The one list of SageMaker API calls whose request the rules read, and every spelling of their names.

A request is named in many casings, depending on who sends it (facts from the AWS API reference and the SDKs'
naming conventions):

- the API's own name, as an SSM Automation ``aws:executeAwsApi`` step spells it: ``CreateModel``;
- the JavaScript SDK v2 method and CDK's ``AwsCustomResource`` ``action``: ``createModel``;
- the JavaScript SDK v3 command: ``CreateModelCommand``;
- boto3's method: ``create_model`` (``create_auto_ml_job_v2``);
- Step Functions' optimized integration ``arn:aws:states:::sagemaker:createModel`` (``.sync``,
  ``.waitForTaskToken``), its SDK integration ``arn:aws:states:::aws-sdk:sagemaker:createModel``, and
  EventBridge Scheduler's universal target ``arn:aws:scheduler:::aws-sdk:sagemaker:createModel``.

Every place detection compares a name goes through ``request_kind`` (an action name), ``integration_action``
(a Step Functions or Scheduler ARN) or ``is_sagemaker_service`` (an SDK client's name).
"""

from __future__ import annotations

import re

from constructs_lib.patterns import compile_on_use

CREATE_MODEL = "CreateModel"
CREATE_MODEL_PACKAGE = "CreateModelPackage"
CREATE_INFERENCE_COMPONENT = "CreateInferenceComponent"
CREATE_ENDPOINT_CONFIG = "CreateEndpointConfig"  # a serverless variant cannot carry acceptance
CREATE_AUTOML_JOB_V2 = "CreateAutoMLJobV2"
CREATE_TRAINING_JOB = "CreateTrainingJob"

# API name -> the kind of request its parameters are. UpdateInferenceComponent carries a whole Specification
# (its container's ArtifactUrl) as CreateInferenceComponent does.
_API_KINDS = {
    "CreateModel": CREATE_MODEL,
    "CreateModelPackage": CREATE_MODEL_PACKAGE,
    "CreateInferenceComponent": CREATE_INFERENCE_COMPONENT,
    "UpdateInferenceComponent": CREATE_INFERENCE_COMPONENT,
    "CreateEndpointConfig": CREATE_ENDPOINT_CONFIG,
    "CreateAutoMLJobV2": CREATE_AUTOML_JOB_V2,
    "CreateTrainingJob": CREATE_TRAINING_JOB,
}
# SageMaker calls that may carry a request without being one (a tuning job's training definitions, a transform
# job's model): read by the shape of what they send.
_CALLS_READ_BY_SHAPE = ("CreateHyperParameterTuningJob", "CreateTransformJob")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


# Every Step Functions task Resource and Scheduler target ARN that calls one of them, in every partition: what an
# ARN known only in part (a DefinitionSubstitutions parameter) is matched against.
SAGEMAKER_TASK_ARNS = tuple(
    f"arn:{partition}:states:::{service}{_lower_camel(name)}{suffix}" for partition in PARTITIONS
    for service in ("sagemaker:", "aws-sdk:sagemaker:") for name in (*_API_KINDS, *_CALLS_READ_BY_SHAPE)
    for suffix in ("", ".sync"))
SCHEDULER_SAGEMAKER_ARNS = tuple(
    f"arn:{partition}:scheduler:::aws-sdk:sagemaker:{_lower_camel(name)}" for partition in PARTITIONS
    for name in (*_API_KINDS, *_CALLS_READ_BY_SHAPE))


def _folded(name: str) -> str:
    """One spelling for every casing: lower case, without underscores or an SDK v3 ``Command`` suffix."""
    name = name.strip()
    if name.endswith("Command"):
        name = name[: -len("Command")]
    return name.replace("_", "").lower()


_KINDS_BY_FOLDED_NAME = {_folded(name): kind for name, kind in _API_KINDS.items()}

# arn:<partition>:states:::sagemaker:<action>[.sync|.waitForTaskToken][:<version>],
# arn:<partition>:states:::aws-sdk:sagemaker:<action>[...], arn:<partition>:scheduler:::aws-sdk:sagemaker:<action>.
# The partition may be any text, a token included (``arn:${AWS::Partition}:...``).
_INTEGRATION = compile_on_use(
    r"\Aarn:[^:]*:(?P<service>states|scheduler):::(?P<sdk>aws-sdk:)?sagemaker:(?P<action>[A-Za-z0-9_]+)"
    r"(?:\.(?:sync|waitForTaskToken))?(?::\d+)?\Z", re.IGNORECASE)

_ACTION = compile_on_use(r"sagemaker:([A-Za-z0-9_]+)", re.IGNORECASE)


def request_kind(action: object) -> str | None:
    """The kind of request a SageMaker action's parameters are, in any of the SDKs' spellings, or ``None``."""
    return _KINDS_BY_FOLDED_NAME.get(_folded(action)) if isinstance(action, str) else None


def integration_action(resource: object, service: str = "states") -> str | None:
    """``sagemaker:createModel`` (or ``aws-sdk:sagemaker:createModel``) of a Step Functions task's ``Resource``
    (``service="states"``) or a Scheduler target's ``Arn`` (``service="scheduler"``), when it calls SageMaker."""
    if not isinstance(resource, str):
        return None
    match = _INTEGRATION.match(resource.strip())
    if match is None or match.group("service").lower() != service:
        return None
    if service == "scheduler" and not match.group("sdk"):
        return None  # Scheduler's universal targets are SDK integrations only
    return resource.strip().split(":::", 1)[1]


def action_of(integration: str) -> str:
    """``createModel`` of ``sagemaker:createModel.sync`` or ``aws-sdk:sagemaker:createModel``."""
    match = _ACTION.search(integration)
    return match.group(1) if match else integration


def is_sagemaker_service(service: object) -> bool:
    """An SDK client's name for SageMaker: ``SageMaker`` (v2, boto3 ``sagemaker``), ``@aws-sdk/client-sagemaker``
    or ``client-sagemaker`` (v3)."""
    if not isinstance(service, str):
        return False
    name = service.strip().lower()
    return name.removeprefix("@aws-sdk/").removeprefix("client-") == "sagemaker"

"""Where a template asks SageMaker to deploy or fine-tune a model: the requests the rules read.

A request is recognised by its shape (the API's own PascalCase keys), wherever it is written: a SageMaker
resource's properties; anywhere in a custom resource's properties (our job constructs, any Lambda-backed
custom resource, CDK's ``AwsCustomResource`` whose SDK call is a JSON string); or the parameters of a Step
Functions task that calls SageMaker (optimized ``sagemaker:`` or ``aws-sdk:sagemaker:`` integrations).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from constructs_lib.rules.intrinsics import ABSENT, Reader, TemplateContext

CREATE_MODEL = "CreateModel"
CREATE_MODEL_PACKAGE = "CreateModelPackage"
CREATE_INFERENCE_COMPONENT = "CreateInferenceComponent"
CREATE_AUTOML_JOB_V2 = "CreateAutoMLJobV2"
CREATE_TRAINING_JOB = "CreateTrainingJob"

SAGEMAKER_RESOURCE_KINDS = {
    "AWS::SageMaker::Model": CREATE_MODEL,
    "AWS::SageMaker::ModelPackage": CREATE_MODEL_PACKAGE,
    "AWS::SageMaker::InferenceComponent": CREATE_INFERENCE_COMPONENT,
}
STATE_MACHINE_TYPES = frozenset({"AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine"})
CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"

# A string is parsed as JSON only when it mentions one of these (lower-cased) request keys.
_REQUEST_WORDS = ("automlproblemtypeconfig", "algorithmspecification", "primarycontainer", "containers",
                  "inferencespecification")
_MAX_WALK_DEPTH = 40
_STATE_MACHINE_INTEGRATION = ":states:::"


@dataclass(frozen=True)
class Subject:
    """One request in one resource, read afresh under each choice of conditions."""

    kind: str
    source: Any  # the request, or the JSON-holding value (string, Fn::Join, Fn::Sub, object) that contains it
    path: str  # where the request sits in the resource, e.g. "Properties" or "Properties.Create[JSON].parameters"
    inner: tuple[str | int, ...] = ()  # keys from the parsed JSON document down to the request
    json_source: bool = False
    substitutions: Any = None  # a state machine's DefinitionSubstitutions
    via: str | None = None  # how the request is sent, e.g. "Step Functions task 'Train' (sagemaker:...)"
    exact_keys: bool = False  # a CloudFormation resource type's properties: keys only as its schema spells them

    def request(self, reader: Reader) -> Any:
        if not self.json_source:
            return self.source
        document = reader.parse_json(self.source, self.substitutions)
        for key in self.inner:
            if isinstance(key, int):
                document = document[key] if isinstance(document, list) and key < len(document) else ABSENT
            else:
                document = document.get(key, ABSENT) if isinstance(document, dict) else ABSENT
        return document


def _has(mapping: Mapping[str, Any], key: str) -> bool:
    return key in mapping or f"{key}.$" in mapping or (key[:1].lower() + key[1:]) in mapping


def request_kind(mapping: Mapping[str, Any]) -> str | None:
    """The SageMaker API a mapping is a request of, by its keys."""
    if _has(mapping, "AutoMLProblemTypeConfig"):
        return CREATE_AUTOML_JOB_V2
    if _has(mapping, "AlgorithmSpecification"):  # CreateTrainingJob, or a tuning job's TrainingJobDefinition
        return CREATE_TRAINING_JOB
    if _has(mapping, "PrimaryContainer") or (
        _has(mapping, "Containers") and (_has(mapping, "ExecutionRoleArn") or _has(mapping, "ModelName"))
    ):
        return CREATE_MODEL
    if _has(mapping, "InferenceSpecification") or _has(mapping, "AdditionalInferenceSpecifications"):
        return CREATE_MODEL_PACKAGE
    if _has(mapping, "Specification") and _has(mapping, "EndpointName"):
        return CREATE_INFERENCE_COMPONENT
    return None


def _mentions_request(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _REQUEST_WORDS)


def _json_literals(value: Any) -> Iterator[str]:
    """The literal text of a string, ``Fn::Join`` or ``Fn::Sub`` (to decide cheaply whether to parse it)."""
    if isinstance(value, str):
        yield value
        return
    name, argument = next(iter(value.items()))
    if name == "Fn::Sub":
        argument = argument[0] if isinstance(argument, list) and argument else argument
        if isinstance(argument, str):
            yield argument
    elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
        yield from (item for item in argument[1] if isinstance(item, str))


def _is_json_text(value: Any) -> bool:
    if isinstance(value, str):
        return value.lstrip()[:1] == "{" and _mentions_request(value)
    return (isinstance(value, dict) and len(value) == 1 and ("Fn::Join" in value or "Fn::Sub" in value)
            and any(_mentions_request(text) for text in _json_literals(value)))


def _call_description(document: Any) -> str | None:
    """``SageMaker.createAutoMLJobV2``: the SDK call of an AwsCustomResource ``Create``/``Update`` document."""
    if isinstance(document, dict) and isinstance(document.get("action"), str):
        service = document.get("service")
        return f"SDK call {service}.{document['action']}" if isinstance(service, str) else None
    return None


def _walk_document(value: Any, inner: tuple[str | int, ...], path: str, depth: int = 0
                   ) -> Iterator[tuple[str, tuple[str | int, ...], str]]:
    """``(kind, keys, display path)`` of each request in a parsed JSON document."""
    if depth > _MAX_WALK_DEPTH:
        return
    if isinstance(value, dict):
        kind = request_kind(value)
        if kind is not None:
            yield kind, inner, path
            return
        for key, child in value.items():
            yield from _walk_document(child, (*inner, key), f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk_document(child, (*inner, index), f"{path}[{index}]", depth + 1)


def _walk_properties(value: Any, path: str, context: TemplateContext, depth: int = 0) -> Iterator[Subject]:
    """Each request in a custom resource's properties, including JSON strings that hold one."""
    if depth > _MAX_WALK_DEPTH:
        return
    if _is_json_text(value):
        document = Reader(context).parse_json(value)
        via = _call_description(document)
        for kind, inner, inner_path in _walk_document(document, (), ""):
            yield Subject(kind, value, f"{path}[JSON]{inner_path}", inner, json_source=True, via=via)
    elif isinstance(value, dict):
        found = request_kind(value)
        if found is not None:
            yield Subject(found, value, path)
            return
        for key, child in value.items():
            if key != "ServiceToken":
                yield from _walk_properties(child, f"{path}.{key}", context, depth + 1)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk_properties(child, f"{path}[{index}]", context, depth + 1)


def _task_states(container: Any, inner: tuple[str | int, ...], depth: int = 0
                 ) -> Iterator[tuple[str, Mapping[str, Any], tuple[str | int, ...]]]:
    """``(name, state, keys)`` of every Task state, inside Parallel branches and Map processors too."""
    states = container.get("States") if isinstance(container, dict) else None
    if not isinstance(states, dict) or depth > _MAX_WALK_DEPTH:
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        keys = (*inner, "States", name)
        if state.get("Type") == "Task":
            yield name, state, keys
        for index, branch in enumerate(state.get("Branches") or ()):
            yield from _task_states(branch, (*keys, "Branches", index), depth + 1)
        for processor in ("Iterator", "ItemProcessor"):
            yield from _task_states(state.get(processor), (*keys, processor), depth + 1)


def sagemaker_integration(resource: Any) -> str | None:
    """``sagemaker:createTrainingJob.sync`` of a task's ``Resource``, when it calls SageMaker."""
    if not isinstance(resource, str):
        return None
    index = resource.find(_STATE_MACHINE_INTEGRATION)
    if index < 0:
        return None
    integration = resource[index + len(_STATE_MACHINE_INTEGRATION):]
    return integration if integration.startswith(("sagemaker:", "aws-sdk:sagemaker:")) else None


def state_machine_subjects(properties: Mapping[str, Any], context: TemplateContext) -> Iterator[Subject]:
    key = "DefinitionString" if "DefinitionString" in properties else "Definition"
    definition = properties.get(key)
    if definition is None:
        return
    substitutions = properties.get("DefinitionSubstitutions")
    reader = Reader(context)
    document = reader.parse_json(definition, substitutions)
    where = f"Properties.{key}[JSON]" if key == "DefinitionString" else f"Properties.{key}"
    for name, state, keys in _task_states(document, ()):
        # A Definition object may hold intrinsics (Fn::Sub for the partition): read the Resource through them.
        integration = sagemaker_integration(reader.render(state.get("Resource", ABSENT)))
        if integration is None:
            continue
        via = f"Step Functions task '{name}' ({context.display(integration)})"
        for argument_key in ("Parameters", "Arguments"):
            inner = (*keys, argument_key)
            display = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in inner)
            for kind, request_keys, request_path in _walk_document(state.get(argument_key), inner, display):
                yield Subject(kind, definition, f"{where}{request_path}", request_keys,
                              json_source=True, substitutions=substitutions, via=via)


def custom_resource_subjects(properties: Mapping[str, Any], context: TemplateContext) -> Iterator[Subject]:
    yield from _walk_properties(properties, "Properties", context)


Extractor = Callable[[Mapping[str, Any], TemplateContext], Iterator[Subject]]


def subject_extractor(resource_type: str) -> Extractor | None:
    """How to find requests in a resource of this type, or ``None`` when no rule applies to it."""
    kind = SAGEMAKER_RESOURCE_KINDS.get(resource_type)
    if kind is not None:
        return lambda properties, _context: iter((Subject(kind, properties, "Properties", exact_keys=True),))
    if resource_type.startswith("Custom::") or resource_type == CUSTOM_RESOURCE_TYPE:
        return custom_resource_subjects
    if resource_type in STATE_MACHINE_TYPES:
        return state_machine_subjects
    return None

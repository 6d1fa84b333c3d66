"""Where a template asks SageMaker to deploy or fine-tune a model: the requests the rules read.

A request is recognised by its shape (the API's own PascalCase keys), wherever it is written:

- a SageMaker resource's properties (``AWS::SageMaker::Model``, ``ModelPackage``, ``InferenceComponent``);
- anywhere in a custom resource's properties (our job constructs, any Lambda-backed custom resource, CDK's
  ``AwsCustomResource`` whose SDK call is a JSON string), every request of a property bag, not only the first;
- the parameters of a Step Functions task that calls SageMaker (``sagemaker:`` or ``aws-sdk:sagemaker:``);
- the steps of a SageMaker pipeline (``AWS::SageMaker::Pipeline``'s ``PipelineDefinitionBody``);
- an EventBridge Scheduler universal target (``arn:aws:scheduler:::aws-sdk:sagemaker:<action>``'s ``Input``);
- an SSM Automation document's ``aws:executeAwsApi`` steps that call SageMaker;
- the resources of a template held inline in a StackSet (``TemplateBody``), read as a template of its own.

What the template does not show (a definition kept in S3, a StackSet's ``TemplateURL``, a definition from a
parameter) is a ``NOT_SHOWN`` subject, what it shows but cannot be read (malformed JSON) an ``UNREADABLE`` one:
neither passes silently. A resource of a type no extractor knows is read for JumpStart artifact locations
(``STRAY_ARTIFACTS``): a gated one there is a warning, since nothing shows it is deployed with acceptance.
"""

import functools
import json
import marshal
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.detection.decoding import (
    DECODED,
    Undecodable,
    decode,
    decode_further,
    follow,
    looks_like_document,
    looks_like_yaml_block,
)
from constructs_lib.rules.detection.request_names import (
    CREATE_AUTOML_JOB_V2,
    CREATE_ENDPOINT_CONFIG,
    CREATE_INFERENCE_COMPONENT,
    CREATE_MODEL,
    CREATE_MODEL_PACKAGE,
    CREATE_TRAINING_JOB,
    SAGEMAKER_TASK_ARNS,
    SCHEDULER_SAGEMAKER_ARNS,
    action_of,
    integration_action,
    is_sagemaker_service,
    request_kind,
)
from constructs_lib.rules.detection.template_text import TemplateTextError, parse_template_text, parse_yaml_text
from constructs_lib.rules.evaluation.reader import Reader, readings
from constructs_lib.rules.evaluation.values import (
    ABSENT,
    DeploymentFails,
    TemplateContext,
    has_tokens,
    is_intrinsic,
    is_portable,
    key_spellings,
    parameter_values,
    scalar_text,
    token_pattern,
)

UNREADABLE = "Unreadable"  # a definition the template holds but the engine cannot read
NOT_SHOWN = "NotShown"  # a definition kept outside the template (S3, a parameter)
STRAY_ARTIFACTS = "StrayArtifacts"  # values of a resource type no extractor knows

SAGEMAKER_RESOURCE_KINDS = {
    "AWS::SageMaker::Model": CREATE_MODEL,
    "AWS::SageMaker::ModelPackage": CREATE_MODEL_PACKAGE,
    "AWS::SageMaker::InferenceComponent": CREATE_INFERENCE_COMPONENT,
    "AWS::SageMaker::EndpointConfig": CREATE_ENDPOINT_CONFIG,  # a serverless variant cannot carry acceptance
}
STATE_MACHINE_TYPES = frozenset({"AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine"})
CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"
PIPELINE_TYPE = "AWS::SageMaker::Pipeline"
SCHEDULE_TYPE = "AWS::Scheduler::Schedule"
STACK_SET_TYPE = "AWS::CloudFormation::StackSet"
SSM_DOCUMENT_TYPE = "AWS::SSM::Document"
NESTED_STACK_TYPES = frozenset({"AWS::CloudFormation::Stack", "AWS::Serverless::Application"})
# Types whose properties cannot hand a model artifact to anything that loads it: IAM policies name S3 objects by
# ARN, never by s3:// location; endpoints name configurations (which name models, whose resources hold the
# artifacts); logs, topics, queues, keys and buckets hold no object location to load. Skipping them keeps the
# scan of unknown types off the common path.
_INERT_TYPE_PREFIXES = ("AWS::IAM::", "AWS::CDK::Metadata", "AWS::SageMaker::Endpoint", "AWS::Logs::",
                        "AWS::SNS::", "AWS::SQS::", "AWS::KMS::", "AWS::S3::Bucket")

_JSON_ESCAPE = compile_on_use(r"\\u([0-9a-fA-F]{4})")
_MAX_WALK_DEPTH = 40
TOO_DEEP = f"is nested more than {_MAX_WALK_DEPTH} levels deep, deeper than EulaGate reads"
Guards = tuple[tuple[str, bool], ...]  # Fn::If branches: (condition, the branch taken when it is true)
_MAX_NESTED_TEMPLATES = 3  # a StackSet's template holding a StackSet whose template holds one ...
# SageMaker pipeline step types whose Arguments are one request of a known API.
_PIPELINE_STEP_KINDS = {
    "Training": CREATE_TRAINING_JOB,
    "CreateModel": CREATE_MODEL,
    "Model": CREATE_MODEL,
    "RegisterModel": CREATE_MODEL_PACKAGE,
}


class Subject(NamedTuple):  # a NamedTuple: one is made per request read, cheaper than a frozen dataclass
    """One request in one resource, read afresh under each choice of conditions."""

    kind: str
    source: Any  # the request, or the JSON-holding value (string, Fn::Join, Fn::Sub, object) that contains it
    path: str  # where the request sits in the resource, e.g. "Properties" or "Properties.Create[JSON].parameters"
    inner: tuple[str | int, ...] = ()  # keys from the parsed JSON document down to the request
    json_source: bool = False
    substitutions: Any = None  # a state machine's DefinitionSubstitutions
    via: str | None = None  # how the request is sent, e.g. "Step Functions task 'Train' (sagemaker:...)"
    exact_keys: bool = False  # a CloudFormation resource type's properties: keys only as its schema spells them
    # How the service reads run-time expressions in the request (a ``runtime_values`` rewrite).
    rewrite: Callable[[Any, TemplateContext], Any] | None = None
    context: TemplateContext | None = None  # the template the request is written in, when not the resource's own
    condition: str | None = None  # the Condition of its resource in that template (a StackSet's inner resource)
    # How the service computes the request from the whole document and the keys down to it (Step Functions
    # passes values from state to state); used instead of following ``inner`` and ``rewrite``.
    flow: Callable[[Any, tuple[str | int, ...], Reader], Any] | None = None
    # The Fn::If branches the request is written in: (condition, branch taken when it is true); the request is
    # sent only in the readings that take every one of them.
    guards: Guards = ()

    def request(self, reader: Reader) -> Any:
        if self.guards and not all(reader.choose(condition) is taken for condition, taken in self.guards):
            return ABSENT
        if not self.json_source:
            document = self.source
        else:
            document = decode_further(reader.parse_json(self.source, self.substitutions))
            if self.flow is not None:
                return self.flow(document, self.inner, reader)
            document = follow(document, self.inner)
        return self.rewrite(document, reader.context) if self.rewrite is not None else document


class Unread(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    """A part of a resource the engine cannot read (the request of an ``UNREADABLE``/``NOT_SHOWN`` subject)."""

    location: str  # the property, e.g. "Properties.DefinitionString"
    why: str  # completes "<location> ...": "is not JSON (line 1 column 2: ...)", "names a definition kept in S3"
    holds: str  # what it would hold: "the state machine's definition"
    unknown: bool = False  # an unknown that ``strict`` makes an error (a nested stack's template not read)
    fix: str | None = None  # what to do instead of writing it inline


class Found(NamedTuple):
    """A request found in a parsed document: its kind, the keys down to it and where it is displayed; for an
    ``UNREADABLE`` part, why it cannot be read; the ``Fn::If`` branches it is written in."""

    kind: str
    keys: tuple[str | int, ...]
    path: str
    why: str = ""
    guards: Guards = ()


def _branches(value: Any) -> tuple[tuple[Any, Guards], tuple[Any, Guards]] | None:
    """The two branches of an ``Fn::If`` written as an object (a request chosen whole by a condition), each with
    the guard that takes it; ``None`` for any other value."""
    if type(value) is dict and len(value) == 1:
        arguments = value.get("Fn::If")
        if isinstance(arguments, list) and len(arguments) == 3 and isinstance(arguments[0], str):
            return (arguments[1], ((arguments[0], True),)), (arguments[2], ((arguments[0], False),))
    return None


# The keys without one of which no mapping is a request (request_kinds): most mappings walked hold none.
_REQUEST_KEY_NAMES = ("AutoMLProblemTypeConfig", "AlgorithmSpecification", "PrimaryContainer", "Containers",
                      "InferenceSpecification", "AdditionalInferenceSpecifications", "SourceAlgorithmSpecification",
                      "Specification")
# What a text, or a part of a request, must mention (lower-cased, without "_") to be looked into for a request:
# its keys, less those holding a shorter one ("specification", an inference component's own key, is in three).
_REQUEST_WORDS = tuple(word for word in map(str.lower, _REQUEST_KEY_NAMES)
                       if not any(other != word and other in word for other in map(str.lower, _REQUEST_KEY_NAMES)))
# A request key as written: itself, then its other spellings (Step Functions' ``Key.$``, lowerCamel, snake_case).
_KEY_SPELLINGS = {key: (key, *key_spellings(key))
                  for key in (*_REQUEST_KEY_NAMES, "ExecutionRoleArn", "ModelName", "EndpointName")}
_REQUEST_KEYS = frozenset(spelling for key in _REQUEST_KEY_NAMES for spelling in _KEY_SPELLINGS[key])
_REQUEST_KEY_SPELLED = {spelling: key for key in _REQUEST_KEY_NAMES for spelling in _KEY_SPELLINGS[key]}


def _has(mapping: Mapping[str, Any], key: str) -> bool:
    spellings = _KEY_SPELLINGS[key]
    return (spellings[0] in mapping or spellings[1] in mapping or spellings[2] in mapping
            or spellings[3] in mapping)


def request_kinds(mapping: Mapping[str, Any]) -> list[str]:
    """Every SageMaker API a mapping is a request of, by its keys (one property bag may hold several)."""
    kinds: list[str] = []
    if _REQUEST_KEYS.isdisjoint(mapping):
        return kinds
    # The request keys it has, each looked up once (in C) rather than in each of its spellings.
    keys = set(map(_REQUEST_KEY_SPELLED.__getitem__, _REQUEST_KEYS.intersection(mapping)))
    if "AutoMLProblemTypeConfig" in keys:
        kinds.append(CREATE_AUTOML_JOB_V2)
    if "AlgorithmSpecification" in keys:  # CreateTrainingJob, or a tuning job's TrainingJobDefinition
        kinds.append(CREATE_TRAINING_JOB)
    if "PrimaryContainer" in keys or (
        "Containers" in keys and (_has(mapping, "ExecutionRoleArn") or _has(mapping, "ModelName"))
    ):
        kinds.append(CREATE_MODEL)
    if ("InferenceSpecification" in keys or "AdditionalInferenceSpecifications" in keys
            or "SourceAlgorithmSpecification" in keys):
        kinds.append(CREATE_MODEL_PACKAGE)
    if "Specification" in keys and _has(mapping, "EndpointName"):
        kinds.append(CREATE_INFERENCE_COMPONENT)
    return kinds


def _mentions_request(text: str) -> bool:
    if "\\u" in text:  # JSON may spell a key with escapes (\u0050rimaryContainer): read them as its parser will
        text = _JSON_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    lowered = text.lower().replace("_", "")  # snake_case keys (primary_container) too
    # A loop: any() would resume a generator, or call a method-wrapper through map, per word (both measurably
    # slower on every part of a custom resource request looked into).
    for word in _REQUEST_WORDS:  # noqa: SIM110 (see above)
        if word in lowered:
            return True
    return False


# A part of each request word that the bytes ``marshal`` writes hold wherever its repr holds the word (see
# ``_part_mentions_request``): not a first letter that an escape in ``repr`` may write (``\x1a`` before "utoml...",
# ``\x0c`` before "ontainers"). "specification" is in two words, "ontainer" in two.
_MARSHALLED_REQUEST_WORDS = (b"utomlproblemtypeconfig", b"specification", b"ontainer")
# A value marshal writes in at most this many bytes nests at most half as deep (two bytes a level at least): too
# shallow for its repr to exceed the recursion limit, so repr would not have failed.
_SHALLOW_MARSHAL_BYTES = 1000


def _part_mentions_request(value: Any) -> bool:
    """``_mentions_request(repr(value))``, asked of the parts of every request in a custom resource: mostly
    decided from ``marshal``'s bytes, three times cheaper than ``repr``.

    Those bytes hold each string's (and bytes object's) text as written, ASCII letters and ``_`` as themselves,
    escaping nothing. Without a backslash among them, every backslash in the repr begins an escape that ``repr``
    wrote (``\\u`` decoding turns those back into the character), and a word in the repr is a run of letters and
    ``_`` inside one string: its characters written as they are, after at most a first letter that ends such an
    escape (a hex digit a-f, or n, r, t, x). No non-ASCII character lower-cases into one of these words (only
    K, the Kelvin sign, and İ lower-case to ASCII letters). So when the lower-cased bytes, without ``_``, hold
    none of ``_MARSHALLED_REQUEST_WORDS``, the repr holds no request word; otherwise the repr is looked at.
    """
    try:
        data = marshal.dumps(value)
    except ValueError:  # an object marshal does not write (a YAML tag's), or nesting deeper than it goes
        return _mentions_request(repr(value))
    if len(data) > _SHALLOW_MARSHAL_BYTES or data.find(b"\\") >= 0:
        return _mentions_request(repr(value))
    lowered = data.lower().replace(b"_", b"")
    for word in _MARSHALLED_REQUEST_WORDS:  # a loop, not any(): see _mentions_request
        if lowered.find(word) >= 0:
            return _mentions_request(repr(value))
    return False


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


def _is_document_text(value: Any) -> bool:
    """A string (or ``Fn::Join``/``Fn::Sub``) written as a JSON object or array, whatever words it holds."""
    if isinstance(value, str):
        return looks_like_document(value)
    if not (isinstance(value, dict) and len(value) == 1 and ("Fn::Join" in value or "Fn::Sub" in value)):
        return False
    literals = list(_json_literals(value))
    return bool(literals) and literals[0].lstrip()[:1] in ("{", "[")


def _parse_document(reader: Reader, value: Any, substitutions: Any = None) -> tuple[Any, str | None]:
    """``(document, None)`` for readable JSON, ``(ABSENT, None)`` when the value is unknown before deployment
    (a parameter, an attribute), ``(ABSENT, why)`` for text that is not JSON."""
    if isinstance(value, dict) and not is_intrinsic(value) and not substitutions:
        return value, None
    text = reader.json_text(value, substitutions)
    if text is None or _is_dynamic_reference(reader, text):
        return ABSENT, None
    try:
        return decode_further(json.loads(text)), None
    except json.JSONDecodeError as error:
        return ABSENT, f"is not JSON (line {error.lineno} column {error.colno}: {error.msg})"
    except RecursionError:
        return ABSENT, "is JSON nested too deeply to read"
    except Undecodable as error:  # JSON text holding a document's text that cannot be read
        return ABSENT, f"holds a JSON string that {error}"


def _is_dynamic_reference(reader: Reader, text: str) -> bool:
    """Text that is one dynamic reference (``{{resolve:ssm:/name}}``): resolved at deployment, so unknown here."""
    if not text.lstrip().startswith("{{resolve:"):
        return False
    rendered = reader.render(text)
    return rendered is not None and len(rendered.strip()) == 1 and has_tokens(rendered)


def _unwrap_to_json_string(reader: Reader, value: Any) -> Any:
    """``Fn::ToJsonString`` of an object is that object's JSON: read the object itself."""
    value = reader.pick(value)
    if isinstance(value, dict) and list(value) == ["Fn::ToJsonString"]:
        inner = reader.pick(value["Fn::ToJsonString"])
        if isinstance(inner, dict | list) and not is_intrinsic(inner):
            return inner
    return value


def _unread(kind: str, location: str, why: str, holds: str) -> Subject:
    return Subject(kind, Unread(location, why, holds), location)


def _read_document(reader: Reader, value: Any, location: str, holds: str) -> tuple[Any, Subject | None]:
    """A JSON-holding property read as a document, or the subject that says why it cannot be read."""
    if value is ABSENT:
        return ABSENT, None
    document, problem = _parse_document(reader, value)
    if problem is not None:
        return ABSENT, _unread(UNREADABLE, location, problem, holds)
    if document is ABSENT:
        return ABSENT, _unread(NOT_SHOWN, location, "is known only at deployment", holds)
    return document, None


def _call_description(document: Any) -> str | None:
    """``SageMaker.createAutoMLJobV2``: the SDK call of an AwsCustomResource ``Create``/``Update`` document."""
    if isinstance(document, dict) and isinstance(document.get("action"), str):
        service = document.get("service")
        return f"SDK call {service}.{document['action']}" if isinstance(service, str) else None
    return None


def _named_call(mapping: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(kind, parameters key)`` of an SDK call written as ``{service, action, parameters}`` (CDK's
    ``AwsCustomResource``, in any of the SDKs' spellings) whose action is a request the rules read."""
    kind = request_kind(mapping.get("action"))
    if kind is None or not is_sagemaker_service(mapping.get("service")):
        return None
    key = next((key for key in ("parameters", "Parameters") if key in mapping), None)
    return (kind, key) if key is not None else None


def _decodes(text: str) -> bool:
    try:
        decode(text)
    except Undecodable:
        return False  # reported where the walk reaches the text
    return True


def _json_subject(found: Found, source: Any, path: str, **details: Any) -> Subject:
    """The subject of a request found in a JSON document (an ``UNREADABLE`` one where the walk had to stop)."""
    if found.kind == UNREADABLE:
        return _unread(UNREADABLE, path, found.why or TOO_DEEP, "a SageMaker request")._replace(
            via=details.get("via"), guards=found.guards)
    return Subject(found.kind, source, path, found.keys, json_source=True, guards=found.guards, **details)


def _walk_document(value: Any, inner: tuple[str | int, ...], path: str, depth: int = 0, named: str | None = None,
                   inside: bool = False, guards: Guards = ()) -> Iterator[Found]:
    """Each request in a parsed JSON document, nested ones and ones encoded as text inside it included; where it
    is nested too deeply to walk on and mentions a request key, or holds text that looks like a document but
    cannot be read, ``UNREADABLE``: never a silent stop. ``named``: the kind the value is known to be a request
    of by its name (found once, not again by its shape). ``inside``: the value is a field of a request, which
    the rules judge as a value (an unreadable text there is not acceptance), not a place that holds one.
    ``guards``: the ``Fn::If`` branches the value is written in (a request there is sent only when they are taken).
    """
    if depth > _MAX_WALK_DEPTH:
        if _mentions_request(repr(value)):
            yield Found(UNREADABLE, inner, path, guards=guards)
        return
    branches = _branches(value)
    if branches is not None:  # a request chosen whole: what the value is named, each branch is too
        for index, (branch, guard) in enumerate(branches, start=1):
            yield from _walk_document(branch, (*inner, "Fn::If", index), f"{path}.Fn::If[{index}]", depth + 1,
                                      named, inside, guards + guard)
    elif isinstance(value, dict):
        call = _named_call(value)
        if call is not None:
            parameters = value[call[1]]
            if not isinstance(parameters, str):
                yield Found(call[0], (*inner, call[1]), f"{path}.{call[1]}", guards=guards)
            elif looks_like_document(parameters) and _decodes(parameters):  # parameters encoded as JSON text
                yield Found(call[0], (*inner, call[1], DECODED), f"{path}.{call[1]}[JSON]", guards=guards)
        kinds = request_kinds(value)
        for kind in kinds:
            if kind != named:
                yield Found(kind, inner, path, guards=guards)
        inside = inside or bool(kinds) or call is not None or named is not None
        for key, child in value.items():
            yield from _walk_document(child, (*inner, key), f"{path}.{key}", depth + 1,
                                      call[0] if call is not None and key == call[1] else None, inside, guards)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk_document(child, (*inner, index), f"{path}[{index}]", depth + 1, None, inside, guards)
    elif isinstance(value, str) and looks_like_document(value):
        try:
            document = decode(value)
        except Undecodable as error:
            if not inside:
                yield Found(UNREADABLE, inner, path, str(error), guards)
            return
        yield from _walk_document(document, (*inner, DECODED), f"{path}[JSON]", depth + 1, named, inside, guards)


def _walk_properties(value: Any, path: str, reader: Reader, found: list[Subject], depth: int = 0,
                     inside: bool = False) -> None:
    """Each request in a custom resource's properties, including JSON strings that hold one, added to ``found``
    (a list, not a generator: a frame per part walked is most of the walk's cost). ``inside``: as for
    ``_walk_document``."""
    if depth > _MAX_WALK_DEPTH:
        if _mentions_request(repr(value)):
            found.append(_unread(UNREADABLE, path, TOO_DEEP, "a SageMaker request"))
        return
    if type(value) is not dict or len(value) == 1:  # else neither Fn::If nor Fn::Join/Fn::Sub: the common case
        branches = _branches(value)
        if branches is not None:  # each branch's requests are sent only in the readings that take it
            for index, (branch, guard) in enumerate(branches, start=1):
                guarded: list[Subject] = []
                _walk_properties(branch, f"{path}.Fn::If[{index}]", reader, guarded, depth + 1, inside)
                found.extend(subject._replace(guards=guard + subject.guards) for subject in guarded)
            return
        if _is_document_text(value):
            document, problem = _parse_document(reader, value)
            if problem is not None:
                if not inside:
                    found.append(_unread(UNREADABLE, path, problem, "a SageMaker request"))
                return
            via = _call_description(document)
            found.extend(_json_subject(request, value, f"{path}[JSON]{request.path}", via=via)
                         for request in _walk_document(document, (), "", inside=inside))
            return
    if isinstance(value, dict):
        call = _named_call(value) if "action" in value else None  # no action, no call
        if call is not None:
            parameters = value[call[1]]
            if isinstance(parameters, dict):
                found.append(Subject(call[0], parameters, f"{path}.{call[1]}", via=_call_description(value)))
            elif _is_document_text(parameters) and _parse_document(reader, parameters)[1] is None:
                # Parameters given as JSON text: the same subject the walk of that text finds by shape.
                found.append(Subject(call[0], parameters, f"{path}.{call[1]}[JSON]", json_source=True,
                                     via=_call_description(value)))
        kinds = request_kinds(value)
        for kind in kinds:
            found.append(Subject(kind, value, path))
        # Inside a request, only a part that mentions a request key can hold another (repr looks in C). Most
        # requests' parts mention none: one look at all of them (each part's repr is a piece of the list's, and
        # no key spans two pieces) spares a look at each.
        parts_mention = bool(kinds) and _part_mentions_request([
            child for key, child in value.items() if key != "ServiceToken" and not isinstance(child, str)])
        inside = inside or bool(kinds) or call is not None
        for key, child in value.items():
            if key == "ServiceToken" or (isinstance(child, str) and depth < _MAX_WALK_DEPTH and _plain(child)):
                continue
            if not kinds or isinstance(child, str) or (parts_mention and _part_mentions_request(child)):
                _walk_properties(child, f"{path}.{key}", reader, found, depth + 1, inside)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if not (isinstance(child, str) and depth < _MAX_WALK_DEPTH and _plain(child)):
                _walk_properties(child, f"{path}[{index}]", reader, found, depth + 1, inside)
    elif isinstance(value, str) and looks_like_yaml_block(value):
        found.extend(_yaml_block_subjects(value, path, inside))


def _plain(text: str) -> bool:
    """Text that is neither a document (its first character, after white space, opens none) nor a YAML block (it
    has one line): most property values, decided without the walk's look at them."""
    return "\n" not in text and not (text[:1] in '{["' or text[:1].isspace())


def _yaml_block_subjects(text: str, path: str, inside: bool) -> Iterator[Subject]:
    """The requests in a custom resource property written as a YAML block (its handler may load it as one). Text
    YAML cannot read is prose, not a document, unless it names a request key: then it is reported."""
    try:
        document = parse_yaml_text(text)
    except TemplateTextError as error:
        if not inside and _mentions_request(text):
            yield _unread(UNREADABLE, path, f"looks like YAML but cannot be read ({error})", "a SageMaker request")
        return
    if not isinstance(document, dict | list):
        return
    for found in _walk_document(document, (), "", inside=inside):
        if found.kind == UNREADABLE:
            yield _unread(UNREADABLE, f"{path}[YAML]{found.path}", found.why or TOO_DEEP, "a SageMaker request")
        else:
            yield Subject(found.kind, follow(document, found.keys), f"{path}[YAML]{found.path}")


def _display(keys: tuple[str | int, ...]) -> str:
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in keys)


# -- Step Functions ---------------------------------------------------------------------------------------------

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


def _may_be(reader: Reader, text: str, examples: tuple[str, ...]) -> bool:
    """Whether a predicate's text may turn out to be one of ``examples`` in this valuation: a value the template
    bounds is tried as each of its candidates; an unknown may be any text, so a request is assumed possible,
    except a whole value that is an AWS identifier of one of the template's resources (a function's ARN)."""
    context = reader.context
    for option in context.expand(text):
        if option in examples:
            return True
        if len(option) == 1 and has_tokens(option) and context.token_at(option).identifier:
            continue
        if has_tokens(option):
            pattern = token_pattern(option)
            if any(pattern.fullmatch(example) for example in examples):
                return True
    return False


def _state_machine_subjects(properties: Mapping[str, Any], context: TemplateContext, reader: Reader
                            ) -> Iterator[Subject]:
    # Imported here: Step Functions reading (and its JSONata evaluator) serves only templates with a state machine.
    from constructs_lib.rules.detection.state_flow import task_request, task_requests

    key = next((name for name in ("DefinitionString", "Definition") if name in properties), None)
    if key is None:
        for elsewhere in ("DefinitionS3Location", "DefinitionUri"):
            if elsewhere in properties:
                yield _unread(NOT_SHOWN, f"Properties.{elsewhere}", "names a definition kept outside the template",
                              "the state machine's definition")
        return
    definition = properties[key]
    substitutions = properties.get("DefinitionSubstitutions")
    document, problem = _parse_document(reader, definition, substitutions)
    if problem is not None or document is ABSENT:
        yield _unread(UNREADABLE if problem else NOT_SHOWN, f"Properties.{key}",
                      problem or "is known only at deployment", "the state machine's definition")
        return
    where = f"Properties.{key}[JSON]" if key == "DefinitionString" else f"Properties.{key}"
    for name, state, keys in _task_states(document, ()):
        # A Definition object may hold intrinsics (Fn::Sub for the partition): read the Resource through them.
        resource = reader.render(state.get("Resource", ABSENT))
        integration = integration_action(resource)
        if integration is None and resource is not None and _may_be(reader, resource, SAGEMAKER_TASK_ARNS):
            integration = resource  # unknown before deployment (a DefinitionSubstitutions parameter): may be one
        if integration is None:
            continue
        via = f"Step Functions task '{name}' ({context.display(integration)})"
        kind = request_kind(action_of(integration))
        argument_key = next((name for name in ("Parameters", "Arguments") if name in state), None)
        # The requests as the definition fixes them (literals, Pass states before the task, variables), or for a
        # task without arguments its state input: one for each input the task may get.
        flow = functools.partial(task_request, state_keys=keys, argument_key=argument_key)
        written = state.get(argument_key) if argument_key is not None else None
        requests = [written] if isinstance(written, dict) else task_requests(
            document, (), reader.context, state_keys=keys, argument_key=argument_key)
        inner = (*keys, argument_key) if argument_key is not None else keys
        shown = f"{where}{_display(inner)}"
        if not all(isinstance(request, dict) for request in requests):
            # Computed at run time from what is not fixed: for a request the rules read, for JSONata computed
            # whole, and for a Resource known only at deployment that may be such a call.
            if kind is not None or isinstance(written, str) or has_tokens(integration):
                why = ("is computed at run time" if argument_key else
                       "has no Parameters or Arguments: the task sends its state input, known only at run time")
                yield _unread(NOT_SHOWN, shown, why, "the task's SageMaker request")._replace(via=via)
            requests = [request for request in requests if isinstance(request, dict)]
            if not requests:
                continue
        found = [Found(kind, (), "")] if kind is not None else []
        for request in requests:  # what one input's request holds, where another's holds it too, is read once
            found.extend(part for part in _walk_document(request, (), "", named=kind) if part not in found)
        for request_found in found:
            yield _json_subject(request_found, definition, f"{shown}{request_found.path}",
                                substitutions=substitutions, via=via)._replace(
                flow=flow if request_found.kind != UNREADABLE else None)


# -- SageMaker pipelines ------------------------------------------------------------------------------------------

def _pipeline_steps(steps: Any, inner: tuple[str | int, ...], depth: int = 0
                    ) -> Iterator[tuple[Mapping[str, Any], tuple[str | int, ...]]]:
    """``(step, keys)`` of every step, inside Condition steps' ``IfSteps``/``ElseSteps`` too."""
    if not isinstance(steps, list) or depth > _MAX_WALK_DEPTH:
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        keys = (*inner, index)
        yield step, keys
        arguments = step.get("Arguments")
        if step.get("Type") == "Condition" and isinstance(arguments, dict):
            for branch in ("IfSteps", "ElseSteps"):
                yield from _pipeline_steps(arguments.get(branch), (*keys, "Arguments", branch), depth + 1)


def _pipeline_subjects(properties: Mapping[str, Any], context: TemplateContext, reader: Reader) -> Iterator[Subject]:
    # Imported here, as the other run-time readers are: most templates have no pipeline.
    from constructs_lib.rules.evaluation.runtime_values import pipeline_values

    definition = reader.field(properties, "PipelineDefinition")
    base = "Properties.PipelineDefinition"
    body = reader.field(definition, "PipelineDefinitionBody")
    if body is ABSENT:
        if reader.field(definition, "PipelineDefinitionS3Location") is not ABSENT:
            yield _unread(NOT_SHOWN, f"{base}.PipelineDefinitionS3Location",
                          "names a definition kept in S3", "the pipeline's definition")
        return
    source = _unwrap_to_json_string(reader, body)
    document, unread = _read_document(reader, source, f"{base}.PipelineDefinitionBody", "the pipeline's definition")
    if unread is not None:
        yield unread
        return
    where = f"{base}.PipelineDefinitionBody{'' if source is not body else '[JSON]'}"
    steps = document.get("Steps") if isinstance(document, dict) else None
    for step, keys in _pipeline_steps(steps, ("Steps",)):
        step_type = step.get("Type")
        if step_type == "Condition":  # its IfSteps and ElseSteps are steps of their own
            continue
        via = f"SageMaker pipeline step '{step.get('Name')}' ({step_type})"
        inner = (*keys, "Arguments")
        kind = _PIPELINE_STEP_KINDS.get(step_type) if isinstance(step_type, str) else None
        if kind is not None and isinstance(step.get("Arguments"), dict):
            found = [Found(kind, inner, _display(inner))]
        else:
            found = list(_walk_document(step.get("Arguments"), inner, _display(inner)))
        for request in found:
            yield _json_subject(request, source, f"{where}{request.path}", via=via, rewrite=pipeline_values)


# -- EventBridge Scheduler universal targets ----------------------------------------------------------------------

def _schedule_subjects(properties: Mapping[str, Any], context: TemplateContext, reader: Reader) -> Iterator[Subject]:
    target = reader.field(properties, "Target")
    arn = reader.render(reader.field(target, "Arn")) or ""
    integration = integration_action(arn, "scheduler")
    if integration is not None:
        action: str | None = action_of(integration)
        target_name = integration
    elif has_tokens(arn) and _may_be(reader, arn, SCHEDULER_SAGEMAKER_ARNS):
        action, target_name = None, context.display(arn)  # unknown before deployment: may call SageMaker
    else:
        return
    source = _unwrap_to_json_string(reader, reader.field(target, "Input"))
    document, unread = _read_document(reader, source, "Properties.Target.Input", "the SageMaker request")
    if unread is not None:
        yield unread
        return
    via = f"EventBridge Scheduler target ({target_name})"
    written_as_object = isinstance(source, dict | list) and not is_intrinsic(source)
    where = "Properties.Target.Input" if written_as_object else "Properties.Target.Input[JSON]"
    kind = request_kind(action)
    found = ([Found(kind, (), "")] if kind is not None and isinstance(document, dict)
             else _walk_document(document, (), ""))
    for request in found:
        yield _json_subject(request, source, f"{where}{request.path}", via=via)


# -- SSM Automation documents ---------------------------------------------------------------------------------------

def _automation_steps(steps: Any, inner: tuple[str | int, ...], depth: int = 0
                      ) -> Iterator[tuple[Mapping[str, Any], tuple[str | int, ...]]]:
    """``(step, keys)`` of every step, inside ``aws:loop`` steps too."""
    if not isinstance(steps, list) or depth > _MAX_WALK_DEPTH:
        return
    for index, step in enumerate(steps):
        if isinstance(step, dict):
            keys = (*inner, index)
            yield step, keys
            inputs = step.get("inputs")
            if isinstance(inputs, dict):
                yield from _automation_steps(inputs.get("Steps"), (*keys, "inputs", "Steps"), depth + 1)


def _script_subjects(content: Any) -> Iterator[Subject]:
    """The inputs of each step of a document that is not an Automation (``aws:runShellScript``, ...): values the
    rules read for gated artifacts only (``STRAY_ARTIFACTS``)."""
    if isinstance(content, str):  # JSON or YAML text (DocumentFormat)
        try:
            content = parse_template_text(content)
        except TemplateTextError:
            return  # a document SSM cannot read either: it is never run
    steps = content.get("mainSteps") if isinstance(content, dict) else None
    for step, keys in _automation_steps(steps, ("mainSteps",)):
        if step.get("action") != "aws:executeAwsApi" and isinstance(step.get("inputs"), dict):
            yield Subject(STRAY_ARTIFACTS, step["inputs"], f"Properties.Content{_display((*keys, 'inputs'))}")


def _ssm_document_subjects(properties: Mapping[str, Any], context: TemplateContext, reader: Reader
                           ) -> Iterator[Subject]:
    from constructs_lib.rules.evaluation.runtime_values import automation_values  # see _pipeline_subjects

    content = reader.field(properties, "Content")
    if not _may_be(reader, reader.render(reader.field(properties, "DocumentType")) or "Command", ("Automation",)):
        # Command (the default), Session and other documents call no API themselves, but their scripts may deploy
        # what they name: a gated artifact there is a stray one (EULA008).
        yield from _script_subjects(content)
        return
    document: Any = content
    if not isinstance(content, dict) or is_intrinsic(content):
        # JSON assembled by Fn::Join/Fn::Sub keeps its unknowns as strings in place (it stays readable).
        assembled = (isinstance(content, dict) and list(content) in (["Fn::Join"], ["Fn::Sub"])
                     and any(piece.lstrip().startswith("{") for piece in _json_literals(content)))
        text = reader.json_text(content) if assembled else reader.render(content)
        if text is None:
            return
        if len(text) == 1 and has_tokens(text):  # a parameter, an attribute, an import
            yield _unread(NOT_SHOWN, "Properties.Content", "is known only at deployment", "the Automation's steps")
            return
        try:  # JSON or YAML (DocumentFormat): one parser reads both
            document = parse_template_text(text)
        except TemplateTextError as error:
            yield _unread(UNREADABLE, "Properties.Content", f"cannot be read ({error})", "the Automation's steps")
            return
    steps = document.get("mainSteps") if isinstance(document, dict) else None
    for step, keys in _automation_steps(steps, ("mainSteps",)):
        inputs = step.get("inputs")
        action = step.get("action")
        if not isinstance(inputs, dict) or action == "aws:loop":  # a loop's steps are steps of their own
            continue
        service, api = (_automation_text(reader, inputs.get(key)) for key in ("Service", "Api"))
        # A service or API known only at deployment or run time (a parameter, {{ Api }}) may be SageMaker's.
        if action != "aws:executeAwsApi" or service is None or api is None or not (
                is_sagemaker_service(service) or _may_be(reader, service, ("sagemaker",))):
            # Scripts, Lambda payloads, stacks it creates, other services' calls: what they load is no request
            # the rules read, but a gated artifact they name is a stray one (EULA008), as in other documents.
            yield Subject(STRAY_ARTIFACTS, inputs, f"Properties.Content{_display((*keys, 'inputs'))}")
            continue
        shown = inputs["Api"] if isinstance(inputs["Api"], str) else context.display(api)
        via = f"SSM Automation step '{step.get('name')}' (aws:executeAwsApi sagemaker {shown})"
        kind = request_kind(api)
        inner = (*keys, "inputs")
        found = ([Found(kind, inner, _display(inner))] if kind is not None
                 else _walk_document(inputs, inner, _display(inner)))
        for request in found:
            yield _json_subject(request, document, f"Properties.Content{request.path}", via=via,
                                rewrite=automation_values)


def _automation_text(reader: Reader, value: Any) -> str | None:
    """An ``aws:executeAwsApi`` input as text in this valuation (a Content object may hold intrinsics), each
    Automation parameter (``{{ Api }}``) an unknown; ``None`` when it is not text."""
    from constructs_lib.rules.evaluation.runtime_values import automation_values  # see _pipeline_subjects

    text = value if isinstance(value, str) else reader.render(value) if is_intrinsic(value) else None
    return automation_values(text, reader.context) if text is not None else None


# -- StackSets: a template inside the template -------------------------------------------------------------------

def _stack_set_subjects(properties: Mapping[str, Any], context: TemplateContext, reader: Reader, depth: int = 0
                        ) -> Iterator[Subject]:
    body = _unwrap_to_json_string(reader, reader.field(properties, "TemplateBody"))
    if body is ABSENT:
        if reader.field(properties, "TemplateURL") is not ABSENT:
            yield _unread(NOT_SHOWN, "Properties.TemplateURL", "names a template kept in S3",
                          "the StackSet's template")
        return
    template: Any = body
    text: str | None = None
    if not isinstance(body, dict) or is_intrinsic(body):
        text = reader.render(body)
        if text is None or (len(text) == 1 and has_tokens(text)):  # a parameter, an attribute, an import
            yield _unread(NOT_SHOWN, "Properties.TemplateBody", "is known only at deployment",
                          "the StackSet's template")
            return
        try:
            template = parse_template_text(text)
        except TemplateTextError as error:
            yield _unread(UNREADABLE, "Properties.TemplateBody", f"cannot be read ({error})",
                          "the StackSet's template")
            return
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        yield _unread(UNREADABLE, "Properties.TemplateBody", "is not a CloudFormation template (no Resources)",
                      "the StackSet's template")
        return
    if depth >= _MAX_NESTED_TEMPLATES:
        yield _unread(UNREADABLE, "Properties.TemplateBody", "holds StackSets nested too deeply to read",
                      "the StackSet's template")
        return
    yield from _template_subjects(resources, _inner_context(reader, properties, template, text), depth + 1)


def _inner_context(reader: Reader, properties: Mapping[str, Any], template: dict[str, Any], text: str | None
                   ) -> TemplateContext:
    """The StackSet template's own context: its parameters, conditions and rules, with each parameter the StackSet
    passes a value known in this valuation bound to that value, or to it and the values stack instances override
    it with (``ParameterOverrides``) when they are known too; and each parameter it does not pass bound to its
    ``Default``: a stack instance can override only the parameters the StackSet specifies. One context per template
    and binding, so that a request read in several valuations is judged once per binding."""
    parameters = template.get("Parameters")
    bound: dict[str, tuple[str, ...]] = {}
    if isinstance(parameters, dict):
        overrides: dict[str | None, list[str | None]] = {}
        for _, group in reader.elements(reader.field(properties, "StackInstancesGroup")):
            for _, override in reader.elements(reader.field(group, "ParameterOverrides")):
                overrides.setdefault(reader.render(reader.field(override, "ParameterKey")), []).append(
                    reader.render(reader.field(override, "ParameterValue")))
        # An override whose key is unknown before deployment may override any parameter: nothing is bound.
        listed = reader.field(properties, "Parameters")
        unknown_override = any(key is None or has_tokens(key) for key in overrides)
        passed: dict[str | None, str | None] = {} if unknown_override else {
            reader.render(reader.field(entry, "ParameterKey")): reader.render(reader.field(entry, "ParameterValue"))
            for _, entry in reader.elements(listed)}
        for key, value in passed.items():
            values = (value, *overrides.get(key, ()))
            if key in parameters and isinstance(parameters[key], dict) and all(
                    option is not None and is_portable(option) for option in values):
                bound[str(key)] = tuple(dict.fromkeys(option for option in values if option is not None))
        if not unknown_override and (listed is ABSENT or isinstance(listed, list)) \
                and not any(key is None or has_tokens(key) for key in passed):
            for key, parameter in parameters.items():
                default = scalar_text(parameter.get("Default")) if isinstance(parameter, dict) else None
                # Text parameters only: an SSM parameter's Default names the SSM parameter, not its value.
                if (default is not None and key not in passed and key not in overrides
                        and default in parameter_values(parameter)[0]):
                    bound[key] = (default,)
    cache = reader.context.derived.setdefault("StackSet templates", {})
    cache_key = (text if text is not None else id(template), tuple(sorted(bound.items())))
    inner = cache.get(cache_key)
    if inner is None:
        if bound and isinstance(parameters, dict):
            template = {**template, "Parameters": {
                **parameters,
                **{key: {**parameters[key], "AllowedValues": list(values)} for key, values in bound.items()}}}
        inner = cache[cache_key] = TemplateContext(template)
    return inner


def _template_subjects(resources: Mapping[str, Any], context: TemplateContext, depth: int) -> Iterator[Subject]:
    for logical_id, resource in resources.items():
        resource_type = resource.get("Type") if isinstance(resource, dict) else None
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(resource_type, str) or not isinstance(properties, dict):
            continue
        found: Iterable[Subject]
        if resource_type == STACK_SET_TYPE:
            found = in_every_reading(functools.partial(_stack_set_subjects, depth=depth))(properties, context)
        else:
            extract = subject_extractor(resource_type)
            if extract is None:
                continue
            found = extract(properties, context)
        place = f"StackSet template resource '{logical_id}' ({resource_type})"
        condition = resource.get("Condition")
        for subject in found:
            own = subject.context is None  # not from a StackSet nested deeper, which has its own
            yield subject._replace(path=f"Properties.TemplateBody.Resources.{logical_id}.{subject.path}",
                                   via=f"{place}, {subject.via}" if subject.via else place,
                                   context=context if own else subject.context,
                                   condition=condition if own and isinstance(condition, str) else subject.condition)


# -- nested stacks ---------------------------------------------------------------------------------------------------

def nested_stack_subjects(properties: Mapping[str, Any], context: TemplateContext) -> Iterator[Subject]:
    """A nested stack (``AWS::CloudFormation::Stack``, SAM's ``AWS::Serverless::Application``) the caller did not
    read: what it deploys is not shown (the engine skips those whose template the caller checks on its own)."""
    key = "Location" if "Location" in properties and "TemplateURL" not in properties else "TemplateURL"
    yield Subject(NOT_SHOWN, Unread(
        f"Properties.{key}", "names a nested stack template that EulaGate did not read (not named by the cloud "
        "assembly's metadata or the resource's aws:asset:path, and not a local template file)",
        "the nested stack's resources", unknown=True,
        fix="give TemplateURL as the path of the nested template beside this one, or run `eulagate check` on the "
            "nested template too"), f"Properties.{key}")


# -- resources of types nothing above knows ------------------------------------------------------------------------

def _mentions_jumpstart(value: Any) -> bool:
    """Whether a key or string anywhere in ``value`` names JumpStart, in any letter case.

    Asked of every resource of a type nothing else reads, so the value is serialized in C: ``marshal`` writes
    each string as its UTF-8 bytes, twice as fast as ``repr`` (which escapes them). Lower-casing bytes lowers only
    ASCII letters, and no other character lower-cases to a letter of "jumpstart", so the test is ``repr``'s.
    Most values hold no "j" in either case (two ``memchr`` scans), and then lower-casing cannot make the word.
    """
    try:
        data = marshal.dumps(value)
    except ValueError:  # an object marshal does not write (a YAML tag's), or nesting deeper than it goes
        return "jumpstart" in repr(value).lower()
    # find, not `in`: bytes' `in` first tries its argument as an int, raising and clearing an error.
    if data.find(b"j") < 0 and data.find(b"J") < 0:
        return False
    return data.lower().find(b"jumpstart") >= 0


_TABLES_MENTION_JUMPSTART = "tables mention JumpStart"  # a key of TemplateContext.derived


def _tables_mention_jumpstart(context: TemplateContext) -> bool:
    """Whether the template's parameters or mappings (what a value can look up) mention JumpStart; once each
    (kept on the context: asked for every resource of a type nothing else reads)."""
    found = context.derived.get(_TABLES_MENTION_JUMPSTART)
    if found is None:
        found = context.derived[_TABLES_MENTION_JUMPSTART] = _mentions_jumpstart(
            (context.template.get("Parameters"), context.template.get("Mappings")))
    return bool(found)


def stray_artifact_subjects(properties: Mapping[str, Any], context: TemplateContext) -> Iterable[Subject]:
    """The properties of a resource no extractor knows, when they (or the values they can look up) name JumpStart
    (a tuple, not a generator: asked of every such resource, and most name nothing)."""
    if _mentions_jumpstart(properties) or _tables_mention_jumpstart(context):
        return (Subject(STRAY_ARTIFACTS, properties, "Properties", exact_keys=True),)
    return ()


def _custom_resource_subjects(properties: Mapping[str, Any], context: TemplateContext, reader: Reader
                              ) -> list[Subject]:
    found: list[Subject] = []
    _walk_properties(properties, "Properties", reader, found)
    return found


def custom_resource_subjects(properties: Mapping[str, Any], context: TemplateContext) -> Iterable[Subject]:
    return _custom_resource_subjects_everywhere(properties, context) or stray_artifact_subjects(properties, context)


Extractor = Callable[[Mapping[str, Any], TemplateContext], Iterable[Subject]]
ReadingExtractor = Callable[[Mapping[str, Any], TemplateContext, Reader], Iterable[Subject]]


def in_every_reading(extract: ReadingExtractor) -> Callable[[Mapping[str, Any], TemplateContext], list[Subject]]:
    """``extract`` run in every reading, so that a definition chosen by ``Fn::If`` (or a mapping, or a parameter)
    is searched in each of its branches, not only the first; each request is found once."""
    def extract_everywhere(properties: Mapping[str, Any], context: TemplateContext) -> list[Subject]:
        subjects: list[Subject] = []
        seen: set[tuple[str, str, tuple[str | int, ...], int]] = set()
        for reader in readings(context):
            try:
                found = list(extract(properties, context, reader))
            except DeploymentFails:  # nothing deploys in this reading
                continue
            for subject in found:
                key = (subject.kind, subject.path, subject.inner, id(subject.context))
                if key not in seen:
                    seen.add(key)
                    subjects.append(subject)
        return subjects
    return extract_everywhere

_custom_resource_subjects_everywhere = in_every_reading(_custom_resource_subjects)
_EXTRACTORS_BY_TYPE: dict[str, Extractor] = {
    PIPELINE_TYPE: in_every_reading(_pipeline_subjects),
    SCHEDULE_TYPE: in_every_reading(_schedule_subjects),
    STACK_SET_TYPE: in_every_reading(_stack_set_subjects),
    SSM_DOCUMENT_TYPE: in_every_reading(_ssm_document_subjects),
    **dict.fromkeys(NESTED_STACK_TYPES, nested_stack_subjects),
    **dict.fromkeys(STATE_MACHINE_TYPES, in_every_reading(_state_machine_subjects)),
}


def _endpoint_config_subjects(properties: Mapping[str, Any], context: TemplateContext) -> tuple[Subject, ...]:
    """An endpoint configuration, unless it provably has no serverless variant (the one part the rules read: it
    cannot carry acceptance): its ``ProductionVariants`` are absent, or a list of objects written out, none with
    ``ServerlessConfig``. Anything an intrinsic chooses is read in every valuation. A tuple and one loop (no
    generator or helper): asked of every endpoint configuration."""
    variants = properties.get("ProductionVariants", ABSENT)
    if variants is ABSENT:  # present, it makes the properties no intrinsic: no function has that name
        if not is_intrinsic(properties):
            return ()
    elif isinstance(variants, list):
        for variant in variants:
            if not isinstance(variant, dict) or "ServerlessConfig" in variant or is_intrinsic(variant):
                break
        else:
            return ()
    return (Subject(CREATE_ENDPOINT_CONFIG, properties, "Properties", exact_keys=True),)


def subject_extractor(resource_type: str) -> Extractor | None:
    """How to find requests in a resource of this type, or ``None`` when no rule applies to it."""
    kind = SAGEMAKER_RESOURCE_KINDS.get(resource_type)
    if kind == CREATE_ENDPOINT_CONFIG:
        return _endpoint_config_subjects
    if kind is not None:
        return lambda properties, _context: (Subject(kind, properties, "Properties", exact_keys=True),)
    if resource_type.startswith("Custom::") or resource_type == CUSTOM_RESOURCE_TYPE:
        return custom_resource_subjects
    known = _EXTRACTORS_BY_TYPE.get(resource_type)
    if known is not None:
        return known
    return None if resource_type.startswith(_INERT_TYPE_PREFIXES) else stray_artifact_subjects

"""What every rule shares: its metadata, the problems it reports, and the checks of common request parts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from constructs_lib.catalog import ModelSpec
from constructs_lib.records import Record
from constructs_lib.rules.artifacts import Artifact, CatalogIndex, image_region
from constructs_lib.rules.evaluation.reader import Reader
from constructs_lib.rules.evaluation.values import ABSENT, DeploymentFails, has_tokens
from constructs_lib.rules.finding import Severity


class Problem(Record):
    """One thing wrong in one request, before it becomes a ``Finding``."""

    location: str  # the property at fault, from the resource: "Properties.PrimaryContainer.ModelDataSource..."
    what: str  # a clause that follows "<model> is EULA-gated", e.g. "but ...AcceptEula is absent"
    fix: str  # the exact change to a raw template, e.g. "set <path> to true"
    model: ModelSpec | None
    artifact: str | None  # the artifact URI, for messages about a model the catalog does not know
    region: str | None  # a literal region the template gives, for the EULA's URL
    severity: Severity | None  # when not the rule's own (an artifact of a model the catalog does not know)
    lead: str | None  # how the message begins, when not "<model> is EULA-gated"

    def __init__(self, location: str, what: str, fix: str, model: ModelSpec | None = None, artifact: str | None = None,
                 region: str | None = None, severity: Severity | None = None, lead: str | None = None) -> None:
        vars(self).update(
            location=location, what=what, fix=fix, model=model, artifact=artifact, region=region, severity=severity,
            lead=lead,
        )


class Check:
    """What a rule sees: one request, read under one choice of conditions. The engine aims one per template at
    each reading in turn, so a rule keeps no reference to it past its ``check``."""

    __slots__ = ("containers", "index", "kind", "path", "reader", "request")

    def __init__(self, reader: Reader, index: CatalogIndex, kind: str, request: Any, path: str) -> None:
        self.reader = reader
        self.index = index
        self.kind = kind
        self.request = request
        self.path = path
        # A CreateModel request's containers, read once for every rule that reads them (``model_containers``).
        self.containers: list[tuple[Any, str, bool]] | None = None


class Rule:
    """A rule (cdk-nag / cfn-lint style): an id, a short and a long description, and the requests it reads."""

    id: ClassVar[str]
    short_description: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[Severity] = "error"
    kinds: ClassVar[frozenset[str]]  # the request kinds (``requests.CREATE_MODEL``...) this rule reads
    # Which of our constructs makes this surface, for fix advice on CDK-synthesized resources.
    construct: ClassVar[str | None] = None
    # For `eulagate rules` and `eulagate explain`: where the rule looks, and two small templates (YAML) that
    # it passes and fails (tests run both through the engine).
    surfaces: ClassVar[tuple[str, ...]]
    compliant_example: ClassVar[str]
    noncompliant_example: ClassVar[str]

    def check(self, check: Check) -> Iterable[Problem]:
        """The problems of one request in one reading: a generator, or a list where the rule reads nothing
        between its problems (no generator frames per request)."""
        raise NotImplementedError


def artifact_problem(check: Check, artifact: Artifact, location: str, what: str, fix: str,
                     image: Any = ABSENT) -> Problem:
    """A problem with a gated artifact; the region for the EULA's URL comes from its bucket or ``image``."""
    region = artifact.region or (image_region(check.reader, image) if image is not ABSENT else None)
    return Problem(location, what, fix, artifact.model, artifact.uri, region, artifact.severity, artifact.lead)


def s3_data_source_problems(check: Check, source: Any, location: str, image: Any = ABSENT) -> Iterator[Problem]:
    """An ``S3DataSource`` (model, model package or training channel) whose gated artifact lacks acceptance."""
    reader = check.reader
    artifact = check.index.artifact(reader, reader.field(source, "S3Uri"))
    if artifact is None or not artifact.needs_acceptance:
        return
    problem = _unaccepted_source_problem(check, artifact, source, location, image)
    if problem is not None:
        yield problem


def _unaccepted_source_problem(check: Check, artifact: Artifact, source: Any, location: str,
                               image: Any) -> Problem | None:
    """The problem of an ``S3DataSource`` at ``location`` that loads gated ``artifact`` without acceptance."""
    reason = check.reader.acceptance_problem(source, location, ("ModelAccessConfig", "AcceptEula"))
    if reason is None:
        return None
    return artifact_problem(check, artifact, location, f"but {reason}",
                            f"set {location}.ModelAccessConfig.AcceptEula to true", image)


# What most containers leave out: each is read only from a container that has one of them (``Reader.lacks``).
OPTIONAL_CONTAINER_FIELDS = ("ModelDataUrl", "AdditionalModelDataSources", "ModelPackageName")


def container_sources(reader: Reader, container: Any, lacks_optional: bool = False) -> list[tuple[Any, Any, str]]:
    """Where a container definition loads artifacts from: ``ModelDataUrl``, ``ModelDataSource.S3DataSource`` and
    each ``AdditionalModelDataSources`` entry (adapters, draft models), each as (its location value, its
    ``S3DataSource`` (``ABSENT`` for ``ModelDataUrl``, which cannot carry acceptance), the property's path below
    the container); paths are completed only for an artifact that needs acceptance. An absent location (most
    containers have no ``ModelDataUrl``) loads nothing and is left out, and so is an absent source's.
    ``lacks_optional``: the container has none of ``OPTIONAL_CONTAINER_FIELDS`` (``model_containers``)."""
    data_url = ABSENT if lacks_optional else reader.field(container, "ModelDataUrl")
    sources = [] if data_url is ABSENT else [(data_url, ABSENT, ".ModelDataUrl")]
    data_source = reader.field(reader.field(container, "ModelDataSource"), "S3DataSource")
    if data_source is not ABSENT:  # reading a field of nothing is nothing, and reads no choice
        uri = reader.field(data_source, "S3Uri")
        if uri is not ABSENT:
            sources.append((uri, data_source, ".ModelDataSource.S3DataSource"))
    additional_sources = ABSENT if lacks_optional else reader.field(container, "AdditionalModelDataSources")
    if additional_sources is not ABSENT:
        for position, additional in reader.elements(additional_sources):
            source = reader.field(additional, "S3DataSource")
            uri = reader.field(source, "S3Uri")
            if uri is not ABSENT:
                sources.append((uri, source, f".AdditionalModelDataSources[{position}].S3DataSource"))
    return sources


def container_artifacts(check: Check, container: Any, location: str,
                        lacks_optional: bool = False) -> Iterator[tuple[Artifact, str, Any]]:
    """Each JumpStart artifact a container definition loads that needs acceptance, judged on its own (as its
    user reads it: each artifact is judged only once what its user read of the one before is read). Yields the
    artifact, the property's path, and its ``S3DataSource`` (``container_sources``, as is ``lacks_optional``)."""
    for uri, source, below in container_sources(check.reader, container, lacks_optional):
        artifact = check.index.artifact(check.reader, uri)
        if artifact is not None and artifact.needs_acceptance:
            yield artifact, location + below, source


def container_problems(check: Check, container: Any, location: str, lacks_optional: bool = False) -> list[Problem]:
    """A container definition (model or model package) that loads a gated artifact without acceptance
    (``lacks_optional``: as ``container_sources``).

    A list, not a generator (one per container of every model): its callers read nothing between its problems,
    so the reader meets the same values in the same order."""
    reader = check.reader
    image = reader.field(container, "Image")
    problems: list[Problem] = []
    for artifact, path, source in container_artifacts(check, container, location, lacks_optional):
        if source is ABSENT:
            problems.append(artifact_problem(
                check, artifact, path,
                f"but its artifact {artifact.uri} is given in {path}, which cannot carry EULA acceptance",
                f"replace {path} with {location}.ModelDataSource.S3DataSource (S3Uri: the uncompressed artifact "
                "prefix, S3DataType: S3Prefix, CompressionType: None, ModelAccessConfig: {AcceptEula: true})",
                image,
            ))
            continue
        problem = _unaccepted_source_problem(check, artifact, source, path, image)
        if problem is not None:
            problems.append(problem)
    return problems


def model_containers(check: Check) -> list[tuple[Any, str, bool]]:
    """``PrimaryContainer`` and each entry of ``Containers`` of a CreateModel request, with their paths and whether
    they lack every one of ``OPTIONAL_CONTAINER_FIELDS`` (read once per check: a reading gives the same containers
    to every rule)."""
    if check.containers is None:
        reader = check.reader
        check.containers = [(container, location, reader.lacks(container, OPTIONAL_CONTAINER_FIELDS))
                            for container, location in containers_of(reader, check.request, check.path)]
    return check.containers


def containers_of(reader: Reader, request: Any, path: str) -> Iterator[tuple[Any, str]]:
    """``PrimaryContainer`` and each entry of ``Containers`` of a model (a request, or another resource's
    properties), with their paths."""
    primary = reader.field(request, "PrimaryContainer")
    if primary is not ABSENT:
        yield primary, f"{path}.PrimaryContainer"
    containers = reader.field(request, "Containers")
    if containers is not ABSENT:  # most models have one container, the primary
        for position, container in reader.elements(containers):
            yield container, f"{path}.Containers[{position}]"


MODEL_TYPE = "AWS::SageMaker::Model"


class NamedModels(Record):
    """The ``AWS::SageMaker::Model`` resources of this template that a ``ModelName`` may name in one reading
    (several when a parameter chooses among them), and how the name reads when it may name a model the
    template does not define (None when it cannot)."""

    resources: tuple[tuple[str, Any], ...]  # (logical id, properties)
    unknown: str | None

    def __init__(self, resources: tuple[tuple[str, Any], ...] = (), unknown: str | None = None) -> None:
        vars(self).update(resources=resources, unknown=unknown)


def named_models(check: Check, value: Any) -> NamedModels | None:
    """What a ``ModelName`` (of an inference component or an endpoint config's variant) names; None when absent.

    A ``Ref`` or ``Fn::GetAtt`` of a model resource names it; a literal name names the model whose own literal
    ``ModelName`` it is. Anything else (a parameter without ``AllowedValues``, an import, a model created
    elsewhere) may name any model: ``unknown``. A named model whose ``Condition`` is false makes the deployment
    fail, so nothing is served in that reading."""
    reader = check.reader
    text = reader.render(value)
    if text is None:
        return None
    context = reader.context
    found: dict[str, Any] = {}
    unknown: list[str] = []
    for option in context.expand(text):
        tokens = context.tokens_in(option)
        referenced = tokens[0].resource if len(tokens) == 1 and len(option) == 1 else None
        resource = context.resources.get(referenced) if referenced is not None else None
        if isinstance(resource, dict) and resource.get("Type") == MODEL_TYPE:
            found[str(referenced)] = resource
            continue
        named = None if has_tokens(option) else _model_named(reader, option)
        if named is None:
            unknown.append(context.display(option))
        else:
            found[named] = context.resources[named]
    for logical_id, resource in found.items():
        condition = resource.get("Condition")
        if isinstance(condition, str) and not reader.choose(condition):
            raise DeploymentFails(f"{logical_id} is not created when its condition {condition} is false")
    return NamedModels(
        tuple((logical_id, resource.get("Properties")) for logical_id, resource in found.items()),
        None if not unknown else unknown[0] if len(unknown) == 1 and unknown[0] == context.display(text)
        else f"{context.display(text)} (when it is {' or '.join(unknown)})",
    )


def _model_named(reader: Reader, name: str) -> str | None:
    """The logical id of the template's model whose literal ``ModelName`` is ``name`` (SageMaker names are
    case-insensitive)."""
    for logical_id, resource in reader.context.resources.items():
        if not (isinstance(resource, dict) and resource.get("Type") == MODEL_TYPE):
            continue
        own = reader.render(reader.field(resource.get("Properties"), "ModelName"))
        if own is not None and not has_tokens(own) and own.lower() == name.lower():
            return str(logical_id)
    return None


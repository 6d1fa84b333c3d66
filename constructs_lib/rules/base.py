"""What every rule shares: its metadata, the problems it reports, and the checks of common request parts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from constructs_lib.catalog import ModelSpec
from constructs_lib.rules.artifacts import Artifact, CatalogIndex, image_region
from constructs_lib.rules.evaluation.reader import Reader
from constructs_lib.rules.evaluation.values import ABSENT
from constructs_lib.rules.finding import Severity


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one request, before it becomes a ``Finding``."""

    location: str  # the property at fault, from the resource: "Properties.PrimaryContainer.ModelDataSource..."
    what: str  # a clause that follows "<model> is EULA-gated", e.g. "but ...AcceptEula is absent"
    fix: str  # the exact change to a raw template, e.g. "set <path> to true"
    model: ModelSpec | None = None
    artifact: str | None = None  # the artifact URI, for messages about a model the catalog does not know
    region: str | None = None  # a literal region the template gives, for the EULA's URL
    severity: Severity | None = None  # when not the rule's own (an artifact of a model the catalog does not know)
    lead: str | None = None  # how the message begins, when not "<model> is EULA-gated"


class Check:
    """What a rule sees: one request, read under one choice of conditions."""

    __slots__ = ("index", "kind", "path", "reader", "request")

    def __init__(self, reader: Reader, index: CatalogIndex, kind: str, request: Any, path: str) -> None:
        self.reader = reader
        self.index = index
        self.kind = kind
        self.request = request
        self.path = path


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

    def check(self, check: Check) -> Iterator[Problem]:
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
    reason = reader.acceptance_problem(source, location, ("ModelAccessConfig", "AcceptEula"))
    if reason is not None:
        yield artifact_problem(check, artifact, location, f"but {reason}",
                               f"set {location}.ModelAccessConfig.AcceptEula to true", image)


def container_problems(check: Check, container: Any, location: str) -> Iterator[Problem]:
    """A container definition (model or model package) that loads a gated artifact without acceptance."""
    reader = check.reader
    image = reader.field(container, "Image")
    url = reader.field(container, "ModelDataUrl")
    artifact = check.index.artifact(reader, url) if url is not ABSENT else None
    if artifact is not None and artifact.needs_acceptance:
        yield artifact_problem(
            check, artifact, f"{location}.ModelDataUrl",
            f"but its artifact {artifact.uri} is given in {location}.ModelDataUrl, which cannot carry "
            "EULA acceptance",
            f"replace {location}.ModelDataUrl with {location}.ModelDataSource.S3DataSource "
            "(S3Uri: the uncompressed artifact prefix, S3DataType: S3Prefix, CompressionType: None, "
            "ModelAccessConfig: {AcceptEula: true})",
            image,
        )
    data_source = reader.path(container, "ModelDataSource", "S3DataSource")
    yield from s3_data_source_problems(check, data_source, f"{location}.ModelDataSource.S3DataSource", image)
    for position, additional in reader.elements(reader.field(container, "AdditionalModelDataSources")):
        yield from s3_data_source_problems(check, reader.field(additional, "S3DataSource"),
                                           f"{location}.AdditionalModelDataSources[{position}].S3DataSource",
                                           image)


def model_containers(check: Check) -> Iterator[tuple[Any, str]]:
    """``PrimaryContainer`` and each entry of ``Containers`` of a CreateModel request, with their paths."""
    reader = check.reader
    primary = reader.field(check.request, "PrimaryContainer")
    if primary is not ABSENT:
        yield primary, f"{check.path}.PrimaryContainer"
    for position, container in reader.elements(reader.field(check.request, "Containers")):
        yield container, f"{check.path}.Containers[{position}]"

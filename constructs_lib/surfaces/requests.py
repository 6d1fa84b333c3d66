"""The requests a surface reader finds, and how the rule engine judges them: as a synthetic CloudFormation template.

Every reader (Python, Terraform, Kubernetes) turns what it reads into SageMaker API requests in the API's own
shape (``CreateModel``, ``CreateTrainingJob``...). Each request becomes one custom resource of a synthetic template
whose properties are the request, so every rule and the evaluator judge it unchanged. A value the reader cannot
follow is an ``Unknown``: a ``Ref`` to a parameter without ``AllowedValues`` (free at deployment, as the engine
already treats one), or with them when the source limits its values (a Terraform ``validation``). A string built
partly from unknowns is a ``Pieces``: an ``Fn::Join``.

A JumpStart model named by id (the SDK's ``model_id``, a HyperPod manifest's ``modelId``, a hub content ARN) is
requested through its artifact location in JumpStart's content bucket, ``<id>/artifacts/`` (the layout the
catalog reads model ids from): a listed model is judged by the catalog, an unlisted one by its family, and an id
the reader cannot follow is a location whose key is unknown (a warning; an error with ``--strict``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from constructs_lib.catalog import PUBLIC_BUCKET_PREFIX
from constructs_lib.rules import Finding, TemplateScan, scan_template
from constructs_lib.rules.detection.sources import SourceLocation

DEFAULT_REGION = "us-east-1"
CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
UNEVALUABLE = "EULA000"
NOT_SHOWN_RULE = "EULA006"
_SERVICE_TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:eulagate-surface"
_PARAMETER_NAME = re.compile(r"[^A-Za-z0-9]")
# A path of the request in a message: "Properties.PrimaryContainer.ModelDataSource" or "Containers[0].Image".
_API_PATH = re.compile(r"(Properties\.)?((?:[A-Z][A-Za-z0-9]*(?:\[\d+\])?\.)+[A-Z][A-Za-z0-9]*(?:\[\d+\])?)")
# The engine's words for CloudFormation's unknowns, in the words of a source file.
# The engine's words about the artifact location that stands for a model id (``model_artifact``), as words about
# the model id. A real JumpStart key goes on after "artifacts/" (``.../artifacts/inference-prepack/v1.0.0/``).
_MODEL_ID_WORDING = (
    (re.compile(r"The location s3://" + re.escape(PUBLIC_BUCKET_PREFIX) + r"[a-z0-9-]+/(.+?)/artifacts/ may be an "
                r"EULA-gated JumpStart artifact \(its key is"), r"The JumpStart model \1 may be EULA-gated (its id is"),
    (re.compile(r"The artifact s3://" + re.escape(PUBLIC_BUCKET_PREFIX) + r"[a-z0-9-]+/(.+?)/artifacts/ is of \1, "),
     r"\1 is "),
)
_ENGINE_WORDING = (("not known before deployment", "not known from the source"),
                   ("the template does not fix its region", "the source does not fix its region"))


@dataclass(frozen=True)
class Unknown:
    """A value the reader cannot follow; ``allowed`` lists the values the source limits it to, when it does."""

    name: str  # what it is in the source, e.g. "model_id" or "var.model_id"
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pieces:
    """A string built from literal text and unknowns (an f-string, a Terraform template)."""

    parts: tuple[str | Unknown, ...]


class SurfaceLocation(SourceLocation):
    """A call or block in a source file; reported as ``file:line:column``."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class SurfaceRequest:
    """One SageMaker request found in a source file."""

    surface: str  # "python", "terraform", "kubernetes"
    name: str  # how a person names it: "JumpStartModel('meta-...').deploy()", "aws_sagemaker_model.llama"
    what: str  # what sends it: "SageMaker SDK JumpStartModel.deploy", "boto3 create_model"
    request: Mapping[str, Any]  # the API request (PascalCase keys), values possibly Unknown/Pieces
    line: int
    column: int = 1
    # Engine paths (without the leading "Properties.") or other engine words -> how the source says them.
    spellings: tuple[tuple[str, str], ...] = ()
    fix: str | None = None  # how to accept in this surface, when the API path is not how the source spells it
    # How the source spells an API path the message names (Terraform: snake_case blocks), when not as the API.
    respell: Callable[[str], str] | None = None
    unshown: str | None = None  # why the source does not show the request (EULA006), e.g. "its arguments ..."


@dataclass(frozen=True)
class SurfaceScan:
    """What checking one source file found: the engine's scan, with each finding's place in the file."""

    scan: TemplateScan
    locations: Mapping[str, SurfaceLocation]  # finding logical id -> where the request is in the file


def model_artifact(model_id: str | Unknown | Pieces, region: str = DEFAULT_REGION) -> str | Pieces:
    """The artifact location that stands for a JumpStart model id (see the module's docstring)."""
    bucket = f"s3://{PUBLIC_BUCKET_PREFIX}{region}/"
    if isinstance(model_id, str):
        return f"{bucket}{model_id}/artifacts/"
    parts = model_id.parts if isinstance(model_id, Pieces) else (model_id,)
    return Pieces((bucket, *parts, "/artifacts/"))


def model_request(model_id: str | Unknown | Pieces, accept: Any, region: str = DEFAULT_REGION) -> dict[str, Any]:
    """A CreateModel request serving a JumpStart model (``accept``: the acceptance given, ``None`` when none)."""
    source: dict[str, Any] = {"S3Uri": model_artifact(model_id, region), "S3DataType": "S3Prefix",
                              "CompressionType": "None"}
    if accept is not None:
        source["ModelAccessConfig"] = {"AcceptEula": accept}
    return {"PrimaryContainer": {"ModelDataSource": {"S3DataSource": source}}}


MODEL_ACCEPTANCE_PATH = "PrimaryContainer.ModelDataSource.S3DataSource.ModelAccessConfig"


def training_request(model_id: str | Unknown | Pieces, accept: Any, region: str = DEFAULT_REGION) -> dict[str, Any]:
    """A CreateTrainingJob request fine-tuning a JumpStart model: its artifact is the ``model`` channel."""
    source: dict[str, Any] = {"S3Uri": model_artifact(model_id, region), "S3DataType": "S3Prefix"}
    if accept is not None:
        source["ModelAccessConfig"] = {"AcceptEula": accept}
    return {"AlgorithmSpecification": {"TrainingInputMode": "File"},
            "InputDataConfig": [{"ChannelName": "model", "DataSource": {"S3DataSource": source}}]}


TRAINING_ACCEPTANCE_PATH = "InputDataConfig[0].DataSource.S3DataSource.ModelAccessConfig"


def acceptance_spellings(path: str, spelling: str) -> tuple[tuple[str, str], ...]:
    """Spellings for a translated request: its acceptance path and the data source around it, as the source
    says them."""
    source = path.rsplit(".", 1)[0]
    # A boolean argument or field: the engine's note that a template's string "true" would do does not apply.
    return ((f"{path}.AcceptEula", spelling), (path, spelling), (source, "the model's artifact"),
            (' (only the boolean true or the string "true" proves acceptance)', ""))


class _Synthesis:
    """Builds the synthetic template: one custom resource per request, one parameter per unknown."""

    def __init__(self) -> None:
        self.parameters: dict[str, dict[str, Any]] = {}
        self._names: dict[Unknown, str] = {}

    def parameter(self, unknown: Unknown) -> dict[str, str]:
        name = self._names.get(unknown)
        if name is None:
            base = _PARAMETER_NAME.sub("", unknown.name.title()) or "Value"
            name = base
            count = 1
            while name in self.parameters:
                count += 1
                name = f"{base}{count}"
            parameter: dict[str, Any] = {"Type": "String", "Description": unknown.name}
            if unknown.allowed:
                parameter["AllowedValues"] = list(unknown.allowed)
            self.parameters[name] = parameter
            self._names[unknown] = name
        return {"Ref": name}

    def value(self, value: Any) -> Any:
        if isinstance(value, Unknown):
            return self.parameter(value)
        if isinstance(value, Pieces):
            parts = [self.parameter(part) if isinstance(part, Unknown) else part for part in value.parts if part != ""]
            return parts[0] if len(parts) == 1 else {"Fn::Join": ["", parts]}
        if isinstance(value, Mapping):
            return {str(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


def logical_ids(requests: Sequence[SurfaceRequest]) -> dict[str, SurfaceRequest]:
    """Each request under the name its findings carry: its own, with " (2)", " (3)"... when a file repeats it."""
    named: dict[str, SurfaceRequest] = {}
    for request in requests:
        key, count = request.name, 1
        while key in named:
            count += 1
            key = f"{request.name} ({count})"
        named[key] = request
    return named


def synthetic_template(requests: Sequence[SurfaceRequest]) -> dict[str, Any]:
    return _synthesize([request for request in requests if request.unshown is None])[0]


def _synthesize(requests: Sequence[SurfaceRequest]) -> tuple[dict[str, Any], dict[str, str]]:
    """The template, and each parameter's name -> the unknown it stands for, as the source names it."""
    synthesis = _Synthesis()
    resources = {}
    for key, request in logical_ids(requests).items():
        properties = {"ServiceToken": _SERVICE_TOKEN, **synthesis.value(request.request)}
        resources[key] = {"Type": CUSTOM_RESOURCE, "Properties": properties}
    names = {name: parameter["Description"] for name, parameter in synthesis.parameters.items()}
    return {"Parameters": synthesis.parameters, "Resources": resources}, names


def scan_requests(path: str, requests: Sequence[SurfaceRequest], *, strict: bool,
                  extra: Iterable[Finding] = ()) -> SurfaceScan:
    """The rule engine's findings on ``requests`` from the file at ``path``, in the file's own words; ``extra``
    findings (parts of the file that cannot be read) are added as they are."""
    by_id = logical_ids(requests)
    shown = [request for request in requests if request.unshown is None]
    template, names = _synthesize(shown)
    scan = (scan_template(template, template_path=path, strict=strict) if shown
            else TemplateScan(path, 0, (), ()))
    extra = (*(_unshown(path, key, request) for key, request in by_id.items() if request.unshown is not None),
             *extra)
    # Longest parameter names first, so that "${Model}" does not rewrite part of "${Model2}".
    words = tuple(pair for name, source in sorted(names.items(), key=lambda item: -len(item[0]))
                  for pair in ((f"a Ref to parameter '{name}'", f"`{source}`"), (f"${{{name}}}", f"${{{source}}}")))
    findings = (*(_in_source_words(finding, by_id[finding.logical_id], words) for finding in scan.findings),
                *extra)
    checked = (*((key, f"{request.surface}: {request.what}") for key, request in by_id.items()),
               *((finding.logical_id, finding.resource_type) for finding in extra))
    scan = replace(scan, findings=findings, checked=checked, resource_count=len(checked))
    locations = {key: SurfaceLocation(path, request.line, request.column) for key, request in by_id.items()}
    locations.update({finding.logical_id: SurfaceLocation(path, finding.line or 1) for finding in extra
                      if finding.logical_id not in locations})
    return SurfaceScan(scan, locations)


def _respelt(respell: Callable[[str], str]) -> Callable[[re.Match[str]], str]:
    return lambda match: match.group(1) + respell(match.group(2))


def _unshown(path: str, key: str, request: SurfaceRequest) -> Finding:
    """A request the source does not show (EULA006, a warning, as the engine reports a definition it cannot see)."""
    return Finding(
        rule_id=NOT_SHOWN_RULE, severity="warning", template=path, logical_id=key,
        resource_type=f"{request.surface}: {request.what}", model_id=None,
        message=f"{request.name} sends a SageMaker request that the source does not show ({request.unshown}), so "
                "EulaGate cannot tell whether it deploys or fine-tunes an EULA-gated model without accepting its "
                "EULA.",
        fix="Write the request's arguments where the call is made (a literal dict), or check the file or template "
            "that holds them, and acknowledge the warning.", line=request.line,
    )


def unreadable_finding(surface: str, path: str, line: int, why: str, *, strict: bool) -> Finding:
    """A part of a source file that cannot be read (EULA000): nothing in it can be shown to accept. A warning,
    an error with ``--strict``: the tool that runs the file may read what this parser cannot (IPython syntax in a
    notebook cell, a newer Python or HCL), so it is never silently clean."""
    return Finding(
        rule_id=UNEVALUABLE, severity="error" if strict else "warning", template=path,
        logical_id=f"{surface} source, line {line}", resource_type=f"{surface}: source file", model_id=None,
        message=f"{path} cannot be read, so EULA acceptance cannot be proven for what it deploys: {why}"[:400],
        fix="Fix the part named so that the file parses, or exclude it from the check (--surface).", line=line,
    )


def _in_source_words(finding: Finding, request: SurfaceRequest, unknowns: tuple[tuple[str, str], ...]) -> Finding:
    message, fix = finding.message, finding.fix
    if request.respell is not None:
        message, fix = _API_PATH.sub(_respelt(request.respell), message), _API_PATH.sub(_respelt(request.respell), fix)
    spellings = (*((f"Properties.{path}" if path[:1].isupper() else path, spelling)
                   for path, spelling in request.spellings),
                 ("Properties.", ""), ("Properties", "the request"), *unknowns, *_ENGINE_WORDING)
    for engine_words, source_words in spellings:
        message = message.replace(engine_words, source_words)
        fix = fix.replace(engine_words, source_words)
    for pattern, words in _MODEL_ID_WORDING:
        message = pattern.sub(words, message)
    if request.fix is not None and finding.rule_id != UNEVALUABLE:
        fix = (f"After reading the EULA, {request.fix}" if finding.severity == "error"
               else request.fix[:1].upper() + request.fix[1:]) + "."
    return replace(finding, message=message, fix=fix, resource_type=f"{request.surface}: {request.what}",
                   line=request.line)


__all__ = [
    "DEFAULT_REGION", "MODEL_ACCEPTANCE_PATH", "TRAINING_ACCEPTANCE_PATH", "Pieces", "SurfaceLocation",
    "SurfaceRequest", "SurfaceScan", "Unknown", "acceptance_spellings", "model_request", "scan_requests",
    "synthetic_template", "training_request", "unreadable_finding",
]

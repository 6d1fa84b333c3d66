"""The one reader of CDK cloud assemblies (``cdk.out``): used by ``eulagate check``, the synth-time gate and the
cdk-nag pack, so all three read the same templates. Pure Python (no jsii).

Which templates an assembly holds:

- each stack artifact of ``manifest.json`` (``aws:cloudformation:stack``): its ``templateFile``;
- each stack's nested stack templates: the files its construct metadata names (``aws:cdk:templateFile`` entries,
  in the manifest's ``metadata`` or the stack's ``additionalMetadataFile``). Nothing is found by a file name
  pattern, so a ``*.nested.template.json`` that no stack names (left by an earlier synth into the same
  directory) is stale and never read;
- the same, recursively, for each nested assembly (``cdk:cloud-assembly``: the Stages, in ``assembly-*/``).

Each nested stack resource (``AWS::CloudFormation::Stack``, ``AWS::Serverless::Application``) of a template
read is either located or reported (``nested_stacks``): by the assembly's metadata (the nested stack whose
construct holds the resource), by the resource's ``aws:asset:path`` metadata, or by a local ``TemplateURL``
(SAM: ``Location``), a relative file path beside the template. A located template not yet read is read too,
with each parameter its nesting stacks pass values the parent fixes bound to those values.

Every file a manifest names must be a regular file inside the assembly's directory: a name that leads outside
(``../../etc/passwd``, ``/proc/self/environ``, a symbolic link out) is refused, and a FIFO is never opened.
"""

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import constructs_lib.rules.evaluation  # noqa: F401  (registers the evaluators that readings use)
from constructs_lib.errors import TemplateError
from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.detection.template_text import MAX_TEMPLATE_CHARS, TemplateTextError, parse_template_text
from constructs_lib.rules.evaluation.reader import readings
from constructs_lib.rules.evaluation.values import DeploymentFails, EvaluationLimit, TemplateContext, has_tokens
from constructs_lib.synth.templates import (
    TEMPLATE_SUFFIXES,
    expects_json,
    has_template_suffix,
    load_template,
    read_json_file,
    read_text,
)

MANIFEST = "manifest.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
NESTED_STACK_TYPES = frozenset({NESTED_STACK_TYPE, "AWS::Serverless::Application"})
ASSET_PATH_METADATA = "aws:asset:path"  # on a CDK nested stack resource: its template's file in the assembly
TEMPLATE_FILE_METADATA = "aws:cdk:templateFile"  # on each stack and nested stack: its template's file name
LOGICAL_ID_METADATA = "aws:cdk:logicalId"  # on each CloudFormation element: its final logical id
# Directories a walk of a repository never enters: dependencies and caches, not the project's templates.
_SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__"})

Metadata = dict[str, list[Mapping[str, Any]]]  # construct path -> metadata entries
TemplateT = TypeVar("TemplateT", bound=Mapping[str, Any])  # a parsed template, as a caller's reader returns it
ExtraT = TypeVar("ExtraT")  # what else it returns (the file's text, for line numbers)
# CDK's construct path of a nested stack's resource: <scope>/<id>.NestedStack/<id>.NestedStackResource, where
# <scope>/<id> is the nested stack whose metadata names its template.
_NESTED_STACK_RESOURCE = compile_on_use(r"\A(?P<scope>.*)/(?P<id>[^/]+)\.NestedStack/(?P=id)\.NestedStackResource\Z")


class Stack:
    """One stack artifact of a cloud assembly (a plain class: a dataclass costs ``eulagate check`` more to define)."""

    __slots__ = ("_metadata", "_metadata_file", "_read", "directory", "manifest", "name", "template")

    def __init__(self, name: str, template: Path, manifest: Path, directory: Path,
                 metadata: Mapping[str, Any], metadata_file: str | None) -> None:
        self.name = name
        self.template = template
        self.manifest = manifest
        self.directory = directory
        self._metadata = metadata  # the manifest's own, then that of ``metadata_file`` (read once, on demand)
        self._metadata_file = metadata_file
        self._read: Metadata | None = None

    @property
    def metadata(self) -> Metadata:
        """The construct metadata of the stack and its nested stacks (read once, on demand)."""
        if self._read is None:
            metadata: Metadata = {key: list(value) for key, value in self._metadata.items()
                                  if isinstance(value, list)}
            if self._metadata_file is not None:
                path = _inside(self.directory, self._metadata_file, self.manifest,
                               f"stack {self.name!r} names metadata file")
                extra = read_json_file(path)
                if not isinstance(extra, dict):
                    raise TemplateError(f"{path}: malformed stack metadata: not a JSON object")
                metadata.update({key: value for key, value in extra.items() if isinstance(value, list)})
            self._read = metadata
        return self._read

    def nested_templates(self) -> list[Path]:
        """The nested stack templates the stack's metadata names, in the order it names them."""
        names = [entry.get("data") for entries in self.metadata.values() for entry in entries
                 if isinstance(entry, Mapping) and entry.get("type") == TEMPLATE_FILE_METADATA]
        return [_inside(self.directory, name, self.manifest, f"stack {self.name!r} names nested template")
                for name in dict.fromkeys(names) if isinstance(name, str) and name != self.template.name]

    def _template_of_scope(self) -> dict[str, str]:
        return {
            scope: str(self.directory / entry["data"])
            for scope, entries in self.metadata.items()
            for entry in entries
            if isinstance(entry, Mapping) and entry.get("type") == TEMPLATE_FILE_METADATA
        }

    def nested_templates_by_resource(self, template: Path) -> dict[str, Path]:
        """Logical id of each nested stack resource in ``template`` -> the nested template the metadata names."""
        template_of_scope = self._template_of_scope()
        found: dict[str, Path] = {}
        for (holder, logical_id), construct_path in self.construct_paths().items():
            match = _NESTED_STACK_RESOURCE.match("/" + construct_path)
            nested = template_of_scope.get(f"{match['scope']}/{match['id']}") if match else None
            if nested is not None and Path(holder) == template:
                found[logical_id] = _inside(self.directory, Path(nested).name, self.manifest,
                                            f"stack {self.name!r} names nested template")
        return found

    def construct_paths(self) -> dict[tuple[str, str], str]:
        """(template path, logical id) -> construct path, for every CloudFormation element of the stack."""
        template_of_scope = self._template_of_scope()
        paths: dict[tuple[str, str], str] = {}
        for construct_path, entries in self.metadata.items():
            for entry in entries:
                if isinstance(entry, Mapping) and entry.get("type") == LOGICAL_ID_METADATA:
                    template = _innermost(construct_path, template_of_scope) or str(self.template)
                    paths[(template, str(entry.get("data")))] = construct_path.lstrip("/")
        return paths


class CloudAssembly:
    """A cloud assembly directory, read through its manifests; every path it hands out lies inside it."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def stacks(self) -> list[Stack]:
        """Every stack of the assembly and of its nested assemblies, in manifest order."""
        return list(self._stacks(self.directory, {self.directory.resolve()}))

    def templates(self) -> list[Path]:
        """Each stack's template followed by the nested stack templates it names."""
        return [path for stack in self.stacks() for path in (stack.template, *stack.nested_templates())]

    def _stacks(self, directory: Path, visited: set[Path]) -> Iterator[Stack]:
        manifest_path = directory / MANIFEST
        for name, artifact in _artifacts(manifest_path):
            properties = artifact.get("properties") or {}
            if not isinstance(properties, dict):
                raise TemplateError(f"{manifest_path}: malformed cloud assembly manifest: artifact {name!r} has "
                                    "properties that are not a mapping")
            if artifact.get("type") == STACK_ARTIFACT:
                yield _stack(name, artifact, properties, directory, manifest_path)
            elif artifact.get("type") == NESTED_ASSEMBLY_ARTIFACT:
                nested = properties.get("directoryName")
                if not isinstance(nested, str):
                    continue
                nested_directory = _inside(directory, nested, manifest_path, f"nested assembly {name!r} names",
                                           directory_expected=True)
                if nested_directory.resolve() not in visited:  # a manifest naming its own or a parent's directory
                    visited.add(nested_directory.resolve())
                    yield from self._stacks(nested_directory, visited)


def stack_of_template(template: Path, manifests: dict[Path, list[tuple[str, dict[str, Any]]]]) -> Stack:
    """The stack whose template ``template`` is, from the manifest beside it (``manifests`` caches them)."""
    manifest_path = template.parent / MANIFEST
    if manifest_path not in manifests:
        manifests[manifest_path] = list(_artifacts(manifest_path))
    for name, artifact in manifests[manifest_path]:
        properties = artifact.get("properties") or {}
        if (artifact.get("type") == STACK_ARTIFACT and isinstance(properties, dict)
                and properties.get("templateFile") == template.name):
            return _stack(name, artifact, properties, template.parent, manifest_path)
    raise TemplateError(f"{template}: the cloud assembly manifest names no stack with this template; "
                        "synthesize again")


class SynthesizedStacks:
    """The stacks one synth-time validation covers (the stack template paths CDK hands to plugins), with the
    nested stack templates each one's metadata names: CDK does not hand nested templates to plugins."""

    def __init__(self, template_paths: Iterable[str]) -> None:
        self.stack_template_paths = [Path(path) for path in template_paths]
        self._manifests: dict[Path, list[tuple[str, dict[str, Any]]]] = {}
        self._stacks: dict[Path, Stack] = {}
        self._stacks_by_manifest: dict[Path, list[Stack]] = {}

    def _stack(self, template: Path) -> Stack:
        if template not in self._stacks:
            self._stacks[template] = stack_of_template(template, self._manifests)
        return self._stacks[template]

    def templates_of(self, stack_path: Path) -> Iterator[tuple[Path, Mapping[str, Any], frozenset[str]]]:
        """The stack's template file and its parsed JSON, then each of its nested templates, each with the
        logical ids of the nested stacks whose templates are among them (``nested_stacks``)."""
        template = load_template(stack_path)
        listed = [stack_path, *self._stack(stack_path).nested_templates()] if declares_nested_stacks(template) \
            else [stack_path]
        locator = NestedStackLocator(self._stacks_by_manifest)
        for path, (parsed, _), nested in read_with_nested_templates(
                listed, lambda path: (template, None) if path == stack_path else (load_template(path), None),
                locator):
            yield path, parsed, located(nested)

    def construct_paths(self) -> dict[tuple[str, str], str]:
        """(template path, logical id) -> construct path, for every CloudFormation element of the stacks."""
        paths: dict[tuple[str, str], str] = {}
        for stack_path in self.stack_template_paths:
            paths.update(self._stack(stack_path).construct_paths())
        return paths


def declares_nested_stacks(template: Mapping[str, Any]) -> bool:
    resources = template.get("Resources") or {}
    # On every template read: dict, not the Mapping ABC, whose isinstance costs ten times as much.
    if not isinstance(resources, dict):
        return False
    for resource in resources.values():  # a plain loop: no generator frame per resource
        if isinstance(resource, dict) and resource.get("Type") in NESTED_STACK_TYPES:
            return True
    return False


class NestedStack(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    """A nested stack resource of a template, the template file it deploys when EulaGate can locate it, and the
    values each parameter it passes can take in the parent's deployments, where the parent fixes them."""

    logical_id: str
    template: Path | None
    passes: Mapping[str, tuple[str, ...]]


def located(nested: Iterable[NestedStack]) -> frozenset[str]:
    """The logical ids of the nested stacks whose templates were located (and so are read on their own)."""
    return frozenset(stack.logical_id for stack in nested if stack.template is not None)


class NestedStackLocator:
    """Where the template of each nested stack resource of a template is (manifests read once, cached)."""

    def __init__(self, stacks_by_manifest: dict[Path, list[Stack]] | None = None) -> None:
        self._stacks_by_manifest = stacks_by_manifest if stacks_by_manifest is not None else {}

    def nested_stacks(self, path: Path, template: Mapping[str, Any]) -> list[NestedStack]:
        """Each nested stack resource of ``template`` (read from ``path``), located or not."""
        if not declares_nested_stacks(template):
            return []
        stack = self._stack_holding(path)
        by_metadata = stack.nested_templates_by_resource(path) if stack is not None else {}
        found = []
        for logical_id, resource in template["Resources"].items():
            if not (isinstance(resource, Mapping) and resource.get("Type") in NESTED_STACK_TYPES):
                continue
            logical_id = str(logical_id)
            nested = by_metadata.get(logical_id)
            if nested is None and stack is not None:
                nested = _asset_path(resource, stack)
            if nested is None:
                nested = _local_template(resource, path)
            found.append(NestedStack(logical_id, nested, _passed_values(resource, template) if nested else {}))
        return found

    def _stack_holding(self, path: Path) -> Stack | None:
        """The assembly stack whose template, or one of whose nested templates, ``path`` is."""
        manifest_path = path.parent / MANIFEST
        if not manifest_path.is_file():
            return None
        if manifest_path not in self._stacks_by_manifest:
            self._stacks_by_manifest[manifest_path] = [
                _stack(name, artifact, artifact.get("properties") or {}, path.parent, manifest_path)
                for name, artifact in _artifacts(manifest_path)
                if artifact.get("type") == STACK_ARTIFACT and isinstance(artifact.get("properties") or {}, dict)]
        resolved = path.resolve()
        for stack in self._stacks_by_manifest[manifest_path]:
            if stack.template.resolve() == resolved or any(
                    nested.resolve() == resolved for nested in stack.nested_templates()):
                return stack
        return None


def _asset_path(resource: Mapping[str, Any], stack: Stack) -> Path | None:
    """The nested template a CDK nested stack resource names in its ``aws:asset:path`` metadata, if present."""
    metadata = resource.get("Metadata")
    name = metadata.get(ASSET_PATH_METADATA) if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not has_template_suffix(Path(name)):
        return None
    try:
        return _inside(stack.directory, name, stack.template, "nested stack resource names asset")
    except TemplateError as error:
        if "missing" in str(error):
            return None  # not located: reported as a nested stack whose template cannot be read
        raise


def _passed_values(resource: Mapping[str, Any], template: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each parameter a nested stack resource passes, with every text it can be in a deployment of the parent
    (``template``) that its ``Rules`` allow; a value some deployment leaves unknown is left out."""
    properties = resource.get("Properties")
    parameters = properties.get("Parameters") if isinstance(properties, Mapping) else None
    if not isinstance(parameters, dict):
        return {}
    passed: dict[str, tuple[str, ...]] = {}
    context: TemplateContext | None = None
    for key, value in parameters.items():
        if isinstance(value, (str, int, float, bool)) and not (isinstance(value, str) and "{{resolve:" in value):
            passed[str(key)] = (str(value).lower() if isinstance(value, bool) else str(value),)
        elif isinstance(value, dict):
            context = context or TemplateContext(template)
            texts = _possible_texts(context, value)
            if texts:
                passed[str(key)] = texts
    return passed


def _possible_texts(context: TemplateContext, value: Any) -> tuple[str, ...]:
    """The texts ``value`` (an intrinsic) is across the template's deployments, or none if one leaves it unknown."""
    texts: set[str] = set()
    try:
        for reader in readings(context):
            try:
                text = reader.render(value)
            except DeploymentFails:
                continue
            if reader.refusing_rule() is not None:
                continue  # CloudFormation refuses this deployment
            if text is None or has_tokens(text):
                return ()
            texts.add(text)
    except EvaluationLimit:
        return ()
    return tuple(sorted(texts))


def _local_template(resource: Mapping[str, Any], path: Path) -> Path | None:
    """A ``TemplateURL`` (SAM: ``Location``) that is a relative path to a template file inside the template's
    directory, as ``aws cloudformation package`` and ``sam`` take it before uploading."""
    properties = resource.get("Properties")
    if not isinstance(properties, Mapping):
        return None
    name = properties.get("TemplateURL", properties.get("Location"))
    if not isinstance(name, str) or "://" in name or os.path.isabs(name) or not has_template_suffix(Path(name)):
        return None
    root = path.parent.resolve()
    candidate = path.parent / name
    resolved = candidate.resolve()
    return candidate if resolved.is_relative_to(root) and resolved.is_file() else None



def read_with_nested_templates(paths: Iterable[Path], read: Callable[[Path], tuple[TemplateT, ExtraT]],
                               locator: NestedStackLocator | None = None, *, standalone: Iterable[Path] = ()
                               ) -> Iterator[tuple[Path, tuple[TemplateT, ExtraT], list[NestedStack]]]:
    """Each template of ``paths`` as ``read`` reads it, with its nested stacks; a located nested template that
    is not among ``paths`` is read after them (once each, whatever nests what).

    A nested template is judged as the stacks that nest it deploy it: a parameter every one of them passes the
    same literal value is bound to that value (its ``AllowedValues`` become that value alone). So that every
    such stack is known first, the templates that may nest stacks (their text names a nested stack type) are
    read before any template is given out. A template in ``standalone`` (a file the user named) may be
    deployed on its own: none of its parameters is bound.
    """
    locator = locator or NestedStackLocator()
    order = list(dict.fromkeys(paths))
    seen = {path.resolve() for path in order}
    unbound = {path.resolve() for path in standalone}
    passes: dict[Path, list[Mapping[str, tuple[str, ...]]]] = {}  # nested template -> what each nester passes
    held: dict[Path, tuple[tuple[TemplateT, ExtraT], list[NestedStack]]] = {}
    given_out: dict[Path, Mapping[str, tuple[str, ...]]] = {}  # template -> the binding it was judged with

    def note(path: Path, parsed: tuple[TemplateT, ExtraT]) -> list[NestedStack]:
        nested = locator.nested_stacks(path, parsed[0])
        for stack in nested:
            if stack.template is None:
                continue
            resolved = stack.template.resolve()
            passes.setdefault(resolved, []).append(stack.passes)
            if resolved not in seen:
                seen.add(resolved)
                order.append(stack.template)
            elif given_out.get(resolved):  # nested by a template its text check missed: judged again, as bound
                order.append(stack.template)
        return nested

    index = 0
    while index < len(order):  # grows while it is read
        path = order[index]
        index += 1
        if _may_nest_stacks(path):
            parsed = read(path)
            held[path] = (parsed, note(path, parsed))
    index = 0
    while index < len(order):  # grows only when a template nests stacks that its text did not show
        path = order[index]
        index += 1
        if path in held:
            parsed, nested = held.pop(path)
        else:
            parsed = read(path)
            nested = note(path, parsed)
        resolved = path.resolve()
        binding = {} if resolved in unbound else _agreed(passes.get(resolved, []))
        if resolved in given_out and _covers(binding, given_out[resolved]):
            continue
        given_out[resolved] = binding
        yield path, (_bind(parsed[0], binding), parsed[1]), nested


_NESTED_STACK_MARKERS = tuple(kind.encode() for kind in NESTED_STACK_TYPES)


def _may_nest_stacks(path: Path) -> bool:
    """Whether a template file's bytes name a nested stack type (a cheap look before parsing it, not decoded). A
    file that is not a regular one or is too big is never opened or read here: the reader reports it."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_TEMPLATE_CHARS:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    return any(marker in data for marker in _NESTED_STACK_MARKERS)


def _agreed(references: list[Mapping[str, tuple[str, ...]]]) -> dict[str, tuple[str, ...]]:
    """The values each parameter can take through every stack nesting a template (one that some stack does not
    pass, or passes a value it cannot tell, can be anything)."""
    if not references:
        return {}
    first, *rest = references
    return {key: tuple(sorted(set(values).union(*(other[key] for other in rest))))
            for key, values in first.items() if all(key in other for other in rest)}


def _covers(binding: Mapping[str, tuple[str, ...]], judged: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether a template judged with ``judged`` bound was judged over every deployment ``binding`` allows."""
    return all(key in binding and set(binding[key]) <= set(values) for key, values in judged.items())


def _bind(template: TemplateT, binding: Mapping[str, tuple[str, ...]]) -> TemplateT:
    """``template`` with each bound parameter (text or number, not a list) allowed only the values passed."""
    parameters = template.get("Parameters") if binding else None
    if not isinstance(parameters, dict):
        return template
    bound = {key: {**parameters[key], "AllowedValues": list(values)} for key, values in binding.items()
             if isinstance(parameters.get(key), dict) and parameters[key].get("Type") in ("String", "Number")}
    return {**template, "Parameters": {**parameters, **bound}} if bound else template  # type: ignore[return-value]


def discover_templates(paths: Iterable[str | Path], malformed: list[TemplateError] | None = None) -> list[Path]:
    """The template files behind each path, in order, once each.

    A path is a template file (any of ``TEMPLATE_SUFFIXES``, in any letter case), a cloud assembly directory
    (one with ``manifest.json``, read through it), or any other directory, walked for templates. A walked file
    that looks like a template but cannot be read raises ``TemplateError``, or joins ``malformed`` when given
    (so that ``eulagate check`` names every broken file of a folder, not only the first).
    """
    found: dict[Path, None] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.update(dict.fromkeys(templates_in_directory(path, malformed)))
        elif not path.exists() and not path.is_symlink():
            raise TemplateError(f"{path}: no such file or directory")
        elif not has_template_suffix(path):
            raise TemplateError(
                f"{path}: not a template file (expected {', '.join(TEMPLATE_SUFFIXES)}) or a directory")
        else:
            found[path] = None  # a FIFO or other non-regular file is refused when read, never opened here
    return list(found)


def templates_in_directory(directory: Path, malformed: list[TemplateError] | None = None) -> list[Path]:
    """A cloud assembly's templates, or the templates found by walking a directory of plain templates."""
    if (directory / MANIFEST).is_file():
        return CloudAssembly(directory).templates()
    return list(_walk(directory, malformed))


def _walk(directory: Path, malformed: list[TemplateError] | None = None) -> Iterator[Path]:
    """The templates in a directory of plain templates (a SAM or hand-written CloudFormation repository).

    Hidden directories (``.git``, ``.aws-sam``), ``node_modules`` and files that are not regular are passed
    over, and a subdirectory with ``manifest.json`` is read as the cloud assembly it is. A JSON or YAML file
    that is not a template (``package.json``, a workflow) is passed over; one that looks like a template (it
    names ``AWSTemplateFormatVersion``, or opens a line with ``Resources:``) but cannot be read is bad input.
    """
    for root, directories, files in os.walk(directory):
        here = Path(root)
        if here != directory and MANIFEST in files:
            directories[:] = []
            yield from CloudAssembly(here).templates()
            continue
        directories[:] = sorted(d for d in directories if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES)
        for name in sorted(files):
            path = here / name
            if not (has_template_suffix(path) and path.is_file()):
                continue
            try:
                if _is_template_file(path):
                    yield path
            except TemplateError as error:
                if malformed is None:
                    raise
                malformed.append(error)


def _is_template_file(path: Path) -> bool:
    text = read_text(path)
    if "Resources" not in text:
        return False
    try:
        document = parse_template_text(text, json_expected=expects_json(path))
    except TemplateTextError as error:
        if "AWSTemplateFormatVersion" in text or re.search(r"^\s*\"?Resources\"?\s*:", text, re.MULTILINE):
            raise TemplateError(f"{path}: {error}") from None
        return False
    return isinstance(document, dict) and isinstance(document.get("Resources"), dict)


def _artifacts(manifest_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if not manifest_path.is_file():
        raise TemplateError(
            f"{manifest_path.parent}: not a cloud assembly (no {MANIFEST}); run `cdk synth` again")
    manifest = read_json_file(manifest_path)
    if not isinstance(manifest, dict):
        raise TemplateError(f"{manifest_path}: malformed cloud assembly manifest: not a JSON object")
    artifacts = manifest.get("artifacts")
    if artifacts is None:
        return
    if not isinstance(artifacts, dict):
        raise TemplateError(f"{manifest_path}: malformed cloud assembly manifest: artifacts is not a mapping")
    for name, artifact in artifacts.items():
        if isinstance(artifact, dict):
            yield str(name), artifact


def _stack(name: str, artifact: Mapping[str, Any], properties: Mapping[str, Any], directory: Path,
           manifest_path: Path) -> Stack:
    template_file = properties.get("templateFile")
    if not isinstance(template_file, str):
        raise TemplateError(f"{manifest_path}: stack artifact {name!r} names no templateFile")
    template = _inside(directory, template_file, manifest_path, f"stack {name!r} names")
    metadata = artifact.get("metadata")
    extra = artifact.get("additionalMetadataFile")
    return Stack(name, template, manifest_path, directory, metadata if isinstance(metadata, dict) else {},
                 extra if isinstance(extra, str) else None)


def _inside(directory: Path, name: str, manifest_path: Path, what: str, *, directory_expected: bool = False
            ) -> Path:
    """``directory / name``, refused unless it exists and stays inside ``directory`` (links resolved)."""
    path = directory / name
    root = directory.resolve()
    resolved = path.resolve()
    if os.path.isabs(name) or not resolved.is_relative_to(root):
        raise TemplateError(f"{manifest_path}: {what} {name}, which is outside the cloud assembly; "
                            "a manifest names only files of its own directory")
    if directory_expected:
        if not (resolved / MANIFEST).is_file():
            raise TemplateError(f"{manifest_path}: {what} {name}, which is not a cloud assembly (missing, or no "
                                f"{MANIFEST}); run `cdk synth` again")
    elif not path.exists():
        raise TemplateError(f"{manifest_path}: {what} {name}, which is missing; run `cdk synth` again")
    return path


def _innermost(construct_path: str, template_of_scope: Mapping[str, str]) -> str | None:
    """The template of the innermost stack or nested stack whose construct path contains ``construct_path``."""
    scope = construct_path
    while scope:
        template = template_of_scope.get(scope)
        if template is not None:
            return template
        scope = scope.rpartition("/")[0]
    return None

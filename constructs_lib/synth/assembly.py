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
and judged with what its nesting stacks pass it, one assignment per deployment of theirs (``PassedValues``).

Every file a manifest names must be a regular file inside the assembly's directory: a name that leads outside
(``../../etc/passwd``, ``/proc/self/environ``, a symbolic link out) is refused, and a FIFO is never opened.
"""

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import repeat
from pathlib import Path
from typing import Any, TypeVar

import constructs_lib.rules.evaluation  # noqa: F401  (registers the evaluators that readings use)
from constructs_lib.errors import TemplateError
from constructs_lib.files import UnreadableFile, read_file_bytes
from constructs_lib.patterns import compile_on_use
from constructs_lib.records import Record
from constructs_lib.rules.detection.requests import NESTED_STACK_TYPES
from constructs_lib.rules.detection.template_text import MAX_TEMPLATE_CHARS, TemplateTextError, parse_template_text
from constructs_lib.rules.evaluation.values import EvaluationLimit, PassedValues, TemplateContext
from constructs_lib.synth.templates import (
    TEMPLATE_SUFFIXES,
    expects_json,
    has_template_suffix,
    load_template,
    read_json_file,
    read_template,
    read_text,
)

MANIFEST = "manifest.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
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
        self._directories: dict[Path, Path] = {}  # each directory resolved once (``_resolved``)

    def stacks(self) -> list[Stack]:
        """Every stack of the assembly and of its nested assemblies, in manifest order."""
        return list(self._stacks(self.directory, {_resolved_directory(self.directory, self._directories)}))

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
                yield _stack(name, artifact, properties, directory, manifest_path, self._directories)
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

    def templates_of(self, stack_path: Path) -> Iterator[tuple[Path, Mapping[str, Any], frozenset[str],
                                                               PassedValues | None]]:
        """The stack's template file and its parsed JSON, then each of its nested templates, each with the
        logical ids of the nested stacks whose templates are among them (``nested_stacks``) and what the stacks
        nesting it pass it."""
        template = load_template(stack_path)
        listed = [stack_path, *self._stack(stack_path).nested_templates()] if declares_nested_stacks(template) \
            else [stack_path]
        locator = NestedStackLocator(self._stacks_by_manifest)

        def read(path: Path, data: bytes | None) -> tuple[Mapping[str, Any], None]:
            return (template if path == stack_path else read_template(path, data)[0]), None

        for path, (parsed, _), nested, passed in read_with_nested_templates(listed, read, locator):
            yield path, parsed, located(nested), passed

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
    try:  # in C (``map``): half the instructions of a Python loop over every resource
        return not NESTED_STACK_TYPES.isdisjoint(map(dict.get, resources.values(), repeat("Type")))
    except TypeError:  # a resource that is not a dict, or a Type that cannot be hashed
        return any(map(_is_nested_stack, resources.values()))


def _is_nested_stack(resource: Any) -> bool:
    resource_type = resource.get("Type") if isinstance(resource, Mapping) else None
    return isinstance(resource_type, str) and resource_type in NESTED_STACK_TYPES


class NestedStack(Record):  # a Record: a NamedTuple compiles its constructor at start-up
    """A nested stack resource of a template (its declaration) and the template file it deploys when EulaGate can
    locate it."""

    logical_id: str
    template: Path | None
    resource: Mapping[str, Any]

    def __init__(self, logical_id: str, template: Path | None, resource: Mapping[str, Any]) -> None:
        vars(self).update(logical_id=logical_id, template=template, resource=resource)


def located(nested: Iterable[NestedStack]) -> frozenset[str]:
    """The logical ids of the nested stacks whose templates were located (and so are read on their own)."""
    return frozenset(stack.logical_id for stack in nested if stack.template is not None)


class NestedStackLocator:
    """Where the template of each nested stack resource of a template is (manifests read once, cached)."""

    def __init__(self, stacks_by_manifest: dict[Path, list[Stack]] | None = None) -> None:
        self._stacks_by_manifest = stacks_by_manifest if stacks_by_manifest is not None else {}
        # A nested template located by an ``aws:asset:path`` -> its stack: a nested stack of a nested stack names
        # its template the same way, in the nested template the metadata may not name.
        self._stack_of_asset: dict[Path, Stack] = {}

    def nested_stacks(self, path: Path, template: Mapping[str, Any]) -> list[NestedStack]:
        """Each nested stack resource of ``template`` (read from ``path``), located or not."""
        if not declares_nested_stacks(template):
            return []
        stack = self._stack_holding(path)
        by_metadata = stack.nested_templates_by_resource(path) if stack is not None else {}
        found = []
        for logical_id, resource in template["Resources"].items():
            if not _is_nested_stack(resource):
                continue
            logical_id = str(logical_id)
            nested = by_metadata.get(logical_id)
            if nested is None and stack is not None:
                nested = _asset_path(resource, stack)
                if nested is not None:
                    self._stack_of_asset[nested.resolve()] = stack
            if nested is None:
                nested = _local_template(resource, path)
            found.append(NestedStack(logical_id, nested, resource))
        return found

    def _stack_holding(self, path: Path) -> Stack | None:
        """The assembly stack whose template, or one of whose nested templates, ``path`` is."""
        resolved = path.resolve()
        if resolved in self._stack_of_asset:
            return self._stack_of_asset[resolved]
        manifest_path = path.parent / MANIFEST
        if not manifest_path.is_file():
            return None
        if manifest_path not in self._stacks_by_manifest:
            self._stacks_by_manifest[manifest_path] = [
                _stack(name, artifact, artifact.get("properties") or {}, path.parent, manifest_path)
                for name, artifact in _artifacts(manifest_path)
                if artifact.get("type") == STACK_ARTIFACT and isinstance(artifact.get("properties") or {}, dict)]
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



def read_with_nested_templates(paths: Iterable[Path], read: Callable[[Path, bytes | None], tuple[TemplateT, ExtraT]],
                               locator: NestedStackLocator | None = None, *, standalone: Iterable[Path] = ()
                               ) -> Iterator[tuple[Path, tuple[TemplateT, ExtraT], list[NestedStack],
                                                   PassedValues | None]]:
    """Each template of ``paths`` as ``read`` reads it (from the file's bytes when they were read already, which
    tell whether it may declare nested stacks; else given ``None``), with its nested stacks and what the stacks
    nesting it pass it; a located nested template that is not among ``paths`` is read after them (once each,
    whatever nests what).

    A nested template is judged as the stacks that nest it deploy it: over the assignments of its parameters
    their deployments make (``rules/evaluation/nesting.py``), a parent's own deployments being those the stacks
    nesting *it* allow (a chain of nested stacks is followed). So that every such stack is known first, the
    templates that may nest stacks (their text names a nested stack type) are read before any template is given
    out. A template in ``standalone`` (a file the user named) may be deployed on its own: it is not bound.
    """
    locator = locator or NestedStackLocator()
    order = list(dict.fromkeys(paths))
    directories: dict[Path, Path] = {}
    resolved_of = {path: _resolved(path, directories) for path in order}  # each path resolved once
    seen = set(resolved_of.values())
    unbound = {_resolved(path, directories) for path in standalone}
    nesters: dict[Path, dict[tuple[Path, str], Mapping[str, Any]]] = {}  # template -> (parent, id) -> resource
    parsed_parents: dict[Path, Mapping[str, Any]] = {}
    held: dict[Path, tuple[tuple[TemplateT, ExtraT], list[NestedStack]]] = {}
    given_out: dict[Path, PassedValues | None] = {}  # template -> what it was judged with
    bindings = _Bindings(nesters, parsed_parents, unbound)

    def note(path: Path, parsed: tuple[TemplateT, ExtraT]) -> list[NestedStack]:
        nested = locator.nested_stacks(path, parsed[0])
        parent = resolved_of[path]
        for stack in nested:
            if stack.template is None:
                continue
            parsed_parents[parent] = parsed[0]
            resolved = resolved_of.get(stack.template)
            if resolved is None:
                resolved = resolved_of[stack.template] = _resolved(stack.template, directories)
            nesting = nesters.setdefault(resolved, {})
            if (parent, stack.logical_id) in nesting:
                continue
            nesting[(parent, stack.logical_id)] = stack.resource
            bindings.forget()
            if resolved not in seen:
                seen.add(resolved)
                order.append(stack.template)
            elif resolved in given_out:  # nested by a template its text check missed: judged again if need be
                order.append(stack.template)
        return nested

    # Each file is read once: the bytes looked at here are kept for the parse (within a bound; past it, a file is
    # read again when its turn comes).
    data_of: dict[Path, bytes] = {}
    kept = 0
    index = 0
    while index < len(order):  # grows while it is read
        path = order[index]
        index += 1
        data = _template_bytes(path)
        if data is None:
            continue
        if any(data.find(marker) >= 0 for marker in _NESTED_STACK_MARKERS):  # not `in`: it tries an int first
            parsed = read(path, data)
            held[path] = (parsed, note(path, parsed))
        elif kept + len(data) <= _MAX_KEPT_BYTES:
            data_of[path] = data
            kept += len(data)
    index = 0
    while index < len(order):  # grows only when a template nests stacks that its text did not show
        path = order[index]
        index += 1
        if path in held:
            parsed, nested = held.pop(path)
        else:
            data = data_of.pop(path, None)
            parsed = read(path, data)
            # Read from bytes that name no nested stack type and hold no backslash: JSON and YAML write a string
            # other than as its own characters only through an escape, which starts with one (YAML's folding adds
            # a space), so no resource of it is a nested stack.
            nested = [] if data is not None and data.find(b"\\") < 0 else note(path, parsed)
        resolved = resolved_of[path]
        passed = bindings.of(resolved, parsed[0])
        if resolved in given_out:
            if _covers(given_out[resolved], passed):
                continue
            # Judged again with more deployments: what it passes its own nested stacks may have grown too.
            order.extend(stack.template for stack in nested
                         if stack.template is not None and stack.template.resolve() in given_out)
        given_out[resolved] = passed
        yield path, parsed, nested, passed


class _Bindings:
    """What the stacks nesting each template pass it (``PassedValues``), found on demand and kept; a parent's
    own binding is found first, so a chain of nested stacks is followed."""

    def __init__(self, nesters: Mapping[Path, Mapping[tuple[Path, str], Mapping[str, Any]]],
                 parents: Mapping[Path, Mapping[str, Any]], unbound: set[Path]) -> None:
        self._nesters = nesters
        self._parents = parents
        self._unbound = unbound
        self._found: dict[Path, PassedValues | None] = {}
        self._finding: set[Path] = set()

    def forget(self) -> None:
        """A stack nesting a template was found late: what is bound is found again."""
        self._found.clear()

    def of(self, template: Path, parsed: Mapping[str, Any] | None = None) -> PassedValues | None:
        """What the stacks nesting ``template`` (parsed: ``parsed``, or the one kept as a parent's) pass it."""
        if template in self._found:
            return self._found[template]
        nesting = self._nesters.get(template)
        if not nesting or template in self._unbound or template in self._finding:
            return None  # nested by nothing read, deployed on its own, or in a cycle: not bound
        # Imported here: only a template that a stack nests is bound (most checks read none).
        from constructs_lib.rules.evaluation.nesting import (
            Assignment,
            bound_parameters,
            passed_assignments,
            passed_values,
        )

        parsed = parsed if parsed is not None else self._parents.get(template)
        parameters = bound_parameters(parsed) if parsed is not None else {}
        if not parameters:
            return None  # nothing to bind
        assignments: set[Assignment] = set()
        limit = None
        self._finding.add(template)
        try:
            for (parent, logical_id), resource in nesting.items():
                context = TemplateContext(self._parents[parent], self.of(parent))
                try:
                    assignments |= passed_assignments(resource, context, parameters)
                except EvaluationLimit as error:
                    limit = f"what nested stack '{logical_id}' of {parent.name} passes it cannot be listed: {error}"
        finally:
            self._finding.discard(template)
        found = self._found[template] = passed_values(parameters, assignments, limit)
        return found


_NESTED_STACK_MARKERS = tuple(kind.encode() for kind in NESTED_STACK_TYPES)
_MAX_KEPT_BYTES = 64 * 1024 * 1024  # template bytes kept from the look for nested stacks to the parse


def _template_bytes(path: Path) -> bytes | None:
    """A template file's bytes, to look for nested stack types in (a cheap look before parsing, not decoded),
    through the one file reader: a file that is not a regular one (judged on what was opened, so a file swapped for
    a FIFO never blocks) or is too big is never read here (``None``): the template reader reports it."""
    try:
        return read_file_bytes(path, limit=MAX_TEMPLATE_CHARS)
    except UnreadableFile:
        return None


def _covers(judged: PassedValues | None, passed: PassedValues | None) -> bool:
    """Whether a template judged with ``judged`` was judged over every deployment ``passed`` allows."""
    if judged is None or judged.limit is not None:  # unbound, or every deployment that meets a passed value failed
        return True
    return (passed is not None and passed.limit is None and judged.names == passed.names
            and set(passed.assignments) <= set(judged.assignments))


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
           manifest_path: Path, directories: dict[Path, Path] | None = None) -> Stack:
    template_file = properties.get("templateFile")
    if not isinstance(template_file, str):
        raise TemplateError(f"{manifest_path}: stack artifact {name!r} names no templateFile")
    template = _inside(directory, template_file, manifest_path, f"stack {name!r} names", directories=directories)
    metadata = artifact.get("metadata")
    extra = artifact.get("additionalMetadataFile")
    return Stack(name, template, manifest_path, directory, metadata if isinstance(metadata, dict) else {},
                 extra if isinstance(extra, str) else None)


def _inside(directory: Path, name: str, manifest_path: Path, what: str, *, directory_expected: bool = False,
            directories: dict[Path, Path] | None = None) -> Path:
    """``directory / name``, refused unless it exists and stays inside ``directory`` (links resolved; the
    directories resolved are kept in ``directories`` when given)."""
    path = directory / name
    if not directory_expected and _entry_name(name):
        try:  # an entry of the directory itself that is not a link is inside it, and there (nearly every file named)
            if not stat.S_ISLNK(os.lstat(path).st_mode):
                return path
        except OSError:
            pass  # missing or unreadable: told below, as any other name
    directories = {} if directories is None else directories
    root = _resolved_directory(directory, directories)
    resolved = _resolved(path, directories)
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


def _entry_name(name: str) -> bool:
    """Whether ``name`` names an entry of a directory itself: no separator, not the directory or its parent."""
    return name not in ("", ".", "..") and os.sep not in name and (os.altsep is None or os.altsep not in name)


def _resolved(path: Path, directories: dict[Path, Path]) -> Path:
    """``path.resolve()``: a file that is not a link is an entry of its directory resolved, one ``lstat`` instead of
    one per part of the path (``directories`` keeps the directories resolved)."""
    try:
        if path.name in ("", ".", "..") or stat.S_ISLNK(os.lstat(path).st_mode):
            return path.resolve()
    except OSError:  # missing, or not readable: resolved by name
        return path.resolve()
    return _resolved_directory(path.parent, directories) / path.name


def _resolved_directory(directory: Path, directories: dict[Path, Path]) -> Path:
    if directory not in directories:
        directories[directory] = directory.resolve()
    return directories[directory]


def _innermost(construct_path: str, template_of_scope: Mapping[str, str]) -> str | None:
    """The template of the innermost stack or nested stack whose construct path contains ``construct_path``."""
    scope = construct_path
    while scope:
        template = template_of_scope.get(scope)
        if template is not None:
            return template
        scope = scope.rpartition("/")[0]
    return None

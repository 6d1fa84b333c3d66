"""CloudFormation templates from disk: JSON or YAML (with the short forms), alone or in a CDK cloud assembly.

Pure Python (json, PyYAML): the CLI and the synth-time gate use it without starting jsii.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from constructs_lib.errors import TemplateError

TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")
NESTED_TEMPLATE_GLOB = "*.nested.template.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"


try:  # libyaml's parser when PyYAML was built with it: several times faster
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class CloudFormationLoader(_SafeLoader):
    """A safe YAML loader that turns CloudFormation's short forms (``!Sub``...) into their ``Fn::`` long forms."""


# Dates stay strings (``AWSTemplateFormatVersion: 2010-09-09``), as CloudFormation reads them.
CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_SHORT_FORM_FUNCTIONS = (
    "Base64", "Cidr", "FindInMap", "GetAZs", "If", "ImportValue", "Join", "Select", "Split", "Sub",
    "Transform", "And", "Equals", "Not", "Or", "ToJsonString", "Length",
)


def _construct_node(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node.tag}", node.start_mark)


def _long_form(key: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_node(loader, node)}

    return construct


def _construct_get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_node(loader, node)
    if isinstance(value, str):
        # `!GetAtt Resource.Attribute.Nested` names the resource before the first dot.
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


CloudFormationLoader.add_constructor("!Ref", _long_form("Ref"))
CloudFormationLoader.add_constructor("!Condition", _long_form("Condition"))
CloudFormationLoader.add_constructor("!GetAtt", _construct_get_att)
for _name in _SHORT_FORM_FUNCTIONS:
    CloudFormationLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise TemplateError(f"{path}: cannot read the file: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise TemplateError(f"{path}: not UTF-8 text (byte {error.start}: {error.reason})") from error


def _is_json(path: Path, text: str) -> bool:
    """``.json`` files, and ``.template`` files that open with a brace; YAML (a superset of JSON) otherwise."""
    if path.suffix in (".yaml", ".yml"):
        return False
    return path.suffix == ".json" or text.lstrip()[:1] == "{"


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise TemplateError(
            f"{path}: malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from error
    except RecursionError as error:
        raise TemplateError(f"{path}: malformed JSON: nested too deeply to read") from error


def _parse_yaml(path: Path, text: str) -> Any:
    try:
        return yaml.load(text, Loader=CloudFormationLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "cannot parse"
        raise TemplateError(f"{path}: malformed YAML{where}: {problem}") from error
    except (yaml.YAMLError, RecursionError) as error:
        raise TemplateError(f"{path}: malformed YAML: {str(error).splitlines()[0]}") from error


def load_template(path: str | Path) -> dict[str, Any]:
    """Read a CloudFormation template (JSON, or YAML with the short forms); ``TemplateError`` on bad input."""
    return read_template(path)[0]


def read_template(path: str | Path) -> tuple[dict[str, Any], str]:
    """``load_template``, with the file's text (for ``resource_lines`` without reading the file again)."""
    path = Path(path)
    text = _read_text(path)
    return parse_template_text(text, path), text


def parse_template_text(text: str, source: str | Path) -> dict[str, Any]:
    """A template from its text (JSON, or YAML with the short forms): a file's, or a deploy-time hook's payload.

    ``source`` names it in errors (a path, or e.g. ``stack my-stack``; a ``.json``/``.yaml`` suffix decides the
    format, else a leading brace does). ``TemplateError`` on bad input.
    """
    path = Path(source)
    template = _parse_json(path, text) if _is_json(path, text) else _parse_yaml(path, text)
    if not isinstance(template, dict):
        kind = "empty" if template is None else f"a {type(template).__name__}"
        raise TemplateError(f"{path}: not a CloudFormation template: the document is {kind}, not a mapping")
    resources = template.get("Resources")
    if resources is not None and not isinstance(resources, dict):
        raise TemplateError(f"{path}: not a CloudFormation template: Resources is not a mapping of logical ids")
    return template


def discover_templates(paths: Iterable[str | Path]) -> list[Path]:
    """The template files behind each path: a cloud assembly directory or a template file, in order, once each.

    A cloud assembly (``cdk.out``) is followed through ``manifest.json``: stack templates, the nested stack
    templates CDK writes beside them (``*.nested.template.json``), and the nested assemblies of Stages.
    """
    found: dict[Path, None] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.update(dict.fromkeys(_assembly_templates(path)))
        elif path.is_file():
            if path.suffix not in TEMPLATE_SUFFIXES:
                raise TemplateError(
                    f"{path}: not a template file (expected {', '.join(TEMPLATE_SUFFIXES)}) "
                    "or a cloud assembly directory"
                )
            found[path] = None
        else:
            raise TemplateError(f"{path}: no such file or directory")
    return list(found)


def _assembly_templates(directory: Path, visited: set[Path] | None = None) -> list[Path]:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise TemplateError(
            f"{directory}: not a cloud assembly (no manifest.json); run `cdk synth` first or pass template files"
        )
    visited = set() if visited is None else visited
    visited.add(directory.resolve())
    manifest = _parse_json(manifest_path, _read_text(manifest_path))
    if not isinstance(manifest, dict):
        raise TemplateError(f"{manifest_path}: malformed cloud assembly manifest: not a JSON object")
    artifacts = manifest.get("artifacts")
    if artifacts is None:
        artifacts = {}
    if not isinstance(artifacts, dict):
        raise TemplateError(f"{manifest_path}: malformed cloud assembly manifest: artifacts is not a mapping")
    templates: list[Path] = []
    for name, artifact in artifacts.items():
        if not isinstance(artifact, dict):
            continue
        properties = artifact.get("properties") or {}
        if not isinstance(properties, dict):
            raise TemplateError(f"{manifest_path}: malformed cloud assembly manifest: artifact {name!r} has "
                                "properties that are not a mapping")
        if artifact.get("type") == STACK_ARTIFACT:
            template_file = properties.get("templateFile")
            if not isinstance(template_file, str):
                raise TemplateError(f"{manifest_path}: stack artifact {name!r} names no templateFile")
            template = directory / template_file
            if not template.is_file():
                raise TemplateError(f"{manifest_path}: stack {name!r} names {template_file}, which is missing")
            templates.append(template)
        elif artifact.get("type") == NESTED_ASSEMBLY_ARTIFACT:
            nested = properties.get("directoryName")
            if not isinstance(nested, str):
                continue
            nested_directory = directory / nested
            if not (nested_directory / "manifest.json").is_file():
                raise TemplateError(f"{manifest_path}: nested assembly {name!r} names {nested}, which is not a "
                                    "cloud assembly (missing, or no manifest.json); run `cdk synth` again")
            if nested_directory.resolve() not in visited:  # a manifest naming its own or a parent's directory
                templates.extend(_assembly_templates(nested_directory, visited))
    templates.extend(sorted(directory.glob(NESTED_TEMPLATE_GLOB)))
    return templates


def resource_lines(path: str | Path, logical_ids: Iterable[str], text: str | None = None) -> dict[str, int]:
    """1-based line of each named resource's logical id in the file (for SARIF and editor-friendly output).

    Found on demand, only for templates with findings: loading stays a plain ``json.loads``. ``text`` is the
    file's content when the caller has it (``read_template``).
    """
    path = Path(path)
    text = _read_text(path) if text is None else text
    wanted = set(logical_ids)
    lines = _json_resource_lines(text, wanted) if _is_json(path, text) else _yaml_resource_lines(text)
    return {logical_id: line for logical_id, line in lines.items() if logical_id in wanted}


_JSON_RESOURCES_KEY = re.compile(r'"Resources"\s*:\s*\{')


def _json_resource_lines(text: str, logical_ids: set[str]) -> dict[str, int]:
    start = _JSON_RESOURCES_KEY.search(text)
    if start is None:
        return {}
    lines: dict[str, int] = {}
    for logical_id in logical_ids:
        # The first object-valued key of that name after "Resources" is the resource (ids are plain ASCII).
        match = re.compile(f'"{re.escape(logical_id)}"\\s*:\\s*\\{{').search(text, start.end())
        if match is not None:
            lines[logical_id] = text.count("\n", 0, match.start()) + 1
    return lines


def _yaml_resource_lines(text: str) -> dict[str, int]:
    try:
        root = yaml.compose(text, Loader=CloudFormationLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "Resources" and isinstance(value, yaml.MappingNode):
            return {k.value: k.start_mark.line + 1 for k, _ in value.value if isinstance(k, yaml.ScalarNode)}
    return {}

"""CloudFormation template files: JSON or YAML (with the short forms), as CloudFormation reads them, whatever
the file's name (``constructs_lib.synth.assembly`` finds them in directories and cloud assemblies).

Pure Python (json, PyYAML): the CLI and the synth-time gate use it without starting jsii. Every problem is one
``TemplateError`` line naming the file: a path that is missing, not a regular file (a FIFO is never waited on),
too big, not UTF-8, not JSON or YAML as CloudFormation reads them, or not a template.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from constructs_lib.errors import TemplateError
from constructs_lib.files import decode_text, read_text_file
from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.detection.template_text import (
    MAX_TEMPLATE_CHARS,
    TemplateTextError,
    opens_as_json,
)
from constructs_lib.rules.detection.template_text import parse_template_text as parse_text

__all__ = ["TEMPLATE_SUFFIXES", "TemplateError", "load_template", "parse_template_text", "read_json_file",
           "read_template", "resource_lines"]

TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")  # in any letter case


def has_template_suffix(path: Path) -> bool:
    return path.suffix.lower() in TEMPLATE_SUFFIXES


def read_text(path: Path, data: bytes | None = None) -> str:
    """A template file's text: a regular file (a FIFO is never waited on) of at most ``MAX_TEMPLATE_CHARS``.

    ``data``: the file's bytes, when the caller has read them already (as a regular file, at most the limit).
    """
    if data is not None and len(data) <= MAX_TEMPLATE_CHARS:
        return decode_text(path, data, error=TemplateError)
    return read_text_file(path, limit=MAX_TEMPLATE_CHARS, error=TemplateError,
                          reads="EulaGate reads only template files",
                          limit_note="(CloudFormation takes templates of at most 1 MB)")


def expects_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def _parse(path: Path, text: str) -> Any:
    try:
        return parse_text(text, json_expected=expects_json(path))
    except TemplateTextError as error:
        raise TemplateError(f"{path}: {error}") from None


def read_json_file(path: Path) -> Any:
    """A JSON document (a manifest, a metadata file), with the same limits and one-line errors as a template."""
    return _parse(path, read_text(path))


def load_template(path: str | Path) -> dict[str, Any]:
    """Read a CloudFormation template (JSON, or YAML with the short forms); ``TemplateError`` on bad input."""
    return read_template(path)[0]


def read_template(path: str | Path, data: bytes | None = None) -> tuple[dict[str, Any], str]:
    """``load_template``, with the file's text (for ``resource_lines`` without reading the file again).

    ``data``: the file's bytes, when the caller has read them already.
    """
    path = Path(path)
    text = read_text(path, data)
    return parse_template_text(text, path), text


def parse_template_text(text: str, source: str | Path) -> dict[str, Any]:
    """A template from its text (JSON, or YAML with the short forms): a file's, or a deploy-time hook's payload.

    ``source`` names it in errors (a path, or e.g. ``stack my-stack``; a ``.json`` suffix reports JSON errors
    first). ``TemplateError`` on bad input.
    """
    template = _parse(Path(source), text)
    problem = not_a_template(template)
    if problem is not None:
        raise TemplateError(f"{source}: not a CloudFormation template: {problem}")
    return template


def not_a_template(document: Any) -> str | None:
    """Why a parsed document is not a template, or ``None``."""
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        return f"the document is {kind}, not a mapping"
    resources = document.get("Resources")
    if resources is not None and not isinstance(resources, dict):
        return "Resources is not a mapping of logical ids"
    return None


def resource_lines(path: str | Path, logical_ids: Iterable[str], text: str | None = None) -> dict[str, int]:
    """1-based line of each named resource's logical id in the file (for SARIF and editor-friendly output).

    Found on demand, only for templates with findings: loading stays a plain ``json.loads``. ``text`` is the
    file's content when the caller has it (``read_template``).
    """
    path = Path(path)
    text = read_text(path) if text is None else text
    wanted = set(logical_ids)
    json_like = expects_json(path) or opens_as_json(text)
    lines = _json_resource_lines(text, wanted) if json_like else {}
    if not lines:
        lines = _yaml_resource_lines(text)
    return {logical_id: line for logical_id, line in lines.items() if logical_id in wanted}


_OPENS_OBJECT_VALUE = compile_on_use(r"\s*:\s*\{")


def _json_resource_lines(text: str, logical_ids: set[str]) -> dict[str, int]:
    start = _object_key(text, "Resources", 0)
    if start < 0:
        return {}
    lines: dict[str, int] = {}
    for logical_id in logical_ids:
        # The first object-valued key of that name after "Resources" is the resource (ids are plain ASCII).
        found = _object_key(text, logical_id, start + len('"Resources"'))
        if found >= 0:
            lines[logical_id] = text.count("\n", 0, found) + 1
    return lines


def _object_key(text: str, key: str, start: int) -> int:
    """Where ``"key"`` first opens an object value (``"key": {``) from ``start`` on, or -1: the quoted key is found
    with ``str.find`` (a pattern searching from ``start`` costs ten times as much) and the rest matched there."""
    quoted = f'"{key}"'
    found = text.find(quoted, start)
    while found >= 0 and not _OPENS_OBJECT_VALUE.match(text, found + len(quoted)):
        found = text.find(quoted, found + 1)
    return found


def _yaml_resource_lines(text: str) -> dict[str, int]:
    import yaml  # only for YAML templates with findings (see template_yaml)

    from constructs_lib.rules.detection.template_yaml import CloudFormationLoader

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

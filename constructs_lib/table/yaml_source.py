"""Read YAML keeping the line of every mapping, key and list item, so table errors can point at them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from constructs_lib.errors import TableError


class YamlMap(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each of its keys (1-based)."""

    line: int
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YamlList(list[Any]):
    """A YAML sequence that remembers its own line and the line of each item (1-based)."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


# libyaml's parser when PyYAML was built with it (about 10 times faster); its nodes carry the same marks.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader whose mappings and sequences are ``YamlMap``/``YamlList``; duplicate keys are errors."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> YamlMap:
    own_keys = {id(key_node) for key_node, _ in node.value}
    loader.flatten_mapping(node)  # resolves `<<: *anchor` merges: merged pairs first, then the mapping's own
    mapping = YamlMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    merged: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key_line = key_node.start_mark.line + 1
        try:
            duplicate = key in mapping and key not in merged
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value, not a list or mapping", key_node.start_mark
            ) from None
        if id(key_node) in own_keys:
            merged.discard(key)  # the mapping's own key overrides a merged one, as YAML specifies
        else:
            merged.add(key)
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first on line {mapping.key_lines[key]})",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_line
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> YamlList:
    sequence = YamlList(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)

# YAML 1.1 (PyYAML's default) reads `yes`/`no`/`on`/`off` as booleans and `1:30` as the number 90. YAML 1.2, which
# editors validating against schema.json use, reads them as strings. Resolve them as 1.2 does, so the table means
# what the editor shows, and `accept_eula: yes` is refused (only a literal `true` accepts an EULA), not acceptance.
_YAML_1_1_ONLY = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML_1_1_ONLY]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# PyYAML's int and float patterns without their sexagesimal (base 60) forms.
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def parse_yaml(text: str, *, source: str) -> Any:
    """Parse one YAML document; a syntax error becomes a one-line ``TableError`` with the file and line."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        context = error.context
        if context and error.context_mark and error.context_mark.line + 1 != line:
            context += f" (started on line {error.context_mark.line + 1})"
        problem = " ".join(part for part in (context, error.problem) if part)
        where = f"{source}:{line}" if line else source
        raise TableError(f"{where}: invalid YAML: {problem}", source=source, line=line) from None
    except yaml.YAMLError as error:
        raise TableError(f"{source}: invalid YAML: {_one_line(str(error))}", source=source) from None


def read_yaml(path: str | Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TableError(
            f"{path}: model table not found; create it or pass another path (`-c table=PATH` for cdk)",
            source=str(path),
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TableError(f"{path}: cannot read the model table: {_one_line(str(error))}", source=str(path)) from None
    return parse_yaml(text, source=str(path))


def _one_line(text: str) -> str:
    return " ".join(text.split())

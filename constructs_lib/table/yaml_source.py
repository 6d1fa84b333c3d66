"""Read YAML keeping the line of every mapping, key and list item, so table errors can point at them.

Whatever the file holds, reading it ends in a value or one ``TableError`` line: it refuses what is not a regular
file without waiting on it (``constructs_lib.files``: a FIFO would block forever), files over ``MAX_TABLE_BYTES``
before reading them, nesting deeper than ``MAX_NESTING`` before constructing it (construction recurses), and typed
tags whose value does not fit (``!!float x``) with the tag's line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from constructs_lib.errors import TableError, one_line
from constructs_lib.files import DIRECTORY, MISSING, SPECIAL, TOO_BIG, UnreadableFile, read_file_bytes


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


# A model table is a few megabytes at most (a 1,000-row table is about 150 KB); a bigger file is a mistake, and
# refusing it before reading keeps memory bounded whatever the file holds.
MAX_TABLE_BYTES = 16 * 1024 * 1024
# A table nests six levels (table > fine_tuning > row > deploy > autoscaling > key); constructing YAML recurses
# once per level, so depth is bounded before construction rather than left to Python's recursion limit.
MAX_NESTING = 64
# How much of a value an error message quotes.
QUOTE_LENGTH = 60


class _LineLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader whose mappings and sequences are ``YamlMap``/``YamlList``; duplicate keys are errors, nesting is
    bounded, and a typed tag that does not fit its value is a marked error instead of a Python exception."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_nesting(node)
        return self.construct_document(node)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            # PyYAML's typed constructors raise plain exceptions: `!!float x` (ValueError), `!!bool x` (KeyError),
            # `!!timestamp x` (AttributeError), `!!map [1]` (TypeError), a 5,000-digit `!!int` (ValueError),
            # an empty `!!int ''`, `!!float ''` or a bare `!!int` (IndexError).
            raise yaml.constructor.ConstructorError(
                None, None, f"{_short_tag(node.tag)} cannot hold {_quote_node(node)}; remove the tag or write a "
                f"valid {_short_tag(node.tag).lstrip('!')}", node.start_mark,
            ) from None


def _check_nesting(root: yaml.Node) -> None:
    """Refuse nesting deeper than ``MAX_NESTING``, walking the node graph without recursion. Aliases make it a
    graph: a node is walked again only when reached at a greater depth, so shared nodes cost at most
    ``MAX_NESTING`` visits each (no exponential walk of alias bombs)."""
    deepest: dict[int, int] = {}
    pending = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if deepest.get(id(node), 0) >= depth:
            continue
        deepest[id(node)] = depth
        if depth > MAX_NESTING:
            raise yaml.constructor.ConstructorError(
                None, None, f"the document nests deeper than {MAX_NESTING} levels (or an alias refers to its own "
                "anchor); a model table nests at most 6",
                node.start_mark,
            )
        if isinstance(node, yaml.SequenceNode):
            pending.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend((child, depth + 1) for pair in node.value for child in pair)


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _quote_node(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return quote(node.value)
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


def quote(text: str) -> str:
    """``text`` quoted for an error message, cut to ``QUOTE_LENGTH`` characters (the input may be megabytes)."""
    if len(text) <= QUOTE_LENGTH:
        return repr(text)
    return f"{text[:QUOTE_LENGTH]!r}... ({len(text):,} characters)"


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
    except yaml.reader.ReaderError as error:  # a character YAML does not allow, e.g. a control character
        line = text.count("\n", 0, error.position) + 1 if isinstance(error.position, int) else None
        character = chr(error.character) if isinstance(error.character, int) else error.character
        raise TableError(f"{source}:{line}: invalid YAML: the character {character!r} is not allowed in YAML; "
                         "remove it", source=source, line=line) from None
    except yaml.YAMLError as error:
        raise TableError(f"{source}: invalid YAML: {one_line(error)}", source=source) from None


def read_yaml(path: str | Path) -> Any:
    """Parse the table file at ``path``; anything but a readable UTF-8 YAML file of sane size is a ``TableError``."""
    return parse_yaml(_read_text(str(path)), source=str(path))


def _read_text(path: str) -> str:
    try:
        data = read_file_bytes(path, limit=MAX_TABLE_BYTES)
    except UnreadableFile as refused:
        raise TableError(_refusal(path, refused), source=path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise TableError(
            f"{path}:{line}: not UTF-8: byte 0x{data[error.start]:02x} at column {column} is not valid UTF-8 "
            "(the file is probably Latin-1 or Windows-1252); save the table as UTF-8",
            source=path, line=line,
        ) from None


def _refusal(path: str, refused: UnreadableFile) -> str:
    """The model table's words for a file the reader refused: each says what to do instead."""
    if refused.reason == MISSING:
        return f"{path}: model table not found; create it or pass another path (`-c table=PATH` for cdk)"
    if refused.reason == DIRECTORY:
        return (f"{path}: is a directory, not a model table; pass the table's YAML file "
                f"(for example {os.path.join(path, 'models.yaml')})")
    if refused.reason == SPECIAL:
        kind = "a FIFO (named pipe)" if refused.detail == "a FIFO" else refused.detail
        return f"{path}: is {kind}, not a regular file; save the model table to a file and pass its path"
    if refused.reason == TOO_BIG:
        if refused.size is None:  # it grew while read
            return (f"{path}: holds more than {MAX_TABLE_BYTES:,} bytes; a model table may be at most 16 MiB: check "
                    "that this is the table")
        return (f"{path}: is {refused.size:,} bytes; a model table may be at most {MAX_TABLE_BYTES:,} bytes "
                "(16 MiB): check that this is the table")
    return f"{path}: cannot read the model table: {refused.detail}"



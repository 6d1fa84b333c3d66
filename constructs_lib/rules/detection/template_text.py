"""CloudFormation template text (JSON, or YAML with the short forms) to a plain dict, as CloudFormation reads it.

Pure Python (json, PyYAML). The rule engine uses it for templates held inside templates (a StackSet's
``TemplateBody``); ``constructs_lib.synth.templates`` for files. Bad text raises ``TemplateTextError`` with one
line (the caller adds the file name): a JSON or YAML syntax error with its position, YAML that CloudFormation
refuses (aliases, merge keys, the binary, omap, pairs, set and timestamp tags), a typed scalar that is not of its
type (``!!float x``), nesting deeper than any template needs, text longer than any template CloudFormation takes.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

import yaml

from constructs_lib.errors import EulaGateError

# CloudFormation takes template bodies of at most 1 MB (S3-hosted ones too); assemblies hold bigger files only
# when CDK writes assets beside them. Anything past this is refused before it is parsed (or searched).
MAX_TEMPLATE_CHARS = 16 * 1024 * 1024
# Deeper than any template needs, well within Python's recursion limit (YAML construction recurses per level).
MAX_YAML_NESTING = 100
_OPENS_AS_JSON = re.compile(r"\s*\{")
# How much of a value an error message quotes (a scalar may be megabytes).
_QUOTED = 40
# A \\u escape of a UTF-16 surrogate; JSON may pair two into one character, or leave one alone.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class TemplateTextError(EulaGateError, ValueError):
    """Template text that cannot be read: one line, without the file name."""


try:  # libyaml's parser when PyYAML was built with it: several times faster
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

_REFUSED_TAGS = ("binary", "omap", "pairs", "set", "timestamp")


class CloudFormationLoader(_SafeLoader):
    """A safe YAML loader that reads what CloudFormation reads: the short forms (``!Sub``...) become their
    ``Fn::`` long forms; aliases, merge keys and the tags CloudFormation does not support are errors."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_nodes(node)
        return super().construct_document(node)

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        for key, _ in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(
                    None, None, "YAML merge keys (<<) are not allowed in CloudFormation templates", key.start_mark)
        super().flatten_mapping(node)


def _check_nodes(root: yaml.Node) -> None:
    """Refuse aliases (CloudFormation does; a node met twice is one) and nesting deeper than any template needs,
    before anything is built: construction would recurse per level, and aliases can multiply a document."""
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, int]] = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if id(node) in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases are not allowed in CloudFormation templates", node.start_mark)
        seen.add(id(node))
        if depth > MAX_YAML_NESTING:
            raise yaml.constructor.ConstructorError(
                None, None, f"nested more than {MAX_YAML_NESTING} levels deep", node.start_mark)
        if isinstance(node, yaml.SequenceNode):
            pending.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend((child, depth + 1) for pair in node.value for child in pair)


# Dates stay strings (``AWSTemplateFormatVersion: 2010-09-09``), as CloudFormation reads them.
CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _refuse_tag(name: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        raise yaml.constructor.ConstructorError(
            None, None, f"the YAML tag !!{name} is not allowed in CloudFormation templates", node.start_mark)

    return construct


def _typed_scalar(name: str, construct: Callable[[Any, Any], Any]
                  ) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    """``!!int``/``!!float``/``!!bool``: read as CloudFormation reads them; a value not of the type is an error."""
    def checked(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, TypeError, OverflowError, IndexError):  # `!!int` with no value: IndexError
            value = repr(node.value[:_QUOTED]) if isinstance(node, yaml.ScalarNode) else "a collection"
            if isinstance(node, yaml.ScalarNode) and len(node.value) > _QUOTED:  # a 5,000-digit int, quoted cut
                value = f"{value[:-1]}...' ({len(node.value):,} characters)"
            raise yaml.constructor.ConstructorError(
                None, None, f"!!{name} {value} is not {'an' if name == 'int' else 'a'} {name}", node.start_mark,
            ) from None

    return checked


for _tag in _REFUSED_TAGS:
    CloudFormationLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag(_tag))
CloudFormationLoader.add_constructor("tag:yaml.org,2002:int",
                                     _typed_scalar("int", yaml.SafeLoader.construct_yaml_int))
CloudFormationLoader.add_constructor("tag:yaml.org,2002:float",
                                     _typed_scalar("float", yaml.SafeLoader.construct_yaml_float))
CloudFormationLoader.add_constructor("tag:yaml.org,2002:bool",
                                     _typed_scalar("bool", yaml.SafeLoader.construct_yaml_bool))

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


def opens_as_json(text: str) -> bool:
    return _OPENS_AS_JSON.match(text) is not None  # a match, not text.lstrip(): no copy of a big text


def parse_json_text(text: str) -> Any:
    """JSON text; ``TemplateTextError`` naming the line and column of a syntax error."""
    _check_length(text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise TemplateTextError(
            f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise TemplateTextError("malformed JSON: nested too deeply to read") from None
    except ValueError:  # int() refuses integers of more than sys.get_int_max_str_digits() (4,300) digits
        raise TemplateTextError(f"malformed JSON: an integer of more than {sys.get_int_max_str_digits():,} "
                                "digits, which no template property takes") from None
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(document):
        raise TemplateTextError("malformed JSON: a \\u escape of half a UTF-16 surrogate pair (a lone surrogate), "
                                "which is not a character")
    return document


def _holds_lone_surrogate(document: Any) -> bool:
    """Whether a string (key or value) of ``document`` holds a lone surrogate: text that no UTF-8 output, file or
    hash can carry. Walked without recursion; only called when the text has a surrogate escape."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def parse_yaml_text(text: str) -> Any:
    """YAML text as CloudFormation reads it; ``TemplateTextError`` naming the line and column of a problem."""
    _check_length(text)
    try:
        return yaml.load(text, Loader=CloudFormationLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "cannot parse"
        raise TemplateTextError(f"malformed YAML{where}: {problem}") from None
    except (yaml.YAMLError, RecursionError) as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        raise TemplateTextError(f"malformed YAML: {first_line}") from None


def parse_template_text(text: str, *, json_expected: bool = False) -> Any:
    """Template text in either format, whatever a file's name says (CloudFormation reads both).

    Text that opens with ``{`` (or comes from a ``.json`` file) is tried as JSON first, then as YAML, whose flow
    style also opens with ``{``; when YAML does not read it as a mapping of values either, the JSON error is
    the one reported.
    """
    _check_length(text)
    if not (json_expected or opens_as_json(text)):
        return parse_yaml_text(text)
    try:
        return parse_json_text(text)
    except TemplateTextError as json_error:
        try:
            document = parse_yaml_text(text)
        except TemplateTextError:
            raise json_error from None
        # Broken JSON that YAML happens to read (`{"Resources": }` is a null) is still broken JSON.
        if not isinstance(document, dict) or any(value is None for value in document.values()):
            raise json_error from None
        return document


def _check_length(text: str) -> None:
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateTextError(
            f"{len(text):,} characters, more than the {MAX_TEMPLATE_CHARS:,} EulaGate reads "
            "(CloudFormation takes template bodies of at most 1 MB)")

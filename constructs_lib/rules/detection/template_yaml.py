"""The YAML loader CloudFormation's reading of template text needs: the short forms (``!Sub``...) as their
``Fn::`` long forms, and what CloudFormation refuses (aliases, merge keys, the binary, omap, pairs, set and
timestamp tags, typed scalars not of their type, nesting deeper than any template needs) refused.

Its own module so that PyYAML is imported only when YAML text is met (``template_text.parse_yaml_text``,
``constructs_lib.synth.templates``): a check of a JSON cloud assembly never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

# Deeper than any template needs, well within Python's recursion limit (YAML construction recurses per level).
MAX_YAML_NESTING = 100
# How much of a value an error message quotes (a scalar may be megabytes).
_QUOTED = 40

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
    # The Rules section's own functions have short forms too (`Assert: !EachMemberIn [...]` in AWS's templates).
    "Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll",
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

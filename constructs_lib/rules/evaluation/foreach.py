"""``Fn::ForEach`` (the ``AWS::LanguageExtensions`` transform), expanded before the rules read a template.

Over a literal collection each fragment is copied once per item, ``${Identifier}``, ``&{Identifier}`` and
``Ref: Identifier`` replaced as CloudFormation does. A collection known only at deployment (a ``Ref`` to a
``CommaDelimitedList`` parameter, a lookup) is expanded for each item of the parameter's ``Default`` and once more
for an arbitrary item: a synthetic parameter without a default, which reads as unknown (as one of the list's
``AllowedValues`` per valuation when it has them). So whatever the collection turns out to be, every copy the
rules could object to has been read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.evaluation.values import MAX_DEPTH, EvaluationLimit, is_list_parameter

FOR_EACH = "Fn::ForEach::"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
MAX_COPIES = 10_000  # copies one template's loops may make; more: the template cannot be evaluated
_NOT_ALPHANUMERIC = compile_on_use("[^A-Za-z0-9]")


class _Unknown:
    """An item of a collection known only at deployment, standing for the synthetic parameter ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name


def uses_for_each(template: Mapping[str, Any]) -> bool:
    """Whether the template declares the transform: CloudFormation refuses Fn::ForEach without it."""
    transform = template.get("Transform")
    return transform == LANGUAGE_EXTENSIONS or (isinstance(transform, list) and LANGUAGE_EXTENSIONS in transform)


def expand_for_each(template: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the template with every ``Fn::ForEach`` (Resources, Conditions, Outputs, properties) expanded."""
    parameters = dict(template.get("Parameters") or {}) if isinstance(template.get("Parameters"), dict) else {}
    expander = _Expander(parameters)
    expanded = dict(template)
    for section in ("Resources", "Conditions", "Outputs"):
        if section in template:
            expanded[section] = expander.expand(template[section], {}, 0)
    expanded["Parameters"] = parameters
    return expanded


class _Expander:
    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters
        self.copies = 0

    def expand(self, value: Any, bindings: dict[str, Any], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise EvaluationLimit(f"Fn::ForEach fragments nest more than {MAX_DEPTH} deep")
        if isinstance(value, str):
            return self._text(value, bindings)
        if isinstance(value, list):
            return [self.expand(item, bindings, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and bindings:
            replaced = self._bound_intrinsic(value, bindings, depth)
            if replaced is not None:
                return replaced
        result: dict[str, Any] = {}
        for key, child in value.items():
            if isinstance(key, str) and key.startswith(FOR_EACH) and isinstance(child, list) and len(child) == 3:
                result.update(self._loop(key[len(FOR_EACH):], child, bindings, depth + 1))
            else:
                result[self._key(key, bindings)] = self.expand(child, bindings, depth + 1)
        return result

    def _loop(self, loop: str, arguments: list[Any], bindings: dict[str, Any], depth: int) -> dict[str, Any]:
        identifier, collection, fragment = arguments
        if not isinstance(identifier, str) or not isinstance(fragment, dict):
            raise EvaluationLimit(f"Fn::ForEach::{loop} is malformed")
        result: dict[str, Any] = {}
        for item in self._items(loop, identifier, self.expand(collection, bindings, depth + 1)):
            self.copies += 1
            if self.copies > MAX_COPIES:
                raise EvaluationLimit(f"Fn::ForEach makes more than {MAX_COPIES} copies")
            copied = self.expand(fragment, {**bindings, identifier: item}, depth + 1)
            if isinstance(copied, dict):
                result.update(copied)
        return result

    def _items(self, loop: str, identifier: str, collection: Any) -> list[Any]:
        if isinstance(collection, list):
            return [item if isinstance(item, str | int | float) and not isinstance(item, bool) else
                    self._unknown(loop, identifier) for item in collection]
        known: list[Any] = []
        allowed: Any = None
        if isinstance(collection, dict) and isinstance(collection.get("Ref"), str):
            parameter = self.parameters.get(collection["Ref"])
            default = parameter.get("Default") if isinstance(parameter, dict) and is_list_parameter(parameter) else None
            if isinstance(default, str):
                known = default.split(",")
            if isinstance(parameter, dict) and parameter.get("Type") == "CommaDelimitedList":
                allowed = parameter.get("AllowedValues")  # CloudFormation checks each item against them
        return [*known, self._unknown(loop, identifier, allowed if isinstance(allowed, list) and allowed else None)]

    def _unknown(self, loop: str, identifier: str, allowed: list[Any] | None = None) -> _Unknown:
        """The synthetic parameter an arbitrary item reads as: one of ``allowed`` per valuation, or anything."""
        name = f"ForEach::{loop}::{identifier}"
        parameter: dict[str, Any] = {"Type": "String", "Description": f"an item of Fn::ForEach::{loop}"}
        if allowed is not None:
            parameter["AllowedValues"] = allowed
        self.parameters.setdefault(name, parameter)
        return _Unknown(name)

    def _bound_intrinsic(self, value: dict[str, Any], bindings: dict[str, Any], depth: int) -> Any:
        name, argument = next(iter(value.items()))
        if name == "Ref" and isinstance(argument, str) and argument in bindings:
            item = bindings[argument]
            return {"Ref": item.name} if isinstance(item, _Unknown) else str(item)
        if name == "Fn::Sub":
            if isinstance(argument, str):
                return {"Fn::Sub": self._sub_text(argument, bindings)}
            if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
                return {"Fn::Sub": [self._sub_text(argument[0], bindings),
                                    self.expand(argument[1], bindings, depth + 1)]}
        return None

    def _sub_text(self, text: str, bindings: dict[str, Any]) -> str:
        for identifier, item in bindings.items():
            if isinstance(item, _Unknown):
                text = text.replace(f"${{{identifier}}}", f"${{{item.name}}}").replace(
                    f"&{{{identifier}}}", f"${{{item.name}}}")
            else:
                text = _replace_known(text, identifier, str(item))
        return text

    def _text(self, text: str, bindings: dict[str, Any]) -> Any:
        if "{" not in text or not bindings:
            return text
        if not any(isinstance(item, _Unknown) and (f"${{{identifier}}}" in text or f"&{{{identifier}}}" in text)
                   for identifier, item in bindings.items()):
            return self._sub_text(text, bindings)
        # An unknown item in plain text: the text becomes an Fn::Sub of it, every other ${ kept literal.
        escaped = text.replace("${", "${!")
        for identifier, item in bindings.items():
            known = not isinstance(item, _Unknown)
            target = str(item) if known else f"${{{item.name}}}"
            escaped = escaped.replace(f"${{!{identifier}}}", target).replace(
                f"&{{{identifier}}}", _NOT_ALPHANUMERIC.sub("", target) if known else target)
        return {"Fn::Sub": escaped}

    def _key(self, key: Any, bindings: dict[str, Any]) -> Any:
        if not isinstance(key, str) or not bindings:
            return key
        for identifier, item in bindings.items():
            shown = f"[{identifier}]" if isinstance(item, _Unknown) else str(item)
            key = key.replace(f"${{{identifier}}}", shown).replace(
                f"&{{{identifier}}}", shown if isinstance(item, _Unknown) else _NOT_ALPHANUMERIC.sub("", shown))
        return key


def _replace_known(text: str, identifier: str, item: str) -> str:
    return text.replace(f"${{{identifier}}}", item).replace(f"&{{{identifier}}}", _NOT_ALPHANUMERIC.sub("", item))

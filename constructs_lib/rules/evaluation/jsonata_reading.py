"""Step Functions' JSONata expressions (``{% ... %}``) read with a real JSONata parser (``jsonata-python``).

What the template fixes is evaluated: literals, object and array constructors, string concatenation (``&``),
``$join`` and ``$string`` over them, a block's own bindings (``($a := 'x'; $a & 'y')``), a condition whose test
is known, and variables or state input that the definition fixes (``StateScope``: a Pass state's output, an
``Assign``). Everything else (``$states.input`` the template does not fix, ``$states.context``, other functions,
paths into unknowns) is an unknown: a token in the text, never a value the rules could take for acceptance.
An expression the parser refuses is an unknown as a whole, as Step Functions would refuse the definition.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from constructs_lib.records import NEW_DICT, Record, made
from constructs_lib.rules.evaluation.values import TemplateContext

_MAX_DEPTH = 40  # deeper expressions are unknowns


class Unknown:
    """A value the template does not fix (a state's input from outside, a task's result)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()


class Overlay(dict[str, Any]):
    """An object of which only these keys are known (a state input a Pass state's ``ResultPath`` wrote into):
    any other key is unknown, not absent."""


class StateScope(Record):
    """What the definition fixes where a state runs: its input, and the variables every ``Assign`` agrees on."""

    input: Any
    variables: Mapping[str, Any]

    def __init__(self, input: Any = UNKNOWN, variables: Mapping[str, Any] = NEW_DICT) -> None:
        vars(self).update(input=input, variables=made(variables))


def parsed_json(text: str) -> Any:
    """The value JSON text holds (``$parse``, ``States.StringToJson``), or ``UNKNOWN`` for text that is not JSON
    (the state fails: nothing deploys in that execution)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return UNKNOWN


def jsonata_expression(text: str) -> str | None:
    """The expression of a JSONata string (``{% expr %}``), or ``None`` for any other string."""
    stripped = text.strip()
    if len(stripped) >= 4 and stripped.startswith("{%") and stripped.endswith("%}"):
        return stripped[2:-2].strip()
    return None


def member(value: Any, key: str | int) -> Any:
    """``value[key]`` where the template fixes it, ``UNKNOWN`` where it does not."""
    if isinstance(value, dict) and isinstance(key, str):
        return value.get(key, UNKNOWN)  # an absent key fails the state: nothing deploys, so unknown is sound
    if isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
        return value[key]
    return UNKNOWN


def known(value: Any, context: TemplateContext, display: str, description: str) -> Any:
    """``value`` with every unknown part a token, as the rules read values. An object of which only some keys are
    known (``Overlay``) is a token as a whole: the rules could not tell its other keys from absent ones."""
    if value is UNKNOWN or isinstance(value, Overlay):
        return context.token(f"${{{display}}}", f"{description} at run time ({display})")
    if isinstance(value, dict):
        return {key: known(child, context, f"{display}.{key}", description) for key, child in value.items()}
    if isinstance(value, list):
        return [known(child, context, f"{display}[{index}]", description) for index, child in enumerate(value)]
    return value


def json_path_value(path: str, scope: StateScope) -> Any:
    """A JSONPath reference (``$``, ``$.a.b``, ``$.a[0]``) into the state input, or a variable (``$name``,
    ``$name.a``), where the definition fixes it; ``UNKNOWN`` otherwise (filters, wildcards, ``$$`` context)."""
    if path == "$":
        return scope.input
    if path.startswith("$$") or not path.startswith("$"):
        return UNKNOWN
    head, *keys = path[1:].split(".")
    if head.startswith("["):  # $[0].a: an element of the input (a Parallel state's output is a list)
        current = _element(scope.input, head[1:])
    else:
        current = scope.input if head == "" else scope.variables.get(head, UNKNOWN)
    for key in keys:
        name, _, index = key.partition("[")
        if not name or any(char in name for char in "*?@()'\" ]"):
            return UNKNOWN
        current = member(current, name)
        if index:
            current = _element(current, index)
    return current


def _element(value: Any, index: str) -> Any:
    """``value[n]``, with ``index`` the text after the ``[``; unknown for anything but one literal index."""
    if not index.endswith("]") or not index[:-1].isdigit():
        return UNKNOWN
    return member(value, int(index[:-1]))


def jsonata_value(expression: str, context: TemplateContext, scope: StateScope | None = None) -> Any:
    """The value of a JSONata expression, with unknown parts as tokens."""
    # Imported on first use: the package costs a tenth of a second of start-up, and most checks meet no JSONata.
    # Its first import raises the interpreter's recursion limit to 10,000 (JavaScript's): put back, so that the
    # package changes no global state and the template readers' depth guards keep the interpreter's limit.
    limit = sys.getrecursionlimit()
    try:
        from jsonata.jexception import JException
        from jsonata.parser import Parser
    finally:
        sys.setrecursionlimit(limit)

    try:
        tree = Parser().parse(expression)
    except (JException, RecursionError, ValueError, TypeError, AttributeError, IndexError):
        return known(UNKNOWN, context, expression, "a JSONata expression evaluated")
    reader = _Evaluator(context, scope or StateScope(), expression)
    return known(reader.value(tree, {}, 0), context, expression, "a JSONata expression evaluated")


class _Evaluator:
    def __init__(self, context: TemplateContext, scope: StateScope, expression: str) -> None:
        self.context = context
        self.scope = scope
        self.expression = expression

    def value(self, node: Any, bound: dict[str, Any], depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return UNKNOWN
        kind = getattr(node, "type", None)
        if kind in ("string", "number", "value"):
            return node.value
        if kind == "unary" and node.value == "{":
            return self._object(node, bound, depth)
        if kind == "unary" and node.value == "[":
            return [self.value(item, bound, depth + 1) for item in node.expressions]
        if kind == "unary" and node.value == "-":
            operand = self.value(node.expression, bound, depth + 1)
            return -operand if isinstance(operand, int | float) and not isinstance(operand, bool) else UNKNOWN
        if kind == "binary" and node.value == "&":
            return self._concatenation(node, bound, depth)
        if kind == "function":
            return self._function(node, bound, depth)
        if kind == "variable":
            return self._variable(node.value, bound)
        if kind == "path":
            return self._path(node.steps, bound, depth)
        if kind == "block":
            inner = dict(bound)  # a block's bindings are its own
            result: Any = None
            for expression in node.expressions:
                result = self.value(expression, inner, depth + 1)
            return result
        if kind == "bind" and getattr(node.lhs, "type", None) == "variable":
            result = self.value(node.rhs, bound, depth + 1)
            bound[node.lhs.value] = result
            return result
        if kind == "condition":
            test = self.value(node.condition, bound, depth + 1)
            if isinstance(test, bool):
                branch = node.then if test else getattr(node, "_else", None)
                return self.value(branch, bound, depth + 1) if branch is not None else UNKNOWN
        return UNKNOWN

    def _object(self, node: Any, bound: dict[str, Any], depth: int) -> Any:
        result: dict[str, Any] = {}
        for key_node, value_node in node.lhs_object:
            key = self.value(key_node, bound, depth + 1)
            if not isinstance(key, str) or self.context.tokens_in(key):
                return UNKNOWN  # a computed key: which property it sets is unknown
            result[key] = self.value(value_node, bound, depth + 1)
        return result

    def _text(self, value: Any, display: str) -> str:
        """JSONata's ``$string``: text as is, numbers and booleans as JSON writes them, unknowns as tokens."""
        if isinstance(value, str):
            return value
        if value is UNKNOWN:
            return str(known(UNKNOWN, self.context, display, "a JSONata expression evaluated"))
        if isinstance(value, dict | list) and not self._has_unknown(value):
            return json.dumps(value, separators=(",", ":"))
        if isinstance(value, bool) or value is None or isinstance(value, int | float):
            return json.dumps(value)
        return str(known(UNKNOWN, self.context, display, "a JSONata expression evaluated"))

    def _has_unknown(self, value: Any) -> bool:
        if value is UNKNOWN:
            return True
        if isinstance(value, dict):
            return isinstance(value, Overlay) or any(self._has_unknown(child) for child in value.values())
        if isinstance(value, list):
            return any(self._has_unknown(child) for child in value)
        return False

    def _concatenation(self, node: Any, bound: dict[str, Any], depth: int) -> str:
        left = self.value(node.lhs, bound, depth + 1)
        right = self.value(node.rhs, bound, depth + 1)
        return self._text(left, self._display(node.lhs)) + self._text(right, self._display(node.rhs))

    def _display(self, node: Any) -> str:
        """How an operand is shown in a message: ``$region``, ``$states.input.region``, or the whole expression."""
        kind = getattr(node, "type", None)
        if kind == "variable":
            return f"${node.value}"
        if kind == "path" and all(getattr(step, "type", None) in ("variable", "name") for step in node.steps):
            return ".".join(f"${step.value}" if step.type == "variable" else str(step.value) for step in node.steps)
        return self.expression

    def _function(self, node: Any, bound: dict[str, Any], depth: int) -> Any:
        procedure = node.procedure
        name = procedure.value if getattr(procedure, "type", None) == "variable" else None
        arguments = [self.value(argument, bound, depth + 1) for argument in node.arguments]
        if name == "join" and 1 <= len(arguments) <= 2:
            items, separator = arguments[0], arguments[1] if len(arguments) == 2 else ""
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list) or not isinstance(separator, str) or not all(
                    isinstance(item, str) for item in items):
                return UNKNOWN  # $join takes strings only; anything else fails the state or is unknown
            return separator.join(items)
        if name == "string" and len(arguments) == 1:
            return self._text(arguments[0], self.expression)
        if name == "parse" and len(arguments) == 1 and isinstance(arguments[0], str):  # Step Functions' $parse
            return parsed_json(arguments[0])
        return UNKNOWN

    def _variable(self, name: str, bound: Mapping[str, Any]) -> Any:
        if name in bound:
            return bound[name]
        if name == "states":
            return Overlay(input=self.scope.input)  # $states.context, .result, .errorOutput: unknown
        return self.scope.variables.get(name, UNKNOWN)

    def _path(self, steps: list[Any], bound: dict[str, Any], depth: int) -> Any:
        if not steps:
            return UNKNOWN
        current = self.value(steps[0], bound, depth + 1)
        for step in steps[1:]:
            if getattr(step, "type", None) != "name" or getattr(step, "stages", None) or getattr(step, "predicate",
                                                                                                  None):
                return UNKNOWN
            current = member(current, step.value)
        return current

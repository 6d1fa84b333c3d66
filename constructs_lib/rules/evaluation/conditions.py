"""The ``Conditions`` section as logic: each condition has one value per valuation.

A named condition is evaluated from its definition (``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``,
``Condition``), so a condition and its negation are never both true in one reading. What a definition compares
becomes a *choice* of the reading, which the rule engine enumerates:

- a parameter (or pseudo parameter) compared with literals takes, per reading, one of its ``AllowedValues``, or
  one of the literals the conditions compare it with, or "none of those" (``OTHER``). Conditions on the same
  parameter are therefore correlated, and a ``Ref`` to it in the same reading reads as the chosen value;
- any other comparison of values unknown before deployment is true in some readings and false in others;
- a condition the template does not define (or a malformed one) is true in some readings and false in others.
"""

from __future__ import annotations

import json
from typing import Any

from constructs_lib.rules.evaluation.reader import EVALUATORS, Reader
from constructs_lib.rules.evaluation.values import (
    MAX_DEPTH,
    EvaluationLimit,
    TemplateContext,
    has_tokens,
    is_list_parameter,
    list_items_key,
    parameter_choice,
    parameter_values,
    scalar_text,
)

OTHER = None  # a parameter's value in a reading where it is none of the literals the conditions compare it with
_BOTH = (True, False)


def condition_value(reader: Reader, name: str, depth: int = 0) -> bool:
    definition = reader.context.conditions.get(name)
    if definition is None or name in reader.choices:
        return bool(reader.decide(name, _BOTH))
    return _evaluate(reader, definition, depth)


def _evaluate(reader: Reader, expression: Any, depth: int) -> bool:
    if depth > MAX_DEPTH:
        raise EvaluationLimit(f"conditions nest more than {MAX_DEPTH} deep (or refer to themselves)")
    if isinstance(expression, dict) and len(expression) == 1:
        function, argument = next(iter(expression.items()))
        if function == "Condition" and isinstance(argument, str):
            value = reader.condition_values.get(argument)
            if value is None:
                value = reader.condition_values[argument] = condition_value(reader, argument, depth + 1)
            return value
        if isinstance(argument, list):
            if function == "Fn::Not" and len(argument) == 1:
                return not _evaluate(reader, argument[0], depth + 1)
            if function == "Fn::And" and argument:
                return all(_evaluate(reader, operand, depth + 1) for operand in argument)
            if function == "Fn::Or" and argument:
                return any(_evaluate(reader, operand, depth + 1) for operand in argument)
            if function == "Fn::Equals" and len(argument) == 2:
                return _equals(reader, argument[0], argument[1], depth + 1)
    return _unknown(reader, expression)


def _unknown(reader: Reader, expression: Any) -> bool:
    operands = expression.get("Fn::Equals") if isinstance(expression, dict) and len(expression) == 1 else None
    if isinstance(operands, list):
        # Equality is symmetric: Fn::Equals [A, B] and [B, A] are one choice.
        texts = sorted(json.dumps(operand, sort_keys=True, default=str) for operand in operands)
        return bool(reader.decide("condition Fn::Equals " + " = ".join(texts), _BOTH))
    return bool(reader.decide("condition " + json.dumps(expression, sort_keys=True, default=str), _BOTH))


def _equals(reader: Reader, left: Any, right: Any, depth: int) -> bool:
    found = parameter_equality(reader, left, right, depth)
    if found is not None:
        return found
    left_text, right_text = reader.render(left, depth), reader.render(right, depth)
    if left_text == right_text:
        return True
    if left_text is not None and right_text is not None:
        left_options, right_options = reader.context.expand(left_text), reader.context.expand(right_text)
        if not any(has_tokens(option) for option in left_options + right_options):
            outcomes = {a == b for a in left_options for b in right_options}
            if len(outcomes) == 1:
                return outcomes.pop()
    return _unknown(reader, {"Fn::Equals": [left, right]})


def parameter_equality(reader: Reader, left: Any, right: Any, depth: int = 0) -> bool | None:
    """Whether a parameter equals a literal in this valuation (either operand order), deciding the parameter's
    value (one of the literals it is compared with, or none of them); ``None`` when it is no such comparison."""
    for parameter, other in ((compared_parameter(reader, left), right), (compared_parameter(reader, right), left)):
        if parameter is not None:
            found = _parameter_equals(reader, parameter, other, depth)
            if found is not None:
                return found
    return None


def compared_parameter(reader: Reader, value: Any) -> str | None:
    """The parameter (or pseudo parameter) a comparison operand is a ``Ref`` to."""
    value = reader.pick(value)
    if not (isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str)):
        return None
    name = value["Ref"]
    if name.startswith("AWS::"):
        return None if name == "AWS::NoValue" else name
    parameter = reader.context.parameters.get(name)
    return name if isinstance(parameter, dict) and not is_list_parameter(parameter) else None


def _parameter_equals(reader: Reader, parameter: str, other: Any, depth: int) -> bool | None:
    """Whether the parameter's value in this reading equals a literal; ``None`` when ``other`` is not one the
    parameter's choices can decide."""
    text = reader.render(other, depth)
    domain = parameter_domain(reader.context, parameter)
    if text is None or has_tokens(text) or (OTHER in domain and text not in domain):
        return None
    chosen = reader.decide(parameter_choice(parameter), domain)
    if isinstance(chosen, str) and has_tokens(chosen):
        return None  # a passed text in the region's shape (``is_portable``): compared as text, maybe both ways
    return chosen == text


def parameter_domain(context: TemplateContext, name: str) -> tuple[str | None, ...]:
    """The values a parameter takes across readings: its AllowedValues, or the literals the template compares
    it with or looks it up as, and ``OTHER``."""
    parameter = context.parameters.get(name)
    if isinstance(parameter, dict):
        values, bounded = parameter_values(parameter)
        if bounded:
            return values
    return (*_literals_of_parameters(context).get(name, ()), OTHER)


def _literals_of_parameters(context: TemplateContext) -> dict[str, tuple[str, ...]]:
    """For each parameter, the literals a condition compares it with and the mapping keys it looks up (found
    once per template, the first time a reading needs them)."""
    found = context.derived.get("parameter literals")
    if found is None:
        found = context.derived["parameter literals"] = _parameter_literals(context)
    return found


def _parameter_literals(context: TemplateContext) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    pending: list[Any] = [context.template.get(section)
                           for section in ("Conditions", "Rules", "Resources", "Outputs")]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, dict):
            if len(value) == 1:
                name, arguments = next(iter(value.items()))
                if name == "Fn::Equals" and isinstance(arguments, list) and len(arguments) == 2:
                    for operand, other in ((arguments[0], arguments[1]), (arguments[1], arguments[0])):
                        literal = scalar_text(other)
                        if _ref_name(operand) is not None and literal is not None:
                            found.setdefault(_ref_name(operand) or "", []).append(literal)
                elif name == "Fn::Contains" and isinstance(arguments, list) and len(arguments) == 2 \
                        and _ref_name(arguments[1]) is not None and isinstance(arguments[0], list):
                    # A rule's Fn::Contains [literals, Ref P] compares P with each literal.
                    literals = [scalar_text(member) for member in arguments[0]]
                    found.setdefault(_ref_name(arguments[1]) or "", []).extend(
                        literal for literal in literals if literal is not None)
                elif name in ("Fn::EachMemberIn", "Fn::EachMemberEquals") and isinstance(arguments, list) \
                        and len(arguments) == 2 and _ref_name(arguments[0]) is not None:
                    # A rule comparing each item of list parameter L with literals: L's items (``L[]``).
                    members = arguments[1] if isinstance(arguments[1], list) else [arguments[1]]
                    literals = [scalar_text(member) for member in members]
                    found.setdefault(list_items_key(_ref_name(arguments[0]) or ""), []).extend(
                        literal for literal in literals if literal is not None)
                elif name == "Fn::FindInMap" and isinstance(arguments, list) and len(arguments) >= 3:
                    for parameter, keys in _looked_up_keys(context, arguments):
                        found.setdefault(parameter, []).extend(keys)
            pending.extend(value.values())
    return {name: tuple(dict.fromkeys(values)) for name, values in found.items()}


def _ref_name(value: Any) -> str | None:
    return value["Ref"] if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str) else None


def _looked_up_keys(context: TemplateContext, arguments: list[Any]) -> list[tuple[str, list[str]]]:
    """The mapping keys an ``Fn::FindInMap`` of a literal mapping looks parameters up as."""
    table = context.mappings.get(arguments[0]) if isinstance(arguments[0], str) else None
    if not isinstance(table, dict):
        return []
    found = []
    top, second = _ref_name(arguments[1]), _ref_name(arguments[2])
    if top is not None:
        found.append((top, [str(key) for key in table]))
    if second is not None:
        found.append((second, [str(key) for row in table.values() if isinstance(row, dict) for key in row]))
    return found


EVALUATORS.condition = condition_value
EVALUATORS.parameter_domain = parameter_domain

"""List values (``Fn::Split``, list parameters, list-valued mappings) and ``Fn::Select`` over them.

A list value reads as the lists it may be, and whether it can be no other: a literal list is itself; ``Fn::Split``
of text with unknowns may split further at deployment (an unknown can hold the delimiter); a list parameter is
its ``Default`` or anything; ``Fn::GetAZs``, ``Fn::Cidr`` and attributes are anything. ``Fn::Select`` is then any
element its index can pick, in any of those lists: exactly one text only when everything is known.
"""

from __future__ import annotations

from typing import Any

from constructs_lib.rules.evaluation.lookups import find_in_map_lists
from constructs_lib.rules.evaluation.reader import EVALUATORS, Reader, register
from constructs_lib.rules.evaluation.values import (
    ABSENT,
    MAX_DEPTH,
    DeploymentFails,
    EvaluationLimit,
    has_tokens,
    is_list_parameter,
    list_items_key,
    parameter_choice,
    scalar_text,
)


def possible_lists(reader: Reader, value: Any, depth: int) -> tuple[list[list[Any]], bool]:
    """The lists ``value`` may be (their elements unread), and whether it can be no other."""
    if depth > MAX_DEPTH:
        raise EvaluationLimit(f"intrinsic functions nested more than {MAX_DEPTH} deep")
    value = reader.pick(value)
    if isinstance(value, list):
        if any(type(item) is dict for item in value):  # an element that is AWS::NoValue is not in the list
            value = [item for item in value if reader.pick(item) is not ABSENT]
        return [value], True
    if not (isinstance(value, dict) and len(value) == 1):
        return [], False
    name, argument = next(iter(value.items()))
    if name == "Fn::Split":
        return _split_lists(reader, argument, depth + 1)
    if name == "Ref" and isinstance(argument, str):
        return _parameter_lists(reader, argument)
    if name == "Fn::FindInMap":
        return find_in_map_lists(reader, argument, depth + 1)
    return [], False  # Fn::GetAZs, Fn::Cidr, Fn::GetAtt, Fn::ImportValue...: known only at deployment


def _split_lists(reader: Reader, argument: Any, depth: int) -> tuple[list[list[Any]], bool]:
    if not (isinstance(argument, list) and len(argument) == 2):
        return [], False
    delimiter, source = reader.render(argument[0], depth), reader.render(argument[1], depth)
    if not delimiter or source is None or has_tokens(delimiter):
        return [], False
    options = reader.context.expand(source)
    lists: list[list[Any]] = [option.split(delimiter) for option in options]
    return lists, not any(has_tokens(option) for option in options)


def _parameter_lists(reader: Reader, name: str) -> tuple[list[list[Any]], bool]:
    parameter = reader.context.parameters.get(name)
    if not isinstance(parameter, dict) or not is_list_parameter(parameter):
        return [], False
    default = parameter.get("Default")
    if isinstance(default, list):
        return [default], False
    return ([default.split(",")] if isinstance(default, str) else []), False  # a Default can be overridden


@register("Fn::Select")
def render_select(reader: Reader, argument: Any, depth: int) -> str:
    """``Fn::Select``: the element, or a token for each element its index (literal or not) may pick."""
    if not (isinstance(argument, list) and len(argument) == 2):
        return reader.opaque({"Fn::Select": argument})
    index = reader.render(argument[0], depth)
    if index is None:
        return reader.opaque({"Fn::Select": argument})
    if index.isdigit() and (item_domain := _list_parameter_items(reader, argument[1])):
        name, domain = item_domain
        item = reader.decide(parameter_choice(f"{name}[{index}]"), domain)
        if isinstance(item, str):
            return item  # else none of the literals a rule compares the items with: read as any element below
    lists, complete = reader.lists(argument[1], depth)
    if not index.isdigit() and complete and lists:
        index = _parameter_index(reader, argument[0], max(len(items) for items in lists)) or index
    options = [index] if index.isdigit() else reader.context.expand(index)
    indices = [int(option) for option in options] if all(option.isdigit() for option in options) else None
    texts: list[str] = []
    for items in lists:
        chosen = range(len(items)) if indices is None else [position for position in indices if position < len(items)]
        texts.extend(reader.render(items[position], depth) or "" for position in chosen)
    if complete and lists and not texts:
        raise DeploymentFails("Fn::Select's index is out of its list's range")
    return reader.context.choice("${Fn::Select}", "an Fn::Select whose element is known only at deployment",
                                 texts, complete=complete)


def _parameter_index(reader: Reader, value: Any, length: int) -> str | None:
    """The position a ``Ref`` to a parameter without ``AllowedValues`` (nor a value a condition compares it with)
    selects in this valuation: each whole position of the list within its ``MinValue``/``MaxValue``, the same
    wherever it indexes (any other value fails the deployment, an index being a position of the list)."""
    value = reader.pick(value)
    name = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
    parameter = reader.context.parameters.get(name) if isinstance(name, str) else None
    if not (isinstance(parameter, dict) and parameter.get("Type") in ("String", "Number")
            and "AllowedValues" not in parameter and parameter_choice(str(name)) not in reader.choices):
        return None
    low, high = (_number(parameter.get(bound)) for bound in ("MinValue", "MaxValue"))
    positions = tuple(str(position) for position in range(length)
                      if (low is None or position >= low) and (high is None or position <= high))
    if not positions:
        raise DeploymentFails(f"Fn::Select's index {name} is never a position of its list")
    return str(reader.decide(parameter_choice(str(name)), positions))


def _number(value: Any) -> float | None:
    text = scalar_text(value)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _list_parameter_items(reader: Reader, value: Any) -> tuple[str, tuple[str | None, ...]] | None:
    """A list parameter's name and the values an item a literal index selects takes across valuations, the same
    wherever that index selects it (a list too short for the index fails the deployment):

    - a ``CommaDelimitedList``'s ``AllowedValues``: CloudFormation checks each item against them (since December
      2022), so the item is one of them in every deployment;
    - otherwise, when a rule compares the items with literals (``Fn::EachMemberIn``, ``Fn::EachMemberEquals``),
      one of those literals or none of them (``None``), so that the rule can refuse the valuations it refuses.
    """
    value = reader.pick(value)
    name = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
    parameter = reader.context.parameters.get(name) if isinstance(name, str) else None
    if not (isinstance(name, str) and isinstance(parameter, dict) and is_list_parameter(parameter)):
        return None
    allowed = parameter.get("AllowedValues") if parameter.get("Type") == "CommaDelimitedList" else None
    texts = [scalar_text(item) for item in allowed] if isinstance(allowed, list) else []
    if texts and None not in texts:
        return name, tuple(dict.fromkeys(text for text in texts if text is not None))
    compared = EVALUATORS.parameter_domain(reader.context, list_items_key(name))
    return (name, compared) if len(compared) > 1 else None


EVALUATORS.lists = possible_lists

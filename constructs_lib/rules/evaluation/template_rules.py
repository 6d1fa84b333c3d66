"""The template's ``Rules`` section: valuations CloudFormation refuses before it deploys anything.

A rule applies when its ``RuleCondition`` holds (or it has none); then every ``Assertions[].Assert`` must hold, or
CloudFormation refuses the stack's parameters and deploys nothing. So a valuation in which an applicable assertion
is false is not a deployment, and nothing found in it is reported. Rule functions read here: ``Fn::Equals``,
``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Fn::Contains``, ``Fn::EachMemberEquals``, ``Fn::EachMemberIn`` (over a
list parameter: the items the valuation chose) and ``Ref``. What a valuation does not decide (a parameter without
``AllowedValues``, ``Fn::ValueOf``, ``Fn::RefAll``, ``Fn::ValueOfAll``, a malformed rule) is unknown and refuses
nothing: pruning only ever drops a valuation CloudFormation would certainly refuse.
"""

from __future__ import annotations

from typing import Any

from constructs_lib.rules.evaluation.conditions import OTHER, parameter_domain, parameter_equality
from constructs_lib.rules.evaluation.reader import EVALUATORS, Reader
from constructs_lib.rules.evaluation.values import (
    MAX_DEPTH,
    EvaluationLimit,
    has_tokens,
    list_items_key,
    parameter_choice,
)


def refusing_rule(reader: Reader) -> str | None:
    """The name of a rule whose assertion is false in this valuation (CloudFormation refuses it), or ``None``."""
    rules = reader.context.template.get("Rules")
    if not isinstance(rules, dict):
        return None
    for name, rule in rules.items():
        if not isinstance(rule, dict) or not isinstance(rule.get("Assertions"), list):
            continue
        if "RuleCondition" in rule and _holds(reader, rule["RuleCondition"], 0) is not True:
            continue  # the rule may not apply: it refuses nothing for certain
        for assertion in rule["Assertions"]:
            if isinstance(assertion, dict) and _holds(reader, assertion.get("Assert"), 0) is False:
                return str(name)
    return None


def _holds(reader: Reader, expression: Any, depth: int) -> bool | None:
    """Whether a rule-specific expression holds in this valuation; ``None`` when the valuation leaves it open."""
    if depth > MAX_DEPTH:
        raise EvaluationLimit(f"the Rules section nests more than {MAX_DEPTH} deep")
    if isinstance(expression, bool):
        return expression
    if not (isinstance(expression, dict) and len(expression) == 1):
        return None
    function, argument = next(iter(expression.items()))
    if not isinstance(argument, list):
        return None
    if function == "Fn::Not" and len(argument) == 1:
        inner = _holds(reader, argument[0], depth + 1)
        return None if inner is None else not inner
    if function in ("Fn::And", "Fn::Or") and argument:
        outcomes = [_holds(reader, operand, depth + 1) for operand in argument]
        decisive = function == "Fn::Or"  # one true decides an Or, one false an And
        if decisive in outcomes:
            return decisive
        return None if None in outcomes else not decisive
    if len(argument) != 2:
        return None
    if function == "Fn::Equals":
        return _equals(reader, argument[0], argument[1])
    if function == "Fn::Contains" and isinstance(argument[0], list):  # a literal list: one Fn::Equals per member
        outcomes = [_equals(reader, member, argument[1]) for member in argument[0]]
        return True if True in outcomes else None if None in outcomes else False
    if function == "Fn::Contains":
        members, value = _texts(reader, argument[0]), _text(reader, argument[1])
        return None if members is None or value is None else value in members
    if function in ("Fn::EachMemberEquals", "Fn::EachMemberIn") and (chosen := _chosen_items(reader, argument[0])):
        # Items of a list parameter the valuation chose (Fn::Select of it): one outside the allowed texts is a
        # member that fails the assertion; the items it did not choose leave it open otherwise. An item chosen
        # as none of the literals rules compare the items with (OTHER) is outside allowed texts among them.
        name, items = chosen
        allowed = [_text(reader, argument[1])] if function == "Fn::EachMemberEquals" else _texts(reader, argument[1])
        if allowed is None or None in allowed:
            return None
        compared = set(parameter_domain(reader.context, list_items_key(name)))
        if any(item not in allowed if item is not OTHER else compared.issuperset(allowed) for item in items):
            return False
        return None
    if function == "Fn::EachMemberEquals":
        members, value = _texts(reader, argument[0]), _text(reader, argument[1])
        return None if members is None or value is None else all(member == value for member in members)
    if function == "Fn::EachMemberIn":
        members, allowed = _texts(reader, argument[0]), _texts(reader, argument[1])
        return None if members is None or allowed is None else set(members) <= set(allowed)
    return None


def _equals(reader: Reader, left: Any, right: Any) -> bool | None:
    """A parameter compared with a literal follows its value in the valuation (none of the literals it is
    compared with is a value too: then it equals none of them); anything else, when both texts are fixed."""
    found = parameter_equality(reader, left, right)
    if found is not None:
        return found
    left_text, right_text = _text(reader, left), _text(reader, right)
    return None if left_text is None or right_text is None else left_text == right_text


def _text(reader: Reader, value: Any) -> str | None:
    """A value's text when the valuation fixes it, else ``None``."""
    text = reader.render(value)
    return None if text is None or has_tokens(text) else text


def _chosen_items(reader: Reader, value: Any) -> tuple[str, list[str | None]] | None:
    """A list parameter (``Ref``) and the items of it this valuation chose, by index (see
    ``lists.render_select``): texts, or ``OTHER``; ``None`` when it chose none."""
    value = reader.pick(value)
    name = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(name, str):
        return None
    prefix = parameter_choice(f"{name}[")[:-1]
    items = [chosen for key, chosen in reader.choices.items()
             if key.startswith(prefix) and key.endswith("]}") and (chosen is OTHER or isinstance(chosen, str))]
    return (name, items) if items else None


def _texts(reader: Reader, value: Any) -> list[str] | None:
    """A list's texts when the valuation fixes every element, else ``None``."""
    lists, complete = reader.lists(value)
    if not complete or len(lists) != 1:
        return None
    texts = [_text(reader, item) for item in lists[0]]
    return None if None in texts else [text for text in texts if text is not None]


EVALUATORS.refusing_rule = refusing_rule

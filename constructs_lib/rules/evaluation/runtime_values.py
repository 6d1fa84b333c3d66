"""Values that services compute when a request runs, read as text with unknown parts (tokens).

A request kept in a state machine, a SageMaker pipeline or an SSM Automation document may build a location from
run-time parts: Step Functions' ``States.Format('s3://jumpstart-private-cache-prod-{}/...', $.region)`` (what
CDK's ``JsonPath.format`` writes), a JSONata concatenation ``{% 's3://...' & $region & '/...' %}``, a pipeline's
``{"Std:Join": ...}`` of ``{"Get": "Parameters.Region"}``, an Automation document's ``{{ Region }}``. Each is
rewritten into a plain string whose literal parts stay text and whose run-time parts become tokens, so the rules
judge the literal parts (a JumpStart bucket is a JumpStart bucket) and never take an unknown for acceptance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.evaluation.jsonata_reading import (
    UNKNOWN,
    StateScope,
    json_path_value,
    jsonata_expression,
    jsonata_value,
    known,
    parsed_json,
)
from constructs_lib.rules.evaluation.values import TemplateContext

Rewrite = Callable[[Any, TemplateContext], Any]

_MAX_DEPTH = 40  # deeper documents keep their remaining values as written (unknowns to the rules)
_SSM_PARAMETER = compile_on_use(r"\{\{(.*?)\}\}")


def _token(context: TemplateContext, expression: str, source: str) -> str:
    return context.token(f"${{{expression}}}", f"{source} at run time ({expression})")


# -- Step Functions -------------------------------------------------------------------------------------------

def step_functions_values(value: Any, context: TemplateContext, depth: int = 0, scope: StateScope | None = None
                          ) -> Any:
    """A state's ``Parameters``/``Arguments`` with ``Key.$`` expressions and JSONata strings read as text;
    ``scope``: the state input and variables the definition fixes (``state_flow``), unknown when not given."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        rewritten: dict[str, Any] = {}
        for key, child in value.items():
            if isinstance(key, str) and key.endswith(".$") and isinstance(child, str):
                rewritten[key[:-2]] = _states_expression(child.strip(), context, scope)
            else:
                rewritten[key] = step_functions_values(child, context, depth + 1, scope)
        return rewritten
    if isinstance(value, list):
        return [step_functions_values(child, context, depth + 1, scope) for child in value]
    if isinstance(value, str):
        expression = jsonata_expression(value)
        if expression is not None:
            return jsonata_value(expression, context, scope)
    return value


def _states_expression(expression: str, context: TemplateContext, scope: StateScope | None = None) -> Any:
    """A JSONPath or intrinsic function: a path into what the definition fixes is its value, ``States.Format``
    keeps its literal text, anything else is a token."""
    if scope is not None and expression.startswith("$"):
        fixed = json_path_value(expression, scope)
        if fixed is not UNKNOWN:
            return known(fixed, context, expression, "read from the state input")
    call = _call(expression)
    if call is not None and call[0] == "States.Format" and call[1]:
        template, *arguments = call[1]
        literal = _quoted(template)
        if literal is not None:
            pieces = _format_pieces(literal)
            if pieces is not None and len(pieces) - 1 <= len(arguments):
                text = pieces[0]
                for argument, piece in zip(arguments, pieces[1:], strict=False):
                    quoted = _quoted(argument)
                    value = quoted if quoted is not None else _states_expression(argument, context, scope)
                    text += (value if isinstance(value, str) else _token(context, argument, "read from the state input")
                             ) + piece
                return text
    if call is not None and call[0] == "States.StringToJson" and len(call[1]) == 1:
        # JSON text the definition fixes (a literal, or text a Pass state wrote) is the object it parses to.
        argument = call[1][0]
        json_text = _quoted(argument)
        if json_text is None and scope is not None and argument.startswith("$"):
            fixed = json_path_value(argument, scope)
            json_text = fixed if isinstance(fixed, str) else None
        parsed = parsed_json(json_text) if json_text is not None else UNKNOWN
        if parsed is not UNKNOWN:
            return parsed
    return _token(context, expression, "read from the state input")


def _format_pieces(template: str) -> list[str] | None:
    """The literal text between ``{}`` placeholders of a ``States.Format`` template (escapes undone)."""
    pieces = [""]
    index = 0
    while index < len(template):
        char = template[index]
        if char == "\\" and index + 1 < len(template):
            pieces[-1] += template[index + 1]
            index += 2
            continue
        if template.startswith("{}", index):
            pieces.append("")
            index += 2
            continue
        pieces[-1] += char
        index += 1
    return pieces


def _call(expression: str) -> tuple[str, list[str]] | None:
    """``(name, arguments)`` of ``Name(arg, 'text', ...)``, arguments as written; ``None`` for anything else."""
    opening = expression.find("(")
    if opening <= 0 or not expression.endswith(")"):
        return None
    name = expression[:opening].strip()
    arguments = _split_top_level(expression[opening + 1:-1], ",")
    return (name, [argument.strip() for argument in arguments]) if arguments is not None else None


def _split_top_level(text: str, separator: str) -> list[str] | None:
    """``text`` split at ``separator`` outside quotes, parentheses and brackets; ``None`` when unbalanced."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    start = index = 0
    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                return None
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    if quote is not None or depth != 0:
        return None
    parts.append(text[start:])
    return parts


def _quoted(text: str) -> str | None:
    """The content of a quoted string literal (``'...'`` or ``"..."``), escapes undone, or ``None``."""
    text = text.strip()
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
        return None
    body = text[1:-1]
    result = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            result.append(body[index + 1])
            index += 2
            continue
        if char == text[0]:
            return None  # two literals, not one
        result.append(char)
        index += 1
    return "".join(result)


# -- SageMaker pipelines ----------------------------------------------------------------------------------------

def pipeline_values(value: Any, context: TemplateContext, depth: int = 0) -> Any:
    """A pipeline step's ``Arguments`` with ``Std:Join`` as text and ``Get`` (parameters, step properties) as tokens.

    A pipeline parameter's ``DefaultValue`` is only what an execution uses when it is not given: a token too.
    """
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        if len(value) == 1:
            name, argument = next(iter(value.items()))
            if name == "Std:Join" and isinstance(argument, dict):
                return _pipeline_join(argument, context, depth)
            if name == "Get" and isinstance(argument, str):
                return _token(context, argument, "a pipeline parameter or step property read")
            if isinstance(name, str) and name.startswith("Std:"):
                return _token(context, name, "a pipeline function evaluated")
        return {key: pipeline_values(child, context, depth + 1) for key, child in value.items()}
    if isinstance(value, list):
        return [pipeline_values(child, context, depth + 1) for child in value]
    return value


def _pipeline_join(argument: dict[str, Any], context: TemplateContext, depth: int) -> Any:
    separator, values = argument.get("On", ""), argument.get("Values")
    if not isinstance(separator, str) or not isinstance(values, list):
        return _token(context, "Std:Join", "a pipeline function evaluated")
    parts = []
    for item in values:
        item = pipeline_values(item, context, depth + 1)
        if isinstance(item, bool):
            item = "true" if item else "false"
        parts.append(item if isinstance(item, str) else
                     str(item) if isinstance(item, int | float) else
                     _token(context, "Std:Join", "a pipeline function evaluated"))
    return separator.join(parts)


# -- SSM Automation ---------------------------------------------------------------------------------------------

def automation_values(value: Any, context: TemplateContext, depth: int = 0) -> Any:
    """An Automation step's inputs with each ``{{ Parameter }}`` (given when the automation runs) as a token."""
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: automation_values(child, context, depth + 1) for key, child in value.items()}
    if isinstance(value, list):
        return [automation_values(child, context, depth + 1) for child in value]
    if isinstance(value, str) and "{{" in value:
        return _SSM_PARAMETER.sub(
            lambda match: _token(context, match.group(1).strip(), "an Automation parameter given"), value)
    return value

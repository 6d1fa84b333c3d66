"""What counts as EULA acceptance in a request: only what the template proves, in every reading.

Provably true: the boolean ``true``, or text that resolves to ``"true"`` whatever its unknowns turn out to be
(each unknown limited to values the template fixes: a parameter's ``AllowedValues``, a mapping's values, a list's
elements). Anything else (absent, ``false``, ``"True"``, a parameter free at deployment, an attribute, an import)
is not acceptance, and ``acceptance_problem`` says why in a clause naming the property.
"""

from __future__ import annotations

from typing import Any

from constructs_lib.rules.evaluation.reader import EVALUATORS, Reader
from constructs_lib.rules.evaluation.values import ABSENT, has_tokens, is_intrinsic


def acceptance_problem(reader: Reader, container: Any, base: str, keys: tuple[str, ...]) -> str | None:
    """Why ``container.<keys>`` is not provably ``true`` (a clause naming the property), or ``None``."""
    value = container
    for depth, key in enumerate(keys):
        # An object that is no intrinsic is its own pick: the common case is read without one.
        if type(value) is not dict or is_intrinsic(value):
            value = reader.pick(value)
            if value is ABSENT:
                return f"{_walked(base, keys, depth)} is absent"
            if not isinstance(value, dict) or is_intrinsic(value):
                return f"{_walked(base, keys, depth)} is {describe_not_true(reader, value)}"
        value = reader.field(value, key)
    # The common cases, which render as "true": nothing to say, so no path is written.
    if value is True or (type(value) is str and value == "true"):
        return None
    walked = _walked(base, keys, len(keys))
    if value is ABSENT:
        return f"{walked} is absent"
    if value is False:
        return f"{walked} is false"
    text = reader.render(value)
    if text is None:
        return f"{walked} is absent"
    if text == "true" or (has_tokens(text) and reader.context.always(text, "true")):
        return None
    return f"{walked} is {describe_not_true(reader, value)}"


def _walked(base: str, keys: tuple[str, ...], depth: int) -> str:
    """The path of the first ``depth`` keys below ``base``."""
    return ".".join((base, *keys[:depth]))


def describe_not_true(reader: Reader, value: Any) -> str:
    """A value that is not ``true``, in words."""
    text = reader.render(value)
    if text is None:
        return "absent"
    context = reader.context
    tokens = context.tokens_in(text)
    if not tokens:
        shown = repr(text) if isinstance(value, str) else text
        # "True", "yes", 1: CloudFormation's coercion of these is not documented, so they prove nothing.
        why = "" if text == "false" else ' (only the boolean true or the string "true" proves acceptance)'
        return f"{shown}, not true{why}"
    unknown = ", ".join(dict.fromkeys(token.description for token in tokens))
    what = unknown if len(text) == 1 else f"built from {unknown}"
    options = context.expand(text)
    if not any(has_tokens(option) for option in options):
        others = [repr(option) for option in dict.fromkeys(options) if option != "true"]
        return f"{what}, which may be {' or '.join(others[:3])}, not true"
    return f"{what}, which is not known before deployment"


EVALUATORS.acceptance = acceptance_problem

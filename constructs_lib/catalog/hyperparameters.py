"""JumpStart training hyperparameters and the one check of a user's value against the model's spec.

A spec's ``hyperparameters`` entries have ``name``, ``type`` (``int``, ``float``, ``text`` or ``bool``), ``default``
and optionally ``min``, ``max``, ``exclusive_min``, ``exclusive_max`` and ``options``. The rules follow the SageMaker
Python SDK's ``sagemaker.jumpstart.validators``: numbers are range-checked, a text value must be one of its options,
and a text's bounds limit its length. Two deliberate differences, because values come from YAML and Python:
a number given for a text hyperparameter counts as its text (``save_total_limit: 3`` for a default of ``"2"``),
and a boolean (or ``true``/``false`` in any case) matches a ``True``/``False`` option, spelled as the option is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from constructs_lib.catalog.errors import closest_names, supported_list

HyperparameterType = Literal["int", "float", "text", "bool"]
HYPERPARAMETER_TYPES: tuple[HyperparameterType, ...] = ("int", "float", "text", "bool")
# The training job sets script-mode hyperparameters (sagemaker_program, ...) itself.
RESERVED_PREFIX = "sagemaker_"
BOUND_KEYS = ("min", "max", "exclusive_min", "exclusive_max")
_INTEGER = re.compile(r"[+-]?\d+")
_BOOLEAN_TEXT = ("true", "false")


def describe_value(value: Any) -> str:
    """How error messages name a value: ``a string ('abc')``, ``an integer (3)``, ``a list``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})" if value else "an empty string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} ({value})"


def _number(value: Any) -> float | None:
    """A finite number from a number or numeric text; booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _bound_text(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


@dataclass(frozen=True)
class Hyperparameter:
    """One training hyperparameter as the model's JumpStart spec describes it (only the bounds the spec gives)."""

    name: str
    type: HyperparameterType
    default: str
    min: float | None = None
    max: float | None = None
    exclusive_min: float | None = None
    exclusive_max: float | None = None
    options: tuple[str, ...] = field(default=())

    @classmethod
    def from_default(cls, name: str, default: str) -> Hyperparameter:
        """What a default alone tells (catalogs written before types were kept): ``True``/``False`` is a flag,
        an integer an int, a number a float, anything else free text."""
        if default in ("True", "False"):
            return cls(name, "text", default, options=("True", "False"))
        if _INTEGER.fullmatch(default):
            return cls(name, "int", default)
        return cls(name, "float" if _number(default) is not None else "text", default)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": self.type, "default": self.default}
        record.update({key: getattr(self, key) for key in BOUND_KEYS if getattr(self, key) is not None})
        if self.options:
            record["options"] = list(self.options)
        return record

    @classmethod
    def from_record(cls, name: str, record: Mapping[str, Any]) -> Hyperparameter:
        return cls(
            name, record["type"], record["default"], **{key: record[key] for key in BOUND_KEYS if key in record},
            options=tuple(record.get("options", ())),
        )

    def _matching_option(self, value: Any) -> str | None:
        text = str(value)
        if text in self.options:
            return text
        if isinstance(value, bool) or text.lower() in _BOOLEAN_TEXT:
            return next((option for option in self.options if option.lower() == text.lower()), None)
        return None

    def value(self, value: Any) -> Any:
        """``value`` as the job should receive it: a boolean spelled as the option it matches, else unchanged."""
        if self.options and (isinstance(value, bool) or str(value).lower() in _BOOLEAN_TEXT):
            return self._matching_option(value) or value
        return value

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not valid for this hyperparameter, or None."""
        if isinstance(value, bool):
            if self.type == "bool" or (self.type == "text" and (not self.options or self._matching_option(value))):
                return None
        elif not_scalar := scalar_problem(value):
            return not_scalar
        if self.type == "bool":
            if str(value).lower() in _BOOLEAN_TEXT:
                return None
            return f"expected true or false (the default is {self.default}), got {describe_value(value)}"
        if self.type == "text":
            return self._text_problem(value)
        return self._number_problem(value)

    def _text_problem(self, value: Any) -> str | None:
        if self.options and self._matching_option(value) is None:
            return (f"expected one of {', '.join(self.options)} (the default is {self.default}), "
                    f"got {describe_value(value)}")
        # The SDK reads a text's bounds as limits on its length.
        return self._bounds_problem(len(str(value)), "a text of length", value)

    def _number_problem(self, value: Any) -> str | None:
        number = _number(value)
        kind = "an integer" if self.type == "int" else "a number"
        if number is None or (self.type == "int" and not _is_integer(value)):
            return f"expected {kind} (the default is {self.default}), got {describe_value(value)}"
        return self._bounds_problem(number, kind, value)

    def _bounds_problem(self, measure: float, kind: str, value: Any) -> str | None:
        for bound, fails, relation in (
            (self.min, lambda b: measure < b, ">="),
            (self.max, lambda b: measure > b, "<="),
            (self.exclusive_min, lambda b: measure <= b, ">"),
            (self.exclusive_max, lambda b: measure >= b, "<"),
        ):
            if bound is not None and fails(bound):
                return (f"expected {kind} {self._range_text(relation, bound)} (the default is {self.default}), "
                        f"got {describe_value(value)}")
        return None

    def _range_text(self, relation: str, bound: float) -> str:
        lower = self.min if self.min is not None else self.exclusive_min
        upper = self.max if self.max is not None else self.exclusive_max
        if lower is not None and upper is not None:
            low = "from" if self.min is not None else "above"
            high = "to" if self.max is not None else "below"
            return f"{low} {_bound_text(lower)} {high} {_bound_text(upper)}"
        return f"{relation} {_bound_text(bound)}"


def _is_integer(value: Any) -> bool:
    # Integer text only: the training script parses "3", not "3.0" or "1e3".
    return isinstance(value, int) or (isinstance(value, str) and _INTEGER.fullmatch(value.strip()) is not None)


def scalar_problem(value: Any) -> str | None:
    """Hyperparameters are sent as text: only strings, numbers and booleans have one."""
    if isinstance(value, bool | int | float | str):
        return None
    return f"expected a string or number, got {describe_value(value)}"


def unknown_hyperparameter_problem(name: str, known: Mapping[str, Hyperparameter]) -> str | None:
    """Why ``name`` cannot be set: reserved for the job, or not in a spec that lists its hyperparameters."""
    if name.startswith(RESERVED_PREFIX):
        return f"reserved: the training job sets the {RESERVED_PREFIX}* hyperparameters itself"
    if known and name not in known:
        hint = closest_names(name, known)
        did_you_mean = f" (did you mean {', '.join(repr(h) for h in hint)}?)" if hint else ""
        return f"unknown training hyperparameter{did_you_mean}; the model has: {supported_list(known)}"
    return None

"""The checks of numeric props, shared by the props modules and the constructs: one wording for every field
("min_copies must be an integer >= 0, got -1"), raised as ``InvalidArgumentError`` (a ``ValueError``)."""

from __future__ import annotations

from constructs_lib.errors import InvalidArgumentError


def is_int(value: object) -> bool:
    """An integer, not a boolean (``True`` is an ``int`` to Python, never to SageMaker)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_integer(name: str, value: object, minimum: int, maximum: int | None = None) -> None:
    """``value`` is an integer from ``minimum`` (to ``maximum``, when given)."""
    if not is_int(value) or value < minimum or (maximum is not None and value > maximum):  # type: ignore[operator]
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidArgumentError(f"{name} must be an integer {bounds}, got {value!r}")


def check_number(name: str, value: object, minimum: float | None = None) -> None:
    """``value`` is a finite number (integer or float) of at least ``minimum``, or greater than 0 when none."""
    number_like = not isinstance(value, bool) and isinstance(value, int | float)
    if minimum is None:
        if not number_like or not 0 < value < float("inf"):  # type: ignore[operator]
            raise InvalidArgumentError(f"{name} must be a number > 0, got {value!r}")
    elif not number_like or not minimum <= value < float("inf"):  # type: ignore[operator]
        raise InvalidArgumentError(f"{name} must be a number >= {minimum}, got {value!r}")

"""CDK context (``-c key=value`` or cdk.json), read the same way by every stack module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from constructs_lib.errors import InputError


def context_flag(get_context: Callable[[str], Any], key: str, error: type[InputError] = InputError) -> bool:
    """``-c key=true`` (or ``"key": true`` in cdk.json) is True, absent or false is False; ``error`` otherwise."""
    value = get_context(key)
    if value in (None, False, "false"):
        return False
    if value in (True, "true"):
        return True
    raise error(f"context {key}={value!r}: expected true or false, e.g. -c {key}=true")


def context_list(get_context: Callable[[str], Any], key: str) -> tuple[str, ...]:
    """``-c key=a,b`` (or a list in cdk.json) as its non-empty items; () when absent."""
    value = get_context(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(text for text in (str(item).strip() for item in items) if text)

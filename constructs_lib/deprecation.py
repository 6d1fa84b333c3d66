"""The previous spellings of the API, kept working for one minor version with a ``DeprecationWarning`` that says
what to write instead (CHANGELOG.md lists them and the version that removes them)."""

from __future__ import annotations

import functools
import sys
import warnings
from dataclasses import fields
from typing import Any, TypeVar

REMOVED_IN = "0.3.0"
# Frames between the user's line and the warning: the package's own, jsii's constructor (JSIIMeta.__call__) and
# the import system's (for a deprecated module).
_INTERNAL_MODULES = ("constructs_lib.", "jsii.", "importlib.")

Struct = TypeVar("Struct", bound=type)


def warn_deprecated(old: str, new: str, *, since: str) -> None:
    """Warn that ``old`` goes in ``REMOVED_IN`` and ``new`` replaces it, pointing at the user's line (the first
    frame outside the package, jsii and the import system), so the warning names the line to change."""
    frame, stacklevel = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(_INTERNAL_MODULES):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(
        f"{old} is deprecated since {since} and goes in {REMOVED_IN}: {new}", DeprecationWarning,
        stacklevel=stacklevel,
    )


def positional_fields_deprecated(cls: Struct) -> Struct:
    """For a keyword-only dataclass that took positional values in 0.1: accept them, with a warning."""
    init = vars(cls)["__init__"]  # the dataclass's own, generated keyword-only
    names = [field.name for field in fields(cls)]

    @functools.wraps(init)
    def init_accepting_positions(self: Any, *args: Any, **kwargs: Any) -> None:
        if args:
            if len(args) > len(names):
                raise TypeError(f"{cls.__name__}() takes at most {len(names)} values, got {len(args)}")
            warn_deprecated(
                f"{cls.__name__}() with positional values", f"name them, {cls.__name__}("
                + ", ".join(f"{name}=..." for name in names[: len(args)]) + ")", since="0.2.0",
            )
            given_twice = sorted(set(names[: len(args)]) & set(kwargs))
            if given_twice:
                raise TypeError(f"{cls.__name__}() got {', '.join(given_twice)} both by position and by name")
            kwargs = {**dict(zip(names, args, strict=False)), **kwargs}
        init(self, **kwargs)

    cls.__init__ = init_accepting_positions  # type: ignore[misc]
    return cls

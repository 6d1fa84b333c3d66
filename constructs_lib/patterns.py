"""Regular expressions compiled on first use.

Compiling a regular expression is slow in Python (an ARN or ECR image pattern costs millions of instructions):
compiled at import, the four dozen patterns on ``eulagate check``'s path cost a short run more than reading its
templates, though a run uses only some of them. ``compile_on_use(pattern, flags)`` stands for ``re.compile``:
read any method or attribute of the compiled pattern (``match``, ``sub``, ``pattern``, ``groupindex`` ...) on it,
and the pattern is compiled then; each one read is kept, so a later read is a plain attribute read. It is not an
``re.Pattern`` instance: call its methods rather than passing it to ``re.match`` and friends.
"""

from __future__ import annotations

import re
from typing import Any, cast


class _PatternOnUse:
    """A pattern's source, compiled when one of the compiled pattern's attributes is first read."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only for attributes not read before
        if name.startswith("__"):  # protocols (copy, pickle) look these up on the type: nothing to compile for
            raise AttributeError(name)
        value = getattr(re.compile(*self._source), name)
        setattr(self, name, value)
        return value

    def __copy__(self) -> _PatternOnUse:
        return self  # immutable, as a compiled pattern (which copies as itself)

    def __deepcopy__(self, memo: dict[int, Any]) -> _PatternOnUse:
        return self

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return compile_on_use, self._source

    def __repr__(self) -> str:
        pattern, flags = self._source
        return f"compile_on_use({pattern!r}, {flags!r})"


def compile_on_use(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, done when the pattern is first used (module docstring)."""
    return cast("re.Pattern[str]", _PatternOnUse(pattern, flags))  # it answers every read as the compiled one

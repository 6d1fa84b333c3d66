"""Opt-in: a construct error ends the app with one line naming the construct path and the fix.

``ConstructValidationError`` is raised in the user's own code (``JumpStartEndpoint(stack, "Chat", ...)``), so
without help it reaches the terminal as a traceback, under ``cdk synth`` too. ``install_one_line_errors()``
installs a ``sys.excepthook`` that prints such an error (any ``ConstructError``) as one line and passes every
other exception to the hook it replaced. The app still exits 1, as for any uncaught exception, so the synth
fails. Nothing installs it on import: an app calls it explicitly (``app.py`` does), since the excepthook is the
whole process's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from constructs_lib.errors import ConstructError, one_line

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


class OneLineConstructErrors:
    """``sys.excepthook``: a ``ConstructError`` as ``<program>: <construct path>: <problem and fix>``."""

    def __init__(self, previous: ExceptHook) -> None:
        self.previous = previous

    def __call__(self, kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
        if isinstance(error, ConstructError):
            print(f"{Path(sys.argv[0]).name or 'python'}: {one_line(error)}", file=sys.stderr)
        else:
            self.previous(kind, error, traceback)


def install_one_line_errors() -> None:
    """Print an uncaught construct error as one line (``<program>: <construct path>: <problem>``) instead of a
    traceback, from now on in this process; other exceptions keep the hook they had. Calling it again changes
    nothing."""
    if not isinstance(sys.excepthook, OneLineConstructErrors):
        sys.excepthook = OneLineConstructErrors(sys.excepthook)

"""A construct given invalid props fails the app with one line naming the construct path and the fix.

``ConstructValidationError`` is raised in the user's own code (``JumpStartEndpoint(stack, "Chat", ...)``), so
without help it reaches the terminal as a traceback, under ``cdk synth`` too. Importing the constructs installs
a ``sys.excepthook`` that prints such an error as one line and passes every other exception to the hook it
replaced. The app still exits 1, as for any uncaught exception, so the synth fails.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from constructs_lib.errors import ConstructValidationError

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


class OneLineConstructErrors:
    """``sys.excepthook``: a ``ConstructValidationError`` as ``<program>: <construct path>: <problem and fix>``."""

    def __init__(self, previous: ExceptHook) -> None:
        self.previous = previous

    def __call__(self, kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
        if isinstance(error, ConstructValidationError):
            print(f"{Path(sys.argv[0]).name or 'python'}: {error}", file=sys.stderr)
        else:
            self.previous(kind, error, traceback)


def install() -> None:
    """Install the hook once per process, over whatever hook is there."""
    if not isinstance(sys.excepthook, OneLineConstructErrors):
        sys.excepthook = OneLineConstructErrors(sys.excepthook)

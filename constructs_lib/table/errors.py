"""The one error the model table raises: a single line naming the file, the line, the row and the field."""

from __future__ import annotations

from constructs_lib.cli import InputError


class TableError(InputError):
    """A malformed or undeployable model table. ``eulagate plan`` exits 2 on it; ``app.py`` prints it and exits 2.

    The message has the shape ``<file>:<line>: <row kind> '<name>' field '<field>': <what was expected>``.
    """

    def __init__(self, message: str, *, source: str = "", line: int | None = None) -> None:
        self.source = source
        self.line = line
        super().__init__(message)

"""The one exception hierarchy of EulaGate, at the bottom of the package (it imports nothing of ours).

Every error a user can cause derives from ``EulaGateError``. Bad input (``InputError`` and its kinds) is reported
as one line naming the file, the row or resource, and the fix, with exit code 2. A construct given invalid props
raises ``ConstructValidationError``, which carries the construct path as aws-cdk-lib's ``ValidationError`` does.
"""

from __future__ import annotations


class EulaGateError(Exception):
    """Base class of every error EulaGate raises on purpose."""


class InputError(EulaGateError):
    """A problem with what the user gave us: reported as one line, exit code 2."""


class CatalogError(InputError):
    """A catalog look-up that cannot be answered (unknown model, region, instance type), or a malformed catalog."""


class TableError(InputError):
    """A malformed or undeployable model table. ``eulagate plan`` exits 2 on it; ``app.py`` prints it and exits 2.

    The message has the shape ``<file>:<line>: <row kind> '<name>' field '<field>': <what was expected>``.
    """

    def __init__(self, message: str, *, source: str = "", line: int | None = None) -> None:
        self.source = source
        self.line = line
        super().__init__(message)


class TemplateError(InputError):
    """A template or cloud assembly we cannot read: one line naming the file and the problem."""


class ConstructValidationError(EulaGateError, ValueError):
    """A construct's props are invalid. The message starts with the construct path, like CDK's ``ValidationError``.

    A ``ValueError`` too, so callers that guarded construct creation with ``except ValueError`` keep working.
    """

    def __init__(self, construct_path: str, message: str) -> None:
        self.construct_path = construct_path
        self.reason = message
        super().__init__(f"{construct_path}: {message}")

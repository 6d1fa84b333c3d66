"""The one exception hierarchy of EulaGate, at the bottom of the package (it imports nothing of ours).

Every error the package raises derives from ``EulaGateError``, so ``except EulaGateError`` catches all of them.
Bad input (``InputError`` and its kinds) is reported as one line naming the file, the row or resource, and the
fix, with exit code 2. An error of a construct (``ConstructError``: invalid props, or an attribute asked for too
early) carries the construct path, as aws-cdk-lib's ``ValidationError`` does. Errors that used to be plain
``ValueError``/``RuntimeError`` keep those bases too, so existing ``except ValueError`` clauses still catch them.
"""

from __future__ import annotations

from constructs_lib.patterns import compile_on_use

# Compiled on the first error: a run without one, as most are, never pays for it.
_CONTROL_CHARACTERS = compile_on_use("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


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


class InvalidArgumentError(InputError, ValueError):
    """A value given to the package's API is refused: a field of a struct (``DataCapture``, ``VpcPlacement``...)
    or an argument of a function (``invoke``). The message names the field and what it accepts."""


class ConstructError(EulaGateError):
    """An error of one construct. The message starts with the construct path, like CDK's ``ValidationError``."""

    def __init__(self, construct_path: str, message: str) -> None:
        self.construct_path = construct_path
        self.reason = message
        super().__init__(f"{construct_path}: {message}")


class ConstructValidationError(ConstructError, ValueError):
    """A construct's props are invalid (including a model, region or instance type the catalog does not know).

    A ``ValueError`` too, so callers that guarded construct creation with ``except ValueError`` keep working.
    """


class JobNotAwaitedError(ConstructError, RuntimeError):
    """A fine-tuning job's output was asked for, but the deployment does not wait for the job to finish."""


def one_line(text: object) -> str:
    """``text`` as one line: control characters (a carriage return in a resource id, a newline in an AWS message)
    and runs of white space become one space, so an error printed with it is exactly one line."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", str(text)).split())

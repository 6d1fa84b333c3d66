"""Errors raised by catalog look-ups. Each message says what was asked, what exists, and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from constructs_lib.errors import CatalogError
from constructs_lib.patterns import compile_on_use


class UnknownModelError(CatalogError, LookupError):
    """A name that is neither a JumpStart model id nor an Autopilot BaseModelName in the catalog."""

    def __init__(self, name: str, known_names: Iterable[str]) -> None:
        self.name = name
        self.suggestions = closest_names(name, known_names)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"unknown JumpStart model {name!r}{hint} "
            "(run `eulagate models` for every model id and BaseModelName)"
        )


class UnsupportedRegionError(CatalogError, ValueError):
    """The model has no image or artifact in the requested region."""


class UnsupportedInstanceTypeError(CatalogError, ValueError):
    """The model does not support the requested instance type."""


class NotDeployableError(CatalogError):
    """The catalog knows the model's gating but not how to deploy it (no images and artifacts, or no package)."""


class NotTrainableError(CatalogError):
    """The model has no JumpStart training data in the catalog."""


class AutopilotUnsupportedModelError(CatalogError, ValueError):
    """The model is in the catalog, but Autopilot cannot fine-tune it."""


MAX_TYPO_LENGTH = 60


def closest_names(name: str, known_names: Iterable[str], limit: int = 3) -> list[str]:
    """The known names nearest to ``name``, compared case-insensitively."""
    by_folded: dict[str, str] = {}
    for known in known_names:
        by_folded.setdefault(known.lower(), known)
    import difflib  # only for a message: `eulagate check` starts without it

    matches = difflib.get_close_matches(name.lower(), list(by_folded), n=limit, cutoff=0.5)
    return [by_folded[m] for m in matches]


# Instance sizes from smallest to largest; "<n>xlarge" sorts by n among the xlarge sizes, "metal" after them.
INSTANCE_SIZES = ("nano", "micro", "small", "medium", "large", "xlarge", "metal")
_DIGITS = compile_on_use(r"(\d+)")
_XLARGE = compile_on_use(r"(\d*)xlarge")


def _chunks(text: str) -> list[Any]:
    """``text`` split into text and numbers (``ml.g5`` -> ``['ml.g', 5, '']``): numbers compare as numbers."""
    return [int(part) if index % 2 else part for index, part in enumerate(_DIGITS.split(text))]


def natural_key(text: str) -> tuple[Any, ...]:
    """Natural order: ``ml.g5.2xlarge`` < ``ml.g5.12xlarge`` < ``ml.g6.xlarge``; regions and names by their
    numbers (``us-west-2`` < ``us-west-10``)."""
    family, dot, size = text.rpartition(".")
    xlarge = _XLARGE.fullmatch(size)
    if dot and (xlarge or size in INSTANCE_SIZES):
        rank = INSTANCE_SIZES.index("xlarge") if xlarge else INSTANCE_SIZES.index(size)
        return (_chunks(family), rank, int(xlarge.group(1) or 1) if xlarge else 0)
    return (_chunks(text), 0, 0)


def nearest(name: str, known_names: Iterable[str], limit: int = 3) -> list[str]:
    """The known names nearest to ``name``. An instance type written without its ``ml.`` prefix (``g5.2xlarge``)
    gets the prefixed name; a value too long to be a typo gets none."""
    known = list(known_names)
    if not known or len(name) > MAX_TYPO_LENGTH:
        return []
    prefixed = f"ml.{name}"
    return [prefixed] if prefixed in known else closest_names(name, known, limit=limit)


def suggestion(name: str, known_names: Iterable[str], limit: int = 3) -> str:
    """`` (did you mean 'x'?)`` for the nearest known names, or nothing: for a message that goes on with a list,
    so the hint comes before the list, where the reader looks first."""
    hint = nearest(name, known_names, limit)
    return f" (did you mean {', '.join(repr(h) for h in hint)}?)" if hint else ""


def did_you_mean(given: str, choices: Iterable[str]) -> str:
    """``; did you mean 'X'?`` for the nearest of ``choices``, or nothing: one exact-case guess for a short id (a
    rule id, a settings key)."""
    import difflib  # only for a message: `eulagate check` starts without it

    close = difflib.get_close_matches(given, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def supported_list(values: Iterable[str]) -> str:
    return ", ".join(sorted(values, key=natural_key)) or "none"

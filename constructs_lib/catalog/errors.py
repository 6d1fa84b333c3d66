"""Errors raised by catalog look-ups. Each message says what was asked, what exists, and what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from constructs_lib.errors import CatalogError


class UnknownModelError(CatalogError, LookupError):
    """A name that is neither a JumpStart model id nor an Autopilot BaseModelName in the catalog."""

    def __init__(self, name: str, known_names: Iterable[str]) -> None:
        self.name = name
        self.suggestions = closest_names(name, known_names)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"unknown JumpStart model {name!r}{hint} "
            "(run `eulagate models --all` for every model id and BaseModelName)"
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


def closest_names(name: str, known_names: Iterable[str], limit: int = 3) -> list[str]:
    """The known names nearest to ``name``, compared case-insensitively."""
    by_folded: dict[str, str] = {}
    for known in known_names:
        by_folded.setdefault(known.lower(), known)
    matches = difflib.get_close_matches(name.lower(), list(by_folded), n=limit, cutoff=0.5)
    return [by_folded[m] for m in matches]


def supported_list(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "none"

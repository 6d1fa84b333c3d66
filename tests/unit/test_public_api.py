"""The public API is a promise: the names of ``constructs_lib.__all__`` and their signatures are snapshotted in
``tests/fixtures/api/public_api.txt``, so an unintended change fails the suite.

An intended change (CHANGELOG.md says what and, for a rename or a removal, keeps the old spelling working for a
minor version with a ``DeprecationWarning``): regenerate the snapshot and commit it with the change:

    EULAGATE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_public_api.py -p no:cacheprovider
"""

from __future__ import annotations

import inspect
import os
import re
import tomllib
from pathlib import Path

import pytest

import constructs_lib

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "fixtures" / "api" / "public_api.txt"
UPDATE_VARIABLE = "EULAGATE_UPDATE_SNAPSHOTS"


def api_lines() -> list[str]:
    """One line per public name: its kind and signature (a class's is its ``__init__``'s, without ``self``: jsii's
    metaclass hides the constructor's own from ``inspect.signature(cls)``)."""
    lines = []
    for name in constructs_lib.__all__:
        value = getattr(constructs_lib, name)
        if inspect.isclass(value):
            bases = ", ".join(base.__name__ for base in value.__bases__)
            init = inspect.signature(value.__init__)
            parameters = list(init.parameters.values())[1:]  # without self
            lines.append(f"class {name}({bases}): {init.replace(parameters=parameters)}")
        else:
            lines.append(f"def {name}{inspect.signature(value)}")
    return lines


def test_public_api_matches_the_snapshot() -> None:
    current = "\n".join(api_lines()) + "\n"
    if os.environ.get(UPDATE_VARIABLE) == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.read_text(encoding="utf-8") == current, (
        f"the public API changed; if intended, record it in CHANGELOG.md and run {UPDATE_VARIABLE}=1 "
        "pytest tests/unit/test_public_api.py (module docstring)"
    )


@pytest.mark.parametrize("name", [n for n in constructs_lib.__all__ if n[0].isupper()])
def test_constructs_and_structs_take_keywords_after_scope_and_id(name: str) -> None:
    """aws-cdk-lib's style: a construct's props (and a struct's fields) are keyword-only."""
    value = getattr(constructs_lib, name)
    if not inspect.isclass(value) or issubclass(value, BaseException) or name in {
        "Catalog", "EulaChecks", "Finding", "ModelSpec", "FineTuningJobProps",  # results, a NagPack, deprecated
    }:
        pytest.skip("not a construct or a props struct")
    parameters = list(inspect.signature(value.__init__).parameters.values())[1:]
    positional = [p.name for p in parameters if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional in ([], ["scope", "id"]), positional


def test_the_version_is_the_same_in_the_package_the_project_and_the_changelog() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert project["version"] == constructs_lib.__version__ == releases[0]

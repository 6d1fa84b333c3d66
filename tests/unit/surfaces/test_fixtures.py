"""Each surface's good and bad fixtures (tests/fixtures/surfaces) give exactly the findings verdicts.json lists:
(line, column, rule, severity, model id, resource) per file; a good fixture none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.surfaces import SourceFile, scan_source
from constructs_lib.surfaces.discovery import classify

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "surfaces"
VERDICTS: dict[str, list[list[object]]] = json.loads((ROOT / "verdicts.json").read_text(encoding="utf-8"))


def verdicts(path: Path, *, strict: bool = False) -> list[list[object]]:
    kind = classify(path)
    assert kind is not None, path
    scanned = scan_source(SourceFile(path, kind), strict=strict)
    return sorted([scanned.locations[f.logical_id].line, scanned.locations[f.logical_id].column, f.rule_id,
                   f.severity, f.model_id, f.logical_id] for f in scanned.scan.findings)


def test_every_fixture_has_verdicts() -> None:
    files = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file() and p.name != "verdicts.json")
    assert files == sorted(VERDICTS)
    for surface in ("python", "terraform", "kubernetes"):
        assert any(name.startswith(f"{surface}/good/") for name in files)
        assert any(name.startswith(f"{surface}/bad/") and VERDICTS[name] for name in files)


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_fixture_verdicts(name: str) -> None:
    expected = VERDICTS[name]
    assert verdicts(ROOT / name) == expected
    assert (expected == []) == ("/good/" in f"/{name}")


@pytest.mark.parametrize("name", sorted(name for name, found in VERDICTS.items()
                                        if any(verdict[3] == "warning" for verdict in found)))
def test_strict_makes_every_unknown_an_error(name: str) -> None:
    strict = verdicts(ROOT / name, strict=True)
    assert [verdict[3] for verdict in strict] == ["error"] * len(VERDICTS[name])
    assert [verdict[:3] for verdict in strict] == [verdict[:3] for verdict in VERDICTS[name]]

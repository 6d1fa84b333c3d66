"""Every template under tests/fixtures/templates/{good,bad} against its expected-result snapshot (cfn-lint style).

Good templates pass the gate (no error; a warning may show); bad ones fail it. Snapshots hold the findings as
`eulagate check --format json` prints them; after an intended change, review and refresh them with
`EULAGATE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/rules/test_fixtures.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import RULES, check_template
from constructs_lib.synth.templates import TEMPLATE_SUFFIXES, load_template

FIXTURES = Path(__file__).parents[2] / "fixtures" / "templates"
SNAPSHOTS = FIXTURES / "snapshots"
TEMPLATES = sorted(
    path.relative_to(FIXTURES) for group in ("good", "bad") for path in (FIXTURES / group).iterdir()
    if path.suffix in TEMPLATE_SUFFIXES
)


def findings_of(relative: Path, catalog: Catalog) -> list[dict[str, object]]:
    template = load_template(FIXTURES / relative)
    return [finding.to_json() for finding in check_template(template, template_path=relative.as_posix(),
                                                            catalog=catalog)]


@pytest.mark.parametrize("relative", TEMPLATES, ids=str)
def test_fixture_matches_snapshot(relative: Path, rules_catalog: Catalog) -> None:
    findings = findings_of(relative, rules_catalog)
    snapshot = SNAPSHOTS / relative.with_suffix(".json")
    if os.environ.get("EULAGATE_UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(json.dumps(findings, indent=2) + "\n", encoding="utf-8")
    assert findings == json.loads(snapshot.read_text(encoding="utf-8"))


@pytest.mark.parametrize("relative", TEMPLATES, ids=str)
def test_good_fixtures_pass_and_bad_fixtures_fail(relative: Path, rules_catalog: Catalog) -> None:
    errors = [f for f in findings_of(relative, rules_catalog) if f["severity"] == "error"]
    if relative.parts[0] == "good":
        assert errors == []
    else:
        assert errors, f"{relative} should fail the gate"


def test_every_rule_has_a_failing_or_warning_fixture(rules_catalog: Catalog) -> None:
    reported = {f["rule"] for relative in TEMPLATES for f in findings_of(relative, rules_catalog)}
    assert reported == {rule.id for rule in RULES}


def test_every_snapshot_has_its_template() -> None:
    stale = [path for path in SNAPSHOTS.rglob("*.json")
             if not any((FIXTURES / path.relative_to(SNAPSHOTS)).with_suffix(s).exists() for s in TEMPLATE_SUFFIXES)]
    assert stale == []

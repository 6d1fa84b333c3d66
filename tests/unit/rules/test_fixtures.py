"""Every template under tests/fixtures/templates/{good,bad}, linter style (cfn-lint's snapshot tests).

Two separate checks:

- the verdicts: the exact set of (logical id, rule, severity) each template gets, in verdicts.json. Good templates
  pass the gate (no error; a warning may show); bad ones fail it;
- the messages: the findings as `eulagate check --format json` prints them, in snapshots/. After an intended
  change to a message, review and refresh them with
  `EULAGATE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/rules/test_fixtures.py`.
  Verdicts are never refreshed that way: they are written by hand.
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
VERDICTS: dict[str, list[list[str]]] = json.loads((FIXTURES / "verdicts.json").read_text(encoding="utf-8"))
TEMPLATES = sorted(
    path.relative_to(FIXTURES) for group in ("good", "bad") for path in (FIXTURES / group).iterdir()
    if path.suffix in TEMPLATE_SUFFIXES
)


def findings_of(relative: Path, catalog: Catalog) -> list[dict[str, object]]:
    template = load_template(FIXTURES / relative)
    return [finding.to_json() for finding in check_template(template, template_path=relative.as_posix(),
                                                            catalog=catalog)]


@pytest.mark.parametrize("relative", TEMPLATES, ids=str)
def test_fixture_verdicts_are_exactly_the_expected_ones(relative: Path, rules_catalog: Catalog) -> None:
    verdicts = {(f["logical_id"], f["rule"], f["severity"]) for f in findings_of(relative, rules_catalog)}
    assert verdicts == {tuple(verdict) for verdict in VERDICTS[relative.as_posix()]}


@pytest.mark.parametrize("relative", TEMPLATES, ids=str)
def test_fixture_messages_match_their_snapshot(relative: Path, rules_catalog: Catalog) -> None:
    findings = findings_of(relative, rules_catalog)
    snapshot = SNAPSHOTS / relative.with_suffix(".json")
    if os.environ.get("EULAGATE_UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(json.dumps(findings, indent=2) + "\n", encoding="utf-8")
    assert findings == json.loads(snapshot.read_text(encoding="utf-8"))


def test_good_fixtures_have_no_error_and_bad_fixtures_have_one() -> None:
    for relative, verdicts in VERDICTS.items():
        errors = [verdict for verdict in verdicts if verdict[2] == "error"]
        assert bool(errors) == relative.startswith("bad/"), relative


def test_every_fixture_has_verdicts_and_every_rule_a_fixture() -> None:
    assert set(VERDICTS) == {relative.as_posix() for relative in TEMPLATES}
    severities = {(verdict[1], verdict[2]) for verdicts in VERDICTS.values() for verdict in verdicts}
    assert {rule for rule, _ in severities} == {rule.id for rule in RULES}


def test_every_snapshot_has_its_template() -> None:
    stale = [path for path in SNAPSHOTS.rglob("*.json")
             if not any((FIXTURES / path.relative_to(SNAPSHOTS)).with_suffix(s).exists() for s in TEMPLATE_SUFFIXES)]
    assert stale == []

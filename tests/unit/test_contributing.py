"""CONTRIBUTING.md's "Add a rule" recipe, walked with a rule of this test's own: every file it names exists, the
shapes it shows are the ones the checks read, and a rule written and registered as it says reports findings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from constructs_lib.rules import RULES, check_template, engine
from constructs_lib.rules.base import Check, Problem, Rule
from constructs_lib.rules.detection.requests import CREATE_MODEL
from constructs_lib.rules.evaluation.values import ABSENT
from tests.unit.rules.test_rule_registry import _TABLE_ROW

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
RECIPE = GUIDE[GUIDE.index("## Add a rule"):GUIDE.index("## Add a construct")]


def test_every_file_the_recipe_names_exists() -> None:
    named = set(re.findall(r"`((?:constructs_lib|tests|docs)/[\w./]+)`", RECIPE))
    assert "constructs_lib/rules/engine.py" in named and "tests/fixtures/templates/verdicts.json" in named
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def test_the_docs_row_and_verdicts_shown_are_those_the_checks_read() -> None:
    (row,) = re.findall(r"`(\| EULA009 \|[^`]*)`", RECIPE)
    assert _TABLE_ROW.findall(row) == [("EULA009", "error")]
    verdicts = json.loads((ROOT / "tests/fixtures/templates/verdicts.json").read_text(encoding="utf-8"))
    assert all(isinstance(found, list) and all(len(verdict) == 3 for verdict in found)
               for found in verdicts.values())
    assert "EULAGATE_UPDATE_SNAPSHOTS" in RECIPE
    assert "EULAGATE_UPDATE_SNAPSHOTS" in (ROOT / "tests/unit/rules/test_fixtures.py").read_text(encoding="utf-8")


class ModelWithoutTags(Rule):
    """Step 1 of the recipe: a rule that reads CreateModel requests (here: a model without tags)."""

    id = "EULA009"
    short_description = "SageMaker model has no tags"
    description = "A model without tags cannot be traced to its table row."
    severity = "warning"
    kinds = frozenset({CREATE_MODEL})
    surfaces = ("AWS::SageMaker::Model",)
    noncompliant_example = "Resources: {}\n"
    compliant_example = "Resources: {}\n"

    def check(self, check: Check) -> Iterator[Problem]:
        if check.reader.field(check.request, "Tags") is ABSENT:
            yield Problem(f"{check.path}.Tags", "but it has no tags", f"add {check.path}.Tags",
                          lead="The model is untagged")


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 2: the rule in RULES, as engine.py's registry indexes it."""
    monkeypatch.setattr(engine, "RULES", (*RULES, ModelWithoutTags))
    monkeypatch.setattr(engine, "_RULES_BY_KIND", engine.index_rules(engine.RULES))


@pytest.mark.usefixtures("registered")
def test_a_rule_added_as_the_recipe_says_reports_its_findings() -> None:
    def model(logical_id: str, **extra: object) -> dict[str, object]:
        return {logical_id: {"Type": "AWS::SageMaker::Model", "Properties": {
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/r",
            "PrimaryContainer": {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1"}, **extra}}}

    template = {"Resources": {**model("Untagged"), **model("Tagged", Tags=[{"Key": "team", "Value": "ml"}])}}
    findings = check_template(template)
    assert [(f.logical_id, f.rule_id, f.severity) for f in findings] == [("Untagged", "EULA009", "warning")]
    assert findings[0].message.startswith("The model is untagged")

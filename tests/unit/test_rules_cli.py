"""``eulagate rules`` and ``eulagate explain``: rule metadata from the rule classes, examples the engine agrees with."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from constructs_lib.cli import main
from constructs_lib.rules import RULES, Rule, check_template
from constructs_lib.rules.suppressions import apply_suppressions

ROOT = Path(__file__).resolve().parents[2]


def test_rules_json_lists_every_rule_with_severity_surfaces_and_documentation(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [entry["id"] for entry in entries] == [rule.id for rule in RULES]
    assert {entry["id"]: entry["severity"] for entry in entries} == {
        "EULA000": "error", "EULA001": "error", "EULA002": "error", "EULA003": "error", "EULA004": "error",
        "EULA005": "warning", "EULA006": "warning", "EULA007": "error", "EULA008": "warning", "EULA009": "error",
    }
    for entry, rule in zip(entries, RULES, strict=True):
        assert entry["surfaces"] == list(rule.surfaces) and entry["surfaces"]
        assert entry["summary"] == rule.short_description
        assert entry["documentation"] == f"docs/rules.md#{rule.id.lower()}"


def test_every_documentation_link_names_an_anchor_in_docs_rules_md() -> None:
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', (ROOT / "docs" / "rules.md").read_text()))
    assert {rule.id.lower() for rule in RULES} <= anchors


def test_rules_text_is_one_line_per_rule_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{rule.id}  {rule.severity:<7}  {rule.short_description}" for rule in RULES]


def test_explain_prints_the_description_and_both_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "eula001"]) == 0
    out = capsys.readouterr().out
    rule = next(rule for rule in RULES if rule.id == "EULA001")
    assert out.startswith(f"EULA001 (error): {rule.short_description}\n")
    assert "Non-compliant (EULA001 reports an error):" in out and "\nCompliant:\n" in out
    assert "    ModelAccessConfig: {AcceptEula: true}" not in out.split("Compliant:")[0]
    assert "            ModelAccessConfig: {AcceptEula: true}" in out.split("Compliant:")[1]
    assert out.rstrip().endswith("Documentation: docs/rules.md#eula001")


def test_explain_an_unknown_rule_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "EULA099"]) == 2
    assert capsys.readouterr().err == (
        "eulagate explain: unknown rule 'EULA099': the rules are EULA000, EULA001, EULA002, EULA003, EULA004, EULA005, "
        "EULA006, EULA007, EULA008, EULA009 (`eulagate rules` lists them)\n"
    )


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_each_rule_reports_its_non_compliant_example_and_passes_its_compliant_one(rule: type[Rule]) -> None:
    failing = yaml.safe_load(rule.noncompliant_example)
    assert [(f.rule_id, f.severity) for f in check_template(failing)] == [(rule.id, rule.severity)]
    passing = yaml.safe_load(rule.compliant_example)
    assert apply_suppressions(passing, check_template(passing)).findings == ()

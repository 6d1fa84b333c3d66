"""Report formats: JSON's contract, SARIF as GitHub code scanning reads it, JUnit XML, Markdown, text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from constructs_lib.cli.reporters import FORMATS, Report, render
from constructs_lib.rules import RULES, Finding, TemplateScan, scan_template
from constructs_lib.synth.templates import load_template

FIXTURES = Path(__file__).parents[1] / "fixtures" / "templates"
WARNING = Finding("EULA005", "warning", "stacks/market.json", "Market", "AWS::SageMaker::Model",
                  "meta-textgeneration-llama-2-7b-f", "served | through a package", "Subscribe.", line=7)


@pytest.fixture(scope="module")
def report() -> Report:
    """Two failing templates (three errors, one resource with two), a passing one, and a warning."""
    scans = [scan_template(load_template(FIXTURES / name), template_path=name) for name in (
        "bad/training-custom-resource.json", "bad/model-containers-ref-parameter.json",
        "good/model-not-gated.json")]
    scans.append(TemplateScan("stacks/market.json", 2, (("Market", "AWS::SageMaker::Model"),), (WARNING,)))
    return Report(tuple(scans))


def test_json(report: Report) -> None:
    document = json.loads(render(report, "json"))
    assert document["summary"] == {"templates": 4, "resources": 8, "findings": 4}
    assert [f["rule"] for f in document["findings"]] == ["EULA004", "EULA004", "EULA001", "EULA005"]


def test_sarif_for_github_code_scanning(report: Report) -> None:
    sarif = json.loads(render(report, "sarif"))
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    [run] = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "eulagate"
    assert [r["id"] for r in driver["rules"]] == [rule.id for rule in RULES]
    for descriptor, rule in zip(driver["rules"], RULES, strict=True):
        assert descriptor["shortDescription"]["text"] == rule.short_description
        assert descriptor["fullDescription"]["text"] == rule.description
        assert descriptor["defaultConfiguration"]["level"] == rule.severity
    assert len(run["results"]) == 4
    fingerprints = set()
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning")
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert not physical["artifactLocation"]["uri"].startswith(("/", "./"))
        assert isinstance(physical["region"]["startLine"], int) and physical["region"]["startLine"] >= 1
        fingerprints.add(json.dumps(result["partialFingerprints"]))
    assert len(fingerprints) == 4
    warning = run["results"][-1]
    assert warning["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "stacks/market.json"}, "region": {"startLine": 7}}
    assert warning["locations"][0]["logicalLocations"][0]["name"] == "Market"


def test_junit_one_case_per_checked_resource(report: Report) -> None:
    root = ElementTree.fromstring(render(report, "junit"))
    assert (root.get("tests"), root.get("failures")) == ("7", "2")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [scan.template for scan in report.scans]
    training = suites[0].find("testcase")
    assert training is not None and training.get("name") == "TrainLlama (Custom::TrainingJob)"
    failure = training.find("failure")
    assert failure is not None and failure.get("type") == "EULA004"
    assert (failure.text or "").count("EULA004 (error)") == 2
    passing = suites[2].findall("testcase")
    assert len(passing) == 4 and all(case.find("failure") is None for case in passing)
    market = suites[3].find("testcase")
    assert market is not None and market.find("failure") is None
    assert "EULA005 (warning)" in (market.findtext("system-out") or "")


def test_markdown_for_a_pull_request(report: Report) -> None:
    text = render(report, "markdown")
    assert text.startswith("### ❌ EULA check failed\n")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + 4  # header, rule and one row per finding
    assert all(row.replace("\\|", "").count("|") == 8 for row in rows)  # pipes in messages are escaped
    assert "served \\| through a package" in text
    assert "`stacks/market.json:7`" in text
    passing = render(Report((report.scans[2],)), "markdown")
    assert passing.startswith("### ✅ EULA check passed") and "| Severity" not in passing


def test_text(report: Report) -> None:
    lines = render(report, "text").splitlines()
    assert len(lines) == 5
    assert lines[-1] == "eulagate check: 3 EULA errors, 1 warning in 4 templates (8 resources)"
    assert lines[3].startswith("stacks/market.json:7: warning EULA005 Market (AWS::SageMaker::Model): ")


def test_every_format_is_registered() -> None:
    assert set(FORMATS) == {"text", "json", "sarif", "junit", "markdown"}

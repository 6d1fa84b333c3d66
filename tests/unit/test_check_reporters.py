"""Report formats: JSON's contract, SARIF as GitHub code scanning reads it, JUnit XML, Markdown, text; each at the
source row when the template records one, and each listing suppressed warnings with their reasons."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from constructs_lib.cli.reporters import FORMATS, Report, template_report
from constructs_lib.cli.reporters import render as render_report
from constructs_lib.rules import RULES, Finding, TemplateScan, scan_template
from constructs_lib.rules.detection.sources import CONSTRUCT_PATH_METADATA, SOURCE_METADATA
from constructs_lib.rules.suppressions import apply_suppressions
from constructs_lib.synth.templates import load_template

FIXTURES = Path(__file__).parents[1] / "fixtures" / "templates"
# The SARIF 2.1.0 schema (draft-04), vendored as data: lib/schemas/sarif-2.1.0-rtm.5.json of the npm package
# @microsoft/jest-sarif 1.0.0-beta.0 (MIT; the OASIS schema as SchemaStore publishes it).
SARIF_SCHEMA = Path(__file__).parents[1] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"
MODEL = "AWS::SageMaker::Model"
LLAMA = "meta-textgeneration-llama-2-7b-f"
# stacks/market.json: a warning at a table row (Market); a warning suppressed with a reason (Subscribed); an
# error whose suppression is refused (Refused).
MARKET_TEMPLATE: dict[str, Any] = {"Resources": {
    "Market": {"Type": MODEL, "Metadata": {SOURCE_METADATA: {"file": "models.yaml", "line": 12},
                                            CONSTRUCT_PATH_METADATA: "Stack/market/Model"}},
    "Subscribed": {"Type": MODEL, "Metadata": {"eulagate": {"suppress": [
        {"rule": "EULA005", "reason": "subscribed in Marketplace (OPS-7)"}]}}},
    "Refused": {"Type": MODEL, "Metadata": {"eulagate": {"suppress": [{"rule": "EULA001", "reason": "trust me"}]}}},
}}
MARKET_FINDINGS = (
    Finding("EULA005", "warning", "stacks/market.json", "Market", MODEL, LLAMA, "served | through a package",
            "Subscribe.", line=7),
    Finding("EULA005", "warning", "stacks/market.json", "Subscribed", MODEL, LLAMA, "served\x07 by a package",
            "Subscribe.", line=20),
    Finding("EULA001", "error", "stacks/market.json", "Refused", MODEL, LLAMA, "is gated", "Accept it.", line=30),
)


def render(report: Report, output_format: str) -> str:
    return render_report(report, output_format)


@pytest.fixture(scope="module")
def report() -> Report:
    """Two failing templates (three errors, one resource with two), a passing one, and stacks/market.json."""
    templates = []
    for name in ("bad/training-custom-resource.json", "bad/model-containers-ref-parameter.json",
                 "good/model-not-gated.json"):
        template = load_template(FIXTURES / name)
        templates.append(template_report(scan_template(template, template_path=name), template))
    checked = tuple((logical_id, MODEL) for logical_id in MARKET_TEMPLATE["Resources"])
    # As scan_template returns it: the resources' suppressions applied to the rules' findings.
    suppressions = apply_suppressions(MARKET_TEMPLATE, MARKET_FINDINGS)
    market = TemplateScan("stacks/market.json", 3, checked, suppressions.findings, suppressions.suppressed)
    templates.append(template_report(market, MARKET_TEMPLATE))
    return Report(tuple(templates))


def test_suppressions_apply_to_warnings_only_and_say_so_for_errors(report: Report) -> None:
    market = report.templates[3]
    assert [(r.finding.logical_id, r.suppression) for r in market.suppressed] == [
        ("Subscribed", "subscribed in Marketplace (OPS-7)")]
    refused = next(r for r in market.findings if r.finding.logical_id == "Refused")
    assert refused.finding.message == ("is gated (EULA001 is an error and cannot be suppressed: the suppression in "
                                       "the resource's Metadata.eulagate is ignored.)")
    assert report.summary() == "4 EULA errors, 1 warning (1 suppressed) in 4 templates (9 resources)"


def test_json(report: Report) -> None:
    document = json.loads(render(report, "json"))
    assert document["summary"] == {"templates": 4, "resources": 9, "findings": 5, "suppressed": 1}
    assert [f["rule"] for f in document["findings"]] == ["EULA004", "EULA004", "EULA001", "EULA005", "EULA001"]
    market = document["findings"][3]
    assert (market["source"], market["construct_path"], market["line"]) == (
        {"file": "models.yaml", "line": 12, "column": 1}, "Stack/market/Model", 7)
    assert document["findings"][0]["source"] is None
    [suppressed] = document["suppressed"]
    assert (suppressed["logical_id"], suppressed["reason"]) == ("Subscribed", "subscribed in Marketplace (OPS-7)")


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory is the root of a repository (it holds .git)."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_sarif_validates_against_the_2_1_0_schema(report: Report, repository: Path) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    sarif = json.loads(render(report, "sarif"))
    assert sorted(error.message for error in validator.iter_errors(sarif)) == []
    mangled = {**sarif, "runs": [{**sarif["runs"][0], "results": [{"level": "fatal"}]}]}
    assert list(validator.iter_errors(mangled))  # the schema does reject a broken log


def test_sarif_rule_help_and_security_severity(report: Report, repository: Path) -> None:
    driver = json.loads(render(report, "sarif"))["runs"][0]["tool"]["driver"]
    for descriptor, rule in zip(driver["rules"], RULES, strict=True):
        assert descriptor["helpUri"].startswith("https://")
        assert descriptor["helpUri"].endswith(f"docs/rules.md#{rule.id.lower()}")
        assert descriptor["help"]["markdown"].startswith(f"**{rule.id}** ({rule.severity}): ")
        assert "```yaml" in descriptor["help"]["markdown"]
        severity = float(descriptor["properties"]["security-severity"])
        assert 7.0 <= severity < 9.0 if rule.severity == "error" else 4.0 <= severity < 7.0
        assert "security" in descriptor["properties"]["tags"]  # code scanning shows severity for these only


def test_sarif_uris_are_repository_relative_and_outside_files_absolute(report: Report, repository: Path) -> None:
    (repository / "sub").mkdir()
    os.chdir(repository / "sub")  # the repository root is found walking up
    run = json.loads(render(report, "sarif"))["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repository.resolve().as_uri() + "/"}}
    uris = {json.dumps(result["locations"][0]["physicalLocation"]["artifactLocation"]) for result in run["results"]}
    assert json.dumps({"uri": "sub/models.yaml", "uriBaseId": "%SRCROOT%"}) in uris
    outside = Finding("EULA001", "error", "/elsewhere/t.json", "M", MODEL, LLAMA, "is gated", "Accept it.")
    scan = TemplateScan("/elsewhere/t.json", 1, (("M", MODEL),), (outside,))
    [result] = json.loads(render(Report((template_report(scan, {}),)), "sarif"))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///elsewhere/t.json"}


def test_sarif_for_github_code_scanning(report: Report, repository: Path) -> None:
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
        assert f"docs/rules.md#{rule.id.lower()}" in descriptor["help"]["text"]
    assert len(run["results"]) == 6
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
    assert len(fingerprints) == 6
    at_row = next(r for r in run["results"] if r["locations"][0]["logicalLocations"][0]["name"] == "Market")
    assert at_row["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "models.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 1}}
    assert at_row["relatedLocations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "stacks/market.json", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 7}}
    assert at_row["locations"][0]["logicalLocations"][1] == {"fullyQualifiedName": "Stack/market/Model",
                                                             "kind": "module"}
    at_template = next(r for r in run["results"] if r["locations"][0]["logicalLocations"][0]["name"] == "Refused")
    assert at_template["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "stacks/market.json", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 30}}
    assert "relatedLocations" not in at_template and "suppressions" not in at_template
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [r["suppressions"] for r in suppressed] == [
        [{"kind": "inSource", "justification": "subscribed in Marketplace (OPS-7)"}]]


def test_junit_one_case_per_checked_resource(report: Report) -> None:
    root = ElementTree.fromstring(render(report, "junit"))  # parses: the bell in a message is replaced
    assert (root.get("tests"), root.get("failures")) == ("9", "3")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [template.scan.template for template in report.templates]
    training = suites[0].find("testcase")
    assert training is not None and training.get("name") == "TrainLlama (Custom::TrainingJob)"
    failure = training.find("failure")
    assert failure is not None and failure.get("type") == "EULA004"
    assert (failure.text or "").count("EULA004 (error)") == 2
    passing = suites[2].findall("testcase")
    assert len(passing) == 4 and all(case.find("failure") is None for case in passing)
    market, subscribed, refused = suites[3].findall("testcase")
    assert (market.get("file"), market.get("line")) == ("models.yaml", "12")
    assert market.find("failure") is None and "EULA005 (warning)" in (market.findtext("system-out") or "")
    assert "EULA005 (warning, suppressed: subscribed in Marketplace (OPS-7))" in (
        subscribed.findtext("system-out") or "")
    assert refused.find("failure") is not None and refused.get("file") is None


def test_markdown_for_a_pull_request(report: Report) -> None:
    text = render(report, "markdown")
    assert text.startswith("### ❌ EULA check failed\n")
    findings, suppressed = text.split("Suppressed warnings:")
    rows = [line for line in findings.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + 5  # header, rule and one row per finding
    assert all(row.replace("\\|", "").count("|") == 8 for row in rows)  # pipes in messages are escaped
    assert "served \\| through a package" in text
    assert "`models.yaml:12` (`stacks/market.json:7`)" in text
    assert "| subscribed in Marketplace (OPS-7) |" in suppressed
    passing = render(Report((report.templates[2],)), "markdown")
    assert passing.startswith("### ✅ EULA check passed") and "| Severity" not in passing


def test_text_puts_message_fix_and_eula_on_their_own_indented_lines(report: Report) -> None:
    text = render(report, "text")
    blocks = text.split("\n\n")
    assert len(blocks) == 7  # five findings, one suppressed warning, the summary
    assert blocks[-1] == "eulagate check: 4 EULA errors, 1 warning (1 suppressed) in 4 templates (9 resources)\n"
    assert blocks[3].splitlines() == ["models.yaml:12: warning EULA005 Market (AWS::SageMaker::Model)",
                                      "    served | through a package", "    fix: Subscribe."]
    assert blocks[5].splitlines() == ["stacks/market.json:20: suppressed warning EULA005 Subscribed "
                                      "(AWS::SageMaker::Model)", "    served\x07 by a package",
                                      "    reason: subscribed in Marketplace (OPS-7)"]
    gated = blocks[0].splitlines()
    assert gated[0].endswith(": error EULA004 TrainLlama (Custom::TrainingJob)")
    assert gated[2].startswith("    fix: ") and gated[3].startswith("    EULA: https://")
    assert "EULA: " not in gated[1]  # the URL is not repeated in the message
    assert max(len(line) for line in text.splitlines()) < 300


def test_concise_keeps_one_line_per_finding(report: Report) -> None:
    lines = render(report, "concise").splitlines()
    assert len(lines) == 7
    assert lines[-1] == "eulagate check: 4 EULA errors, 1 warning (1 suppressed) in 4 templates (9 resources)"
    assert lines[3].startswith("models.yaml:12: warning EULA005 Market (AWS::SageMaker::Model): ")
    assert lines[5].startswith("stacks/market.json:20: suppressed warning EULA005 Subscribed ")
    assert lines[5].endswith(" Reason: subscribed in Marketplace (OPS-7)")


def test_text_quiet_and_verbose(report: Report) -> None:
    quiet = render_report(report, "concise", -1).splitlines()
    assert len(quiet) == 5 and not any(line.startswith("eulagate check:") for line in quiet)
    verbose = render_report(report, "concise", 1).splitlines()
    assert "    template stacks/market.json:7, construct Stack/market/Model" in verbose
    blocks = render_report(report, "text", 1)
    assert "    declared: template stacks/market.json:7, construct Stack/market/Model\n" in blocks
    assert "eulagate check:" not in render_report(report, "text", -1)


def test_every_format_is_registered() -> None:
    assert set(FORMATS) == {"text", "concise", "json", "sarif", "junit", "markdown"}

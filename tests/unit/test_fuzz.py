"""Fuzzing every file a user or CloudFormation hands us: templates (``eulagate check``), model tables
(``eulagate plan``, the loader ``cdk synth`` uses too) and hook events (``eulagate hook simulate`` and the handler).
Each gives one line and exit 2, or a verdict; never a traceback (tests/support/fuzz_inputs.py).

2,400 examples here (600 templates read as JSON and 600 as YAML, 800 tables, 400 events), derandomized so CI is
reproducible and bounded; ``bench/fuzz.py`` runs many more with fresh seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.fuzz_inputs import hook_events, hook_problem, outcome, problem, table_texts, template_texts, write

FUZZ = settings(max_examples=600, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])


def assert_one_line_or_verdict(command: str, path: Path) -> None:
    result = outcome([command, str(path)])
    assert problem(result) is None, problem(result)
    if result.code == 2:
        assert str(path) in result.stderr  # the line names the file


@FUZZ
@given(text=template_texts())
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_any_template_gives_a_verdict_or_one_line(text: str, suffix: str, tmp_path: Path) -> None:
    assert_one_line_or_verdict("check", write(tmp_path, f"template{suffix}", text))


@settings(FUZZ, max_examples=800)
@given(text=table_texts())
def test_any_table_gives_a_plan_or_one_line(text: str, tmp_path: Path) -> None:
    assert_one_line_or_verdict("plan", write(tmp_path, "models.yaml", text))


@settings(FUZZ, max_examples=400)
@given(text=hook_events())
def test_any_hook_event_gives_a_response_or_one_line(text: str, tmp_path: Path) -> None:
    assert hook_problem(text, tmp_path) is None


# --- the inputs that broke readers before, one by one ---------------------------------------------------------------

def test_a_logical_id_with_a_line_break_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "template.yaml", 'Resources: {"\\r": null}\n')
    result = outcome(["check", str(path)])
    assert problem(result) is None
    assert (result.code, result.stderr) == (2, f"eulagate check: {path}: resource '\\r' is empty, not an object with "
                                               "a Type and Properties\n")


def test_a_json_integer_over_4300_digits_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "big.json", '{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"N": '
                 + "9" * 5000 + "}}}}")
    result = outcome(["check", str(path)])
    assert (result.code, result.stderr) == (2, f"eulagate check: {path}: malformed JSON: an integer of more than "
                                               "4,300 digits, which no template property takes\n")


def test_a_cloud_assembly_manifest_with_a_huge_integer_is_one_line(tmp_path: Path) -> None:
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    write(assembly, "manifest.json", '{"version": ' + "1" * 5000 + ', "artifacts": {}}')
    result = outcome(["check", str(assembly)])
    assert result.code == 2 and problem(result) is None
    assert "manifest.json: malformed JSON: an integer of more than 4,300 digits" in result.stderr


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ud83d x"])
def test_a_lone_surrogate_escape_is_one_line(tmp_path: Path, escape: str) -> None:
    path = write(tmp_path, "surrogate.json", '{"Resources": {"M' + escape + '": {"Type": "AWS::SNS::Topic"}}}')
    result = outcome(["check", str(path)])
    assert result.code == 2 and problem(result) is None
    assert "a lone surrogate" in result.stderr


def test_a_surrogate_pair_is_a_character(tmp_path: Path) -> None:
    path = write(tmp_path, "pair.json", '{"Resources": {"M\\ud83d\\ude00": {"Type": "AWS::SNS::Topic"}}}')
    assert outcome(["check", str(path)]).code == 0


@pytest.mark.parametrize("value", ["!!float ''", "!!int ''", "!!int", "!!float"])
def test_an_empty_typed_scalar_in_a_table_is_one_line(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "models.yaml", f"defaults:\n  regions: [us-east-1]\nendpoints:\n  - name: a\n"
                 f"    model: Llama2-7B\n    initial_instance_count: {value}\n")
    result = outcome(["plan", str(path)])
    assert result.code == 2 and problem(result) is None
    assert f"{path}:6: invalid YAML: !!" in result.stderr


def test_the_api_reports_lone_surrogates_in_every_format() -> None:
    """check_template and the reporters on a template built in Python (no file to refuse it): no exception."""
    from constructs_lib.cli.reporters import FORMATS, Report, render, template_report
    from constructs_lib.rules import check_template, scan_template

    template = {"Resources": {"M\ud800": {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": {
        "ModelDataUrl": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/"
                        "meta-textgeneration-llama-2-7b-f/\udc00"}}}}}
    assert [finding.rule_id for finding in check_template(template)] == ["EULA001"]
    report = Report((template_report(scan_template(template, template_path="t\udc80.json"), template),))
    for output_format in FORMATS:
        assert "EULA001" in render(report, output_format)

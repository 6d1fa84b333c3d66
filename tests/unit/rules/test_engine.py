"""The engine's contract: pure over plain dicts, rule metadata, what it skips, how it reads conditions."""

from __future__ import annotations

import copy
import importlib
import inspect
import subprocess
import sys
from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import RULES, check_template, scan_template
from tests.unit.rules.builders import MISSING, container, model, template


def test_rules_have_ids_descriptions_and_one_module_each() -> None:
    assert [rule.id for rule in RULES] == [f"EULA00{number}" for number in range(1, 9)]
    modules = {rule.__module__ for rule in RULES}
    assert len(modules) == len(RULES)
    for rule in RULES:
        assert rule.short_description and len(rule.short_description) < 100
        assert len(rule.description) > len(rule.short_description)
        assert rule.severity in ("error", "warning")
        assert rule.kinds
        source = inspect.getsource(importlib.import_module(rule.__module__))
        assert source.count("(Rule):") == 1
    assert {rule.id: rule.severity for rule in RULES}["EULA005"] == "warning"


def test_check_template_does_not_change_its_input(rules_catalog: Catalog) -> None:
    document = template(model(accept={"Fn::If": ["C", True, False]}), Parameters={"P": {"Type": "String"}})
    before = copy.deepcopy(document)
    assert check_template(document, catalog=rules_catalog)
    assert document == before


def test_default_catalog_and_template_path() -> None:
    [finding] = check_template(template(model(accept=MISSING)), template_path="cdk.out/S.template.json")
    assert finding.template == "cdk.out/S.template.json"


@pytest.mark.parametrize("document", [
    {}, {"Resources": None}, {"Resources": []}, {"Resources": {"A": None, "B": {"Type": 3}, "C": {}}},
    {"Resources": {"M": {"Type": "AWS::SageMaker::Model"}}},
    {"Resources": {"M": {"Type": "AWS::SageMaker::Model", "Properties": "x"}}},
    {"Resources": {"M": {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": []}}}},
], ids=repr)
def test_odd_templates_give_no_findings_and_no_crash(document: dict[str, Any], rules_catalog: Catalog) -> None:
    assert check_template(document, catalog=rules_catalog) == []


def test_scan_counts_resources_and_lists_the_checked_ones(rules_catalog: Catalog) -> None:
    document = template(model(accept=True), ("Bucket", {"Type": "AWS::S3::Bucket"}),
                        ("Job", {"Type": "Custom::Job", "Properties": {}}),
                        ("Config", {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {}}))
    scan = scan_template(document, template_path="t.json", catalog=rules_catalog)
    assert scan.resource_count == 4
    assert scan.checked == (("Model", "AWS::SageMaker::Model"), ("Job", "Custom::Job"))
    assert scan.findings == ()


def test_every_combination_of_conditions_is_read(rules_catalog: Catalog) -> None:
    """Acceptance is missing only when A is false, B is true and C is false: the finding says so."""
    accept = {"Fn::If": ["A", True, {"Fn::If": ["B", {"Fn::If": ["C", True, False]}, True]}]}
    [finding] = check_template(template(model(accept=accept)), catalog=rules_catalog)
    assert "when conditions A is false and B is true and C is false" in finding.message


def test_one_finding_per_problem_across_readings(rules_catalog: Catalog) -> None:
    name, resource = model(accept=MISSING)
    resource["Properties"]["EnableNetworkIsolation"] = {"Fn::If": ["X", True, False]}
    resource["Properties"]["PrimaryContainer"]["Image"] = {"Fn::If": ["Y", "a", "b"]}
    findings = check_template(template((name, resource)), catalog=rules_catalog)
    assert len(findings) == 1 and " when " not in findings[0].message


def test_two_containers_with_the_same_model_give_two_findings(rules_catalog: Catalog) -> None:
    document = template(("M", {"Type": "AWS::SageMaker::Model", "Properties": {
        "ExecutionRoleArn": "r", "Containers": [container(accept=False), container(accept=MISSING)]}}))
    assert len(check_template(document, catalog=rules_catalog)) == 2


def test_the_engine_and_cli_load_without_cdk_or_jsii() -> None:
    code = ("import sys, constructs_lib.rules, constructs_lib.synth.templates, constructs_lib.cli.reporters, "
            "constructs_lib.cli.check; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

"""examples/serving-modes.yaml end to end: each mode synthesizes from the table and passes the EULA gate and
`eulagate check`; without the component's acceptance both fail, `check` with one line naming the component's row;
the regulated variant passes the four cdk-nag packs with no unacknowledged finding."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

from constructs_lib.cli import main
from constructs_lib.synth.gate import EulaGate
from constructs_lib.table import load_table
from stacks import add_table_stacks

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "serving-modes.yaml"
REGULATED = ROOT / "examples" / "serving-modes-regulated.yaml"
ACCEPTANCE_LINE = "        accept_eula: true\n"


@dataclass
class Synthesized:
    outdir: Path
    failure: str | None
    templates: dict[str, dict[str, Any]]
    report: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {logical_id: resource for template in self.templates.values()
                for logical_id, resource in template["Resources"].items() if resource["Type"] == resource_type}


def synthesize(table: Path, outdir: Path, *plugins: cdk.IPolicyValidationPlugin) -> Synthesized:
    app = cdk.App(outdir=str(outdir))
    if plugins:
        cdk.Validations.of(app).add_plugins(*plugins)
    stacks = add_table_stacks(app, load_table(table))
    failure = None
    try:
        app.synth()
    except RuntimeError as error:
        failure = str(error)
    templates = {stack.stack_name: json.loads((outdir / stack.template_file).read_text()) for stack in stacks}
    report_path = outdir / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return Synthesized(outdir, failure, templates, report)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(EXAMPLE, tmp_path_factory.mktemp("modes"), EulaGate())


@pytest.fixture(scope="module")
def unaccepted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, Synthesized]:
    """The example without the gated component's acceptance: the table, the component's line, the synthesis."""
    folder = tmp_path_factory.mktemp("unaccepted")
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count(ACCEPTANCE_LINE) == 1
    table = folder / "serving-modes-unaccepted.yaml"
    table.write_text(text.replace(ACCEPTANCE_LINE, ""), encoding="utf-8")
    line = text.splitlines().index("      - name: llama") + 1
    return table, line, synthesize(table, folder / "cdk.out")


@pytest.fixture(scope="module")
def regulated(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(REGULATED, tmp_path_factory.mktemp("regulated"), EulaGate(), AwsSolutionsChecks(),
                      HIPAASecurityChecks(), NIST80053R5Checks(), PCIDSS321Checks())


def test_each_mode_synthesizes_and_passes_the_gate(example: Synthesized) -> None:
    assert example.failure is None
    configs = [c["Properties"] for c in example.resources("AWS::SageMaker::EndpointConfig").values()]
    [shared] = [config for config in configs if "ManagedInstanceScaling" in config["ProductionVariants"][0]]
    variant = shared["ProductionVariants"][0]
    assert variant["ManagedInstanceScaling"] == {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2}
    assert "ModelName" not in variant and "ExecutionRoleArn" in shared
    components = {c["Properties"]["InferenceComponentName"].split("-")[-2]: c["Properties"]
                  for c in example.resources("AWS::SageMaker::InferenceComponent").values()}
    assert sorted(components) == ["llama", "mistral"]
    assert components["llama"]["Specification"]["ComputeResourceRequirements"] == {
        "NumberOfAcceleratorDevicesRequired": 1, "MinMemoryRequiredInMb": 24576}
    models = example.resources("AWS::SageMaker::Model")
    accepted = [m for m in models.values() if m["Properties"]["PrimaryContainer"].get("ModelDataSource", {})
                .get("S3DataSource", {}).get("ModelAccessConfig") == {"AcceptEula": True}]
    assert len(accepted) == 1  # the gated component's model, and no other
    alarms = {alarm["Properties"]["MetricName"]: alarm["Properties"]
              for alarm in example.resources("AWS::CloudWatch::Alarm").values()}
    assert sorted(alarms) == ["HasBacklogWithoutCapacity", "NoCapacityInvocationFailures"]
    alarm = alarms["NoCapacityInvocationFailures"]
    assert alarm["Dimensions"] == [{"Name": "InferenceComponentName", "Value": components["mistral"][
        "InferenceComponentName"]}]
    assert [c["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] for c in configs
            if "AsyncInferenceConfig" in c] == ["s3://my-async-responses/reports/"]
    assert [c["ProductionVariants"][0]["ServerlessConfig"] for c in configs
            if "ServerlessConfig" in c["ProductionVariants"][0]] == [{"MemorySizeInMB": 4096, "MaxConcurrency": 5}]


def test_check_passes_the_example(example: Synthesized, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(example.outdir)]) == 0
    assert "no EULA problems" in capsys.readouterr().out


def test_without_acceptance_the_gate_fails_and_check_names_the_component_row(
        unaccepted: tuple[Path, int, Synthesized], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table, line, synthesized = unaccepted
    assert main(["check", str(synthesized.outdir)]) == 1
    findings = [text for text in capsys.readouterr().out.splitlines() if " error EULA" in text]
    assert len(findings) == 1 and findings[0].startswith(f"{table}:{line}: error EULA001 ")
    gated = synthesize(table, tmp_path / "gated", EulaGate())
    assert gated.failure is not None and "meta-textgeneration-llama-3-8b-instruct is EULA-gated" in gated.failure


def test_the_regulated_variant_passes_the_four_nag_packs(regulated: Synthesized) -> None:
    assert regulated.failure is None
    reports = {plugin["pluginName"]: plugin["violations"] for plugin in regulated.report["pluginReports"]}
    assert set(reports) >= {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"}
    assert all(violations == [] for violations in reports.values()), reports
    models = regulated.resources("AWS::SageMaker::Model").values()
    isolated = [m["Properties"].get("EnableNetworkIsolation") for m in models]
    assert isolated.count(True) == 4 and isolated.count(False) == 1  # chat, 2 components, reports; serverless


def test_the_layout_bounds_each_mode_s_resources(example: Synthesized) -> None:
    """The stack layout's estimate (it shards tables under CloudFormation's 500) is an upper bound per mode."""
    from constructs_lib.table.layout import row_resources

    table = load_table(EXAMPLE)
    for placement in table.placements():
        row = placement.row.name
        actual = [logical for template in example.templates.values() for logical in template["Resources"]
                  if logical.startswith(row) and not logical.startswith(f"{row}ExecutionRoleRef")]
        assert 0 < len(actual) <= row_resources(placement), (row, actual)

"""`eulagate check`: paths, exit codes, output formats and files, one-line errors."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from constructs_lib.catalog import CATALOG_ENV_VAR, Catalog
from constructs_lib.cli import main
from constructs_lib.synth.templates import load_template as load_yaml_template

FIXTURES = Path(__file__).parents[1] / "fixtures" / "templates"
ASSEMBLY = FIXTURES / "cloud-assembly"
BAD = FIXTURES / "bad" / "model-accept-false-string.yaml"
GOOD = FIXTURES / "good" / "model-accepted-short-forms.yaml"


@pytest.fixture
def cdk_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory holding a synthesized cloud assembly as ./cdk.out."""
    shutil.copytree(ASSEMBLY, tmp_path / "cdk.out")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cdk.out"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_default_path_is_cdk_out_with_nested_stacks_and_stages(cdk_out: Path, capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    code, out, err = run(capsys)
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[-1] == "eulagate check: 2 EULA errors, 0 warnings in 3 templates (9 resources)"
    assert lines[0].startswith("cdk.out/assembly-Prod/ProdServingE95F2C1F.template.json:")
    assert lines[0].endswith(" error EULA001 RefusedLlama (AWS::SageMaker::Model)")
    assert lines[2].startswith("    fix: ") and lines[3].startswith("    EULA: https://")
    assert lines[5].startswith("cdk.out/ParentNested1E9B6DEA.nested.template.json:")


def test_passing_template_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(GOOD))
    assert code == 0
    assert out == "eulagate check: no EULA problems in 1 template (3 resources)\n"


def test_json_report_shape_and_nested_template_paths(cdk_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "json", "cdk.out")
    document = json.loads(out)
    assert code == 1
    assert document["summary"] == {"templates": 3, "resources": 9, "findings": 2, "suppressed": 0}
    assert {f["template"] for f in document["findings"]} == {
        "cdk.out/assembly-Prod/ProdServingE95F2C1F.template.json",
        "cdk.out/ParentNested1E9B6DEA.nested.template.json",
    }
    for finding in document["findings"]:
        assert list(finding) == ["rule", "severity", "template", "logical_id", "resource_type", "model_id",
                                 "message", "fix", "line", "source", "construct_path"]
        assert finding["model_id"] == "meta-textgeneration-llama-2-7b-f"


def test_every_format_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {}
    for output_format in ("text", "json", "sarif", "junit", "markdown"):
        target = tmp_path / f"report.{output_format}"
        code, out, err = run(capsys, "--format", output_format, "--output", str(target), str(BAD), str(GOOD))
        assert (code, out) == (1, "")
        assert err == (f"eulagate check: 1 EULA error, 0 warnings in 2 templates (5 resources); {output_format} "
                       f"report written to {target}\n")
        outputs[output_format] = target.read_text(encoding="utf-8")
    assert json.loads(outputs["sarif"])["runs"][0]["results"][0]["ruleId"] == "EULA001"
    assert ElementTree.fromstring(outputs["junit"]).get("failures") == "1"
    assert outputs["markdown"].startswith("### ❌ EULA check failed")
    assert json.loads(outputs["json"])["summary"]["findings"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["nothing-here"], "eulagate check: nothing-here: no such file or directory"),
    ([], "eulagate check: no ./cdk.out here: run `cdk synth` first, or pass a cloud assembly, files or a repository "
         "directory (`eulagate check .`)"),
    (["notes.txt"], "eulagate check: notes.txt: not a file eulagate check reads"),
    (["broken.json"], "eulagate check: broken.json: malformed JSON at line 1 column 15: Expecting value"),
    (["broken.yaml"], "eulagate check: broken.yaml: malformed YAML at line 2 column 1"),
    (["package.json"], "eulagate check: package.json: not a CloudFormation template (it has no Resources section)"),
    (["empty-assembly"], "eulagate check: nothing to check in empty-assembly"),
    (["plain-dir"], "eulagate check: nothing to check in plain-dir"),
    (["models.yaml"], "eulagate check: models.yaml: a model table, not a CloudFormation template; check it with "
                      "`eulagate plan models.yaml`, or synthesize it (`cdk synth -c table=models.yaml`) and run "
                      "`eulagate check cdk.out`"),
    (["--output", "plain-dir", "package.json"], "eulagate check: --output plain-dir is a directory; give the report "
                                                "a file name, e.g. --output plain-dir/eulagate.text"),
    (["--output", "missing-dir/report.txt", "package.json"], "eulagate check: package.json"),
])
def test_bad_input_exits_two_with_one_line(args: list[str], message: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "broken.json").write_text('{"Resources": }')
    (tmp_path / "broken.yaml").write_text("Resources: [\n")
    (tmp_path / "package.json").write_text('{"name": "app"}')
    (tmp_path / "empty-assembly").mkdir()
    (tmp_path / "empty-assembly" / "manifest.json").write_text('{"version": "55.0.0", "artifacts": {}}')
    (tmp_path / "plain-dir").mkdir()
    (tmp_path / "models.yaml").write_text("endpoints:\n  - {name: flan, model: FlanT5XL}\n")
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_unwritable_output_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--output", str(tmp_path / "no" / "such" / "dir.txt"), str(GOOD))
    assert code == 2
    assert err.startswith(f"eulagate check: cannot write {tmp_path / 'no' / 'such' / 'dir.txt'}")


def test_warnings_alone_exit_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A catalog that lists Llama 2 7B Chat's Marketplace package (EULAGATE_CATALOG), whatever the built-in holds."""
    arn = "arn:aws:sagemaker:us-east-1:865070037744:model-package/llama2-7b-f-v4-71eeccf76ddf33f2a18d2e16b9c7f302"
    specs = [dataclasses.replace(spec, model_package_arns={"us-east-1": arn})
             if spec.model_id == "meta-textgeneration-llama-2-7b-f" else spec for spec in Catalog.default()]
    Catalog(specs).write(tmp_path / "catalog.json")
    monkeypatch.setenv(CATALOG_ENV_VAR, str(tmp_path / "catalog.json"))
    template = str(FIXTURES / "good" / "marketplace-model-package.json")
    code, out, _ = run(capsys, template)
    assert code == 0
    assert " warning EULA005 MarketplaceLlama (AWS::SageMaker::Model)\n" in out
    assert out.splitlines()[-1] == "eulagate check: 0 EULA errors, 1 warning in 1 template (2 resources)"
    # CI that fails on warnings; a rule ignored is neither reported nor fails the run; --select names the rules kept
    assert run(capsys, "--fail-on", "warning", template)[0] == 1
    code, out, _ = run(capsys, "--fail-on", "warning", "--ignore", "EULA005", template)
    assert (code, out) == (0, "eulagate check: no EULA problems in 1 template (2 resources)\n")
    assert run(capsys, "--fail-on", "warning", "--select", "EULA001,EULA004", template)[0] == 0
    assert run(capsys, "--fail-on", "warning", "--select", "eula005", template)[0] == 1


def test_installed_command_exit_codes_without_tracebacks(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("eulagate")
    results = {name: subprocess.run([str(command), "check", *args], capture_output=True, text=True, check=False)
               for name, args in {"bad": [str(BAD)], "good": [str(GOOD)], "missing": [str(tmp_path / "x")]}.items()}
    assert {name: r.returncode for name, r in results.items()} == {"bad": 1, "good": 0, "missing": 2}
    assert all("Traceback" not in r.stderr for r in results.values())


def test_a_wrong_option_prints_the_subcommands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--sarif", str(GOOD)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("usage: eulagate check ")
    assert err.splitlines()[-1] == "eulagate check: error: unrecognized arguments: --sarif"


def test_quiet_prints_findings_only_and_no_summary_on_stderr(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-q", "--format", "concise", str(BAD), str(GOOD))
    assert code == 1
    assert len(out.splitlines()) == 1 and " error EULA001 " in out
    code, out, err = run(capsys, "-q", str(BAD), str(GOOD))
    assert code == 1 and "eulagate check:" not in out and out.splitlines()[1].startswith("    ")
    code, out, err = run(capsys, "--quiet", "--format", "json", "--output", str(tmp_path / "r.json"), str(BAD))
    assert (code, out, err) == (1, "", "")


def test_a_suppressed_warning_is_reported_as_suppressed_and_an_error_stays(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    market = json.loads((FIXTURES / "good" / "marketplace-model-package.json").read_text())
    market["Resources"]["MarketplaceLlama"]["Metadata"] = {
        "eulagate": {"suppress": [{"rule": "EULA005", "reason": "subscribed (OPS-7)"}]}}
    template = tmp_path / "market.json"
    template.write_text(json.dumps(market))
    code, out, _ = run(capsys, "--format", "sarif", str(template))
    [result] = json.loads(out)["runs"][0]["results"]
    assert code == 0
    assert result["suppressions"] == [{"kind": "inSource", "justification": "subscribed (OPS-7)"}]
    refused = load_yaml_template(BAD)
    refused["Resources"]["LlamaModel"]["Metadata"] = {"eulagate": {"suppress": [{"rule": "EULA001", "reason": "no"}]}}
    template = tmp_path / "refused.json"
    template.write_text(json.dumps(refused))
    code, out, _ = run(capsys, str(template))
    assert code == 1
    assert "(EULA001 is an error and cannot be suppressed: the suppression in the resource's Metadata.eulagate is " \
           "ignored.)" in out


def test_verbose_bad_input_adds_the_cause(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no-such-dir" / "report.txt"
    code, _, err = run(capsys, "-v", "--output", str(target), str(GOOD))
    assert code == 2
    assert err.splitlines() == [
        f"eulagate check: cannot write {target}: No such file or directory",
        f"eulagate check: caused by FileNotFoundError: [Errno 2] No such file or directory: '{target}'",
    ]

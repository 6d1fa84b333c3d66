"""``eulagate check`` over every surface: files recognized by content, a repository walked (git's ignore rules,
each cdk.out), ``--surface``, and each report format pointing at file:line:column."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from constructs_lib.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SURFACES = FIXTURES / "surfaces"
BAD_TEMPLATE = FIXTURES / "templates" / "bad" / "model-package-unaccepted.json"
FINETUNE = SURFACES / "python" / "bad" / "sdk_v2_finetune.py"  # one error, at 4:1


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_findings(capsys: pytest.CaptureFixture[str], *args: str) -> list[tuple[str, int, int, str]]:
    code, out, err = check(capsys, "--format", "json", *args)
    assert code in (0, 1), err
    return sorted((f["template"], (f["source"] or {}).get("line", f["line"]), (f["source"] or {}).get("column", 1),
                   f["rule"]) for f in json.loads(out)["findings"])


def test_every_format_points_at_file_line_and_column(capsys: pytest.CaptureFixture[str]) -> None:
    where = f"{FINETUNE}:4:1"
    code, text, _ = check(capsys, str(FINETUNE))
    assert code == 1 and text.startswith(f"{where}: error EULA004 JumpStartEstimator(")
    assert "(python: SageMaker SDK JumpStartEstimator.fit)" in text
    _, out, _ = check(capsys, "--format", "json", str(FINETUNE))
    [finding] = json.loads(out)["findings"]
    assert finding["source"] == {"file": str(FINETUNE), "line": 4, "column": 1}
    _, out, _ = check(capsys, "--format", "sarif", str(FINETUNE))
    [result] = json.loads(out)["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert (artifact, region) == ({"uri": "tests/fixtures/surfaces/python/bad/sdk_v2_finetune.py",
                                   "uriBaseId": "%SRCROOT%"}, {"startLine": 4, "startColumn": 1})
    _, out, _ = check(capsys, "--format", "junit", str(FINETUNE))
    case = ElementTree.fromstring(out).find("testsuite/testcase")
    assert case is not None and (case.get("file"), case.get("line")) == (str(FINETUNE), "4")
    failure = case.find("failure")
    assert failure is not None and failure.text is not None and failure.text.startswith(where)
    _, out, _ = check(capsys, "--format", "markdown", str(FINETUNE))
    assert f"`{where}`" in out


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("deploy", "#!/usr/bin/env python3\nfrom sagemaker.jumpstart.model import JumpStartModel\n"
               "JumpStartModel('huggingface-llm-gemma-7b').deploy()\n", "python"),
    ("manifest.txt", (SURFACES / "kubernetes/bad/models.yaml").read_text(), "kubernetes"),
    ("tfplan.out", (SURFACES / "terraform/bad/plan.json").read_text(), "terraform"),
    ("serving.hcl", (SURFACES / "terraform/bad/main.tf").read_text(), "terraform"),
    ("notebook.json", (SURFACES / "python/bad/deploy.ipynb").read_text(), "python"),
    ("state.json", json.dumps({"format_version": "1.0", "values": json.loads(
        (SURFACES / "terraform/bad/plan.json").read_text())["planned_values"]}), "terraform"),
])
def test_a_file_is_recognized_by_its_content(name: str, content: str, kind: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, out, err = check(capsys, "--format", "json", str(path))
    findings = json.loads(out)["findings"]
    assert code == 1, err
    assert findings and {f["resource_type"].split(":")[0] for f in findings} == {kind}


def test_a_file_of_no_kind_is_refused_or_passed_over(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# notes\n")
    code, _, err = check(capsys, str(notes))
    assert code == 2 and err.startswith(f"eulagate check: {notes}: not a file eulagate check reads")
    code, out, _ = check(capsys, "--skip-unknown-files", str(notes), str(FINETUNE))
    assert code == 1 and f"{FINETUNE}:4:1" in out


def _repository(root: Path) -> None:
    (root / "ignored").mkdir()
    (root / "src").mkdir()
    (root / "cdk.out").mkdir()
    (root / "infra").mkdir()
    shutil.copy(FINETUNE, root / "src" / "train.py")
    shutil.copy(FINETUNE, root / "ignored" / "train.py")
    shutil.copy(SURFACES / "terraform/bad/main.tf", root / "infra" / "main.tf")
    shutil.copy(SURFACES / "kubernetes/bad/models.yaml", root / "infra" / "models.yaml")
    shutil.copy(BAD_TEMPLATE, root / "cdk.out" / "App.template.json")
    (root / "cdk.out" / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"App": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
        "properties": {"templateFile": "App.template.json"}}}}))
    (root / ".gitignore").write_text("ignored/\ncdk.out/\n")
    (root / "package.json").write_text('{"name": "app"}')  # JSON of no kind: passed over
    (root / "node_modules" / "sdk").mkdir(parents=True)  # third-party code, not ignored: passed over
    shutil.copy(FINETUNE, root / "node_modules" / "sdk" / "example.py")
    (root / "workflow.yml").write_text("on: push\njobs: {}\n")


def test_a_repository_is_walked_with_gits_ignore_rules_and_each_cdk_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    _repository(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    files = {finding[0] for finding in json_findings(capsys, ".")}
    assert files == {"src/train.py", "infra/main.tf", "infra/models.yaml", "cdk.out/App.template.json"}
    python = {finding[0] for finding in json_findings(capsys, "--surface", "python", ".")}
    assert python == {"src/train.py"}
    two = {finding[0] for finding in json_findings(capsys, "--surface", "terraform,kubernetes", ".")}
    assert two == {"infra/main.tf", "infra/models.yaml"}


def test_outside_git_a_directory_is_walked_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _repository(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    files = {finding[0] for finding in json_findings(capsys, ".")}
    assert "ignored/train.py" in files and "cdk.out/App.template.json" in files


def test_an_unknown_surface_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--surface", "helm", str(FINETUNE)])
    assert exit_info.value.code == 2
    assert "unknown surface helm; choose from cloudformation, python, terraform, kubernetes" in capsys.readouterr().err


def test_a_python_file_that_does_not_parse_fails_closed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "deploy.py"
    broken.write_text("from sagemaker.jumpstart.model import JumpStartModel\nJumpStartModel(\n")
    code, out, _ = check(capsys, str(broken))  # a warning: what runs it may read more than this parser
    assert code == 0 and out.startswith(f"{broken}:2:1: warning EULA000 ")
    code, out, _ = check(capsys, "--strict", str(broken))
    assert code == 1 and " error EULA000 " in out
    unrelated = tmp_path / "util.py"
    unrelated.write_text("def broken(:\n")  # no SageMaker in it: nothing to prove
    code, out, _ = check(capsys, str(unrelated))
    assert code == 0


def test_the_summary_counts_templates_and_source_files_apart(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, str(BAD_TEMPLATE), str(FINETUNE), str(SURFACES / "kubernetes/good/llama.yaml"))
    assert code == 1
    assert out.splitlines()[-1].endswith(" in 1 template (1 resource) and 2 source files (4 requests)")
    _, out, _ = check(capsys, str(FINETUNE))
    assert out.splitlines()[-1] == "eulagate check: 1 EULA error, 0 warnings in 1 source file (1 request)"


def test_a_walk_reads_json_as_a_template_only_when_it_is_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "policy.json").write_text('{"Statement": [{"Effect": "Allow", "Resources": ["*"]}]}')
    shutil.copy(BAD_TEMPLATE, tmp_path / "stack.json")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    code, out, _ = check(capsys, ".")
    assert code == 1 and out.splitlines()[-1].endswith(" in 1 template (1 resource)")

"""`eulagate check` as CI pins it: --select/--ignore/--fail-on, [tool.eulagate] in pyproject.toml found walking up
(flags win), and the inputs it refuses instead of passing them silently."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.cli import main
from constructs_lib.cli.check_settings import MAX_CONFIG_BYTES, may_hold_config_table
from constructs_lib.rules.judgeable import UnjudgeableTemplate, refuse_unjudgeable
from tests.support.deadline import returns_within

ROOT = Path(__file__).parents[2]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "templates"
BAD = FIXTURES / "bad" / "model-accept-false-string.yaml"  # one EULA001 error
GOOD = FIXTURES / "good" / "model-accepted-short-forms.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a failing template; the current directory is a folder below its root."""
    shutil.copy(BAD, tmp_path / "bad.yaml")
    (tmp_path / "infra").mkdir()
    monkeypatch.chdir(tmp_path / "infra")
    return tmp_path


def configure(project: Path, body: str) -> None:
    (project / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.eulagate]\n{body}\n", encoding="utf-8")


def test_pyproject_settings_are_found_walking_up_and_flags_win(project: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "../bad.yaml")[0] == 1
    configure(project, 'ignore = ["EULA001"]')
    code, out, _ = run(capsys, "../bad.yaml")
    assert (code, out) == (0, "eulagate check: no EULA problems in 1 template (2 resources)\n")
    code, out, _ = run(capsys, "--select", "EULA001", "../bad.yaml")  # the flag's select; the file's ignore stays
    assert code == 0
    configure(project, 'select = ["EULA005"]')
    assert run(capsys, "--select", "EULA001", "../bad.yaml")[0] == 1  # the flag replaces the file's list


def test_fail_on_from_the_file_and_from_the_flag(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(project, 'fail-on = "warning"\nstrict = true')
    assert run(capsys, str(GOOD))[0] == 0
    with pytest.raises(SystemExit) as exit_status:
        main(["check", "--fail-on", "fatal", str(GOOD)])
    assert exit_status.value.code == 2 and "invalid choice: 'fatal'" in capsys.readouterr().err


@pytest.mark.parametrize(("body", "expected"), [
    ('ignore = ["EULA05"]', "pyproject.toml: [tool.eulagate] ignore: unknown rule 'EULA05'; did you mean 'EULA005'?"),
    ('fail_on = "warning"', "pyproject.toml: [tool.eulagate]: unknown key 'fail_on'; did you mean 'fail-on'?"),
    ('select = "EULA001"', "pyproject.toml: [tool.eulagate] select: a list of rule ids is expected"),
    ('fail-on = "info"', "pyproject.toml: [tool.eulagate] fail-on: 'info' is not one of error, warning"),
    ("strict = 1", "pyproject.toml: [tool.eulagate] strict: true or false is expected"),
    ("ignore = [", "pyproject.toml: not valid TOML"),
])
def test_a_mistake_in_the_file_is_one_line_naming_it(project: Path, capsys: pytest.CaptureFixture[str],
                                                     body: str, expected: str) -> None:
    configure(project, body)
    code, out, err = run(capsys, "../bad.yaml")
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"eulagate check: {project / expected}")


# [tool.eulagate] in the spellings TOML allows, after lines that only look like a header or key.
_SPELLINGS = [
    '[tool.eulagate]\nignore = ["EULA001"]',
    '[ tool . "eulagate" ]\nignore = ["EULA001"]',
    "[tool.'eulagate']\nignore = ['EULA001']",
    'tool.eulagate.ignore = ["EULA001"]',
    'tool = { eulagate = { ignore = ["EULA001"] } }',
    '[tool]\neulagate = { ignore = ["EULA001"] }',
    '[tool]\n"eulagate" . ignore = ["EULA001"]  # a comment',
    '[tool."eula\\u0067ate"]\nignore = ["EULA001"]',
    'doc = """\n[project]\n"""\n[tool.eulagate]\nignore = ["EULA001"]',
    'extras = [\n  "[project]",\n  [1],\n]\n[tool]\neulagate.ignore = ["EULA001"]',
]


@pytest.mark.parametrize("config", _SPELLINGS)
def test_the_config_table_is_read_in_every_toml_spelling(project: Path, capsys: pytest.CaptureFixture[str],
                                                         config: str) -> None:
    (project / "pyproject.toml").write_text(f'{config}\n[project]\nname = "eulagate"\n', encoding="utf-8")
    assert run(capsys, "../bad.yaml")[0] == 0


def test_a_pyproject_that_only_names_eulagate_is_not_a_config(project: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    text = '[project]\nname = "eulagate"\n[project.scripts]\neulagate = "constructs_lib.cli:main"\n'
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    assert not may_hold_config_table(text)
    assert not may_hold_config_table((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert run(capsys, "../bad.yaml")[0] == 1


@pytest.mark.parametrize(("make", "expected"), [
    (os.mkfifo, "a FIFO, not a regular file; eulagate check reads its settings from a regular pyproject.toml only"),
    (lambda path: path.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1)),
     "1,048,577 bytes, more than the 1,048,576 EulaGate reads (a pyproject.toml is kilobytes)"),
    (lambda path: path.write_bytes(b'[tool.eulagate]\nstrict = "\xff"\n'),
     "not UTF-8 text (byte 26: invalid start byte)"),
    (lambda path: path.write_text("[tool.eulagate]\nx = " + "[" * 100_000),
     "not valid TOML (values nested too deeply to read)"),
])
def test_a_pyproject_above_that_cannot_be_read_is_one_line(
    make: Callable[[Path], object], expected: str, project: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """It may hold the settings: a check never guesses them, and never waits on a FIFO for them."""
    make(project / "pyproject.toml")
    code, out, err = returns_within(lambda: run(capsys, "../bad.yaml"), what="the walk up for pyproject.toml")
    assert (code, out, err) == (2, "", f"eulagate check: {project / 'pyproject.toml'}: {expected}\n")


def test_a_directory_named_pyproject_toml_is_passed_over(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(project, 'ignore = ["EULA001"]')
    (project / "infra" / "pyproject.toml").mkdir()  # holds no settings: the walk goes on up
    assert run(capsys, "../bad.yaml")[0] == 0


_KEYS = st.sampled_from(["tool", "eulagate", '"eulagate"', "'tool'", "x", '"eula\\u0067ate"', "a-b"])
_DOTTED = st.lists(_KEYS, min_size=1, max_size=3).map(lambda keys: " . ".join(keys))
_VALUES = st.sampled_from(['1', '"[tool.eulagate]"', "'eulagate'", "[1, [2]]", "{ eulagate = 1 }", '"a\\"b"',
                           "1 # tool.eulagate", '[\n  "[tool.eulagate]",\n  [1],\n]', '"""\n[tool]\neulagate = 1\n"""',
                           "{ eulagate = { x = 1 } }"])
_LINES = st.one_of(
    _DOTTED.map(lambda key: f"[{key}]"),
    _DOTTED.map(lambda key: f"[[{key}]]"),
    st.tuples(_DOTTED, _VALUES).map(lambda pair: f"{pair[0]} = {pair[1]}"),
    st.sampled_from(["# [tool.eulagate]", "", "[", "eulagate"]),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_LINES, max_size=6))
def test_only_texts_without_a_config_table_are_left_unparsed(lines: list[str]) -> None:
    """Soundness of the shortcut: whatever tomllib reads as a [tool.eulagate] table is always parsed."""
    text = "\n".join(lines)
    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError:
        return
    if isinstance(tool, dict) and "eulagate" in tool:
        assert may_hold_config_table(text)


def test_an_unknown_rule_flag_suggests_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--ignore", "EULA0005", str(BAD))
    assert code == 2
    assert err == ("eulagate check: --ignore: unknown rule 'EULA0005'; did you mean 'EULA005'? "
                   "(the rules are EULA000-EULA009; `eulagate rules` lists them)\n")


@pytest.mark.parametrize(("resource", "expected"), [
    ('"just a string"', "resource Broken is a string, not an object with a Type and Properties"),
    ("[1, 2]", "resource Broken is a list, not an object with a Type and Properties"),
    ("null", "resource Broken is empty, not an object with a Type and Properties"),
    ('{"Properties": {}}', "resource Broken has no Type; give it one, e.g. Type: AWS::SageMaker::Model"),
])
def test_a_resource_check_cannot_judge_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    resource: str, expected: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(f'{{"Resources": {{"Broken": {resource}}}}}', encoding="utf-8")
    assert run(capsys, str(path)) == (2, "", f"eulagate check: {path}: {expected}\n")


GOOD_RESOURCE = {"Type": "AWS::SNS::Topic", "Metadata": {"aws:cdk:path": "Stack/Topic"}}


@pytest.mark.parametrize(("resources", "expected"), [
    ({"A": GOOD_RESOURCE, "B": {"Type": ["AWS::SNS::Topic"]}, "C": {}}, "resource B has no Type"),
    ({"A": GOOD_RESOURCE, "B": {"Type": 7}}, "resource B has no Type"),
    ({"A": GOOD_RESOURCE, "B": {"Type": ""}}, "resource B has no Type"),
    ({"A": GOOD_RESOURCE, "B": [GOOD_RESOURCE], "C": {}}, "resource B is a list"),
    ({"A": {**GOOD_RESOURCE, "Metadata": "text"}, "B": {**GOOD_RESOURCE, "Metadata": ["eulagate"]}}, None),
    ({"A": {**GOOD_RESOURCE, "Metadata": {"eulagate": {"suppress": [{"rule": "EULA005", "reason": "r"}]}}}}, None),
    ({"A": {**GOOD_RESOURCE, "Metadata": {"eulagate": {"suppress": [{"rule": "EULA05", "reason": "r"}]}}},
      "B": {"Type": None}}, "resource B has no Type"),
    ({"A": {**GOOD_RESOURCE, "Metadata": {"eulagate": {"suppress": [{"rule": "EULA05", "reason": "r"}]}}}},
     "resource A suppresses unknown rule 'EULA05'"),
    ({"Fn::ForEach::Topics": ["Name", ["a"], {"${Name}": GOOD_RESOURCE}], "A": GOOD_RESOURCE}, None),
])
def test_what_cannot_be_judged_is_refused_among_plain_resources(resources: dict[str, object],
                                                                expected: str | None) -> None:
    if expected is None:
        refuse_unjudgeable({"Resources": resources}, "t.json")
    else:
        with pytest.raises(UnjudgeableTemplate, match=re.escape(f"t.json: {expected}")):
            refuse_unjudgeable({"Resources": resources}, "t.json")


def test_a_folder_with_several_malformed_templates_names_each(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(GOOD, tmp_path / "a-good.yaml")
    (tmp_path / "b.json").write_text('{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {', encoding="utf-8")
    (tmp_path / "c.json").write_text('{"Resources": {"X": "text"}}', encoding="utf-8")
    (tmp_path / "d.template").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n", encoding="utf-8")
    code, out, err = run(capsys, str(tmp_path))
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert [line.split(": ")[1] for line in lines] == [str(tmp_path / name) for name in ("b.json", "c.json",
                                                                                          "d.template")]
    assert all(line.startswith("eulagate check: ") for line in lines)


def test_a_suppression_of_an_unknown_rule_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = {"Resources": {"Served": {
        "Type": "AWS::SageMaker::Model", "Properties": {},
        "Metadata": {"eulagate": {"suppress": [{"rule": "EULA05", "reason": "subscribed (OPS-1)"}]}}}}}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    assert run(capsys, str(path)) == (2, "", (
        f"eulagate check: {path}: resource Served suppresses unknown rule 'EULA05' in Metadata.eulagate.suppress; "
        "did you mean 'EULA005'? (`eulagate rules` lists them)\n"))
    template["Resources"]["Served"]["Metadata"]["eulagate"]["suppress"][0]["rule"] = "eula005"
    path.write_text(json.dumps(template), encoding="utf-8")
    assert run(capsys, str(path))[0] == 0


def test_for_each_loops_are_not_resources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Transform": "AWS::LanguageExtensions", "Resources": {
        "Fn::ForEach::Topics": ["Name", ["A", "B"], {"Topic${Name}": {"Type": "AWS::SNS::Topic"}}]}}),
        encoding="utf-8")
    assert run(capsys, str(path))[0] == 0


def hook(hook_id: str) -> list[str]:
    """The argv pre-commit runs for ``hook_id`` of .pre-commit-hooks.yaml, before any staged file names."""
    [entry] = [h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8")) if h["id"] == hook_id]
    return [*shlex.split(entry["entry"]), *entry.get("args", [])]


def test_the_cloud_assembly_hook_passes_with_a_note_in_a_fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no cdk.out: nothing synthesized yet
    argv = hook("eulagate-check")
    assert argv[0] == "eulagate" and main(argv[1:]) == 0
    assert capsys.readouterr() == ("", "eulagate check: nothing to check at cdk.out (no such file or directory; "
                                       "run `cdk synth` first to check a cloud assembly)\n")
    shutil.copytree(FIXTURES / "cloud-assembly", tmp_path / "cdk.out")
    assert main(argv[1:]) == 1  # once synthesized, it checks (the fixture assembly has two errors)
    assert main(["check", "cdk.out", "missing.template"]) == 2  # without the flag a missing path is bad input


def test_the_table_hook_plans_each_staged_table(capsys: pytest.CaptureFixture[str]) -> None:
    entry = next(h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8")) if h["id"] == "eulagate-plan")
    assert entry.get("pass_filenames", True) and "args" not in entry
    assert re.search(entry["files"], "services/chat/models.yaml") and not re.search(entry["files"], "cdk.json")
    argv = hook("eulagate-plan")
    assert main([*argv[1:], str(ROOT / "models.yaml")]) == 0
    capsys.readouterr()
    assert main([*argv[1:], str(ROOT / "models.yaml"), str(ROOT / "examples" / "unaccepted.yaml")]) == 1
    out = capsys.readouterr().out
    assert out.count("gate: PASS: ") == 1 and out.count("gate: FAIL: ") == 1

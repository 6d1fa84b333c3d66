"""Loading templates (JSON, YAML short forms) and finding them in cloud assemblies."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from constructs_lib.synth.templates import TemplateError, discover_templates, load_template, resource_lines

ASSEMBLY = Path(__file__).parents[1] / "fixtures" / "templates" / "cloud-assembly"

SHORT_FORMS = """\
AWSTemplateFormatVersion: 2010-09-09
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  Both: !And [!Condition IsProd, !Not [!Or [!Condition IsProd, !Condition IsProd]]]
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      A: !Ref Param
      B: !GetAtt Role.Arn
      C: !GetAtt [Role, Arn]
      D: !Sub s3://bucket-${AWS::Region}/key
      E: !Sub ["x-${V}", {V: !Ref Param}]
      F: !Join ["", [a, !Select [0, !Split [",", !ImportValue shared]]]]
      G: !If [IsProd, !FindInMap [Map, !Ref "AWS::Region", Key], !Ref "AWS::NoValue"]
      H: !Base64 text
      I: !Cidr [!GetAZs "", 6, 5]
      J: !GetAtt Job.Outputs.Nested
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_short_forms_become_long_forms(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, "t.yaml", SHORT_FORMS))
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Conditions"]["Both"] == {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [
        {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsProd"}]}]}]}
    properties = template["Resources"]["Model"]["Properties"]
    assert properties == {
        "A": {"Ref": "Param"},
        "B": {"Fn::GetAtt": ["Role", "Arn"]},
        "C": {"Fn::GetAtt": ["Role", "Arn"]},
        "D": {"Fn::Sub": "s3://bucket-${AWS::Region}/key"},
        "E": {"Fn::Sub": ["x-${V}", {"V": {"Ref": "Param"}}]},
        "F": {"Fn::Join": ["", ["a", {"Fn::Select": [0, {"Fn::Split": [",", {"Fn::ImportValue": "shared"}]}]}]]},
        "G": {"Fn::If": ["IsProd", {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Key"]}, {"Ref": "AWS::NoValue"}]},
        "H": {"Fn::Base64": "text"},
        "I": {"Fn::Cidr": [{"Fn::GetAZs": ""}, 6, 5]},
        "J": {"Fn::GetAtt": ["Job", "Outputs.Nested"]},
    }


@pytest.mark.parametrize(("name", "text"), [
    ("t.json", '{"Resources": {}}'),
    ("t.template", '{"Resources": {}}'),
    ("t.template", "Resources: {}\n"),
    ("t.yml", '{"Resources": {}}'),
])
def test_formats_by_suffix_and_content(tmp_path: Path, name: str, text: str) -> None:
    assert load_template(write(tmp_path, name, text)) == {"Resources": {}}


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.json", '{"Resources": {\n  "A": }', "bad.json: malformed JSON at line 2 column 8: Expecting value"),
    ("bad.yaml", "Resources:\n  A: [\n", "bad.yaml: malformed YAML at line 3 column 1"),
    ("tag.yaml", "Resources: !Unknown x\n", "tag.yaml: malformed YAML at line 1 column 12: could not determine a "
                                            "constructor for the tag '!Unknown'"),
    ("list.json", "[1, 2]", "list.json: not a CloudFormation template: the document is a list, not a mapping"),
    ("empty.yaml", "", "empty.yaml: not a CloudFormation template: the document is empty, not a mapping"),
    ("res.json", '{"Resources": [1]}', "res.json: not a CloudFormation template: Resources is not a mapping"),
])
def test_bad_templates_give_one_line_naming_the_file(tmp_path: Path, name: str, content: str, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        load_template(write(tmp_path, name, content))
    text = str(raised.value)
    assert "\n" not in text
    assert text.startswith(str(tmp_path / name.split(":")[0]))
    assert message in text


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read the file"):
        load_template(tmp_path / "missing.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(TemplateError, match="not UTF-8 text"):
        load_template(binary)


def test_cloud_assembly_follows_manifest_nested_stacks_and_stages() -> None:
    templates = discover_templates([ASSEMBLY])
    assert [path.relative_to(ASSEMBLY).as_posix() for path in templates] == [
        "assembly-Prod/ProdServingE95F2C1F.template.json",
        "Parent.template.json",
        "ParentNested1E9B6DEA.nested.template.json",
    ]


def test_paths_in_order_once_each(tmp_path: Path) -> None:
    template = write(tmp_path, "t.yaml", "Resources: {}\n")
    templates = discover_templates([template, ASSEMBLY, template, ASSEMBLY / "Parent.template.json"])
    assert templates[0] == template
    assert len(templates) == len(set(templates)) == 4


@pytest.mark.parametrize(("setup", "message"), [
    (lambda tmp: tmp / "nothing", "no such file or directory"),
    (lambda tmp: tmp, "not a cloud assembly (no manifest.json)"),
    (lambda tmp: write(tmp, "notes.txt", "x"), "not a template file"),
    (lambda tmp: (write(tmp, "manifest.json", "{oops"), tmp)[1], "manifest.json: malformed JSON"),
    (lambda tmp: (write(tmp, "manifest.json", json.dumps({"artifacts": {"S": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}}}})), tmp)[1],
     "stack 'S' names S.template.json, which is missing"),
])
def test_discovery_errors(tmp_path: Path, setup: Callable[[Path], Path], message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        discover_templates([setup(tmp_path)])


def _manifest(directory: Path, artifacts: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write(directory, "manifest.json", json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return directory


def _stage(name: str) -> dict[str, object]:
    return {name: {"type": "cdk:cloud-assembly", "properties": {"directoryName": name}}}


@pytest.mark.parametrize(("setup", "message"), [
    (lambda tmp: (write(tmp, "manifest.json", "[]"), tmp)[1], "manifest.json: malformed cloud assembly manifest"),
    (lambda tmp: _manifest(tmp, {"S": {"type": "aws:cloudformation:stack", "properties": "S.template.json"}}),
     "artifact 'S' has properties that are not a mapping"),
    (lambda tmp: _manifest(tmp, _stage("assembly-Gone")), "nested assembly 'assembly-Gone' names assembly-Gone, "
                                                          "which is not a cloud assembly"),
    (lambda tmp: (_manifest(tmp / "assembly-A" / "assembly-A-B", {"S": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}}}),
        _manifest(tmp / "assembly-A", _stage("assembly-A-B")), _manifest(tmp, _stage("assembly-A")))[2],
     "assembly-A-B/manifest.json: stack 'S' names S.template.json, which is missing"),
])
def test_malformed_and_incomplete_assemblies(tmp_path: Path, setup: Callable[[Path], Path], message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        discover_templates([setup(tmp_path)])


def test_stages_two_levels_deep_and_a_manifest_naming_its_own_directory(tmp_path: Path) -> None:
    inner = _manifest(tmp_path / "assembly-A" / "assembly-A-B", {
        "Inner": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Inner.template.json"}},
        **_stage("."),  # a cycle: read once, never followed again
    })
    write(inner, "Inner.template.json", "{}")
    write(inner, "InnerNestedA1.nested.template.json", "{}")
    _manifest(tmp_path / "assembly-A", _stage("assembly-A-B"))
    _manifest(tmp_path, _stage("assembly-A"))
    assert discover_templates([tmp_path]) == [inner / "Inner.template.json",
                                              inner / "InnerNestedA1.nested.template.json"]


def test_assembly_without_stacks_finds_nothing(tmp_path: Path) -> None:
    write(tmp_path, "manifest.json", json.dumps({"version": "55.0.0", "artifacts": {"Tree": {"type": "cdk:tree"}}}))
    assert discover_templates([tmp_path]) == []


def test_resource_lines_json_and_yaml(tmp_path: Path) -> None:
    lines = resource_lines(ASSEMBLY / "Parent.template.json", ["AcceptedLlama", "AcceptedLlamaRole1D3A1D7E", "Nope"])
    text = (ASSEMBLY / "Parent.template.json").read_text().splitlines()
    assert set(lines) == {"AcceptedLlama", "AcceptedLlamaRole1D3A1D7E"}
    for logical_id, line in lines.items():
        assert text[line - 1].strip().startswith(f'"{logical_id}": {{')
    yaml_template = write(tmp_path, "t.yaml", SHORT_FORMS)
    assert resource_lines(yaml_template, ["Model"]) == {"Model": 6}


def test_copied_assembly_works_from_another_directory(tmp_path: Path) -> None:
    copy = tmp_path / "cdk.out"
    shutil.copytree(ASSEMBLY, copy)
    assert len(discover_templates([copy])) == 3

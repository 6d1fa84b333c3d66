"""Loading templates (JSON, YAML short forms) and finding them in cloud assemblies."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from constructs_lib.rules.detection.template_text import MAX_TEMPLATE_CHARS
from constructs_lib.synth.assembly import discover_templates
from constructs_lib.synth.templates import TemplateError, load_template, resource_lines

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


def test_rules_functions_short_forms_become_long_forms(tmp_path: Path) -> None:
    text = """Rules:
  R:
    RuleCondition: !Contains [[a, b], !Ref Model]
    Assertions:
      - Assert: !EachMemberIn [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], !RefAll AWS::EC2::VPC::Id]
      - Assert: !EachMemberEquals [!Ref Flags, "true"]
      - Assert: !Equals [!ValueOf [Vpc, Tags], x]
Resources: {}
"""
    rule = load_template(write(tmp_path, "t.yaml", text))["Rules"]["R"]
    assert rule["RuleCondition"] == {"Fn::Contains": [["a", "b"], {"Ref": "Model"}]}
    assert [assertion["Assert"] for assertion in rule["Assertions"]] == [
        {"Fn::EachMemberIn": [{"Fn::ValueOfAll": ["AWS::EC2::Subnet::Id", "VpcId"]},
                              {"Fn::RefAll": "AWS::EC2::VPC::Id"}]},
        {"Fn::EachMemberEquals": [{"Ref": "Flags"}, "true"]},
        {"Fn::Equals": [{"Fn::ValueOf": ["Vpc", "Tags"]}, "x"]},
    ]


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


def test_cloud_assembly_follows_manifest_nested_stacks_and_stages_and_skips_stale_files() -> None:
    templates = discover_templates([ASSEMBLY])
    # ParentRemovedNested5C3A1B2D.nested.template.json is in the directory, but no stack's metadata names it.
    assert (ASSEMBLY / "ParentRemovedNested5C3A1B2D.nested.template.json").is_file()
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
    write(inner, "InnerNestedA1.nested.template.json", "{}")  # named by no metadata: stale, never read
    _manifest(tmp_path / "assembly-A", _stage("assembly-A-B"))
    _manifest(tmp_path, _stage("assembly-A"))
    assert discover_templates([tmp_path]) == [inner / "Inner.template.json"]


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


def test_a_resource_line_is_its_object_key_after_resources_not_an_earlier_mention(tmp_path: Path) -> None:
    text = ('{"Parameters": {"Model": {"Type": "String"}},\n"Outputs": {"Out": {"Value": "Model"}},\n'
            '"Resources": {"Other": {"Type": "AWS::SNS::Topic", "DependsOn": ["Model"],\n"Metadata": {"Model"  :\n'
            '"x"}},\n"Model" :\t{"Type": "AWS::SageMaker::Model"}}}')
    template = write(tmp_path, "t.json", text)
    assert resource_lines(template, ["Model", "Other", "Out"]) == {"Model": 6, "Other": 3}


def test_copied_assembly_works_from_another_directory(tmp_path: Path) -> None:
    copy = tmp_path / "cdk.out"
    shutil.copytree(ASSEMBLY, copy)
    assert len(discover_templates([copy])) == 3


def test_nested_templates_come_from_stack_metadata_in_the_manifest_or_its_file(tmp_path: Path) -> None:
    _manifest(tmp_path, {
        "A": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "A.template.json"},
              "metadata": {"/A/Child": [{"type": "aws:cdk:templateFile", "data": "AChild1.nested.template.json"}]}},
        "B": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "B.template.json"},
              "additionalMetadataFile": "B.metadata.json"},
    })
    for name in ("A.template.json", "AChild1.nested.template.json", "B.template.json",
                 "BChild2.nested.template.json", "Old3.nested.template.json"):
        write(tmp_path, name, "{}")
    write(tmp_path, "B.metadata.json", json.dumps({
        "/B": [{"type": "aws:cdk:templateFile", "data": "B.template.json"}],
        "/B/Child": [{"type": "aws:cdk:templateFile", "data": "BChild2.nested.template.json"},
                     {"type": "aws:cdk:logicalId", "data": "Child"}]}))
    assert [path.name for path in discover_templates([tmp_path])] == [
        "A.template.json", "AChild1.nested.template.json", "B.template.json", "BChild2.nested.template.json"]


@pytest.mark.parametrize(("artifacts", "named"), [
    ({"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "../../etc/passwd"}}},
     "stack 'S' names ../../etc/passwd"),
    ({"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "/proc/self/environ"}}},
     "stack 'S' names /proc/self/environ"),
    ({"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"},
            "additionalMetadataFile": "../outside.json"}}, "stack 'S' names metadata file ../outside.json"),
    ({"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"},
            "metadata": {"/S/N": [{"type": "aws:cdk:templateFile", "data": "/etc/hostname"}]}}},
     "stack 'S' names nested template /etc/hostname"),
    ({"Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": ".."}}},
     "nested assembly 'Stage' names .."),
])
def test_manifest_entries_outside_the_assembly_are_refused(tmp_path: Path, artifacts: object, named: str) -> None:
    assembly = _manifest(tmp_path / "cdk.out", artifacts)
    write(assembly, "S.template.json", "{}")
    write(tmp_path, "outside.json", "{}")
    with pytest.raises(TemplateError, match=re.escape(f"{named}, which is outside the cloud assembly")):
        discover_templates([assembly])


def test_a_symbolic_link_out_of_the_assembly_is_refused(tmp_path: Path) -> None:
    assembly = _manifest(tmp_path / "cdk.out", {"S": {"type": "aws:cloudformation:stack",
                                                       "properties": {"templateFile": "S.template.json"}}})
    write(tmp_path, "secret.json", "{}")
    (assembly / "S.template.json").symlink_to(tmp_path / "secret.json")
    with pytest.raises(TemplateError, match="outside the cloud assembly"):
        discover_templates([assembly])


@pytest.mark.parametrize("name", ["t.json", "t.JSON", "t.template", "t.Yaml", "T.YML"])
def test_yaml_flow_style_and_any_letter_case_whatever_the_extension(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, "{Resources: {Bucket: {Type: 'AWS::S3::Bucket', Properties: {Name: !Ref N}}}}\n")
    assert discover_templates([path]) == [path]
    assert load_template(path)["Resources"]["Bucket"]["Properties"] == {"Name": {"Ref": "N"}}


def test_a_directory_of_plain_templates_is_walked(tmp_path: Path) -> None:
    write(tmp_path, "template.yaml", "Transform: AWS::Serverless-2016-10-31\nResources: {}\n")
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    write(tmp_path / "nested" / "deeper", "Network.JSON", '{"Resources": {"Vpc": {"Type": "AWS::EC2::VPC"}}}')
    write(tmp_path, "package.json", '{"name": "app", "scripts": {}}')  # JSON, not a template
    write(tmp_path, "workflow.yml", "on: push\njobs: {Resources: 1}\n")  # YAML, not a template
    (tmp_path / ".aws-sam").mkdir()
    write(tmp_path / ".aws-sam", "template.yaml", "Resources: {}\n")  # build output: passed over
    (tmp_path / "node_modules").mkdir()
    write(tmp_path / "node_modules", "t.json", '{"Resources": {}}')
    os.mkfifo(tmp_path / "pipe.yaml")  # never opened: it would block
    assert discover_templates([tmp_path]) == [tmp_path / "template.yaml",
                                              tmp_path / "nested" / "deeper" / "Network.JSON"]


def test_a_walked_file_that_looks_like_a_template_but_is_broken_is_bad_input(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "AWSTemplateFormatVersion: 2010-09-09\nResources: [\n")
    with pytest.raises(TemplateError, match=r"broken\.yaml: malformed YAML"):
        discover_templates([tmp_path])


def test_a_walk_reads_a_cloud_assembly_it_meets_through_its_manifest(tmp_path: Path) -> None:
    shutil.copytree(ASSEMBLY, tmp_path / "cdk.out")
    write(tmp_path, "template.yaml", "Resources: {}\n")
    found = [path.relative_to(tmp_path).as_posix() for path in discover_templates([tmp_path])]
    assert found == ["template.yaml", "cdk.out/assembly-Prod/ProdServingE95F2C1F.template.json",
                     "cdk.out/Parent.template.json", "cdk.out/ParentNested1E9B6DEA.nested.template.json"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Resources: {}\nA: !!float 1.5\nB: !!int '3'\nC: !!bool true\n", {"A": 1.5, "B": 3, "C": True}),
])
def test_typed_scalars_of_their_type_read_as_cloudformation_reads_them(tmp_path: Path, text: str,
                                                                         expected: dict[str, object]) -> None:
    template = load_template(write(tmp_path, "t.yaml", text))
    assert {key: template[key] for key in expected} == expected


@pytest.mark.parametrize(("text", "message"), [
    ("Resources: {}\nA: !!float x\n", "line 2 column 4: !!float 'x' is not a float"),
    ("Resources: {}\nA: !!int x\n", "line 2 column 4: !!int 'x' is not an int"),
    ("Resources: {}\nA: !!bool x\n", "line 2 column 4: !!bool 'x' is not a bool"),
    ("Resources: {}\nA: !!timestamp x\n", "the YAML tag !!timestamp is not allowed in CloudFormation templates"),
    ("Resources: {}\nA: !!binary aGk=\n", "the YAML tag !!binary is not allowed"),
    ("Resources: {}\nA: !!set {a: null}\n", "the YAML tag !!set is not allowed"),
    ("Resources: {}\nA: &x [1]\nB: *x\n", "YAML aliases are not allowed in CloudFormation templates"),
    ("Resources: {}\nA: {<<: {b: 1}}\n", "YAML merge keys (<<) are not allowed"),
    ("Resources: {}\nA: " + "[" * 300 + "]" * 300 + "\n", "nested more than 100 levels deep"),
])
def test_yaml_cloudformation_refuses_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        load_template(write(tmp_path, "t.yaml", text))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_file_too_big_to_be_a_template_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_TEMPLATE_CHARS + 1)  # sparse: no disk, and it must not be read
    with pytest.raises(TemplateError, match=r"huge.json: 16,777,217 bytes, more than the 16,777,216"):
        load_template(path)


def test_a_fifo_is_refused_not_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "t.json"
    os.mkfifo(fifo)
    with pytest.raises(TemplateError, match=r"t\.json: a FIFO, not a regular file"):
        load_template(fifo)

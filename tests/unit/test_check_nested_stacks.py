"""`eulagate check` and nested stacks (issue 19, item 5): each AWS::CloudFormation::Stack and
AWS::Serverless::Application is read (assembly metadata, `aws:asset:path`, a local TemplateURL) or reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from constructs_lib.cli import main
from constructs_lib.synth.assembly import NestedStackLocator, declares_nested_stacks, read_with_nested_templates
from constructs_lib.synth.templates import load_template

ASSEMBLY = Path(__file__).parents[1] / "fixtures" / "templates" / "cloud-assembly"
# Directories of a parent (or two) and the templates they nest, with the exact verdicts of checking each directory.
NESTED_CASES = Path(__file__).parents[1] / "fixtures" / "templates" / "nested"
NESTED_VERDICTS: dict[str, list[list[str]]] = json.loads((NESTED_CASES / "verdicts.json").read_text(encoding="utf-8"))
NESTED_RESOURCE = "NestedNestedStackNestedNestedStackResourceDEFDAA4D"
GATED_MODEL = {
    "Type": "AWS::SageMaker::Model",
    "Properties": {
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/sagemaker",
        "PrimaryContainer": {"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0",
                             "ModelDataSource": {"S3DataSource": {
                                 "S3Uri": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/"
                                          "meta-textgeneration-llama-2-7b-f/artifacts/inference-prepack/v1.1.0/",
                                 "S3DataType": "S3Prefix", "CompressionType": "None"}}},
    },
}


def verdicts(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, set[tuple[str, str, str, str]]]:
    code = main(["check", "--format", "json", *args])
    report = json.loads(capsys.readouterr().out)
    return code, {(Path(f["template"]).name, f["logical_id"], f["rule"], f["severity"]) for f in report["findings"]}


def write(path: Path, template: dict[str, object]) -> Path:
    path.write_text(json.dumps(template), encoding="utf-8")
    return path


def parent_with(url: object, **resource: object) -> dict[str, object]:
    stack = {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}, **resource}
    return {"Resources": {"Serving": stack}}


def test_a_local_template_url_is_read_as_the_nested_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    (tmp_path / "nested").mkdir()
    write(tmp_path / "nested" / "serving.json", {"Resources": {"Llama": GATED_MODEL}})
    parent = write(tmp_path / "parent.json", parent_with("nested/serving.json"))
    # Given alone, the parent brings its nested template along.
    assert verdicts(capsys, str(parent)) == (1, {("serving.json", "Llama", "EULA001", "error")})


def test_a_sam_application_with_a_local_location_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "app.json", {"Resources": {"Llama": GATED_MODEL}})
    parent = write(tmp_path / "template.json", {"Resources": {"App": {
        "Type": "AWS::Serverless::Application", "Properties": {"Location": "app.json"}}}})
    assert verdicts(capsys, str(parent)) == (1, {("app.json", "Llama", "EULA001", "error")})


@pytest.mark.parametrize("url", [
    "https://s3.amazonaws.com/bucket/serving.json",  # kept in S3
    "missing/serving.json",  # a local path that is not there
    "../outside.json",  # outside the template's directory: never read
    "/etc/passwd.json",  # absolute
    {"Fn::Sub": "https://${Bucket}.s3.amazonaws.com/serving.json"},
])
def test_a_nested_stack_that_cannot_be_located_is_a_warning_and_an_error_when_strict(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], url: object) -> None:
    (tmp_path / "inner").mkdir()
    write(tmp_path / "outside.json", {"Resources": {"Llama": GATED_MODEL}})
    parent = write(tmp_path / "inner" / "parent.json", parent_with(url))
    assert verdicts(capsys, str(parent)) == (0, {("parent.json", "Serving", "EULA006", "warning")})
    assert verdicts(capsys, "--strict", str(parent)) == (1, {("parent.json", "Serving", "EULA006", "error")})


def test_nested_templates_nesting_each_other_are_read_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    write(tmp_path / "a.json", {"Resources": {"B": parent_with("b.json")["Resources"]["Serving"]}})
    write(tmp_path / "b.json", {"Resources": {"A": parent_with("a.json")["Resources"]["Serving"],
                                              "Llama": GATED_MODEL}})
    assert verdicts(capsys, str(tmp_path / "a.json")) == (1, {("b.json", "Llama", "EULA001", "error")})


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    copy = tmp_path / "cdk.out"
    shutil.copytree(ASSEMBLY, copy)
    return copy


def _drop_template_file_metadata(assembly: Path) -> None:
    path = assembly / "Parent.metadata.json"
    metadata = json.loads(path.read_text())
    metadata["/Parent/Nested"] = [entry for entry in metadata["/Parent/Nested"]
                                  if entry.get("type") != "aws:cdk:templateFile"]
    path.write_text(json.dumps(metadata))


def _set_asset_path(assembly: Path, name: str) -> None:
    path = assembly / "Parent.template.json"
    template = json.loads(path.read_text())
    template["Resources"][NESTED_RESOURCE]["Metadata"] = {"aws:asset:path": name, "aws:asset:property": "TemplateURL"}
    path.write_text(json.dumps(template))


@pytest.mark.parametrize(("by_metadata", "nested", "model"), [
    (True, "ParentNested1E9B6DEA.nested.template.json", "UnacceptedLlama"),  # the assembly's metadata names it
    # The metadata does not name it, the resource's aws:asset:path does.
    (False, "ParentRemovedNested5C3A1B2D.nested.template.json", "LlamaChat"),
])
def test_a_located_nested_template_is_read_and_its_stack_resource_gives_no_finding(
        assembly: Path, capsys: pytest.CaptureFixture[str], by_metadata: bool, nested: str, model: str) -> None:
    if not by_metadata:
        _drop_template_file_metadata(assembly)
        _set_asset_path(assembly, nested)
    code, found = verdicts(capsys, str(assembly))
    assert code == 1
    assert (nested, model, "EULA001", "error") in found
    assert not any(rule == "EULA006" for _, _, rule, _ in found)


def test_a_nested_template_neither_metadata_nor_asset_path_names_does_not_pass_clean(
        assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _drop_template_file_metadata(assembly)
    code, found = verdicts(capsys, str(assembly))
    assert code == 1  # the Stage's own error; the nested stack adds a warning
    assert ("Parent.template.json", NESTED_RESOURCE, "EULA006", "warning") in found
    assert not any(name.endswith(".nested.template.json") for name, *_ in found)  # nothing stale is read


def test_an_asset_path_outside_the_assembly_is_refused(assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set_asset_path(assembly, "../../outside.template.json")
    (assembly.parent.parent / "outside.template.json").write_text("{}")
    _drop_template_file_metadata(assembly)
    assert main(["check", str(assembly)]) == 2
    assert "outside the cloud assembly" in capsys.readouterr().err


def test_read_with_nested_templates_reports_each_nested_stack(tmp_path: Path) -> None:
    write(tmp_path / "serving.json", {"Resources": {}})
    parent = write(tmp_path / "parent.json", {"Resources": {
        **parent_with("serving.json")["Resources"],
        "Elsewhere": parent_with("https://example.com/t.json")["Resources"]["Serving"]}})
    read = list(read_with_nested_templates([parent], lambda path, _data: (load_template(path), None),
                                           NestedStackLocator()))
    assert [(path.name, [(stack.logical_id, stack.template and stack.template.name) for stack in nested])
            for path, _, nested, _ in read] == [
        ("parent.json", [("Serving", "serving.json"), ("Elsewhere", None)]),
        ("serving.json", []),
    ]


@pytest.mark.parametrize(("name", "text"), [
    # The type spelled with an escape: the text does not name it, and the template is still looked through.
    ("parent.json", '{"Resources": {"Serving": {"Type": "AWS::CloudFormation::Stac\\u006b", '
                    '"Properties": {"TemplateURL": "serving.json"}}}}'),
    ("parent.yaml", 'Resources:\n  Serving:\n    Type: "AWS::CloudFormation::\\x53tack"\n'
                    '    Properties: {TemplateURL: serving.json}\n'),
    ("parent.yaml", 'Resources:\n  Serving:\n    Type: "AWS::Serverless::\\\n      Application"\n'
                    '    Properties: {Location: serving.json}\n'),
])
def test_a_nested_stack_type_written_with_an_escape_is_located(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str) -> None:
    write(tmp_path / "serving.json", {"Resources": {"Llama": GATED_MODEL}})
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert verdicts(capsys, str(tmp_path / name)) == (1, {("serving.json", "Llama", "EULA001", "error")})


def test_resources_that_cannot_be_judged_do_not_hide_a_nested_stack() -> None:
    nested = {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "serving.json"}}
    unhashable = {"Type": ["AWS::CloudFormation::Stack"]}
    assert declares_nested_stacks({"Resources": {"Text": "x", "Listed": unhashable, "Serving": nested}})
    assert not declares_nested_stacks({"Resources": {"Text": "x", "Listed": unhashable}})


def _model_chosen_and_accepted_by_parameters() -> dict[str, object]:
    """A nested template that leaves both the model and its acceptance to its parameters."""
    model: dict[str, object] = json.loads(json.dumps(GATED_MODEL))
    source = model["Properties"]["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]  # type: ignore[index]
    source["S3Uri"] = {"Fn::Sub": "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/${Model}/artifacts/"
                                  "inference-prepack/v1.0.0/"}
    source["ModelAccessConfig"] = {"AcceptEula": {"Ref": "Accept"}}
    return {"Parameters": {"Accept": {"Type": "String", "Default": "false"},
                           "Model": {"Type": "String", "AllowedValues": [
                               "huggingface-llm-dbrx-instruct", "huggingface-llm-mistral-7b-instruct"]}},
            "Resources": {"Llm": model}}


def _nesting(url: str, passes: dict[str, object]) -> dict[str, object]:
    return parent_with(url, **{"Properties": {"TemplateURL": url, "Parameters": passes}})


ACCEPTED = {"Accept": "true", "Model": "huggingface-llm-dbrx-instruct"}
CHILD_ERROR = ("a-child.json", "Llm", "EULA001", "error")


@pytest.mark.parametrize(("parents", "expected"), [
    ([ACCEPTED], (0, set())),  # every deployment through the parent accepts
    ([{"Accept": True, "Model": "huggingface-llm-dbrx-instruct"}], (0, set())),  # a YAML boolean is passed as text
    ([{"Accept": "false", "Model": "huggingface-llm-mistral-7b-instruct"}], (0, set())),  # not gated
    ([{"Accept": "false", "Model": "huggingface-llm-dbrx-instruct"}], (1, {CHILD_ERROR})),
    ([{"Accept": {"Ref": "Choice"}, "Model": "huggingface-llm-dbrx-instruct"}], (1, {CHILD_ERROR})),  # unknown
    ([{"Model": "huggingface-llm-dbrx-instruct"}], (1, {CHILD_ERROR})),  # the child's Default can be kept
    ([ACCEPTED, {"Accept": "false", "Model": "huggingface-llm-dbrx-instruct"}], (1, {CHILD_ERROR})),
    ([ACCEPTED, ACCEPTED], (0, set())),
])
def test_a_nested_template_is_judged_with_the_values_every_parent_passes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], parents: list[dict[str, object]],
        expected: tuple[int, set[tuple[str, str, str, str]]]) -> None:
    # The walk lists the child before its parents: it is still judged as they deploy it.
    write(tmp_path / "a-child.json", _model_chosen_and_accepted_by_parameters())
    for number, passes in enumerate(parents):
        write(tmp_path / f"parent-{number}.json", _nesting("a-child.json", passes))
    assert verdicts(capsys, str(tmp_path)) == expected


def test_a_nested_template_named_on_the_command_line_is_judged_on_its_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    child = write(tmp_path / "a-child.json", _model_chosen_and_accepted_by_parameters())
    parent = write(tmp_path / "parent.json", _nesting("a-child.json", ACCEPTED))
    assert verdicts(capsys, str(parent)) == (0, set())
    assert verdicts(capsys, str(child), str(parent)) == (1, {CHILD_ERROR})  # it may be deployed alone


@pytest.mark.parametrize(("parent_parameters", "accept", "expected"), [
    ({"Accept": {"Type": "String", "AllowedValues": ["true"]}}, {"Ref": "Accept"}, (0, set())),
    ({"Accept": {"Type": "String", "AllowedValues": ["true", "false"]}}, {"Ref": "Accept"}, (1, {CHILD_ERROR})),
    ({"Accept": {"Type": "String", "Default": "true"}}, {"Ref": "Accept"}, (1, {CHILD_ERROR})),  # overridable
    ({"Stage": {"Type": "String"}}, {"Fn::If": ["IsProd", "true", "true"]}, (0, set())),
    ({"Stage": {"Type": "String"}}, {"Fn::If": ["IsProd", "true", "false"]}, (1, {CHILD_ERROR})),
    ({}, {"Fn::FindInMap": ["Acceptance", {"Ref": "AWS::Region"}, "Accept"]}, (0, set())),
    ({}, {"Fn::GetAtt": ["Approval", "Accepted"]}, (1, {CHILD_ERROR})),  # known only at deployment
])
def test_a_value_the_parent_computes_is_bound_to_every_text_it_can_be(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], parent_parameters: dict[str, object], accept: object,
        expected: tuple[int, set[tuple[str, str, str, str]]]) -> None:
    write(tmp_path / "a-child.json", _model_chosen_and_accepted_by_parameters())
    parent = _nesting("a-child.json", {"Accept": accept, "Model": "huggingface-llm-dbrx-instruct"})
    parent.update({"Parameters": parent_parameters,
                   "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "AWS::StackName"}, "prod"]}},
                   "Mappings": {"Acceptance": {"us-east-1": {"Accept": "true"}, "eu-west-1": {"Accept": "true"}}}})
    write(tmp_path / "parent.json", parent)
    assert verdicts(capsys, str(tmp_path)) == expected


def test_every_nested_case_has_verdicts() -> None:
    assert set(NESTED_VERDICTS) == {path.name for path in NESTED_CASES.iterdir() if path.is_dir()}


@pytest.mark.parametrize("case", sorted(NESTED_VERDICTS))
def test_nested_cases_are_judged_over_what_their_parents_pass_together(
        case: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A model and its acceptance passed together stay together (the parents' deployments, not each value alone)."""
    expected = {tuple(verdict) for verdict in NESTED_VERDICTS[case]}
    errors = any(severity == "error" for *_where, severity in expected)
    assert verdicts(capsys, str(NESTED_CASES / case)) == (1 if errors else 0, expected)


def test_a_nested_case_s_template_named_on_the_command_line_is_still_judged_alone(
        capsys: pytest.CaptureFixture[str]) -> None:
    case = NESTED_CASES / "correlated-accepted"
    # Alone its model is any text and its acceptance false by default: acceptance cannot be proven.
    assert verdicts(capsys, str(case / "serving.yaml"), str(case / "parent.yaml")) == (
        0, {("serving.yaml", "Llm", "EULA001", "warning")})


def test_a_held_out_nested_template_given_with_its_parent_is_judged_alone_too(
        capsys: pytest.CaptureFixture[str]) -> None:
    case = NESTED_CASES / "holdout4-n12-child-also-alone"
    # Its parent passes acceptance; deployed alone, AcceptEula (no Default) is whatever the deployer gives.
    assert verdicts(capsys, str(case)) == (0, set())
    assert verdicts(capsys, str(case / "serve.yaml"), str(case / "parent.yaml")) == (
        1, {("serve.yaml", "Model", "EULA001", "error")})


def _correlated_parent(accept_gated: object, **resource: object) -> dict[str, object]:
    """Chooses DBRX (gated) or Mistral and passes the model and ``Accept`` together."""
    parent = _nesting("a-child.json", {"Model": {"Ref": "Model"},
                                       "Accept": {"Fn::If": ["IsDbrx", accept_gated, "false"]}})
    parent["Resources"]["Serving"].update(resource)  # type: ignore[index]
    parent.update({"Parameters": {"Model": {"Type": "String", "AllowedValues": [
                       "huggingface-llm-mistral-7b-instruct", "huggingface-llm-dbrx-instruct"]}},
                   "Conditions": {"IsDbrx": {"Fn::Equals": [{"Ref": "Model"}, "huggingface-llm-dbrx-instruct"]},
                                  "Never": {"Fn::Equals": ["a", "b"]}}})
    return parent


@pytest.mark.parametrize(("parent", "expected"), [
    (_correlated_parent("true"), (0, set())),
    (_correlated_parent("false"), (1, {CHILD_ERROR})),
    # A nested stack whose Condition never holds passes nothing: nothing of its template is deployed through it.
    (_correlated_parent("false", Condition="Never"), (0, set())),
])
def test_a_model_and_its_acceptance_passed_together_are_judged_together(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], parent: dict[str, object],
        expected: tuple[int, set[tuple[str, str, str, str]]]) -> None:
    write(tmp_path / "a-child.json", _model_chosen_and_accepted_by_parameters())
    write(tmp_path / "parent.json", parent)
    assert verdicts(capsys, str(tmp_path)) == expected


def test_a_value_passed_outside_the_nested_parameter_s_allowed_values_deploys_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The child allows only DBRX and Mistral: the parent's unaccepted Gemma makes CloudFormation refuse the stack.
    write(tmp_path / "a-child.json", _model_chosen_and_accepted_by_parameters())
    parent = _correlated_parent("true")
    parent["Parameters"]["Model"]["AllowedValues"].append("huggingface-llm-gemma-7b-instruct")  # type: ignore[index]
    write(tmp_path / "parent.json", parent)
    assert verdicts(capsys, str(tmp_path)) == (0, set())


def test_what_a_parent_passes_past_the_cap_makes_the_nested_resource_unevaluable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Eleven two-valued parameters passed: 2,048 deployments of the parent, more than the cap. A cap is never a
    pass: the nested resource that reads a passed value is EULA000."""
    flags = {f"Flag{number}": {"Type": "String", "AllowedValues": ["a", "b"]} for number in range(11)}
    child = _model_chosen_and_accepted_by_parameters()
    child["Parameters"].update(flags)  # type: ignore[attr-defined]
    write(tmp_path / "a-child.json", child)
    parent = _nesting("a-child.json", {"Model": "huggingface-llm-dbrx-instruct", "Accept": "true",
                                       **{name: {"Ref": name} for name in flags}})
    parent["Parameters"] = flags
    write(tmp_path / "parent.json", parent)
    assert verdicts(capsys, str(tmp_path)) == (1, {("a-child.json", "Llm", "EULA000", "error")})


@pytest.mark.parametrize(("passes", "expected"), [
    # The whole map chosen by a condition of the parent: each branch is what one deployment passes.
    ({"Fn::If": ["IsProd", ACCEPTED, {"Accept": "false", "Model": "huggingface-llm-mistral-7b-instruct"}]},
     (0, set())),
    ({"Fn::If": ["IsProd", ACCEPTED, {"Accept": "false", "Model": "huggingface-llm-dbrx-instruct"}]},
     (1, {CHILD_ERROR})),
    # A map known only at deployment may pass anything; AWS::NoValue passes nothing (the child's Default, false).
    ({"Fn::GetAtt": ["Settings", "Parameters"]}, (1, {CHILD_ERROR})),
    # Passing no map leaves Model, which has no Default, without a value: CloudFormation refuses that nested stack.
    ({"Fn::If": ["IsProd", ACCEPTED, {"Ref": "AWS::NoValue"}]}, (0, set())),
    ({"Fn::If": ["IsProd", ACCEPTED, {"Model": "huggingface-llm-dbrx-instruct"}]}, (1, {CHILD_ERROR})),
    ({"Model": "huggingface-llm-dbrx-instruct", "Accept": {"Ref": "AWS::NoValue"}}, (1, {CHILD_ERROR})),
])
def test_parameters_chosen_whole_or_left_out_are_read_per_deployment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], passes: object,
        expected: tuple[int, set[tuple[str, str, str, str]]]) -> None:
    write(tmp_path / "a-child.json", _model_chosen_and_accepted_by_parameters())
    parent = parent_with("a-child.json", Properties={"TemplateURL": "a-child.json", "Parameters": passes})
    parent["Conditions"] = {"IsProd": {"Fn::Equals": [{"Ref": "AWS::StackName"}, "prod"]}}
    write(tmp_path / "parent.json", parent)
    assert verdicts(capsys, str(tmp_path)) == expected


@pytest.mark.parametrize(("accept_by_region", "expected"), [
    ({"us-east-1": "true", "eu-west-1": "false"}, (0, set())),
    ({"us-east-1": "false", "eu-west-1": "true"}, (1, {CHILD_ERROR})),
])
def test_a_nested_stack_deploys_in_its_parent_s_region(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], accept_by_region: dict[str, str],
        expected: tuple[int, set[tuple[str, str, str, str]]]) -> None:
    """The parent accepts per region and the child chooses the model per region: the same region in both."""
    child = _model_chosen_and_accepted_by_parameters()
    child["Mappings"] = {"ModelByRegion": {"us-east-1": {"Id": "huggingface-llm-dbrx-instruct"},
                                           "eu-west-1": {"Id": "huggingface-llm-mistral-7b-instruct"}}}
    source = child["Resources"]["Llm"]["Properties"]["PrimaryContainer"]["ModelDataSource"]  # type: ignore[index]
    source["S3DataSource"]["S3Uri"]["Fn::Sub"] = [source["S3DataSource"]["S3Uri"]["Fn::Sub"], {
        "Model": {"Fn::FindInMap": ["ModelByRegion", {"Ref": "AWS::Region"}, "Id"]}}]
    write(tmp_path / "a-child.json", child)
    # Model has no Default: it must be passed (the mapping the URI reads shadows it), or the nested stack fails.
    parent = _nesting("a-child.json", {"Accept": {"Fn::FindInMap": ["Accept", {"Ref": "AWS::Region"}, "V"]},
                                       "Model": "huggingface-llm-mistral-7b-instruct"})
    parent["Mappings"] = {"Accept": {region: {"V": accept} for region, accept in accept_by_region.items()}}
    write(tmp_path / "parent.json", parent)
    assert verdicts(capsys, str(tmp_path)) == expected


ACCEPTED_BY_PARAMETER = """Parameters:
  AcceptEula: {Type: String, AllowedValues: ['true', 'false']}
Resources:
  Llama:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::123456789012:role/sagemaker
      PrimaryContainer:
        Image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0
        ModelDataSource:
          S3DataSource:
            S3Uri: s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-7b-f/artifacts/inference-prepack/v1.1.0/
            S3DataType: S3Prefix
            CompressionType: None
            ModelAccessConfig: {AcceptEula: !Ref AcceptEula}
"""


@pytest.mark.parametrize(("passed", "expected"), [
    ("'true'", (0, set())),
    ("'false'", (1, {("template.yaml", "Llama", "EULA001", "error")})),
])
def test_holdout3_a_yaml_sam_application_is_read_with_the_acceptance_it_passes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], passed: str,
        expected: tuple[int, set[tuple[str, str, str, str]]]) -> None:
    """A YAML parent (SAM transform) whose application's local Location is a YAML template below it."""
    (tmp_path / "apps" / "chat").mkdir(parents=True)
    (tmp_path / "apps" / "chat" / "template.yaml").write_text(ACCEPTED_BY_PARAMETER, encoding="utf-8")
    parent = tmp_path / "template.yaml"
    parent.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  Chat:\n"
                      "    Type: AWS::Serverless::Application\n    Properties:\n"
                      f"      Location: apps/chat/template.yaml\n      Parameters:\n        AcceptEula: {passed}\n",
                      encoding="utf-8")
    assert verdicts(capsys, str(parent)) == expected


def test_holdout3_a_dot_relative_template_url_from_a_yaml_parent_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "stacks").mkdir()
    write(tmp_path / "stacks" / "serving.json", {"Resources": {"Gemma": GATED_MODEL}})
    parent = tmp_path / "parent.yaml"
    parent.write_text("Resources:\n  Serving:\n    Type: AWS::CloudFormation::Stack\n"
                      "    Properties:\n      TemplateURL: ./stacks/serving.json\n", encoding="utf-8")
    assert verdicts(capsys, str(parent)) == (1, {("serving.json", "Gemma", "EULA001", "error")})

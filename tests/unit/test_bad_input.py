"""Bad input found by adversarial review: each case gives one line on stderr and exit 2, never a traceback or a pass."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.aws_names import s3_uri_problem
from constructs_lib.catalog import Catalog, CatalogError
from constructs_lib.catalog.catalog import CATALOG_ENV_VAR, DEFAULT_CATALOG_PATH, read_document
from constructs_lib.cli import EXIT_BAD_INPUT, main
from constructs_lib.cli.invoke import MAX_BODY_BYTES, read_body
from constructs_lib.table import TableError, load_table
from constructs_lib.table.yaml_source import parse_yaml
from tests.support.deadline import returns_within

ENDPOINT_TABLE = "defaults: {{regions: [us-east-1]}}\nendpoints:\n  - name: llama\n    model: Llama2-7B\n{extra}"
AUTOPILOT_TABLE = """defaults: {{regions: [us-east-1]}}
fine_tuning:
  - name: tune
    base_model: Llama2-7B
    training_data: {training_data}
    output_path: s3://my-bucket/out/
    accept_eula: true
{extra}"""
TRAINING_TABLE = """fine_tuning:
  - name: tune
    method: jumpstart-training
    base_model: Llama2-7B
    training_data: s3://my-bucket/train/
    output_path: s3://my-bucket/out/
    accept_eula: true
    regions: [us-west-2]
    hyperparameters: {{{hyperparameters}}}
"""


def error_of(text: str, tmp_path: Path) -> str:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TableError) as caught:
        load_table(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}:")
    return message


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


# -- YAML 1.1 spellings that YAML 1.2 (and editors using schema.json) read as strings -----------------------------

@pytest.mark.parametrize("spelling", ["yes", "Yes", "on", "ON", "y"])
def test_accept_eula_needs_a_literal_true_not_a_yaml_1_1_yes(spelling: str, tmp_path: Path) -> None:
    message = error_of(ENDPOINT_TABLE.format(extra=f"    accept_eula: {spelling}\n"), tmp_path)
    assert ":5: endpoint 'llama' field 'accept_eula': expected true or false" in message
    assert f"got a string ({spelling!r})" in message


def test_no_and_off_are_not_false_either(tmp_path: Path) -> None:
    assert "got a string ('no')" in error_of(ENDPOINT_TABLE.format(extra="    accept_eula: no\n"), tmp_path)


@pytest.mark.parametrize(("text", "expected"), [
    ("v: true", True), ("v: False", False), ("v: TRUE", True), ("v: 12", 12), ("v: 0x1F", 31), ("v: 1.5", 1.5),
    ("v: .inf", float("inf")), ("v: yes", "yes"), ("v: off", "off"), ("v: 1:30", "1:30"), ("v: 1:30.5", "1:30.5"),
])
def test_scalars_resolve_as_yaml_1_2_core(text: str, expected: object) -> None:
    assert parse_yaml(text, source="t.yaml") == {"v": expected}


def test_sexagesimal_runtime_is_not_silently_ninety(tmp_path: Path) -> None:
    message = error_of(AUTOPILOT_TABLE.format(training_data="s3://my-bucket/train/", extra="    max_runtime: 1:30\n"),
                       tmp_path)
    assert "field 'max_runtime': expected an integer of at least 1, got a string ('1:30')" in message


def test_container_environment_keeps_on_as_written(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(ENDPOINT_TABLE.format(extra="    accept_eula: true\n    environment: {FLAG: on}\n"))
    assert load_table(path).endpoints[0].environment == {"FLAG": "on"}


# -- row names -------------------------------------------------------------------------------------------------

def test_names_that_differ_only_in_case_are_duplicates(tmp_path: Path) -> None:
    text = ENDPOINT_TABLE.format(extra="    accept_eula: true\n  - name: LLAMA\n    model: FlanT5XL\n")
    message = error_of(text, tmp_path)
    assert ":6: endpoint 'LLAMA' field 'name': duplicate name 'LLAMA'" in message
    assert "line 3 as 'llama'" in message and "ignoring case" in message


# -- S3 URIs ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("uri", "problem"), [
    ("https://my-bucket/train/", "must start with s3://"),
    ("my-bucket/train/", "must start with s3://"),
    ("s3:///train/", "bucket name is missing"),
    ("s3://My-Bucket/train/", "not a valid S3 bucket name"),
    ("s3://ab/train/", "not a valid S3 bucket name"),
    ("s3://my..bucket/train/", "not a valid S3 bucket name"),
    ("s3://my-bucket-/train/", "not a valid S3 bucket name"),
    ("s3://192.168.10.1/train/", "IP address"),
    ("s3://xn--bucket/train/", "reserves"),
    ("s3://my-bucket-s3alias/train/", "reserves"),
    ("s3://my-bucket/tr ain/", "space or a control character"),
    ("s3://my-bucket/tr\x00ain/", "space or a control character"),
    ("s3://my-bucket/" + "k" * 1020, "at most 1024"),
])
def test_s3_uri_problems_name_the_broken_part(uri: str, problem: str) -> None:
    found = s3_uri_problem(uri)
    assert found is not None and problem in found


@pytest.mark.parametrize("uri", ["s3://my-bucket", "s3://my-bucket/", "s3://my.bucket.v2/a/b/ümlaut/", "s3://a1b/x"])
def test_valid_s3_uris_pass(uri: str) -> None:
    assert s3_uri_problem(uri) is None


def test_table_error_for_a_bad_bucket_names_row_field_and_reason(tmp_path: Path) -> None:
    message = error_of(AUTOPILOT_TABLE.format(training_data="s3://my..bucket/train/", extra=""), tmp_path)
    assert ":5: fine_tuning 'tune' field 'training_data': expected an S3 URI" in message
    assert "no two adjacent dots" in message


# -- JumpStart training hyperparameters: the type, range and options of the model's spec --------------------------

@pytest.mark.parametrize(("hyperparameters", "expected"), [
    ("epoch: abc", "field 'hyperparameters.epoch': model 'meta-textgeneration-llama-2-7b': expected an integer "
                   "(the default is 5), got a string ('abc')"),
    ("epoch: true", "expected an integer (the default is 5), got a boolean (true)"),
    ("lora_r: 1.5", "field 'hyperparameters.lora_r': model 'meta-textgeneration-llama-2-7b': expected an integer "
                    "(the default is 8), got a number (1.5)"),
    ("epoch: -5", "field 'hyperparameters.epoch': model 'meta-textgeneration-llama-2-7b': expected an integer "
                  "from 1 to 1000 (the default is 5), got an integer (-5)"),
    ("epoch: 1001", "expected an integer from 1 to 1000 (the default is 5), got an integer (1001)"),
    ("lora_dropout: 1.5", "expected a number from 0 to 1 (the default is 0.05), got a number (1.5)"),
    ("learning_rate: '0'", "expected a number from 1e-08 to 1 (the default is 0.0001), got a string ('0')"),
    ("max_train_samples: -2", "expected an integer >= -1 (the default is -1), got an integer (-2)"),
    ("enable_fsdp: sometimes", "field 'hyperparameters.enable_fsdp': model 'meta-textgeneration-llama-2-7b': "
                               "expected one of True, False (the default is True), got a string ('sometimes')"),
    ("sagemaker_program: mine.py", "field 'hyperparameters.sagemaker_program': model "
                                   "'meta-textgeneration-llama-2-7b': reserved: the training job sets"),
    ("lora_r: [8]", "expected a string or number, got a list"),
])
def test_training_hyperparameter_outside_the_spec(hyperparameters: str, expected: str, tmp_path: Path) -> None:
    assert expected in error_of(TRAINING_TABLE.format(hyperparameters=hyperparameters), tmp_path)


def test_training_hyperparameters_within_the_spec_load(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(TRAINING_TABLE.format(
        hyperparameters="epoch: 3, learning_rate: 1e-5, lora_r: '16', enable_fsdp: false, int8_quantization: 'TRUE', "
                        "preprocessing_num_workers: 4, max_train_samples: -1, lora_dropout: 1"
    ))
    # Booleans take the spec's option spelling; a text hyperparameter (preprocessing_num_workers) takes a number.
    assert load_table(path).fine_tuning[0].hyperparameters == {
        "epoch": 3, "learning_rate": "1e-5", "lora_r": "16", "enable_fsdp": "False", "int8_quantization": "True",
        "preprocessing_num_workers": 4, "max_train_samples": -1, "lora_dropout": 1,
    }


# -- EULAGATE_CATALOG pointing at something that is not a catalog ---------------------------------------------

def _shipped_document() -> dict:
    return read_document(DEFAULT_CATALOG_PATH)


def _broken_image_index() -> dict:
    document = _shipped_document()
    document["models"][0]["image_variants"] = [{"families": ["g5"], "regions": {"us-east-1": 10**9}}]
    return document


@pytest.mark.parametrize(("content", "expected"), [
    (None, "cannot read catalog {path}: No such file or directory"),
    ("{", "cannot read catalog {path}: not JSON"),
    ([1, 2], "catalog {path}: a JSON list is not an EulaGate catalog of format 2"),
    ({"format": 99}, "catalog {path}: format 99 is not an EulaGate catalog"),
    ({"format": 1, "models": []}, "catalog {path}: malformed (KeyError: 'images')"),
    ({"format": 1, "images": [], "models": 5}, "catalog {path}: malformed (TypeError"),
    ({"format": 1, "images": [], "models": [{"model_id": "m"}]}, "catalog {path}: model record #1 ('m') is malformed"),
    (_broken_image_index, "model record #1 ("),
])
def test_a_catalog_that_is_not_one_is_a_one_line_error(content: object, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    if callable(content):
        content = content()
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_text(json.dumps(content))
    with pytest.raises(CatalogError) as caught:
        Catalog.from_file(path)
    message = str(caught.value)
    assert expected.format(path=path) in message
    assert "\n" not in message and f"point {CATALOG_ENV_VAR} at a catalog" in message


@pytest.mark.parametrize("argv", [["models"], ["plan", "models.yaml"], ["check", "S.template.json"]])
def test_every_command_that_loads_a_wrong_catalog_exits_2(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"format": 1, "models": []}))  # right format number, wrong shape
    (tmp_path / "models.yaml").write_text(ENDPOINT_TABLE.format(extra="    accept_eula: true\n"))
    (tmp_path / "S.template.json").write_text(json.dumps({"Resources": {"M": {
        "Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": {
            "ModelDataUrl": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/"
                            "meta-textgeneration-llama-2-7b/artifacts/inference/v1.0.0/"}}}}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CATALOG_ENV_VAR, str(catalog))
    code, err = run_cli(argv, capsys)
    assert code == EXIT_BAD_INPUT
    assert err.count("\n") == 1 and f"catalog {catalog}: malformed" in err and "Traceback" not in err


# -- eulagate invoke ---------------------------------------------------------------------------------------------

def test_invoke_body_at_sign_without_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["invoke", "my-endpoint", "--body", "@", "--region", "us-east-1"], capsys)
    assert code == EXIT_BAD_INPUT
    assert err == "eulagate invoke: --body @ names no file; pass @FILE, or @- to read the body from stdin\n"


INVOKE = ["invoke", "my-endpoint", "--region", "us-east-1", "--body"]
BODY_LIMIT = ("(SageMaker's InvokeEndpoint limit); send a bigger request to an asynchronous endpoint with "
              "--input-location s3://...")


def sparse_file(path: Path, size: int) -> None:
    """A file of ``size`` zero bytes that takes no disk: a reader must refuse it by its size, not by reading it."""
    with path.open("wb") as handle:
        handle.truncate(size)


@pytest.mark.parametrize(("make", "expected"), [
    (os.mkfifo, "a FIFO, not a regular file; pipe the body to --body @- instead"),
    (Path.mkdir, "a directory, where a file is expected"),
    (lambda path: None, "cannot read the file: No such file or directory"),
    (lambda path: sparse_file(path, MAX_BODY_BYTES + 1),
     f"6,291,457 bytes, more than the 6,291,456 EulaGate reads {BODY_LIMIT}"),
])
def test_invoke_refuses_a_body_file_it_cannot_send_before_reading_it(
        make: Callable[[Path], object], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "body.json"
    make(body)
    code, err = returns_within(lambda: run_cli([*INVOKE, f"@{body}"], capsys), what="eulagate invoke --body @FILE")
    assert (code, err) == (EXIT_BAD_INPUT, f"eulagate invoke: --body @{body}: {expected}\n")


def test_invoke_reads_a_body_file_up_to_the_invoke_endpoint_limit(tmp_path: Path) -> None:
    body = tmp_path / "body.bin"
    sparse_file(body, MAX_BODY_BYTES)  # exactly as much as InvokeEndpoint takes
    assert read_body(f"@{body}", "application/octet-stream") == bytes(MAX_BODY_BYTES)
    (tmp_path / "prompt.json").write_text('{"inputs": "hi"}')
    assert read_body(f"@{tmp_path / 'prompt.json'}", "application/json") == b'{"inputs": "hi"}'


def test_invoke_reads_at_most_the_limit_from_stdin(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"{}")))
    assert read_body("@-", "application/json") == b"{}"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b" " * (MAX_BODY_BYTES + 1))))
    code, err = run_cli([*INVOKE, "@-"], capsys)
    assert (code, err) == (EXIT_BAD_INPUT, f"eulagate invoke: --body @-: more than the 6,291,456 bytes EulaGate reads "
                                           f"{BODY_LIMIT}\n")


# -- eulagate check: templates and cloud assemblies that are not what they should be ------------------------------

TEMPLATE_TEXTS = {
    "typed-float.yaml": ("Resources: {}\nValue: !!float x\n", "line 2 column 8: !!float 'x' is not a float"),
    "typed-int.yaml": ("Resources: {}\nValue: !!int x\n", "line 2 column 8: !!int 'x' is not an int"),
    "typed-bool.yaml": ("Resources: {}\nValue: !!bool x\n", "line 2 column 8: !!bool 'x' is not a bool"),
    "typed-timestamp.yaml": ("Resources: {}\nValue: !!timestamp x\n", "!!timestamp is not allowed"),
    "deep.yaml": ("Resources: {}\nValue: " + "[" * 250 + "]" * 250 + "\n", "nested more than 100 levels deep"),
    "deep.json": ('{"Resources": {}, "Value": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply to read"),
    "aliases.yaml": ("Resources: {}\nA: &a [1, 2]\nB: [*a, *a]\n", "YAML aliases are not allowed"),
}


@pytest.mark.parametrize("name", sorted(TEMPLATE_TEXTS))
def test_check_refuses_unreadable_templates_with_one_line(name: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = TEMPLATE_TEXTS[name]
    (tmp_path / name).write_text(text)
    code, err = run_cli(["check", str(tmp_path / name)], capsys)
    assert code == EXIT_BAD_INPUT and err.count("\n") == 1
    assert err.startswith(f"eulagate check: {tmp_path / name}: ") and expected in err


def test_check_reads_typed_scalars_of_their_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.yaml").write_text("Resources: {}\nA: !!float 1.5\nB: !!int 3\nC: !!bool true\n")
    assert run_cli(["check", str(tmp_path / "t.yaml")], capsys)[0] == 0


def test_check_refuses_a_huge_file_before_reading_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = tmp_path / "huge.json"
    sparse_file(huge, 100 * 1024 * 1024)
    code, err = run_cli(["check", str(huge)], capsys)
    assert code == EXIT_BAD_INPUT and "104,857,600 bytes, more than the 16,777,216 EulaGate reads" in err


def test_check_never_opens_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    code, err = run_cli(["check", str(fifo)], capsys)
    assert code == EXIT_BAD_INPUT and err == f"eulagate check: {fifo}: a FIFO, not a regular file; EulaGate reads " \
                                             "only template files\n"
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    os.mkfifo(assembly / "S.template.json")
    (assembly / "manifest.json").write_text(json.dumps({"artifacts": {"S": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}}}}))
    code, err = run_cli(["check", str(assembly)], capsys)
    assert code == EXIT_BAD_INPUT and "S.template.json: a FIFO, not a regular file" in err


@pytest.mark.parametrize("template_file", ["../../etc/passwd", "/proc/self/environ"])
def test_check_refuses_manifest_entries_outside_the_assembly(template_file: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assembly = tmp_path / "a" / "cdk.out"
    assembly.mkdir(parents=True)
    (assembly / "manifest.json").write_text(json.dumps({"artifacts": {"S": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": template_file}}}}))
    code, err = run_cli(["check", str(assembly)], capsys)
    assert code == EXIT_BAD_INPUT and err.count("\n") == 1
    assert f"stack 'S' names {template_file}, which is outside the cloud assembly" in err


# Fragments of what templates are made of, and of what they must not be: the fuzzer glues them together.
_FRAGMENTS = st.sampled_from([
    "Resources:", " {}", "\n", "  ", "- ", "[", "]", "{", "}", ", ", ": ", "!!float", "!!int", "!!bool",
    "!!timestamp", "!!binary", "!!set", "!!str", "&a", "*a", "<<:", "!Ref", "!Sub", "!GetAtt", "!If", "!Unknown",
    '"', "'", "x", "1.5", "true", "null", "~", "Type: AWS::SageMaker::Model", "Properties:",
    "PrimaryContainer:", "S3Uri: s3://jumpstart-private-cache-prod-us-east-1/x/", "AcceptEula: !!bool x",
    "%YAML 1.1\n", "---\n", "...\n", "\t", "\x00", "\ufeff", "é", "\U0001f600",
]) | st.text(max_size=4)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_FRAGMENTS, max_size=40), suffix=st.sampled_from([".yaml", ".json", ".template", ".YML"]),
       depth=st.integers(min_value=0, max_value=300))
def test_fuzzed_template_files_never_crash_check(pieces: list[str], suffix: str, depth: int, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"fuzzed{suffix}"
    path.write_text("[" * depth + "".join(pieces) + "]" * depth, encoding="utf-8")
    code, err = run_cli(["check", str(path)], capsys)
    assert code in (0, 1, EXIT_BAD_INPUT)
    if code == EXIT_BAD_INPUT:
        assert err.count("\n") == 1 and err.startswith("eulagate check: ") and "Traceback" not in err


@pytest.mark.parametrize("tag", ["!!int", "!!float", "!!bool"])
def test_a_typed_tag_without_a_value_is_one_line(tag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.yaml").write_text(f"Resources: {{}}\nA: {tag}\n")  # found by the fuzzer: an IndexError once
    code, err = run_cli(["check", str(tmp_path / "t.yaml")], capsys)
    assert code == EXIT_BAD_INPUT and err.count("\n") == 1 and f"{tag} '' is not" in err

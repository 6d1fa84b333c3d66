"""Hostile files for the fuzz test (tests/unit/test_fuzz.py) and its bench (bench/fuzz.py): templates, model
tables and hook events, and the one property every one of them must have.

Each input is either built from parts (random documents with intrinsic functions, SageMaker types, huge integers,
lone surrogates, deep nesting, typed YAML tags) or a real fixture mutated with the tokens that broke readers
before (``!!int ''``, aliases, merge keys, a 5,000-digit number, ``\\ud800``...). ``outcome`` runs the CLI on it
in this process and says what happened; ``problem`` says what is wrong with that: the property is one line and
exit 2, or a verdict (exit 0 or 1), and never an exception.
"""

from __future__ import annotations

import contextlib
import io
import json
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from constructs_lib.cli import main
from constructs_lib.hook.handler import handle

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TEMPLATE_SEEDS = tuple(sorted((FIXTURES / "templates" / "good").glob("*"))) + tuple(
    sorted((FIXTURES / "templates" / "bad").glob("*")))
TABLE_SEEDS = (ROOT / "models.yaml", *sorted((FIXTURES / "tables" / "good").glob("*.yaml")))
EVENT_SEEDS = tuple(sorted((ROOT / "examples" / "hook-events").glob("*.json")))

HUGE_INTEGER = "9" * 5000
# Stands for HUGE_INTEGER in generated documents (neither json nor PyYAML writes such an int): replaced in the text.
HUGE_MARKER = "__huge_integer__"
# What broke a reader before, or could: typed tags without a value, aliases and merge keys, short forms,
# surrogate escapes, control characters, deep brackets, big numbers.
NASTY_TOKENS = (
    "!!int ''", "!!float ''", "!!int", "!!float", "!!bool ''", "!!timestamp x", "!!binary x", "!!set {a}",
    "!!map [1]", "!!str", "!!python/object:os.system", "&a [1]", "*a", "<<: *a", "!Ref", "!GetAtt a.b.c",
    "!Sub", "!If [c]", "!Base64", "Fn::ForEach::X", "{", "}", "[", "]", "[" * 300, "{\"a\": " * 200,
    "\\ud800", "\\udc00", "\"\\ud83d\"", "\t", "\x00", "\x7f", "\ufeff", "---", "...", "%YAML 1.1", "? a",
    HUGE_INTEGER, "-" + HUGE_INTEGER, "1e999", "0x", "0o", ".nan", "~", "null", ": ", "- ", "'", "\"",
    "AWS::SageMaker::Model", "AcceptEula: true", "s3://jumpstart-private-cache-prod-us-east-1/",
)
RESOURCE_TYPES = (
    "AWS::SageMaker::Model", "AWS::SageMaker::ModelPackage", "AWS::SageMaker::InferenceComponent",
    "AWS::SageMaker::Pipeline", "AWS::StepFunctions::StateMachine", "AWS::CloudFormation::StackSet",
    "Custom::AutoMLJob", "AWS::CloudFormation::CustomResource", "AWS::SNS::Topic", "AWS::Lambda::Function",
)
INTRINSICS = ("Ref", "Fn::If", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::FindInMap", "Fn::GetAtt",
              "Fn::Split", "Fn::Base64", "Fn::ToJsonString", "Fn::Length", "Condition", "Fn::Equals")
KEYS = ("PrimaryContainer", "Containers", "ModelDataSource", "S3DataSource", "S3Uri", "ModelAccessConfig",
        "AcceptEula", "Image", "ModelDataUrl", "Environment", "ServiceToken", "BaseModelName", "Definition",
        "DefinitionString", "TemplateBody", "Properties", "Type", "Resources", "Parameters", "Conditions")
TABLE_KEYS = ("defaults", "endpoints", "fine_tuning", "name", "model", "base_model", "accept_eula", "regions",
              "instance_type", "training_data", "output_path", "method", "hyperparameters", "deploy",
              "autoscaling", "environments", "serverless", "inference_component", "async")
LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")


SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(LONE_SURROGATES), st.sampled_from(KEYS), st.just(HUGE_MARKER),
    st.sampled_from(["true", "false",
                     "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-2-7b-f/"]),
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=4),
        st.builds(lambda name, value: {name: value}, st.sampled_from(INTRINSICS), children),
    ),
    max_leaves=24,
)


def _nest(depth: int, shape: str, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        as_list = shape == "list" or (shape == "mixed" and level % 2 == 0)
        value = [value] if as_list else {"Fn::If" if shape == "intrinsic" else "a": value}
    return value


# A value nested far deeper than any template or event: past the readers' limits and Python's stack.
NESTED: st.SearchStrategy[Any] = st.builds(
    _nest, st.sampled_from([50, 99, 101, 500, 1500, 5000]), st.sampled_from(["list", "dict", "mixed", "intrinsic"]),
    SCALARS)


@st.composite
def built_templates(draw: st.DrawFn) -> dict[str, Any]:
    resources = {}
    for index in range(draw(st.integers(0, 4))):
        resource: Any = {"Type": draw(st.sampled_from(RESOURCE_TYPES)),
                         "Properties": draw(st.one_of(VALUES, NESTED))}
        if draw(st.integers(0, 9)) == 0:
            resource = draw(VALUES)  # not even a resource
        resources[draw(st.one_of(st.just(f"R{index}"), st.text(max_size=6), st.sampled_from(LONE_SURROGATES)))] = \
            resource
    template: dict[str, Any] = {"Resources": resources}
    for section in ("Parameters", "Conditions", "Mappings", "Transform", "Metadata"):
        if draw(st.integers(0, 4)) == 0:
            template[section] = draw(VALUES)
    return template


def _dump(document: Any, as_yaml: bool) -> str:
    import yaml

    if as_yaml:
        try:
            return yaml.safe_dump(document, allow_unicode=False, sort_keys=False).replace(HUGE_MARKER, HUGE_INTEGER)
        except (yaml.YAMLError, RecursionError, UnicodeEncodeError):
            pass  # PyYAML cannot write it: JSON can
    try:
        # ASCII: lone surrogates become \\u escapes, as an attacker would write them
        return json.dumps(document).replace(f'"{HUGE_MARKER}"', HUGE_INTEGER)
    except (RecursionError, ValueError):
        return "[" * 5000


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[Path, ...]) -> str:
    """A real file with a few cuts and insertions of nasty tokens at random places."""
    text = draw(st.sampled_from(seeds)).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.integers(0, 3))
        if action == 3:  # a value replaced: the token where the reader expects a scalar
            lines = text.split("\n")
            valued = [index for index, line in enumerate(lines) if ": " in line]
            if valued:
                index = draw(st.sampled_from(valued))
                key = lines[index].split(": ", 1)[0]
                lines[index] = f"{key}: {draw(st.sampled_from(NASTY_TOKENS))}"
                text = "\n".join(lines)
        elif action == 0:
            text = text[:at] + draw(st.sampled_from(NASTY_TOKENS)) + text[at:]
        elif action == 1:
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            text = text[:at] + draw(st.text(max_size=10)) + text[at:]
    return text


TABLES: st.SearchStrategy[Any] = st.dictionaries(st.sampled_from(TABLE_KEYS), st.one_of(
    VALUES, st.lists(st.dictionaries(st.sampled_from(TABLE_KEYS), VALUES, max_size=6), max_size=3)), max_size=4)


@st.composite
def built_tables(draw: st.DrawFn) -> str:
    return _dump(draw(TABLES), as_yaml=True)


def template_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(_dump, built_templates(), st.booleans()),
        mutated(TEMPLATE_SEEDS),
        st.text(max_size=200),
    )


def table_texts() -> st.SearchStrategy[str]:
    return st.one_of(built_tables(), mutated(TABLE_SEEDS), st.text(max_size=200))


@st.composite
def hook_events(draw: st.DrawFn) -> str:
    event = json.loads(draw(st.sampled_from(EVENT_SEEDS)).read_text())
    data = event.get("requestData", {})
    choice = draw(st.integers(0, 3))
    if choice == 0 and "targetModel" in data:
        data["targetModel"]["resourceProperties"] = draw(st.one_of(VALUES, NESTED))
    elif choice == 1:
        event[draw(st.sampled_from(["requestData", "actionInvocationPoint", "clientRequestToken"]))] = \
            draw(VALUES)
    elif choice == 2:
        return draw(mutated(EVENT_SEEDS))
    else:
        event = draw(NESTED)
    return _dump(event, as_yaml=False)


@dataclass(frozen=True)
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    crash: str = ""  # the traceback of an exception that escaped the CLI


def outcome(argv: list[str]) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exit_:  # argparse
        return Outcome(int(exit_.code or 0), out.getvalue(), err.getvalue())
    except BaseException:  # what the property is about
        return Outcome(None, out.getvalue(), err.getvalue(), traceback.format_exc())
    return Outcome(code, out.getvalue(), err.getvalue())


def problem(result: Outcome) -> str | None:
    """What is wrong with ``result`` (None: one line and exit 2, or a verdict)."""
    if result.crash:
        return f"an exception escaped:\n{result.crash}"
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:  # a real terminal or pipe would raise here
            return f"{stream} cannot be written as UTF-8: {error}"
    if result.code == 2:
        lines = result.stderr.splitlines()
        if len(lines) != 1:
            return f"exit 2 with {len(lines)} lines on stderr: {result.stderr[:2000]!r}"
        return None
    if result.code in (0, 1):
        if not (result.stdout.strip() or result.stderr.strip()):
            return f"exit {result.code} without a verdict"
        return None
    return f"exit {result.code}"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate: bytes that are not UTF-8
    return path


def hook_problem(event_text: str, directory: Path) -> str | None:
    """``eulagate hook simulate`` on the event, and ``handle`` on it directly: a response, never an exception."""
    path = write(directory, "event.json", event_text)
    cli = problem(outcome(["hook", "simulate", str(path)]))
    if cli:
        return cli
    try:
        event = json.loads(event_text)
    except (ValueError, RecursionError):
        return None
    try:  # stack events: a stand-in payload, never a download
        response = handle(event, fetch_payload=lambda _url: {"template": "Resources: {}"})
    except BaseException:  # what the property is about
        return f"the handler raised:\n{traceback.format_exc()}"
    if response.get("hookStatus") not in ("SUCCESS", "FAILED") or not isinstance(response.get("message"), str):
        return f"not a hook response: {response!r}"[:2000]
    json.dumps(response)  # what Lambda does with it
    return None

"""The Python reader against a concrete oracle: generated scripts are *run* here (with stand-ins for the SDK
that record each deploy) for every value of what the reader cannot know, and the reader's verdict is compared.

- Soundness: when some run deploys a gated model (by the catalog, or by family for a model it does not list)
  without ``accept_eula=True``, the strict check reports an error at that call.
- Precision: when no run does, every model id is one the catalog lists and every acceptance a literal, no error
  is reported. (The reader does not correlate a condition with a value: ``accept_eula=FLAG`` inside ``if FLAG:``
  is unknown to it, as docs/surfaces/python.md says.)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.catalog import Catalog
from constructs_lib.rules.artifacts import catalog_index
from constructs_lib.surfaces.python_source import read_python, requests_in

GATED = "meta-textgeneration-llama-3-8b"
OPEN = "huggingface-llm-falcon-7b-bf16"
GATED_FAMILY = "meta-textgeneration-llama-9-99b"  # not listed; every meta-textgeneration-llama-* is gated
MODELS = (GATED, OPEN, "huggingface-llm-gemma-7b", GATED_FAMILY)
ACCEPTANCE = ("True", "False", "FLAG", '"true"', None)


def gated(model_id: str) -> bool:
    index = catalog_index(Catalog.default())
    spec = index.model_named(model_id)
    return spec.gated if spec is not None else index.model_families.gated_family(model_id) is not None


@dataclass(frozen=True)
class Script:
    source: str
    deploy_line: int


@st.composite
def scripts(draw: st.DrawFn) -> Script:
    """A deploy whose model id and acceptance depend on FLAG and OTHER_FLAG (unknown to the reader) through
    if/else, a conditional expression, a dict of keyword arguments or a reassignment."""
    first, second = draw(st.sampled_from(MODELS)), draw(st.sampled_from(MODELS))
    accept_if, accept_else = draw(st.sampled_from(ACCEPTANCE)), draw(st.sampled_from(ACCEPTANCE))
    lines = ["MODEL = " + repr(first)]
    shape = draw(st.sampled_from(("if", "ifexp", "straight", "reassigned")))
    if shape == "if":
        lines += ["if FLAG:", f"    model_id = {first!r}", "else:", f"    model_id = {second!r}"]
    elif shape == "ifexp":
        lines += [f"model_id = {first!r} if FLAG else {second!r}"]
    elif shape == "straight":
        lines += ["model_id = MODEL"]
    else:
        lines += [f"model_id = {second!r}", "model_id = MODEL"]
    arguments = []
    if accept_if is not None or accept_else is not None:
        lines += ["if OTHER_FLAG:", f"    kwargs = {{'accept_eula': {accept_if}}}" if accept_if else "    kwargs = {}",
                  "else:", f"    kwargs = {{'accept_eula': {accept_else}}}" if accept_else else "    kwargs = {}"]
        arguments.append("**kwargs")
    lines += ["model = JumpStartModel(model_id=model_id)", f"model.deploy({', '.join(arguments)})"]
    return Script("\n".join(lines) + "\n", len(lines))


class _Recorder:
    def __init__(self) -> None:
        self.deployed: list[tuple[str, Any]] = []

    def model(self) -> type:
        outer = self

        class JumpStartModel:
            def __init__(self, model_id: str) -> None:
                self.model_id = model_id

            def deploy(self, accept_eula: Any = None) -> None:
                outer.deployed.append((self.model_id, accept_eula))

        return JumpStartModel


def runs(script: Script) -> list[tuple[str, Any]]:
    """What each run deploys, for each value of FLAG and OTHER_FLAG (the oracle runs the generated script; the
    reader never runs anything)."""
    deployed = []
    for flag, other in itertools.product((True, False), repeat=2):
        recorder = _Recorder()
        exec(script.source, {"FLAG": flag, "OTHER_FLAG": other, "JumpStartModel": recorder.model()})
        deployed += recorder.deployed
    return deployed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts())
def test_the_python_reader_is_sound_and_precise(script: Script) -> None:
    violation = any(gated(model_id) and accept is not True for model_id, accept in runs(script))
    scanned = read_python("deploy.py", script.source, strict=True)
    errors = [f for f in scanned.scan.findings if f.severity == "error"]
    if violation:
        assert errors, script.source
        assert {scanned.locations[f.logical_id].line for f in errors} == {script.deploy_line}
    elif "'accept_eula': FLAG" not in script.source and all(Catalog.default().find(m) for m, _ in runs(script)):
        assert errors == [], script.source


def test_a_value_the_reader_cannot_follow_is_unknown_not_guessed() -> None:
    source = ("import os\nfrom sagemaker.jumpstart.model import JumpStartModel\n"
              "JumpStartModel(model_id=os.environ['MODEL']).deploy(accept_eula=True)\n"
              "JumpStartModel(model_id=f'meta-textgeneration-{os.environ[\"SIZE\"]}').deploy()\n")
    scanned = read_python("deploy.py", source, strict=False)
    [finding] = scanned.scan.findings  # the first accepts, whatever the model
    assert (finding.severity, scanned.locations[finding.logical_id].line) == ("warning", 4)
    assert finding.message.startswith("The JumpStart model meta-textgeneration-${os.environ['SIZE']} may be "
                                      "EULA-gated (its id is not known from the source; acceptance cannot be proven)")


def test_the_reader_follows_constants_dicts_and_the_variable_a_call_is_made_on() -> None:
    source = (
        "import boto3\n"
        "ARTIFACT = 's3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/"
        "meta-textgeneration-llama-3-8b/artifacts/inference-prepack/v1.1.0/'\n"
        "source = {'S3Uri': ARTIFACT, 'S3DataType': 'S3Prefix', 'CompressionType': 'None'}\n"
        "source['ModelAccessConfig'] = {'AcceptEula': True}\n"
        "request = dict(ModelName='m', PrimaryContainer={'ModelDataSource': {'S3DataSource': source}})\n"
        "client = boto3.session.Session().client('sagemaker')\n"
        "client.create_model(**request)\n"
    )
    [request] = requests_in("create.py", source)
    assert request.what == "boto3 create_model" and (request.line, request.column) == (7, 1)
    data = request.request["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]
    assert data["ModelAccessConfig"] == {"AcceptEula": True}
    assert read_python("create.py", source, strict=True).scan.findings == ()


def test_calls_of_other_libraries_are_not_requests() -> None:
    source = ("import sagemaker\nfrom mylib import registry\n"
              "registry.create_model(name='x')\n"  # no PrimaryContainer: not SageMaker's create_model
              "boto3_client = sagemaker.Session().boto_session.client('s3')\n"
              "boto3_client.create_model(PrimaryContainer={})\n")
    assert list(requests_in("other.py", source)) == []


def test_a_request_whose_arguments_are_not_known_is_a_warning_not_silence() -> None:
    source = ("import boto3\n\ndef handler(event, context):\n"
              "    boto3.client('sagemaker').create_training_job(**event['ResourceProperties'])\n")
    scanned = read_python("handler.py", source, strict=True)
    [finding] = scanned.scan.findings
    assert (finding.rule_id, finding.severity, finding.logical_id) == ("EULA006", "warning", "create_training_job()")
    assert (scanned.locations[finding.logical_id].line, scanned.locations[finding.logical_id].column) == (4, 5)
    assert "event['ResourceProperties']" in finding.message


def test_model_access_configs_and_the_users_own_model_data() -> None:
    source = (
        "from sagemaker.jumpstart.model import JumpStartModel\n"
        "from sagemaker.jumpstart.types import ModelAccessConfig\n"
        "ID = 'meta-textgeneration-llama-3-8b'\n"
        "JumpStartModel(model_id=ID).deploy(model_access_configs={ID: ModelAccessConfig(accept_eula=True)})\n"
        "JumpStartModel(model_id=ID).deploy(model_access_configs={ID: ModelAccessConfig(accept_eula=False)})\n"
        "JumpStartModel(model_id=ID, model_data='s3://my-bucket/finetuned/model/').deploy()\n"
    )
    scanned = read_python("deploy.py", source, strict=True)
    assert [(f.rule_id, scanned.locations[f.logical_id].line) for f in scanned.scan.findings] == [("EULA001", 5)]


def test_a_generic_sdk_model_serves_its_model_data() -> None:
    source = (
        "from sagemaker import image_uris, model_uris\n"
        "from sagemaker.model import Model\n"
        "from sagemaker.huggingface import HuggingFaceModel\n"
        "uri = model_uris.retrieve(model_id='meta-textgeneration-llama-2-7b', model_version='*', "
        "model_scope='inference')\n"
        "Model(image_uri='x', model_data=uri, role='r').deploy(initial_instance_count=1)\n"
        "source = {'S3DataSource': {'S3Uri': uri, 'S3DataType': 'S3Prefix', 'CompressionType': 'None',\n"
        "                           'ModelAccessConfig': {'AcceptEula': True}}}\n"
        "Model(image_uri='x', model_data=source, role='r').deploy(initial_instance_count=1)\n"
        "HuggingFaceModel(model_data='s3://my-bucket/finetuned/model.tar.gz', role='r').deploy()\n"
    )
    scanned = read_python("deploy.py", source, strict=True)
    assert [(f.rule_id, f.severity, scanned.locations[f.logical_id].line) for f in scanned.scan.findings] == [
        ("EULA001", "error", 5)]
    assert "ModelDataUrl, which cannot carry EULA acceptance" in scanned.scan.findings[0].message


def test_tuners_of_jumpstart_estimators_and_model_builder_optimization() -> None:
    source = (
        "from sagemaker.jumpstart.estimator import JumpStartEstimator\n"
        "from sagemaker.tuner import HyperparameterTuner\n"
        "from sagemaker.serve.builder.model_builder import ModelBuilder\n"
        "estimator = JumpStartEstimator(model_id='meta-textgeneration-llama-2-7b')\n"
        "tuner = HyperparameterTuner(estimator, 'loss', {}, max_jobs=2)\n"
        "tuner.fit({'training': 's3://my-bucket/train/'})\n"
        "accepted = JumpStartEstimator(model_id='meta-textgeneration-llama-2-7b',\n"
        "                              environment={'accept_eula': 'true'})\n"
        "HyperparameterTuner(estimator=accepted, objective_metric_name='loss', hyperparameter_ranges={}).fit({})\n"
        "builder = ModelBuilder(model='huggingface-llm-gemma-7b')\n"
        "builder.optimize(instance_type='ml.g5.2xlarge', quantization_config={})\n"
        "builder.optimize(instance_type='ml.g5.2xlarge', accept_eula=True)\n"
    )
    scanned = read_python("tune.py", source, strict=True)
    assert sorted((f.rule_id, scanned.locations[f.logical_id].line) for f in scanned.scan.findings) == [
        ("EULA001", 11), ("EULA004", 6)]

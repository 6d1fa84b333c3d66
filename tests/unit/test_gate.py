"""EulaGate: apps that must fail ``app.synth()`` with the gate registered, apps that must pass, and what the
report says (construct path, model id, EULA URL, fix).

Each app is built and synthesized once per module (fixtures); the report is read from the cloud assembly's
``validation-report.json``, which CDK writes whether the synth fails or not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from constructs_lib.catalog import Catalog
from constructs_lib.constructs.jobs.automl import AutoMLFineTuningJob
from constructs_lib.constructs.jobs.training import JumpStartFineTuningJob
from constructs_lib.constructs.serving.finetuned import FineTunedEndpoint
from constructs_lib.constructs.serving.jumpstart import JumpStartEndpoint
from constructs_lib.rules import RULES
from constructs_lib.synth.assembly import SynthesizedStacks
from constructs_lib.synth.gate import EulaGate, check_synthesized

pytestmark = pytest.mark.synth

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"
LLAMA_7B = "meta-textgeneration-llama-2-7b"
LLAMA_7B_CHAT = "meta-textgeneration-llama-2-7b-f"
LLAMA_13B = "meta-textgeneration-llama-2-13b"
ACCEPT_EULA_PATH = "PrimaryContainer.ModelDataSource.S3DataSource.ModelAccessConfig.AcceptEula"
PROVIDER_TOKEN = f"arn:aws:lambda:{REGION}:123456789012:function:automl-job-provider"


# ---- shared by the gate's and the cdk-nag pack's tests -------------------------------------------------------

@dataclass(frozen=True)
class SynthResult:
    """What one ``app.synth()`` with a validation plugin produced."""

    outdir: Path
    error: str | None  # the exception's message: the whole report, in pytest's in-memory app mode
    report: dict[str, Any]  # validation-report.json

    def plugin(self, name: str) -> dict[str, Any]:
        reports = [r for r in self.report.get("pluginReports", []) if r["pluginName"] == name]
        assert len(reports) == 1, f"{name} reported {len(reports)} times: {self.report}"
        return reports[0]

    def violations(self, plugin: str, construct_path: str, *, suppressed: bool = False) -> list[dict[str, Any]]:
        """The violations (or acknowledged ones) the plugin reports on one construct."""
        key = "suppressedViolations" if suppressed else "violations"
        return [
            violation
            for violation in self.plugin(plugin).get(key) or []
            for construct in violation["violatingConstructs"]
            if construct["constructPath"] == construct_path
        ]

    def reported_paths(self, plugin: str) -> set[str]:
        return {c["constructPath"] for v in self.plugin(plugin)["violations"] for c in v["violatingConstructs"]}


def synth(app: cdk.App) -> SynthResult:
    outdir = Path(app.outdir)
    try:
        app.synth()
    except RuntimeError as error:
        message: str | None = str(error)
    else:
        message = None
    report_file = outdir / "validation-report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    return SynthResult(outdir, message, report)


def stack(scope: Construct, id: str) -> cdk.Stack:
    return cdk.Stack(scope, id, env=cdk.Environment(region=REGION))


def raw_model(scope: Construct, id: str, model_id: str, accept_eula: bool | None) -> sagemaker.CfnModel:
    """A ``CfnModel`` written by hand: the JumpStart artifact prefix, with or without ``ModelAccessConfig``."""
    spec = Catalog.default().get(model_id)
    return sagemaker.CfnModel(
        scope, id, execution_role_arn=ROLE_ARN,
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
            image=spec.image_uri(REGION),
            model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
                s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                    s3_uri=spec.artifact_uri(REGION), s3_data_type="S3Prefix", compression_type="None",
                    model_access_config=(sagemaker.CfnModel.ModelAccessConfigProperty(accept_eula=accept_eula)
                                         if accept_eula is not None else None),
                ),
            ),
        ),
    )


def automl_custom_resource(scope: Construct, id: str, text_generation: dict[str, Any]) -> cdk.CfnResource:
    """A hand-written custom resource whose properties are a CreateAutoMLJobV2 request."""
    return cdk.CfnResource(scope, id, type="Custom::AutoMLJobV2", properties={
        "ServiceToken": PROVIDER_TOKEN,
        "AutoMLJobName": f"{id.lower()}-job",
        "AutoMLJobInputDataConfig": [{
            "ChannelType": "training", "ContentType": "text/csv;header=present",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://team-data/train/"}},
        }],
        "OutputDataConfig": {"S3OutputPath": "s3://team-data/output/"},
        "AutoMLProblemTypeConfig": {"TextGenerationJobConfig": text_generation},
        "RoleArn": ROLE_ARN,
    })


def marketplace_model(scope: Construct, id: str) -> sagemaker.CfnModel:
    """Llama 2 7B Chat served through one of JumpStart's model packages (per-request acceptance): a warning."""
    package_arn = Catalog.default().get(LLAMA_7B_CHAT).all_model_package_arns[REGION][0]
    return sagemaker.CfnModel(
        scope, id, execution_role_arn=ROLE_ARN, enable_network_isolation=True,
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(model_package_name=package_arn),
    )


@jsii.implements(cdk.IAspect)
class DeclineEulas:
    """An aspect that rewrites every model's acceptance to false: the gate must see what aspects did."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, sagemaker.CfnModel):
            node.add_property_override(ACCEPT_EULA_PATH, False)


# ---- the apps -------------------------------------------------------------------------------------------------

def build_failing_app(outdir: Path, register: Callable[[cdk.App], None]) -> cdk.App:
    """Ways to use a gated model without acceptance, next to accepted and non-gated controls."""
    app = cdk.App(outdir=str(outdir))
    main = stack(app, "GateFails")
    raw_model(main, "RawModel", LLAMA_7B, accept_eula=None)
    JumpStartEndpoint(main, "Unset", model="Llama2-7B")
    declined = JumpStartEndpoint(main, "Declined", model="Llama2-7BChat", accept_eula=False)
    cdk.Validations.of(declined).acknowledge(cdk.Acknowledgment(id="EulaGate::EULA001", reason="not allowed"))
    overridden = JumpStartEndpoint(main, "Overridden", model="Llama2-7B", accept_eula=True)
    overridden.cfn_model.add_property_override(ACCEPT_EULA_PATH, False)
    aspect_scope = Construct(main, "Aspected")
    JumpStartEndpoint(aspect_scope, "Llama", model="Llama2-7B", accept_eula=True)
    cdk.Aspects.of(aspect_scope).add(DeclineEulas())
    nested = cdk.NestedStack(main, "Nested")
    JumpStartEndpoint(nested, "Llama", model="Llama2-13B")
    automl_custom_resource(main, "RawAutoML", {"BaseModelName": "Llama2-7B",
                                               "CompletionCriteria": {"MaxCandidates": 1}})
    AutoMLFineTuningJob(main, "AutoML", training_data="s3://team-data/train/",
                        output_path="s3://team-data/output/", base_model="Llama2-7B")
    JumpStartFineTuningJob(main, "Training", training_data="s3://team-data/train/",
                           output_path="s3://team-data/trained/", model=LLAMA_7B_CHAT)
    JumpStartEndpoint(main, "Accepted", model="Llama2-7B", accept_eula=True)
    JumpStartEndpoint(main, "Falcon", model="Falcon7BInstruct")
    stage = cdk.Stage(app, "Staged")
    JumpStartEndpoint(stack(stage, "Serving"), "Chat", model="Llama2-7BChat")
    register(app)
    return app


def build_passing_app(outdir: Path, register: Callable[[cdk.App], None]) -> cdk.App:
    """Accepted gated models, models without an EULA, and Llama 2 weights after fine-tuning (the user's own)."""
    app = cdk.App(outdir=str(outdir))
    main = stack(app, "GatePasses")
    llama = Catalog.default().get(LLAMA_7B)
    JumpStartEndpoint(main, "Accepted", model="Llama2-7B", accept_eula=True)
    raw_model(main, "RawAccepted", LLAMA_7B_CHAT, accept_eula=True)
    JumpStartEndpoint(main, "Mistral", model="Mistral7BInstruct")
    raw_model(main, "RawFalcon", "huggingface-llm-falcon-7b-instruct-bf16", accept_eula=None)
    FineTunedEndpoint(main, "FineTuned", model_data="s3://team-models/llama2-7b-support/output/model.tar.gz",
                      image_uri=llama.image_uri(REGION), base_model="Llama2-7B", instance_type="ml.g5.12xlarge")
    FineTunedEndpoint(main, "FineTunedPrefix", model_data="s3://team-models/llama2-7b-support/output/model/",
                      image_uri=llama.image_uri(REGION), base_model=LLAMA_7B, instance_type="ml.g5.12xlarge",
                      compressed=False)
    job = AutoMLFineTuningJob(main, "AutoML", base_model="Llama2-7B", accept_eula=True, wait_for_completion=True,
                              training_data="s3://team-data/train/", output_path="s3://team-data/output/")
    FineTunedEndpoint(main, "FromJob", model_data=job.best_candidate_model_data, image_uri=llama.image_uri(REGION),
                      base_model="Llama2-7B", instance_type="ml.g5.12xlarge")
    AutoMLFineTuningJob(main, "AutoMLFalcon", training_data="s3://team-data/train/",
                        output_path="s3://team-data/falcon/", base_model="Falcon7BInstruct")
    JumpStartFineTuningJob(main, "Training", model=LLAMA_7B_CHAT, accept_eula=True,
                           training_data="s3://team-data/train/", output_path="s3://team-data/trained/")
    automl_custom_resource(main, "RawAutoMLDefault", {"CompletionCriteria": {"MaxCandidates": 1}})
    marketplace_model(main, "Marketplace")
    acknowledged = marketplace_model(main, "MarketplaceSubscribed")
    cdk.Validations.of(acknowledged).acknowledge(cdk.Acknowledgment(id="EulaGate::EULA005", reason="subscribed"))
    # The same warning suppressed in the resource's metadata, as `eulagate check` and the hook read it.
    marketplace_model(main, "MarketplaceSuppressed").add_metadata(
        "eulagate", {"suppress": [{"rule": "EULA005", "reason": "subscribed (ticket OPS-1)"}]})
    JumpStartEndpoint(cdk.NestedStack(main, "Nested"), "Llama", model="Llama2-13BChat", accept_eula=True)
    stage = cdk.Stage(app, "Staged")
    JumpStartEndpoint(stack(stage, "Serving"), "Chat", model="Llama2-7BChat", accept_eula=True)
    register(app)
    return app


def register_gate(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(EulaGate())


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return synth(build_failing_app(tmp_path_factory.mktemp("gate-fails"), register_gate))


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return synth(build_passing_app(tmp_path_factory.mktemp("gate-passes"), register_gate))


# ---- apps that must fail --------------------------------------------------------------------------------------

def test_an_unaccepted_gated_model_fails_the_synth(failing: SynthResult) -> None:
    assert failing.error is not None and "ValidationFailed" in failing.error
    assert failing.plugin("EulaGate")["conclusion"] == "failure"


@pytest.mark.parametrize(("construct_path", "rule", "model_id", "problem"), [
    ("GateFails/RawModel", "EULA001", LLAMA_7B, "ModelAccessConfig is absent"),
    ("GateFails/Unset/Model", "EULA001", LLAMA_7B, "ModelAccessConfig is absent"),
    ("GateFails/Declined/Model", "EULA001", LLAMA_7B_CHAT, "AcceptEula is false"),
    ("GateFails/Overridden/Model", "EULA001", LLAMA_7B, "AcceptEula is false"),
    ("GateFails/Aspected/Llama/Model", "EULA001", LLAMA_7B, "AcceptEula is false"),
    ("GateFails/Nested/Llama/Model", "EULA001", LLAMA_13B, "ModelAccessConfig is absent"),
    ("Staged/Serving/Chat/Model", "EULA001", LLAMA_7B_CHAT, "ModelAccessConfig is absent"),
    ("GateFails/RawAutoML", "EULA003", LLAMA_7B, "ModelAccessConfig"),
    ("GateFails/AutoML/Resource/Default", "EULA003", LLAMA_7B, "ModelAccessConfig"),
    ("GateFails/Training/Resource/Default", "EULA004", LLAMA_7B_CHAT, "ModelAccessConfig is absent"),
])
def test_each_unaccepted_use_is_a_fatal_violation_at_its_construct(
    failing: SynthResult, construct_path: str, rule: str, model_id: str, problem: str,
) -> None:
    (violation,) = failing.violations("EulaGate", construct_path)
    assert violation["ruleName"] == rule
    assert violation["severity"] == "fatal"
    assert model_id in violation["description"] and problem in violation["description"]
    assert violation["ruleMetadata"]["modelId"] == model_id
    assert violation["ruleMetadata"]["eulaUrl"].endswith("/fmhMetadata/eula/llamaEula.txt")
    assert "true" in violation["suggestedFix"]


def test_nothing_else_is_reported(failing: SynthResult) -> None:
    assert failing.reported_paths("EulaGate") == {
        "GateFails/RawModel", "GateFails/Unset/Model", "GateFails/Declined/Model", "GateFails/Overridden/Model",
        "GateFails/Aspected/Llama/Model", "GateFails/Nested/Llama/Model", "Staged/Serving/Chat/Model",
        "GateFails/RawAutoML", "GateFails/AutoML/Resource/Default", "GateFails/Training/Resource/Default",
    }


def test_the_error_names_construct_path_model_eula_url_and_fix(failing: SynthResult) -> None:
    assert failing.error is not None
    (block,) = [block for block in failing.error.split("\n\n") if "GateFails/Unset/Model " in block]
    assert block.startswith("FATAL meta-textgeneration-llama-2-7b (Llama2-7B) is EULA-gated")
    assert "Rule EulaGate::EULA001" in block
    assert "https://jumpstart-cache-prod-us-east-1.s3.us-east-1.amazonaws.com/fmhMetadata/eula/llamaEula.txt" in block
    assert f"Suggested fix: After reading the EULA, set Properties.{ACCEPT_EULA_PATH} to true" in block


def test_an_acknowledgment_does_not_silence_an_error(failing: SynthResult) -> None:
    assert failing.violations("EulaGate", "GateFails/Declined/Model")
    assert not failing.violations("EulaGate", "GateFails/Declined/Model", suppressed=True)


def test_the_gate_reads_nested_stack_templates_the_stack_names_and_no_stale_file(failing: SynthResult) -> None:
    stack_template = failing.outdir / "GateFails.template.json"
    stacks = SynthesizedStacks([str(stack_template)])
    nested = [path.name for path, *_ in stacks.templates_of(stack_template)][1:]
    assert len(nested) == 1 and nested[0].startswith("GateFailsNested") and nested[0].endswith(".nested.template.json")
    stale = failing.outdir / "GateFailsRemoved0123ABCD.nested.template.json"
    stale.write_text((failing.outdir / nested[0]).read_text())  # a gated model a previous synth left behind
    try:
        templates = {finding.template for finding in check_synthesized(stacks).findings}
    finally:
        stale.unlink()
    assert str(failing.outdir / nested[0]) in templates and str(stale) not in templates


def test_construct_paths_map_logical_ids_of_stacks_and_nested_stacks(failing: SynthResult) -> None:
    stack_template = failing.outdir / "GateFails.template.json"
    paths = SynthesizedStacks([str(stack_template)]).construct_paths()
    by_path = {construct_path: key for key, construct_path in paths.items()}
    assert by_path["GateFails/RawModel"] == (str(stack_template), "RawModel")
    nested_template, _ = by_path["GateFails/Nested/Llama/Model"]
    assert Path(nested_template).name.startswith("GateFailsNested")


# ---- apps that must pass --------------------------------------------------------------------------------------

def test_accepted_ungated_and_fine_tuned_models_pass(passing: SynthResult) -> None:
    assert passing.error is None
    assert (passing.outdir / "GatePasses.template.json").is_file()
    assert passing.plugin("EulaGate")["conclusion"] == "success"


def test_a_marketplace_package_is_a_warning_that_can_be_acknowledged(passing: SynthResult) -> None:
    (warning,) = passing.violations("EulaGate", "GatePasses/Marketplace")
    assert warning["ruleName"] == "EULA005" and warning["severity"] == "warning"
    assert LLAMA_7B_CHAT in warning["description"]
    (acknowledged,) = passing.violations("EulaGate", "GatePasses/MarketplaceSubscribed", suppressed=True)
    assert acknowledged["reason"] == "subscribed"
    assert passing.reported_paths("EulaGate") == {"GatePasses/Marketplace"}


def test_a_gate_on_a_stage_checks_only_that_stage(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    JumpStartEndpoint(stack(app, "Unchecked"), "Llama", model="Llama2-7B")
    stage = cdk.Stage(app, "Checked")
    JumpStartEndpoint(stack(stage, "Serving"), "Llama", model="Llama2-7BChat")
    cdk.Validations.of(stage).add_plugins(EulaGate())
    result = synth(app)
    assert result.reported_paths("EulaGate") == {"Checked/Serving/Llama/Model"}


# ---- the plugin itself ----------------------------------------------------------------------------------------

class Context:
    """The parts of ``IPolicyValidationContext`` the gate reads."""

    def __init__(self, *paths: Path, app: cdk.App | None = None) -> None:
        self.template_paths = [str(path) for path in paths]
        self.app_construct = app or cdk.App()


def test_an_unreadable_template_fails_closed(tmp_path: Path) -> None:
    broken = tmp_path / "Broken.template.json"
    broken.write_text('{"Resources": {')
    report = EulaGate().validate(Context(broken))  # type: ignore[arg-type]
    assert report.success is False
    (violation,) = report.violations
    assert violation.severity == "fatal" and str(broken) in violation.description


@pytest.mark.parametrize(("resources", "named"), [
    ({"Model": {"Type": "AWS::SageMaker::Model", "Metadata": {"eulagate": {"suppress": [
        {"rule": "EULA05", "reason": "subscribed"}]}}, "Properties": {}}},
     "unknown rule 'EULA05' in Metadata.eulagate.suppress; did you mean 'EULA005'?"),
    ({"Model": {"Properties": {}}}, "resource Model has no Type"),
])
def test_a_template_the_rules_cannot_judge_fails_closed(tmp_path: Path, resources: dict[str, Any], named: str) -> None:
    # As `eulagate check` exits 2 on it: a suppression of no rule would otherwise suppress nothing in silence.
    template = tmp_path / "Odd.template.json"
    template.write_text(json.dumps({"Resources": resources}))
    report = EulaGate().validate(Context(template))  # type: ignore[arg-type]
    assert report.success is False
    (violation,) = report.violations
    assert violation.severity == "fatal" and named in violation.description


@jsii.implements(cdk.IPolicyValidationPlugin)
class GateOverBrokenTemplate:
    """The gate's own report on an unreadable template, handed to CDK as a plugin's report."""

    def __init__(self, broken: Path) -> None:
        self._broken = broken

    @property
    def name(self) -> str:
        return "EulaGate"

    @property
    def version(self) -> str:
        return "test"

    @property
    def rule_ids(self) -> list[str]:
        return ["UNREADABLE"]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        paths = [self._broken, *map(Path, context.template_paths)]
        return EulaGate().validate(Context(*paths, app=context.app_construct))  # type: ignore[arg-type]


def test_an_unreadable_template_fails_a_real_synth_and_the_other_stacks_are_still_checked(tmp_path: Path) -> None:
    broken = tmp_path / "Broken.template.json"
    broken.write_text('{"Resources": {')
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    raw_model(stack(app, "Checked"), "RawModel", LLAMA_7B, accept_eula=None)
    cdk.Validations.of(app).add_plugins(GateOverBrokenTemplate(broken))
    result = synth(app)
    # CDK prints (and fails on) no violation without a resource: the gate names the template as its resource.
    assert result.error is not None and "Broken.template.json" in result.error
    rules = [violation["ruleName"] for violation in result.plugin("EulaGate")["violations"]]
    assert sorted(rules) == ["EULA001", "UNREADABLE"]


def test_with_fail_synth_turned_off_the_gate_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    raw_model(stack(app, "Unchecked"), "RawModel", LLAMA_7B, accept_eula=None)
    cdk.Validations.of(app).add_plugins(EulaGate())
    result = synth(app)
    # aws-cdk-lib leaves the verdict to the CDK CLI (tests/integration/test_gate_cdk_cli.py): app.synth() returns.
    assert result.error is None
    assert result.plugin("EulaGate")["conclusion"] == "failure"
    assert ("EulaGate: the EULA gate failed, but @aws-cdk/core:failSynthOnValidationErrors is false"
            in capsys.readouterr().err)


def test_a_template_with_nested_stacks_outside_a_cloud_assembly_fails_closed(tmp_path: Path) -> None:
    template = tmp_path / "Parent.template.json"
    template.write_text(json.dumps({"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {}}}}))
    report = EulaGate().validate(Context(template))  # type: ignore[arg-type]
    assert report.success is False and "manifest.json" in report.violations[0].description


def test_the_gate_names_itself_and_its_rules_through_properties() -> None:
    gate = EulaGate()
    assert gate.name == "EulaGate"
    assert gate.rule_ids == [rule.id for rule in RULES] and "EULA001" in gate.rule_ids
    assert isinstance(type(gate).__dict__["name"], property)  # jsii reads getters, not class attributes


def test_a_custom_catalog_decides_what_is_gated(failing: SynthResult) -> None:
    falcon = "huggingface-llm-falcon-7b-instruct-bf16"
    gated_falcon = Catalog([
        replace(spec, gated=True, eula_key="fmhMetadata/eula/falconEula.txt") if spec.model_id == falcon else spec
        for spec in Catalog.default()
    ])
    stacks = SynthesizedStacks([str(failing.outdir / "GateFails.template.json")])
    assert falcon not in {finding.model_id for finding in check_synthesized(stacks).findings}
    assert falcon in {finding.model_id for finding in check_synthesized(stacks, gated_falcon).findings}

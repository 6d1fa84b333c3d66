"""``PipelineStack``: CDK Pipelines delivery of the model table, wave by wave behind ``eulagate check``.

One pipeline app is synthesized per module (the EULA gate registered, as ``app.py`` does): its
``AWS::CodePipeline::Pipeline`` stages, the CodeBuild buildspecs of the synth and check steps, and the approval
actions are asserted on the template. Also here: the pipeline settings from context, the table's environments
seen from the pipeline's side (region errors), the pull-request workflow and the pre-commit hooks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib.cli import build_parser, main
from constructs_lib.errors import InputError
from constructs_lib.synth.gate import EulaGate
from constructs_lib.table import ModelTable, TableError, load_table, parse_table
from constructs_lib.table.layout import StackPlan, plan_stacks
from stacks.pipeline import (
    ASSEMBLY_DIR,
    CDK_CLI,
    EULAGATE_CLI,
    PACKAGE_JSON,
    PIPELINE_STACK_ID,
    SETUP_COMMANDS,
    PipelineSettings,
    PipelineSettingsError,
    PipelineStack,
    add_pipeline_stack,
    pipeline_requested,
)

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-pr-eula-check.yml"
PRE_COMMIT_HOOKS = ROOT / ".pre-commit-hooks.yaml"
GOOD_TEMPLATE = ROOT / "tests/fixtures/templates/good/model-not-gated.json"
BAD_TEMPLATE = ROOT / "tests/fixtures/templates/bad/model-data-url-gated.json"

PIPELINE_ACCOUNT = "123456789012"
CONNECTION_ARN = "arn:aws:codestar-connections:us-east-1:123456789012:connection/0a1b2c3d-4e5f"
CODESTAR_CONTEXT = {
    "pipeline": "true",
    "pipeline_source": "codestar",
    "connection_arn": CONNECTION_ARN,
    "repository": "owner/models",
    "branch": "release",
    "pipeline_account": PIPELINE_ACCOUNT,
}
# dev, then staging (approval set, no account: the pipeline's), then prod (two targets, approval by default);
# `unused` has no rows. The pipeline region comes from defaults.regions.
TABLE = """\
defaults:
  regions: [us-east-1]
environments:
  dev:
    targets:
      - {account: "111111111111", region: us-east-1}
  staging:
    approval: true
    targets:
      - {region: us-west-2}
  prod:
    targets:
      - {account: "222222222222", region: us-east-1}
      - {account: "222222222222", region: eu-west-1}
  unused:
    targets:
      - {account: "333333333333", region: us-east-1}
endpoints:
  - name: llama2-chat
    model: Llama2-7BChat
    accept_eula: true
    environments: [dev, staging, prod]
    environment_overrides:
      prod: {instance_type: ml.g5.24xlarge, instance_count: 2}
  - name: flan
    model: FlanT5XL
    environments: [dev, prod]
fine_tuning:
  - name: llama2-support
    base_model: Llama2-7B
    training_data: s3://my-training-bucket/train/
    output_path: s3://my-training-bucket/output/
    accept_eula: true
    environments: [prod]
    deploy: {instance_type: ml.g5.12xlarge}
"""
WAVES = {  # environment -> its targets (account, region), as the pipeline resolves them
    "dev": [("111111111111", "us-east-1")],
    "staging": [(PIPELINE_ACCOUNT, "us-west-2")],
    "prod": [("222222222222", "us-east-1"), ("222222222222", "eu-west-1")],
}


@dataclass(frozen=True)
class BuiltPipeline:
    table: ModelTable
    stack: PipelineStack
    template: dict[str, Any]
    outdir: Path
    table_dir: Path


def write_table(directory: Path, text: str) -> None:
    (directory / "models.yaml").write_text(textwrap.dedent(text), encoding="utf-8")


def build_pipeline(table_dir: Path, outdir: Path, context: dict[str, str], *, gate: bool = True) -> BuiltPipeline:
    """The app ``app.py`` builds for ``-c pipeline=true``, from the table's directory (the repository root)."""
    with contextlib.chdir(table_dir):
        table = load_table("models.yaml")
        app = cdk.App(outdir=str(outdir), context=context)
        if gate:
            cdk.Validations.of(app).add_plugins(EulaGate())
        stack = add_pipeline_stack(app, table)
        app.synth()
    template = json.loads((outdir / f"{PIPELINE_STACK_ID}.template.json").read_text())
    return BuiltPipeline(table, stack, template, outdir, table_dir)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltPipeline:
    table_dir = tmp_path_factory.mktemp("repository")
    write_table(table_dir, TABLE)
    return build_pipeline(table_dir, tmp_path_factory.mktemp("cdk.out"), CODESTAR_CONTEXT)


@pytest.fixture(scope="module")
def codecommit_pipeline(tmp_path_factory: pytest.TempPathFactory) -> BuiltPipeline:
    """A one-environment table in the pipeline's own account, from CodeCommit."""
    table_dir = tmp_path_factory.mktemp("codecommit")
    write_table(table_dir, """\
        defaults: {account: "123456789012", regions: [eu-west-1]}
        environments:
          test:
            targets: [{region: eu-west-1}]
        endpoints:
          - {name: flan, model: FlanT5XL, environments: [test]}
    """)
    context = {"pipeline": "true", "pipeline_source": "codecommit", "repository": "model-table"}
    return build_pipeline(table_dir, tmp_path_factory.mktemp("cdk.out"), context, gate=False)


# -- template helpers ------------------------------------------------------------------------------------------
def pipeline_stages(template: dict[str, Any]) -> list[dict[str, Any]]:
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


def stage(template: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in pipeline_stages(template) if s["Name"] == name]
    return found


def action(pipeline_stage: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [a for a in pipeline_stage["Actions"] if a["Name"] == name]
    return found


def buildspec(template: dict[str, Any], codebuild_action: dict[str, Any]) -> dict[str, Any]:
    project = template["Resources"][codebuild_action["Configuration"]["ProjectName"]["Ref"]]
    spec: dict[str, Any] = json.loads(project["Properties"]["Source"]["BuildSpec"])
    return spec


def wave_stage_name(environment: str) -> str:
    """CDK Pipelines names a one-stage wave after its stage (``<env>-<region>-<account>``), others after the wave."""
    targets = WAVES[environment]
    if len(targets) > 1:
        return environment
    account, region = targets[0]
    return f"{environment}-{region}-{account}"


def parse_eulagate(argv: list[str]) -> Any:
    """``argv`` (after the program name) parsed by the real ``eulagate`` argument parser; fails on rejection."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as error:
        pytest.fail(f"eulagate rejects {shlex.join(argv)} (exit {error.code})")


def context_of(command: list[str]) -> dict[str, str]:
    """The ``-c key=value`` pairs of a ``cdk`` command line."""
    pairs = [command[i + 1] for i, word in enumerate(command) if word in ("-c", "--context")]
    return dict(pair.split("=", 1) for pair in pairs)


# -- the pipeline's stages -------------------------------------------------------------------------------------
def test_stages_run_source_synth_self_update_assets_then_one_wave_per_environment_in_table_order(
    built: BuiltPipeline,
) -> None:
    names = [s["Name"] for s in pipeline_stages(built.template)]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", *(wave_stage_name(env) for env in WAVES)]
    assert action(stage(built.template, "Build"), "Synth")["ActionTypeId"]["Category"] == "Build"


def test_source_is_the_codestar_connection_from_context(built: BuiltPipeline) -> None:
    (source,) = stage(built.template, "Source")["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"] == {
        "ConnectionArn": CONNECTION_ARN, "FullRepositoryId": "owner/models", "BranchName": "release"
    }


def test_codecommit_source_and_a_same_account_pipeline(codecommit_pipeline: BuiltPipeline) -> None:
    template = codecommit_pipeline.template
    (source,) = stage(template, "Source")["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["RepositoryName"] == "model-table"
    assert source["Configuration"]["BranchName"] == "main"
    assert [s["Name"] for s in pipeline_stages(template)] == [
        "Source", "Build", "UpdatePipeline", "test-eu-west-1-123456789012"
    ]
    assert codecommit_pipeline.stack.region == "eu-west-1"  # from defaults.regions
    # One account: no cross-account artifact key, and no approval for an environment that is not prod.
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    test_stage = stage(template, "test-eu-west-1-123456789012")
    assert not [a for a in test_stage["Actions"] if a["ActionTypeId"]["Category"] == "Approval"]


def test_cross_account_targets_get_an_encrypted_artifact_store(built: BuiltPipeline) -> None:
    keys = [r for r in built.template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    assert len(keys) == 1  # cross_account_keys: target accounts decrypt the artifacts with it


def test_synth_step_runs_the_setup_then_cdk_synth_of_this_same_pipeline(built: BuiltPipeline) -> None:
    spec = buildspec(built.template, action(stage(built.template, "Build"), "Synth"))
    assert spec["phases"]["install"]["commands"] == list(SETUP_COMMANDS)
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "20"}
    (command,) = spec["phases"]["build"]["commands"]
    argv = shlex.split(command)
    assert argv[:2] == [CDK_CLI, "synth"]
    context = context_of(argv)
    assert context["table"] == "models.yaml"
    assert pipeline_requested(context.get)
    assert PipelineSettings.from_context(context.get) == built.stack.settings
    assert spec["artifacts"]["base-directory"] == ASSEMBLY_DIR


def test_the_synth_step_command_reproduces_this_pipeline_through_app_py(
    built: BuiltPipeline, tmp_path: Path
) -> None:
    """What the pipeline's synth (and so its self-mutation) produces is the pipeline that is running."""
    spec = buildspec(built.template, action(stage(built.template, "Build"), "Synth"))
    context = context_of(shlex.split(spec["phases"]["build"]["commands"][0]))
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path),
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=built.table_dir, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / f"{PIPELINE_STACK_ID}.template.json").read_text()) == built.template


def test_self_mutation_installs_the_cdk_cli_that_package_json_pins(built: BuiltPipeline) -> None:
    spec = buildspec(built.template, action(stage(built.template, "UpdatePipeline"), "SelfMutate"))
    pinned = json.loads(PACKAGE_JSON.read_text())["devDependencies"]["aws-cdk"]
    assert f"npm install -g aws-cdk@{pinned}" in spec["phases"]["install"]["commands"]


# -- the EULA check and the approval in each wave --------------------------------------------------------------
@pytest.mark.parametrize("environment", list(WAVES))
def test_each_wave_first_checks_the_assemblies_it_deploys(built: BuiltPipeline, environment: str) -> None:
    wave_stage = stage(built.template, wave_stage_name(environment))
    check = action(wave_stage, f"EulaCheck-{environment}")
    others = [a for a in wave_stage["Actions"] if a is not check]
    assert check["ActionTypeId"]["Category"] == "Build"
    assert all(check["RunOrder"] < other["RunOrder"] for other in others)
    # It receives the synth step's cloud assembly beside the source checkout.
    synth_output = action(stage(built.template, "Build"), "Synth")["OutputArtifacts"][0]["Name"]
    assert synth_output in [artifact["Name"] for artifact in check["InputArtifacts"]]

    spec = buildspec(built.template, check)
    install = spec["phases"]["install"]["commands"]
    synth_install = buildspec(built.template, action(stage(built.template, "Build"), "Synth"))["phases"]["install"]
    assert install[-len(SETUP_COMMANDS):] == synth_install["commands"]  # the same setup as the synth
    assert any(re.search(rf'ln -s .*"{ASSEMBLY_DIR}"', command) for command in install[:-len(SETUP_COMMANDS)])
    (command,) = spec["phases"]["build"]["commands"]
    argv = shlex.split(command)
    assert argv[0] == EULAGATE_CLI
    args = parse_eulagate(argv[1:])
    assert args.command == "check"
    wave = next(w for w in built.stack.waves if w.name == environment)
    assert args.paths == [f"{ASSEMBLY_DIR}/{s.artifact_id}" for s in wave.stages]
    assert [(s.target.account, s.target.region) for s in wave.stages] == WAVES[environment]


def test_the_check_commands_pass_on_the_synthesized_assemblies(built: BuiltPipeline) -> None:
    for environment in WAVES:
        check = action(stage(built.template, wave_stage_name(environment)), f"EulaCheck-{environment}")
        argv = shlex.split(buildspec(built.template, check)["phases"]["build"]["commands"][0])[1:]
        local = [str(built.outdir / path.removeprefix(f"{ASSEMBLY_DIR}/")) if path.startswith(ASSEMBLY_DIR) else path
                 for path in argv]
        assert main(local) == 0


def test_production_waits_for_a_manual_approval_after_its_check_and_before_deploying(built: BuiltPipeline) -> None:
    prod = stage(built.template, "prod")
    approval = action(prod, "Approve-prod")
    assert approval["ActionTypeId"] == {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"}
    assert "prod" in approval["Configuration"]["CustomData"]
    check = action(prod, "EulaCheck-prod")
    deploys = [a for a in prod["Actions"] if a["ActionTypeId"]["Category"] == "Deploy"]
    assert deploys
    assert check["RunOrder"] < approval["RunOrder"] < min(a["RunOrder"] for a in deploys)


def test_approval_follows_the_table_setting(built: BuiltPipeline) -> None:
    approvals = {
        environment: [a["Name"] for a in stage(built.template, wave_stage_name(environment))["Actions"]
                      if a["ActionTypeId"]["Category"] == "Approval"]
        for environment in WAVES
    }
    assert approvals == {"dev": [], "staging": ["Approve-staging"], "prod": ["Approve-prod"]}


@pytest.mark.parametrize("environment", list(WAVES))
def test_each_wave_deploys_every_stack_of_its_targets_and_nothing_else(built: BuiltPipeline, environment: str) -> None:
    wave_stage = stage(built.template, wave_stage_name(environment))
    executed = {
        (a["Configuration"]["StackName"], a.get("Region", built.stack.region))
        for a in wave_stage["Actions"]
        if a["ActionTypeId"]["Category"] == "Deploy" and a["Configuration"]["ActionMode"] == "CHANGE_SET_EXECUTE"
    }
    wave = next(w for w in built.stack.waves if w.name == environment)
    expected = {(stack.stack_name, stack.region) for s in wave.stages for stack in s.stacks}
    assert executed == expected
    # The stacks hold the table layout's rows and shards for the environment, one set per target (a target
    # without an account in the pipeline's account).
    def content(plan: StackPlan) -> tuple[str, str, str, int, list[str]]:
        return (plan.target.account or PIPELINE_ACCOUNT, plan.target.region, plan.kind, plan.shard,
                sorted(placement.row.name for placement in plan.placements))

    planned = sorted(content(plan) for plan in plan_stacks(built.table, environment=environment))
    assert sorted(content(stack.plan) for s in wave.stages for stack in s.stacks) == planned


def test_a_target_without_an_account_deploys_to_the_pipelines_account(built: BuiltPipeline) -> None:
    (staging,) = next(w for w in built.stack.waves if w.name == "staging").stages
    assert {(stack.account, stack.region) for stack in staging.stacks} == {(PIPELINE_ACCOUNT, "us-west-2")}


def test_environment_overrides_reach_the_wave_of_that_environment(built: BuiltPipeline) -> None:
    def instance_types(environment: str) -> set[str]:
        wave = next(w for w in built.stack.waves if w.name == environment)
        templates = [json.loads((built.outdir / s.artifact_id / stack.template_file).read_text())
                     for s in wave.stages for stack in s.stacks]
        return {
            variant["InstanceType"]
            for template in templates for resource in template["Resources"].values()
            if resource["Type"] == "AWS::SageMaker::EndpointConfig"
            for variant in resource["Properties"]["ProductionVariants"]
        }

    assert "ml.g5.24xlarge" in instance_types("prod")
    assert "ml.g5.24xlarge" not in instance_types("dev")


def test_an_environment_no_row_targets_gets_no_wave_and_a_warning(built: BuiltPipeline) -> None:
    assert "unused" not in [w.name for w in built.stack.waves]
    Annotations.from_stack(built.stack).has_warning("*", Match.string_like_regexp("environment 'unused'"))


def test_the_gate_fails_the_pipeline_synth_on_an_unaccepted_model_in_any_wave(tmp_path: Path) -> None:
    write_table(tmp_path, """\
        defaults: {account: "123456789012", regions: [us-east-1]}
        environments:
          dev: {targets: [{region: us-east-1}]}
          prod: {targets: [{account: "222222222222", region: eu-west-1}]}
        endpoints:
          - {name: flan, model: FlanT5XL, environments: [dev, prod]}
          - {name: llama-prod, model: Llama2-7BChat, environments: [prod]}
    """)
    context = {"pipeline": "true", "pipeline_source": "codecommit", "repository": "models"}
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed: FATAL meta-textgeneration-llama-2-7b-f .* "
                                           r"EulaGatePipeline/prod-eu-west-1-222222222222/[^/]+/llama-prod/"):
        build_pipeline(tmp_path, tmp_path / "cdk.out", context)
    # The assembly is written before the gate fails it: the pipeline's check (and PR CI) can report it.
    assert main(["check", str(tmp_path / "cdk.out")]) == 1


# -- settings from context -------------------------------------------------------------------------------------
CODECOMMIT = {"pipeline_source": "codecommit", "repository": "models"}
CODESTAR = {"pipeline_source": "codestar", "connection_arn": CONNECTION_ARN, "repository": "owner/models"}


@pytest.mark.parametrize(("context", "message"), [
    ({}, "context pipeline_source, repository are missing: -c pipeline=true needs a source (codestar or codecommit); "
         "pipeline_source=... needs the repository to build from; e.g. `-c pipeline_source=codestar"),
    ({"pipeline_source": "github", "repository": "o/r"},
     "context pipeline_source='github': expected codestar or codecommit, e.g. `-c pipeline_source=codestar"),
    ({"pipeline_source": "codecommit"}, "context repository is missing: pipeline_source=codecommit needs the "
                                        "repository to build from; e.g. `-c pipeline_source=codecommit -c repository="),
    ({"pipeline_source": "codestar", "repository": "owner/models"},
     "context connection_arn is missing: pipeline_source=codestar needs a CodeStar connection's ARN; e.g. "
     "`-c pipeline_source=codestar -c connection_arn=arn:aws:codestar-connections:"),
    ({**CODESTAR, "connection_arn": "arn:aws:iam::123456789012:role/x"},
     "context connection_arn='arn:aws:iam::123456789012:role/x': expected a connection ARN like arn:aws:"),
    ({**CODESTAR, "repository": "models"},
     "context repository='models': pipeline_source=codestar expects owner/name, e.g. `-c pipeline_source=codestar"),
    ({**CODECOMMIT, "connection_arn": CONNECTION_ARN},
     "context connection_arn=" + repr(CONNECTION_ARN) + ": only pipeline_source=codestar uses a connection"),
    ({**CODECOMMIT, "repository": "owner/models"},
     "context repository='owner/models': pipeline_source=codecommit expects a repository name"),
    ({**CODECOMMIT, "branch": "feature..x"}, "context branch='feature..x': expected a git branch name"),
    ({**CODECOMMIT, "branch": "-x"}, "context branch='-x': expected a git branch name"),
    ({**CODECOMMIT, "pipeline_account": "1234"},
     "context pipeline_account='1234': expected a 12-digit AWS account id, e.g. -c pipeline_account=123456789012"),
    ({**CODECOMMIT, "pipeline_region": "useast1"}, "context pipeline_region='useast1': expected an AWS region"),
    ({**CODECOMMIT, "branch": 7}, "context branch=7: expected a non-empty string"),
])
def test_bad_settings_are_one_line_naming_the_context_key(context: dict[str, Any], message: str) -> None:
    with pytest.raises(PipelineSettingsError) as raised:
        PipelineSettings.from_context(context.get)
    text = str(raised.value)
    assert text.startswith(message)
    assert "\n" not in text
    assert isinstance(raised.value, InputError) and isinstance(raised.value, ValueError)


@pytest.mark.parametrize("settings", [
    PipelineSettings(pipeline_source="codecommit", repository="models"),
    PipelineSettings(pipeline_source="codestar", repository="group/sub/models", branch="release/2.0",
                     connection_arn="arn:aws:codeconnections:eu-west-1:123456789012:connection/abc-123",
                     pipeline_account="123456789012", pipeline_region="eu-west-1"),
])
def test_settings_survive_the_round_trip_through_cdk_context_arguments(settings: PipelineSettings) -> None:
    context = context_of(settings.context_arguments())
    assert pipeline_requested(context.get)
    assert PipelineSettings.from_context(context.get) == settings


@pytest.mark.parametrize(("value", "requested"), [
    (None, False), (False, False), ("false", False), (True, True), ("true", True),
])
def test_pipeline_is_requested_by_a_true_context_value(value: Any, requested: bool) -> None:
    assert pipeline_requested({"pipeline": value}.get) is requested


def test_an_unclear_pipeline_flag_is_an_error() -> None:
    with pytest.raises(PipelineSettingsError, match=r"context pipeline='yes': expected true or false, e\.g\. "):
        pipeline_requested({"pipeline": "yes"}.get)


# -- tables the pipeline cannot deliver ------------------------------------------------------------------------
def pipeline_table(text: str) -> ModelTable:
    return parse_table(yaml.safe_load(textwrap.dedent(text)), source="models.yaml")


def construct_pipeline(table: ModelTable, **context: str) -> PipelineStack:
    app = cdk.App(context={"pipeline": "true", **CODECOMMIT, **context})
    return add_pipeline_stack(app, table)


ENVIRONMENTS = """\
defaults: {account: "123456789012", regions: [us-east-1]}
environments:
  dev: {targets: [{region: us-east-1}]}
"""
FLAN_IN_DEV = "endpoints: [{name: flan, model: FlanT5XL, environments: [dev]}]\n"


def test_a_row_outside_the_environments_is_an_error_naming_it() -> None:
    table = pipeline_table(ENVIRONMENTS + """\
endpoints:
  - {name: flan, model: FlanT5XL, environments: [dev]}
  - {name: mistral, model: Mistral7B, regions: [us-east-1]}
""")
    with pytest.raises(TableError, match=r"^models\.yaml:\d+: endpoint 'mistral': the pipeline deploys environments "
                                         r"only; give the row `environments: \[\.\.\.\]` \(the table defines: dev\)"):
        construct_pipeline(table)


def test_a_table_without_environments_is_an_error() -> None:
    table = pipeline_table("""\
    defaults: {account: "123456789012", regions: [us-east-1]}
    endpoints:
      - {name: flan, model: FlanT5XL}
    """)
    with pytest.raises(TableError, match=r"^models\.yaml: the pipeline deploys the table's environments, and it "
                                         r"defines none; add `environments:`"):
        construct_pipeline(table)


def test_the_pipeline_needs_a_concrete_account() -> None:
    table = pipeline_table("""\
    environments:
      dev: {targets: [{account: "111111111111", region: us-east-1}]}
    endpoints:
      - {name: flan, model: FlanT5XL, environments: [dev]}
    """)
    with pytest.raises(PipelineSettingsError, match=r"^context pipeline_account, pipeline_region are missing: .* set "
                                                    r"-c pipeline_account=123456789012 or `defaults: \{account.*; "
                                                    r".* set -c pipeline_region=us-east-1 or "):
        construct_pipeline(table)
    with pytest.raises(PipelineSettingsError, match=r"^context pipeline_region is missing: "):
        construct_pipeline(table, pipeline_account="123456789012")


def test_every_missing_setting_is_named_at_once() -> None:
    table = pipeline_table("""\
    environments:
      dev: {targets: [{account: "111111111111", region: us-east-1}]}
    endpoints:
      - {name: flan, model: FlanT5XL, environments: [dev]}
    """)
    with pytest.raises(PipelineSettingsError) as raised:
        add_pipeline_stack(cdk.App(context={"pipeline": "true", "pipeline_source": "codestar"}), table)
    assert str(raised.value).startswith(
        "context repository, connection_arn, pipeline_account, pipeline_region are missing: ")


def test_the_example_pipeline_table_builds_with_the_settings_cdk_json_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/pipeline.yaml documents `cdk synth -c pipeline=true -c table=examples/pipeline.yaml` as enough."""
    monkeypatch.chdir(ROOT)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(context={**context, "pipeline": "true"})
    stack = add_pipeline_stack(app, load_table("examples/pipeline.yaml"))
    assert [wave.name for wave in stack.waves] == ["dev", "prod"]
    assert stack.waves[1].approval is not None and stack.waves[0].approval is None
    pipeline = Template.from_stack(stack)
    pipeline.has_resource_properties("AWS::CodePipeline::Pipeline", {"PipelineType": "V2"})


@pytest.mark.parametrize(("context", "message"), [
    ({"synthesizer": "bootstrapless"}, "context synthesizer='bootstrapless': the pipeline deploys with CDK's default"),
    ({"account": "123456789012"}, "context account='123456789012' sets the account of the plain table stacks"),
])
def test_plain_stack_settings_are_refused_in_pipeline_mode(context: dict[str, str], message: str) -> None:
    table = pipeline_table(ENVIRONMENTS + FLAN_IN_DEV)
    with pytest.raises(PipelineSettingsError) as raised:
        construct_pipeline(table, **context)
    assert str(raised.value).startswith(message)


def test_a_table_outside_the_repository_is_an_error(tmp_path: Path) -> None:
    write_table(tmp_path, ENVIRONMENTS + FLAN_IN_DEV)
    table = load_table(tmp_path / "models.yaml")  # absolute, outside the current directory
    with pytest.raises(InputError, match=r"the pipeline builds from the repository, so the table must be a file "
                                         r"inside it .*; pass it as a relative path, e.g\. -c table=models\.yaml"):
        construct_pipeline(table)


def test_app_py_reports_a_bad_pipeline_setting_in_one_line(tmp_path: Path) -> None:
    write_table(tmp_path, ENVIRONMENTS + FLAN_IN_DEV)
    context = {"pipeline": "true", "pipeline_source": "codestar", "repository": "owner/models"}
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path / "cdk.out"),
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("app.py: context connection_arn is missing: pipeline_source=codestar needs")


# -- environments seen from the pipeline's side: regions without the model are early, clear errors -------------
@pytest.mark.parametrize(("rows", "message"), [
    ("endpoints: [{name: llama, model: Llama2-7BChat, accept_eula: true, environments: [dev, prod]}]",
     r"models\.yaml:\d+: endpoint 'llama' field 'environments\[1\]': model 'meta-textgeneration-llama-2-7b-f' is "
     r"not available in region 'ap-south-2' \(did you mean .*\); supported regions: .*us-east-1.* "
     r"\(environment 'prod'\)"),
    ("fine_tuning: [{name: tune, base_model: Mistral7B, training_data: 's3://bucket-a/t/', "
     "output_path: 's3://bucket-a/o/', environments: [prod]}]",
     r"models\.yaml:\d+: fine_tuning 'tune' field 'environments\[0\]': model 'huggingface-llm-mistral-7b' is not "
     r"available in region 'ap-south-2'.* \(environment 'prod'\)"),
])
def test_a_wave_region_without_the_model_fails_the_table_load(rows: str, message: str) -> None:
    text = """\
    defaults: {account: "123456789012", regions: [us-east-1]}
    environments:
      dev: {targets: [{region: us-east-1}]}
      prod: {targets: [{region: us-east-1}, {account: "222222222222", region: ap-south-2}]}
    """
    with pytest.raises(TableError, match=f"^{message}"):
        pipeline_table(textwrap.dedent(text) + rows + "\n")


def test_an_unknown_target_region_is_reported_even_when_no_row_targets_it() -> None:
    with pytest.raises(TableError, match=r"environment 'prod' field 'targets\[0\]\.region': unknown region "
                                         r"'us-east-9'"):
        pipeline_table("""\
        environments:
          prod: {targets: [{account: "222222222222", region: us-east-9}]}
        endpoints: [{name: flan, model: FlanT5XL, regions: [us-east-1]}]
        """)


# -- the pull-request workflow and the pre-commit hooks --------------------------------------------------------
def shell_commands(script: str, program: str) -> list[list[str]]:
    """Each invocation of ``program`` in a shell script, as argv, cut at the first shell operator."""
    commands = []
    for line in script.splitlines():
        if program not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        if program in words:
            start = words.index(program)
            end = next((i for i in range(start, len(words)) if words[i] in ("||", "&&", ";", "|", ">", ">>")),
                       len(words))
            commands.append(words[start:end])
    return commands


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return document


def workflow_steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def test_workflow_runs_on_pull_requests_with_minimal_permissions(workflow: dict[Any, Any]) -> None:
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    assert workflow["permissions"] == {
        "contents": "read", "security-events": "write", "pull-requests": "write"
    }


def test_workflow_sets_up_synthesizes_and_checks_with_the_commands_the_project_accepts(
    workflow: dict[Any, Any],
) -> None:
    steps = workflow_steps(workflow)
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses[:3] == ["actions/checkout", "actions/setup-python", "actions/setup-node"]
    assert steps[1]["with"]["python-version"] == "3.11" and steps[2]["with"]["node-version"] == "22"
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "bash scripts/setup.sh" in scripts.splitlines()
    assert (ROOT / "scripts" / "setup.sh").is_file()
    assert shell_commands(scripts, CDK_CLI) == [[CDK_CLI, "synth", "--quiet"]]

    checks = shell_commands(scripts, EULAGATE_CLI)
    parsed = [parse_eulagate(argv[1:]) for argv in checks]
    changed = "${changed[@]}"  # the files the pull request changes, of every kind
    assert [(a.command, a.paths, a.format, a.skip_unknown_files) for a in parsed] == [
        ("check", [ASSEMBLY_DIR, changed], "sarif", True), ("check", [ASSEMBLY_DIR, changed], "markdown", True)
    ]
    assert 'git diff --name-only --diff-filter=d "origin/$BASE_REF...HEAD" > changed-files.txt' in scripts
    assert scripts.count("mapfile -t changed < changed-files.txt") == 2
    sarif_output, markdown_output = (a.output for a in parsed)

    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == sarif_output
    assert "always()" in upload["if"]
    assert f'cat {markdown_output} >> "$GITHUB_STEP_SUMMARY"' in scripts
    assert f"--body-file {markdown_output}" in scripts


def test_workflow_keeps_going_to_publish_the_reports_then_fails_on_check_errors(workflow: dict[Any, Any]) -> None:
    steps = workflow_steps(workflow)
    synth = next(step for step in steps if step.get("id") == "synth")
    check = next(step for step in steps if step.get("id") == "check")
    assert synth["continue-on-error"] is True  # the gate fails the synth after writing cdk.out
    assert "|| status=$?" in check["run"] and 'echo "status=$status" >> "$GITHUB_OUTPUT"' in check["run"]
    final = steps[-1]
    assert final["if"] == "always()"
    assert final["env"] == {"SYNTH_OUTCOME": "${{ steps.synth.outcome }}",
                            "CHECK_STATUS": "${{ steps.check.outputs.status }}"}
    outcome = {}
    for synth_outcome, status in [("success", "0"), ("success", "1"), ("success", "2"), ("failure", "0"),
                                  ("success", "")]:
        result = subprocess.run(["bash", "-c", final["run"]], env={"SYNTH_OUTCOME": synth_outcome,
                                                                    "CHECK_STATUS": status, "PATH": os.environ["PATH"]},
                                capture_output=True, text=True)
        outcome[(synth_outcome, status)] = result.returncode
    assert outcome == {("success", "0"): 0, ("success", "1"): 1, ("success", "2"): 1, ("failure", "0"): 1,
                       ("success", ""): 1}


@pytest.fixture(scope="module")
def hooks() -> list[dict[str, Any]]:
    document: list[dict[str, Any]] = yaml.safe_load(PRE_COMMIT_HOOKS.read_text())
    return document


def hook_argv(hook: dict[str, Any], filenames: list[str]) -> list[str]:
    """What pre-commit runs: the entry, the hook's args, then the staged file names unless pass_filenames is off."""
    staged = filenames if hook.get("pass_filenames", True) else []
    return [*shlex.split(hook["entry"]), *hook.get("args", []), *staged]


def test_pre_commit_hooks_are_well_formed(hooks: list[dict[str, Any]]) -> None:
    assert [hook["id"] for hook in hooks] == ["eulagate-check", "eulagate-check-templates", "eulagate-plan",
                                              "eulagate-check-changed"]
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"  # pre-commit installs this package, which provides `eulagate`


def test_the_cloud_assembly_hook_checks_cdk_out(
    hooks: list[dict[str, Any]], built: BuiltPipeline, tmp_path: Path
) -> None:
    hook = next(h for h in hooks if h["id"] == "eulagate-check")
    argv = hook_argv(hook, ["models.yaml"])
    assert argv[0] == "eulagate"
    args = parse_eulagate(argv[1:])
    assert (args.command, args.paths) == ("check", [ASSEMBLY_DIR])
    assert hook["always_run"] is True  # cdk.out is not committed, so no staged file would trigger it
    (tmp_path / ASSEMBLY_DIR).symlink_to(built.outdir)  # a project directory after `cdk synth`
    with contextlib.chdir(tmp_path):
        assert main(argv[1:]) == 0


def test_the_table_hook_plans_the_staged_table(hooks: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    hook = next(h for h in hooks if h["id"] == "eulagate-plan")
    files = re.compile(hook["files"])
    assert files.search("models.yaml") and files.search("infra/models.yml") and not files.search("my-models.yaml")
    argv = hook_argv(hook, ["models.yaml"])
    assert parse_eulagate(argv[1:]).command == "plan"
    monkeypatch.chdir(ROOT)
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("gate: PASS: ")
    assert main([*argv[1:-1], "examples/unaccepted.yaml"]) == 1


def test_the_changed_files_hook_checks_staged_files_of_every_kind(
        hooks: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    hook = next(h for h in hooks if h["id"] == "eulagate-check-changed")
    files = re.compile(hook["files"])
    surfaces = ROOT / "tests" / "fixtures" / "surfaces"
    staged = [str(path.relative_to(ROOT)) for path in sorted(surfaces.rglob("*")) if path.name != "verdicts.json"
              and path.is_file()] + ["models.yaml", "package.json", "README.md"]
    assert all(files.search(name) for name in staged[:-1]) and not files.search("README.md")
    monkeypatch.chdir(ROOT)
    good = [name for name in staged[:-1] if "/bad/" not in name]
    assert main(hook_argv(hook, good)[1:]) == 0  # models.yaml, package.json: of no kind, passed over
    bad = [name for name in staged[:-1] if "/bad/" in name]
    assert main(hook_argv(hook, bad)[1:]) == 1
    report = capsys.readouterr().out
    assert all(f"{name}:" in report for name in bad)


def test_the_templates_hook_checks_staged_templates(hooks: list[dict[str, Any]]) -> None:
    hook = next(h for h in hooks if h["id"] == "eulagate-check-templates")
    files = re.compile(hook["files"])
    assert all(files.search(name) for name in ("app.template", "infra/stack.template.json", "stack.template.yaml"))
    assert not any(files.search(name) for name in ("package.json", "models.yaml", "cdk.json", "template.py"))
    for template, status in ((GOOD_TEMPLATE, 0), (BAD_TEMPLATE, 1)):
        argv = hook_argv(hook, [str(template)])
        args = parse_eulagate(argv[1:])
        assert (args.command, args.paths) == ("check", [str(template)])
        assert main(argv[1:]) == status

"""GuardStack (the EULA hook in one account) and GuardRolloutStack (its StackSet across the organisation),
synthesized once for the module with cdk-nag AwsSolutions registered; and ``app.py -c guard=true``."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.constructs.guard_hook import EulaGuardHook, resource_target_names
from constructs_lib.errors import ConstructValidationError
from constructs_lib.hook.bundle import bundle_key
from constructs_lib.table import load_table
from stacks.guard_stack import GuardSettingsError, add_guard_stacks, guard_requested, table_regions

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]
OUS = ["ou-abcd-11111111", "ou-abcd-22222222"]


@dataclass
class GuardApp:
    failure: str | None
    guard: Template
    rollout: dict[str, Any]
    stack_set: dict[str, Any]
    member: Template
    member_json: dict[str, Any]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> GuardApp:
    outdir = tmp_path_factory.mktemp("guard")
    app = cdk.App(outdir=str(outdir), context={"guard": "true", "guard_ous": ",".join(OUS)})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks())
    guard, rollout = add_guard_stacks(app, load_table(ROOT / "models.yaml"))
    failure = None
    try:
        app.synth()
    except RuntimeError as error:
        failure = str(error)
    rollout_template = json.loads((outdir / rollout.template_file).read_text())
    (stack_set,) = [r for r in rollout_template["Resources"].values() if r["Type"] == "AWS::CloudFormation::StackSet"]
    member = json.loads(stack_set["Properties"]["TemplateBody"])
    guard_template = json.loads((outdir / guard.template_file).read_text())
    return GuardApp(failure, Template.from_json(guard_template), rollout_template, stack_set,
                    Template.from_json(member), member)


def test_aws_solutions_reports_nothing(synthesized: GuardApp) -> None:
    assert synthesized.failure is None, synthesized.failure


def test_resource_hook_targets_the_sagemaker_types_the_engine_reads(synthesized: GuardApp) -> None:
    names = resource_target_names()
    assert {"AWS::SageMaker::Model", "AWS::SageMaker::ModelPackage", "AWS::SageMaker::InferenceComponent"} <= set(names)
    synthesized.guard.has_resource_properties("AWS::CloudFormation::LambdaHook", {
        "Alias": "EulaGate::Eula::Guard",
        "FailureMode": "FAIL",
        "HookStatus": "ENABLED",
        "TargetOperations": ["RESOURCE", "CLOUD_CONTROL"],
        "TargetFilters": {"Targets": [{"Action": action, "InvocationPoint": "PRE_PROVISION", "TargetName": name}
                                      for name in names for action in ("CREATE", "UPDATE")]},
        "LambdaFunction": {"Fn::GetAtt": [Match.string_like_regexp("GuardFunction"), "Arn"]},
        "ExecutionRole": {"Fn::GetAtt": [Match.string_like_regexp("GuardHookRole"), "Arn"]},
    })


def test_stack_hook_reads_whole_templates(synthesized: GuardApp) -> None:
    synthesized.guard.has_resource_properties("AWS::CloudFormation::LambdaHook", {
        "Alias": "EulaGate::Eula::GuardStack",
        "FailureMode": "FAIL",
        "TargetOperations": ["STACK", "CHANGE_SET"],
        "TargetFilters": Match.absent(),
    })
    synthesized.guard.resource_count_is("AWS::CloudFormation::LambdaHook", 2)


def test_function_runs_the_bundled_handler_inside_the_hooks_30_seconds(synthesized: GuardApp) -> None:
    synthesized.guard.has_resource_properties("AWS::Lambda::Function", {
        "Handler": "constructs_lib.hook.handler.handle",
        "Runtime": Match.string_like_regexp(r"^python3\.1[1-9]$"),
        "Timeout": 25,
        "LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp("GuardLogs")}},
    })
    synthesized.guard.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_roles_are_least_privilege(synthesized: GuardApp) -> None:
    template = synthesized.guard
    # The hooks service may assume the hook role only for this account's two EulaGate hooks (confused deputy).
    template.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": {"Statement": [{
            "Action": "sts:AssumeRole", "Effect": "Allow",
            "Principal": {"Service": "hooks.cloudformation.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                "StringLike": {"aws:SourceArn": [{"Fn::Join": ["", Match.array_with([Match.string_like_regexp(
                    f"type/hook/EulaGate-Eula-Guard{suffix}$")])]} for suffix in ("", "/\\*", "Stack", "Stack/\\*")]},
            }}],
            "Version": "2012-10-17"}})
    # Every statement of every policy: what it allows, on the one resource it names.
    granted = {json.dumps(statement["Action"]): statement["Resource"]["Fn::GetAtt"][0]
               for policy in template.find_resources("AWS::IAM::Policy").values()
               for statement in policy["Properties"]["PolicyDocument"]["Statement"]}
    logs = json.dumps(["logs:CreateLogStream", "logs:PutLogEvents"])
    assert set(granted) == {'"lambda:InvokeFunction"', logs}
    assert granted['"lambda:InvokeFunction"'].startswith("GuardFunction")
    assert granted[logs].startswith("GuardLogs")
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_rollout_stack_set_reaches_every_account_and_region(synthesized: GuardApp) -> None:
    properties = synthesized.stack_set["Properties"]
    assert properties["PermissionModel"] == "SERVICE_MANAGED"
    assert properties["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert properties["Capabilities"] == ["CAPABILITY_IAM"]
    (group,) = properties["StackInstancesGroup"]
    assert group["Regions"] == list(table_regions(load_table(ROOT / "models.yaml")))
    assert group["DeploymentTargets"] == {"OrganizationalUnitIds": {"Ref": "OrganizationalUnitIds"}}
    units = synthesized.rollout["Parameters"]["OrganizationalUnitIds"]
    assert (units["Type"], units["Default"]) == ("CommaDelimitedList", ",".join(OUS))
    assert {p["ParameterKey"]: p["ParameterValue"] for p in properties["Parameters"]} == {
        "HookCodeBucketPrefix": "eulagate-hook-code", "HookCodeKey": bundle_key()}


def test_member_template_is_the_hook_stack_without_bootstrap_and_with_regional_code(synthesized: GuardApp) -> None:
    member = synthesized.member
    member.resource_count_is("AWS::CloudFormation::LambdaHook", 2)
    member.has_resource_properties("AWS::Lambda::Function", {"Code": {
        "S3Bucket": {"Fn::Join": ["-", [{"Ref": "HookCodeBucketPrefix"}, {"Ref": "AWS::Region"}]]},
        "S3Key": {"Ref": "HookCodeKey"}}})
    assert set(synthesized.member_json["Parameters"]) == {"HookCodeBucketPrefix", "HookCodeKey"}
    assert "Rules" not in synthesized.member_json  # no CDK bootstrap check in member accounts
    assert not member.find_resources("AWS::CDK::Metadata")


def test_nag_still_reports_what_is_not_ours() -> None:
    app = cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks())
    stack = cdk.Stack(app, "Careless")
    hook = EulaGuardHook(stack, "Guard")
    hook.function_role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5"):
        app.synth()


def test_bad_settings_are_one_line_errors(scratch: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="failure_mode='STOP': expected FAIL or WARN"):
        EulaGuardHook(scratch, "BadMode", failure_mode="STOP")  # type: ignore[arg-type]
    with pytest.raises(ConstructValidationError, match="target_stacks='prod': expected ALL, NONE or a list"):
        EulaGuardHook(scratch, "BadStacks", target_stacks="prod")
    for alias in ("AWS::Eula::Guard", "Acme::Guard", "Acme::Eula::Guard-1"):
        with pytest.raises(ConstructValidationError, match="expected Organization::Service::Hook"):
            EulaGuardHook(scratch, f"Bad{len(alias)}", alias=alias)
    with pytest.raises(GuardSettingsError, match="context guard='yes': expected true or false"):
        guard_requested({"guard": "yes"}.get)
    assert guard_requested({"guard": "true"}.get) and not guard_requested({}.get)


def test_bad_guard_context_is_a_one_line_error() -> None:
    table = load_table(ROOT / "models.yaml")
    with pytest.raises(GuardSettingsError, match="context guard_failure_mode='STOP': expected FAIL or WARN"):
        add_guard_stacks(cdk.App(context={"guard_failure_mode": "STOP"}), table)
    regionless = dataclasses.replace(table, default_regions=(), endpoints=(), fine_tuning=(), environments={})
    with pytest.raises(GuardSettingsError, match=r"has no regions.*-c guard_regions=us-east-1,eu-west-1"):
        add_guard_stacks(cdk.App(context={"guard_regions": " , "}), regionless)


def test_target_stacks_patterns_and_none(scratch: cdk.Stack) -> None:
    EulaGuardHook(scratch, "Prod", target_stacks=["prod-*"], failure_mode="WARN", alias="Acme::Eula::Prod")
    EulaGuardHook(scratch, "Off", target_stacks="NONE", alias="Acme::Eula::Off")
    template = Template.from_stack(scratch)
    template.has_resource_properties("AWS::CloudFormation::LambdaHook", {
        "Alias": "Acme::Eula::ProdStack", "FailureMode": "WARN",
        "StackFilters": {"FilteringCriteria": "ALL", "StackNames": {"Include": ["prod-*"]}}})
    template.has_resource_properties("AWS::CloudFormation::LambdaHook", {
        "Alias": "Acme::Eula::Off", "HookStatus": "DISABLED"})


def test_app_synthesizes_the_guard_stacks_offline(tmp_path: Path) -> None:
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"table": "models.yaml", "guard": "true"}),
           "CDK_OUTDIR": str(tmp_path), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
           "AWS_EC2_METADATA_DISABLED": "true"}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = sorted(name for name, artifact in manifest["artifacts"].items()
                    if artifact["type"] == "aws:cloudformation:stack")
    assert stacks == ["EulaGateGuard", "EulaGateGuardRollout"]

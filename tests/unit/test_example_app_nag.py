"""cdk-nag over the example apps (``app.py`` on ``models.yaml``, and on ``examples/regulated.yaml`` with the
compliance packs): no unacknowledged finding, every acknowledgment names one finding and says why, and
acknowledgments hide nothing that is not ours."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

from constructs_lib.constructs.jobs.base import JobProvider
from constructs_lib.synth.gate import EulaGate
from constructs_lib.table import load_table
from stacks import add_table_stacks

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]
NAG_PLUGIN = "AwsSolutions"
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
REGULATED = ROOT / "examples" / "regulated.yaml"


@dataclass
class NaggedApp:
    report: dict[str, Any]
    failure: str | None
    fine_tuning_stack: cdk.Stack
    fine_tuning_template: dict[str, Any]
    templates: dict[str, dict[str, Any]]


def synth_example_app(
    outdir: Path, *, careless_role: bool = False, table: Path = ROOT / "models.yaml", compliance: bool = False
) -> NaggedApp:
    """The example app as app.py builds it, with AwsSolutions (and the compliance packs) beside the EULA gate."""
    app = cdk.App(outdir=str(outdir))
    packs = (HIPAASecurityChecks(), NIST80053R5Checks(), PCIDSS321Checks()) if compliance else ()
    cdk.Validations.of(app).add_plugins(EulaGate(), AwsSolutionsChecks(), *packs)
    stacks = add_table_stacks(app, load_table(table))
    fine_tuning = next(s for s in stacks if any(isinstance(c, JobProvider) for c in s.node.children))
    if careless_role:
        # Not ours: the same wildcards as acknowledged findings of the job and Provider roles, in the same stack.
        provider = next(c for c in fine_tuning.node.children if isinstance(c, JobProvider))
        role = iam.Role(fine_tuning, "Careless", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
        provider.provider.on_event_handler.grant_invoke(role)
    failure = None
    try:
        app.synth()
    except RuntimeError as error:
        failure = str(error)
    report = json.loads((outdir / "validation-report.json").read_text())
    templates = {stack.stack_name: json.loads((outdir / stack.template_file).read_text()) for stack in stacks}
    return NaggedApp(report=report, failure=failure, fine_tuning_stack=fine_tuning,
                     fine_tuning_template=templates[fine_tuning.stack_name], templates=templates)


def nag_report(nagged: NaggedApp, plugin_name: str = NAG_PLUGIN) -> dict[str, Any]:
    return next(plugin for plugin in nagged.report["pluginReports"] if plugin["pluginName"] == plugin_name)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> NaggedApp:
    return synth_example_app(tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="module")
def regulated(tmp_path_factory: pytest.TempPathFactory) -> NaggedApp:
    return synth_example_app(tmp_path_factory.mktemp("regulated"), table=REGULATED, compliance=True)


@pytest.fixture(scope="module")
def careless(tmp_path_factory: pytest.TempPathFactory) -> NaggedApp:
    return synth_example_app(tmp_path_factory.mktemp("careless"), careless_role=True)


def test_example_app_passes_aws_solutions(example: NaggedApp) -> None:
    nag = nag_report(example)
    unacknowledged = [(v["ruleName"], [c["constructPath"] for c in v["violatingConstructs"]])
                      for v in nag["violations"]]
    assert example.failure is None, unacknowledged
    assert nag["conclusion"] == "success"
    assert unacknowledged == []


def test_every_acknowledgment_names_one_finding_and_says_why(example: NaggedApp) -> None:
    suppressed = [v for plugin in example.report["pluginReports"] for v in plugin.get("suppressedViolations", [])]
    assert suppressed
    for violation in suppressed:
        acknowledged = violation["acknowledgedId"]
        assert acknowledged == f"{NAG_PLUGIN}::{violation['ruleName']}", "acknowledge the finding as reported"
        assert len(violation["reason"].strip()) > 30, acknowledged
        for rule in ("AwsSolutions-IAM4", "AwsSolutions-IAM5"):
            assert not acknowledged.endswith(f"::{rule}"), f"{acknowledged}: acknowledge findings, not {rule}"
            if rule in acknowledged:
                assert acknowledged.startswith(f"{NAG_PLUGIN}::{rule}["), acknowledged


def test_acknowledgments_sit_on_the_constructs_that_need_them(example: NaggedApp) -> None:
    suppressed = nag_report(example)["suppressedViolations"]
    for violation in suppressed:
        place = violation["acknowledgedAt"]
        # stacks are the app's children: a place with no "/" would be a whole stack
        assert "/" in place, f"{violation['acknowledgedId']} acknowledged on a whole stack: {place}"
        assert all(c["constructPath"] == place or c["constructPath"].startswith(f"{place}/")
                   for c in violation["violatingConstructs"])
    # the fine-tuning stack's findings are among them: its job role, handler role and Provider framework
    fine_tuning = example.fine_tuning_stack.node.path
    places = {v["acknowledgedAt"] for v in suppressed if v["acknowledgedAt"].startswith(f"{fine_tuning}/")}
    assert any(place.endswith("/Job/JobRole") for place in places), places
    assert any(place.endswith("Provider/HandlerRole") for place in places), places
    assert any(place.endswith("Provider/FrameworkOnEventRole") for place in places), places
    assert any(place.endswith("/Provider/waiter-state-machine") for place in places), places
    assert {v["ruleName"].split("[")[0] for v in suppressed} == {"AwsSolutions-IAM5", "AwsSolutions-SF2"}


def test_provider_framework_findings_are_fixed_not_acknowledged(example: NaggedApp) -> None:
    """No managed policy on the framework roles (IAM4), and the waiter logs ALL events (SF1)."""
    rules = {v["ruleName"] for v in nag_report(example)["suppressedViolations"]}
    assert not any(rule.startswith(("AwsSolutions-IAM4", "AwsSolutions-SF1")) for rule in rules), rules
    resources = example.fine_tuning_template["Resources"].values()
    roles = [r for r in resources if r["Type"] == "AWS::IAM::Role"]
    assert roles and all("ManagedPolicyArns" not in role["Properties"] for role in roles)
    (state_machine,) = [r for r in resources if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert state_machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    assert state_machine["Properties"]["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_an_unrelated_wildcard_role_is_still_reported(careless: NaggedApp) -> None:
    assert careless.failure is not None
    violations = nag_report(careless)["violations"]
    reported = {(v["ruleName"], c["constructPath"]) for v in violations for c in v["violatingConstructs"]}
    careless_policy = f"{careless.fine_tuning_stack.node.path}/Careless/DefaultPolicy/Resource"
    assert ("AwsSolutions-IAM5[Resource::*]", careless_policy) in reported
    assert any(rule.endswith(">:*]") and path == careless_policy for rule, path in reported)
    assert {path for _, path in reported} == {careless_policy}


# -- examples/regulated.yaml: KMS, VPC and network isolation, under the compliance packs -----------------------

def resources_of(nagged: NaggedApp, resource_type: str) -> list[dict[str, Any]]:
    return [resource["Properties"] for template in nagged.templates.values()
            for resource in template["Resources"].values() if resource["Type"] == resource_type]


def unacknowledged(nagged: NaggedApp, plugin: str, *, fine_tuning: bool) -> list[tuple[str, str]]:
    """(rule, construct path) of each unacknowledged finding in the fine-tuning stack, or in the other stacks."""
    in_fine_tuning = f"{nagged.fine_tuning_stack.node.path}/"
    return sorted({(v["ruleName"], c["constructPath"]) for v in nag_report(nagged, plugin)["violations"]
                   for c in v["violatingConstructs"] if c["constructPath"].startswith(in_fine_tuning) == fine_tuning})


@pytest.mark.parametrize("plugin", [NAG_PLUGIN, *COMPLIANCE_PACKS])
def test_regulated_endpoints_have_no_unacknowledged_finding(regulated: NaggedApp, plugin: str) -> None:
    assert unacknowledged(regulated, plugin, fine_tuning=False) == []


@pytest.mark.parametrize("plugin", [NAG_PLUGIN, *COMPLIANCE_PACKS])
def test_regulated_fine_tuning_has_no_unacknowledged_finding(regulated: NaggedApp, plugin: str) -> None:
    assert unacknowledged(regulated, plugin, fine_tuning=True) == []


def test_regulated_acknowledgments_name_their_finding_with_an_auditors_reason(regulated: NaggedApp) -> None:
    acknowledged = set()
    for plugin in (NAG_PLUGIN, *COMPLIANCE_PACKS):
        for violation in nag_report(regulated, plugin)["suppressedViolations"]:
            assert violation["acknowledgedId"] == f"{plugin}::{violation['ruleName']}"
            assert len(violation["reason"]) > 60, violation  # says what the grant or setting is for
            assert "/" in violation["acknowledgedAt"], violation  # on a construct, never a whole stack
            acknowledged.add(violation["ruleName"].split("[")[0])
    for pack in COMPLIANCE_PACKS:  # the two serving findings that stay, each with its reason
        assert {f"{pack}-IAMNoInlinePolicy", f"{pack}-SageMakerEndpointConfigurationKMSKeyConfigured"} <= acknowledged


def test_regulated_example_declares_key_vpc_and_isolation(regulated: NaggedApp) -> None:
    table = load_table(REGULATED)
    key = table.endpoints[0].controls.kms_key_arn
    vpc = table.endpoints[0].controls.vpc
    assert key is not None and vpc is not None
    models = resources_of(regulated, "AWS::SageMaker::Model")
    assert len(models) == 3  # two endpoint rows and the fine-tuned model
    for model in models:
        assert model["EnableNetworkIsolation"] is True
        assert model["VpcConfig"] == {"Subnets": list(vpc.subnet_ids), "SecurityGroupIds": list(vpc.security_group_ids)}
    configs = resources_of(regulated, "AWS::SageMaker::EndpointConfig")
    assert [config["DataCaptureConfig"]["KmsKeyId"] for config in configs] == [key] * 3
    (job,) = resources_of(regulated, "Custom::AutoMLJobV2")  # the fine-tuning row's controls reach its job
    assert job["OutputDataConfig"]["KmsKeyId"] == job["SecurityConfig"]["VolumeKmsKeyId"] == key
    assert job["SecurityConfig"]["VpcConfig"] == {"Subnets": list(vpc.subnet_ids),
                                                  "SecurityGroupIds": list(vpc.security_group_ids)}
    roles = [role for role in resources_of(regulated, "AWS::IAM::Role") if "SageMaker execution role" in
             role.get("Description", "")]
    assert len(roles) == 3
    for role in roles:
        statements = role["Policies"][0]["PolicyDocument"]["Statement"]
        assert any(s["Resource"] == key and "kms:Decrypt" in s["Action"] for s in statements)

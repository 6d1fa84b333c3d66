"""AutoMLFineTuningJob: the CreateAutoMLJobV2 request it declares, its roles and Provider, the EULA gate's view
of it, and its early errors.

One app is synthesized once per module; the error tests construct (no synth) in scratch stacks of their own.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from constructs_lib import rules
from constructs_lib.aws_names import parse_ecr_image
from constructs_lib.catalog import AutopilotUnsupportedModelError, Catalog, UnknownModelError, UnsupportedRegionError
from constructs_lib.constructs.jobs.automl import (
    AUTOML_JOB,
    AutoMLFineTuningJob,
    text_generation_hyperparameters,
)
from constructs_lib.constructs.jobs.base import (
    HANDLER_CONCURRENCY,
    HANDLER_TIMEOUT,
    HANDLERS_DIR,
    JOB_NAME_PATTERN,
    MAX_WAITED_RUNTIME_SECONDS,
    JobNotAwaitedError,
    JobProvider,
    checked_job_name,
    decimal_text,
    job_name_prefix,
)
from constructs_lib.constructs.placement import VpcPlacement
from constructs_lib.errors import ConstructValidationError
from tests.support.network_grants import expected_network_statements, network_statements

pytestmark = pytest.mark.synth

ACCOUNT = "111122223333"
REGION = "us-east-1"
PASSED_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/TeamAutopilotRole"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PLACEMENT = VpcPlacement(subnet_ids=("subnet-0123456789abcdef0", "subnet-0fedcba9876543210"),
                         security_group_ids=("sg-0123456789abcdef0",))


def team_topic(stack: cdk.Stack) -> sns.ITopic:
    return sns.Topic.from_topic_arn(stack, "TeamTopic", f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts")


@dataclass
class SynthesizedJobs:
    """One synthesized stack and its fine-tuning jobs by construct id (shared with test_training.py)."""

    app: cdk.App
    stack: cdk.Stack
    template: Mapping[str, Any]
    jobs: Mapping[str, Any]

    def logical_id(self, element: Any) -> str:
        return self.stack.get_logical_id(element)

    def request(self, job: str) -> dict[str, Any]:
        properties = dict(self.template["Resources"][self.logical_id(self.jobs[job].custom_resource)]["Properties"])
        properties.pop("ServiceToken")
        properties.pop("ServiceTimeout")  # CloudFormation's, beside the request
        return properties

    def resource(self, job: str) -> dict[str, Any]:
        return self.template["Resources"][self.logical_id(self.jobs[job].custom_resource)]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == resource_type}

    def attached_policies(self, role_logical_id: str) -> list[dict[str, Any]]:
        return [p["Properties"] for p in self.of_type("AWS::IAM::Policy").values()
                if {"Ref": role_logical_id} in p["Properties"]["Roles"]]

    def role_statements(self, role_logical_id: str) -> list[dict[str, Any]]:
        """Of its inline and attached policies."""
        inline = self.template["Resources"][role_logical_id]["Properties"].get("Policies", [])
        policies = [*inline, *self.attached_policies(role_logical_id)]
        return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


def text_generation(request: dict[str, Any]) -> dict[str, Any]:
    return request["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]


def partition_arn(suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, suffix]]}


@pytest.fixture(scope="module")
def declared() -> SynthesizedJobs:
    app = cdk.App()
    stack = cdk.Stack(app, "FineTuning", env=cdk.Environment(account=ACCOUNT, region=REGION))
    jobs = {
        "Llama": AutoMLFineTuningJob(
            stack, "Llama", base_model="Llama2-7BChat", accept_eula=True, training_data="s3://tuning-data/chat/train/",
            validation_data="s3://tuning-data/chat/validation/", output_path="s3://tuning-output/chat",
            hyperparameters={"epochCount": 3, "learningRate": 1e-5, "batchSize": "8"}, wait_for_completion=True,
        ),
        "Falcon": AutoMLFineTuningJob(
            stack, "Falcon", base_model="huggingface-llm-falcon-7b-instruct-bf16",
            job_name=f"{job_name_prefix(stack).upper()}Falcon-Tune", training_data="s3://tuning-data/falcon/",
            output_path="s3://tuning-output/falcon/", max_runtime=cdk.Duration.hours(5),
            content_type="x-application/vnd.amazon+parquet",
        ),
        "Unaccepted": AutoMLFineTuningJob(
            stack, "Unaccepted", base_model="Llama2-13B", training_data="s3://tuning-data/a/",
            output_path="s3://tuning-output/a/",
        ),
        "Declined": AutoMLFineTuningJob(
            stack, "Declined", base_model="meta-textgeneration-llama-2-7b", accept_eula=False,
            training_data="s3://tuning-data/b/", output_path="s3://tuning-output/b/",
        ),
        "NeedlessAccept": AutoMLFineTuningJob(
            stack, "NeedlessAccept", base_model="Falcon7B", accept_eula=True, training_data="s3://tuning-data/c/",
            output_path="s3://tuning-output/c/", role=iam.Role.from_role_arn(stack, "TeamRole", PASSED_ROLE_ARN),
        ),
        "Secured": AutoMLFineTuningJob(
            stack, "Secured", base_model="Llama2-7BChat", accept_eula=True, training_data="s3://tuning-data/d/",
            output_path="s3://tuning-output/d/", kms_key_arn=KMS_KEY_ARN, vpc=PLACEMENT, network_isolation=True,
            failure_topic=team_topic(stack),
        ),
    }
    template = assertions.Template.from_stack(stack).to_json()
    return SynthesizedJobs(app, stack, template, jobs)


def test_request_is_create_automl_job_v2_with_eula_acceptance(declared: SynthesizedJobs) -> None:
    request = declared.request("Llama")
    role_id = declared.logical_id(declared.jobs["Llama"].role.node.default_child)
    assert request == {
        "AutoMLJobName": request["AutoMLJobName"],
        "AutoMLJobInputDataConfig": [
            {"ChannelType": "training", "ContentType": "text/csv;header=present",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://tuning-data/chat/train/"}}},
            {"ChannelType": "validation", "ContentType": "text/csv;header=present",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                             "S3Uri": "s3://tuning-data/chat/validation/"}}},
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://tuning-output/chat"},
        "AutoMLProblemTypeConfig": {"TextGenerationJobConfig": {
            "BaseModelName": "Llama2-7BChat",
            "CompletionCriteria": {"MaxCandidates": 1, "MaxAutoMLJobRuntimeInSeconds": 45 * 60},
            "TextGenerationHyperParameters": {"epochCount": "3", "learningRate": "0.00001", "batchSize": "8"},
            "ModelAccessConfig": {"AcceptEula": True},
        }},
        "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
    }
    assert declared.resource("Llama")["Type"] == "Custom::AutoMLJobV2"


def test_jumpstart_id_resolves_to_its_base_model_name_without_acceptance(declared: SynthesizedJobs) -> None:
    request = declared.request("Falcon")
    assert request["AutoMLJobName"] == f"{job_name_prefix(declared.stack).upper()}Falcon-Tune"
    assert text_generation(request) == {
        "BaseModelName": "Falcon7BInstruct",
        "CompletionCriteria": {"MaxCandidates": 1, "MaxAutoMLJobRuntimeInSeconds": 5 * 3600},
    }
    assert {c["ContentType"] for c in request["AutoMLJobInputDataConfig"]} == {"x-application/vnd.amazon+parquet"}
    assert [c["ChannelType"] for c in request["AutoMLJobInputDataConfig"]] == ["training"]


def test_acceptance_is_emitted_only_as_given_for_gated_models(declared: SynthesizedJobs) -> None:
    assert "ModelAccessConfig" not in text_generation(declared.request("Unaccepted"))
    assert text_generation(declared.request("Declined"))["ModelAccessConfig"] == {"AcceptEula": False}
    assert text_generation(declared.request("Declined"))["BaseModelName"] == "Llama2-7B"
    # Falcon has no EULA: the acceptance is dropped and the user warned
    assert "ModelAccessConfig" not in text_generation(declared.request("NeedlessAccept"))
    warnings = assertions.Annotations.from_stack(declared.stack).find_warning(
        "/FineTuning/NeedlessAccept", assertions.Match.string_like_regexp("has no EULA to accept"))
    assert len(warnings) == 1


def test_eula_gate_fails_exactly_the_unaccepted_llama_jobs(declared: SynthesizedJobs) -> None:
    findings = rules.check_template(declared.template, template_path="FineTuning.template.json")
    flagged = {(f.logical_id, f.rule_id, f.model_id) for f in findings}
    unaccepted, declined = (declared.logical_id(declared.jobs[j].custom_resource) for j in ("Unaccepted", "Declined"))
    assert flagged == {
        (unaccepted, "EULA003", "meta-textgeneration-llama-2-13b"),
        (declined, "EULA003", "meta-textgeneration-llama-2-7b"),
    }


def test_job_role_reads_only_the_data_and_writes_only_the_output(declared: SynthesizedJobs) -> None:
    job = declared.jobs["Llama"]
    role_id = declared.logical_id(job.role.node.default_child)
    role = declared.template["Resources"][role_id]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}]
    assert "ManagedPolicyArns" not in role["Properties"]
    statements = declared.role_statements(role_id)
    by_action = {tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],): s for s in statements}
    assert by_action[("s3:GetObject",)]["Resource"] == [
        partition_arn(":s3:::tuning-data/chat/train/*"), partition_arn(":s3:::tuning-data/chat/validation/*"),
        partition_arn(":s3:::tuning-output/chat*"),  # Autopilot reads back what it writes
    ]
    assert by_action[("s3:PutObject", "s3:AbortMultipartUpload")]["Resource"] == partition_arn(
        ":s3:::tuning-output/chat*")
    listings = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert {(s["Resource"]["Fn::Join"][1][2], tuple(s["Condition"]["StringLike"]["s3:prefix"])) for s in listings} == {
        (":s3:::tuning-data", ("chat/train/*", "chat/validation/*")), (":s3:::tuning-output", ("chat*",)),
    }
    pass_role = by_action[("iam:PassRole",)]
    assert pass_role["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(a.endswith("*") for a in actions), statement
        if statement["Resource"] == "*":  # only actions that have no resource type
            assert set(actions) <= {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
    # ECR pulls: the repositories of the model's JumpStart training and inference images, in their own account
    pulls = next(s for s in statements if "ecr:BatchGetImage" in s["Action"])
    catalog = Catalog.default()
    spec = catalog.get("Llama2-7BChat")
    expected = sorted({parse_ecr_image(uri).repository_arn()  # type: ignore[union-attr]
                       for uri in (spec.image_uri(REGION), spec.training_image_uri(REGION))})
    assert pulls["Resource"] == (expected if len(expected) > 1 else expected[0])
    assert all(re.fullmatch(r"arn:aws:ecr:us-east-1:\d{12}:repository/[a-z0-9._/-]+", arn) for arn in expected)


def test_custom_resource_waits_for_the_job_role_and_its_policy(declared: SynthesizedJobs) -> None:
    job = declared.jobs["Llama"]
    depends_on = declared.resource("Llama")["DependsOn"]
    policy = job.role.node.find_child("DefaultPolicy").node.default_child
    assert set(depends_on) == {declared.logical_id(job.role.node.default_child), declared.logical_id(policy)}


def handler_roles(declared: SynthesizedJobs, title: str) -> dict[str, str]:
    """The handler roles of the job kind's Providers, by Provider construct id."""
    return {
        provider.node.id: declared.logical_id(provider.handler_role.node.default_child)
        for provider in declared.stack.node.children
        if isinstance(provider, JobProvider) and provider.kind.title == title
    }


def test_handler_may_only_manage_the_stacks_jobs_and_pass_their_roles(declared: SynthesizedJobs) -> None:
    roles = handler_roles(declared, "AutoML")
    assert set(roles) == {"EulaGateAutoMLJobWaiterProvider", "EulaGateAutoMLJobProvider",
                          f"EulaGateAutoMLJobKey{key_digest(declared)}Provider"}
    prefix = job_name_prefix(declared.stack)
    for role in roles.values():
        sagemaker = [s for s in declared.role_statements(role) if any(a.startswith("sagemaker:") for a in s["Action"])
                     and s["Resource"] != "*"]
        # one statement for every job of the stack, whichever jobs the stack declares now: its name prefix
        assert sagemaker == [{
            "Action": ["sagemaker:CreateAutoMLJobV2", "sagemaker:DescribeAutoMLJobV2", "sagemaker:StopAutoMLJob",
                       "sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:ListTags"],
            "Effect": "Allow",
            "Resource": partition_arn(f":sagemaker:{REGION}:{ACCOUNT}:automl-job/{prefix}*"),
        }]
    assert all(declared.request(j)["AutoMLJobName"].lower().startswith(prefix) for j in declared.jobs)
    waiter = declared.role_statements(roles["EulaGateAutoMLJobWaiterProvider"])
    pass_role = [s for s in waiter if s["Action"] == "iam:PassRole"]
    assert [s["Resource"] for s in pass_role] == [
        {"Fn::GetAtt": [declared.logical_id(declared.jobs["Llama"].role.node.default_child), "Arn"]}]
    assert pass_role[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    other = declared.role_statements(roles["EulaGateAutoMLJobProvider"])
    assert PASSED_ROLE_ARN in [s["Resource"] for s in other if s["Action"] == "iam:PassRole"]


def key_digest(declared: SynthesizedJobs) -> str:
    return hashlib.sha256(json.dumps(KMS_KEY_ARN).encode()).hexdigest()[:8]


def test_one_provider_per_waiting_mode_and_key_with_python_handlers_bundled_as_plain_files(
    declared: SynthesizedJobs,
) -> None:
    functions = declared.of_type("AWS::Lambda::Function")
    handlers = sorted(f["Properties"]["Handler"] for f in functions.values()
                      if f["Properties"]["Handler"].startswith("automl_job."))
    assert handlers == ["automl_job.is_complete", "automl_job.on_event", "automl_job.on_event", "automl_job.on_event",
                        "automl_job.watch_failures", "automl_job.watch_failures"]  # the two Providers not waiting
    assert {f["Properties"]["Runtime"] for f in functions.values()
            if f["Properties"]["Handler"].startswith("automl_job.")} == {"python3.14"}
    assert len(declared.of_type("AWS::StepFunctions::StateMachine")) == 1  # only the waiting Provider polls
    jobs = declared.of_type("Custom::AutoMLJobV2").values()
    tokens = {r["Properties"]["ServiceToken"]["Fn::GetAtt"][0] for r in jobs}
    assert len(tokens) == 3
    # the handler code is the handlers directory as it is (no Docker bundling): the same files, unchanged
    asset_keys = {f["Properties"]["Code"]["S3Key"] for f in functions.values()
                  if f["Properties"]["Handler"].startswith("automl_job.")}
    assert len(asset_keys) == 1
    asset_dir = Path(declared.app.synth().directory) / f"asset.{asset_keys.pop().removesuffix('.zip')}"
    bundled = {p.name: p.read_bytes() for p in asset_dir.iterdir()}
    assert bundled == {p.name: p.read_bytes() for p in HANDLERS_DIR.glob("*.py")}


def test_outputs_are_attributes_of_the_custom_resource(declared: SynthesizedJobs) -> None:
    llama = declared.jobs["Llama"]
    logical_id = declared.logical_id(llama.custom_resource)
    resolve = declared.stack.resolve
    assert resolve(llama.job_name) == {"Fn::GetAtt": [logical_id, "JobName"]}
    assert resolve(llama.job_arn) == {"Fn::GetAtt": [logical_id, "JobArn"]}
    assert resolve(llama.best_candidate_model_data) == {"Fn::GetAtt": [logical_id, "BestCandidateModelData"]}
    assert resolve(llama.best_candidate_image) == {"Fn::GetAtt": [logical_id, "BestCandidateImage"]}
    assert llama.model_spec.model_id == "meta-textgeneration-llama-2-7b-f"
    with pytest.raises(JobNotAwaitedError, match="wait_for_completion=True"):
        _ = declared.jobs["Falcon"].best_candidate_model_data
    with pytest.raises(JobNotAwaitedError, match="best_candidate_image"):
        _ = declared.jobs["Falcon"].best_candidate_image


def test_generated_job_names_are_stable_valid_and_distinct(declared: SynthesizedJobs) -> None:
    names = {job: declared.request(job)["AutoMLJobName"] for job in ("Llama", "Unaccepted", "Declined")}
    assert len(set(names.values())) == 3
    assert all(len(n) <= 32 and JOB_NAME_PATTERN.fullmatch(n) for n in names.values())
    again = cdk.Stack(cdk.App(), "FineTuning", env=cdk.Environment(account=ACCOUNT, region=REGION))
    twin = AutoMLFineTuningJob(again, "Llama", training_data="s3://other/x/",
                               output_path="s3://other/y/", base_model="Llama2-7BChat")
    twin_template = assertions.Template.from_stack(again).to_json()
    assert twin_template["Resources"][again.get_logical_id(twin.custom_resource)]["Properties"][
        "AutoMLJobName"] == names["Llama"]


# --- early errors -----------------------------------------------------------------------------------------


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Scratch", env=cdk.Environment(account=ACCOUNT, region=REGION))


def job(stack: cdk.Stack, **overrides: Any) -> AutoMLFineTuningJob:
    """A valid job but for ``overrides``."""
    valid = dict(base_model="Llama2-7BChat",
                 training_data="s3://data/train/", output_path="s3://data/out/", accept_eula=True)
    return AutoMLFineTuningJob(stack, "Job", **{**valid, **overrides})


def test_unknown_model_suggests_close_names(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="Llama2-7BChat") as raised:
        job(stack, base_model="Llama2-7bchat")
    assert isinstance(raised.value.__cause__, UnknownModelError)
    assert raised.value.construct_path.endswith("/Job")


def test_model_autopilot_cannot_fine_tune_lists_the_eighteen(stack: cdk.Stack, catalog: Catalog) -> None:
    with pytest.raises(ConstructValidationError) as raised:
        job(stack, base_model="huggingface-text2text-flan-t5-base")
    assert isinstance(raised.value.__cause__, AutopilotUnsupportedModelError)
    assert raised.value.construct_path.endswith("/Job")
    message = str(raised.value)
    assert isinstance(raised.value, ValueError)
    names = [m.base_model_name for m in catalog.autopilot_models()]
    assert len(names) == 18
    assert all(f"{name} (" in message for name in names)


@pytest.mark.parametrize("name", ["-starts-with-hyphen", "ends-with-hyphen-", "under_score", "a" * 33, "", "dot.ted"])
def test_invalid_job_names(stack: cdk.Stack, name: str) -> None:
    with pytest.raises(ValueError, match=r"job_name .* 1 to 32 letters, digits and hyphens"):
        job(stack, job_name=name)


@pytest.mark.parametrize(("name", "value"), [
    ("epochCount", 0), ("epochCount", 11), ("epochCount", 2.5), ("epochCount", "three"), ("epochCount", True),
    ("batchSize", 65), ("batchSize", 0), ("learningRate", 1.5), ("learningRate", -0.1),
    ("learningRate", float("nan")), ("learningRateWarmupSteps", 251), ("learningRateWarmupSteps", -1),
])
def test_out_of_range_hyperparameters(stack: cdk.Stack, name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"hyperparameter {name}: expected"):
        job(stack, hyperparameters={name: value})


def test_unknown_hyperparameter_lists_the_supported_ones(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="epochCount, batchSize, learningRate, learningRateWarmupSteps"):
        job(stack, hyperparameters={"epochs": 3})


def test_unsupported_content_type(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"text/csv;header=present, x-application/vnd.amazon\+parquet"):
        job(stack, content_type="text/csv")


@pytest.mark.parametrize(("prop", "uri"), [
    ("training_data", "https://data.s3.amazonaws.com/train/"), ("training_data", "s3://"),
    ("validation_data", "s3://Upper_Case/x/"), ("output_path", "s3://data/out/*"), ("output_path", "data/out"),
    ("training_data", "s3://a/x"), ("output_path", 42),
])
def test_invalid_s3_uris(stack: cdk.Stack, prop: str, uri: Any) -> None:
    with pytest.raises(ValueError, match=f"{prop}"):
        job(stack, **{prop: uri})


def test_s3_uri_tokens_are_refused(stack: cdk.Stack) -> None:
    bucket = s3.Bucket(stack, "Data")
    with pytest.raises(ValueError, match="must be a literal S3 URI"):
        job(stack, training_data=bucket.s3_url_for_object("train/"))


def test_environment_agnostic_stack_is_refused() -> None:
    agnostic = cdk.Stack(cdk.App(), "Agnostic")
    with pytest.raises(ValueError, match=r"env=Environment\(region="):
        job(agnostic)


def test_region_where_the_model_is_not_available(catalog: Catalog) -> None:
    region = next(r for r in catalog.get("Falcon7BInstruct").supported_regions
                  if r not in catalog.get("Llama2-7BChat").supported_regions)
    elsewhere = cdk.Stack(cdk.App(), "Elsewhere", env=cdk.Environment(region=region))
    with pytest.raises(ConstructValidationError, match=region) as raised:
        job(elsewhere)
    assert isinstance(raised.value.__cause__, UnsupportedRegionError)
    assert raised.value.construct_path.endswith("/Job")


@pytest.mark.parametrize(("max_runtime", "wait", "message"), [
    (cdk.Duration.hours(2), True, "longer than a deployment can wait"),
    (0, False, "whole number of seconds"),
    (1.5, False, "whole number of seconds"),
])
def test_invalid_max_runtime(stack: cdk.Stack, max_runtime: Any, wait: bool, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        job(stack, max_runtime=max_runtime, wait_for_completion=wait)


def test_acceptance_must_be_a_boolean(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="accept_eula must be True, False or None"):
        job(stack, accept_eula="yes")


# --- properties of the helpers ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(epochs=st.integers(-5, 20), steps=st.integers(-5, 300), rate=st.floats(-1, 2, allow_nan=False))
def test_hyperparameters_pass_exactly_when_in_range(epochs: int, steps: int, rate: float) -> None:
    owner = cdk.Stack(cdk.App(), "Owner")
    values = {"epochCount": epochs, "learningRateWarmupSteps": steps, "learningRate": rate}
    valid = 1 <= epochs <= 10 and 0 <= steps <= 250 and 0 <= rate <= 1
    if not valid:
        with pytest.raises(ValueError):
            text_generation_hyperparameters(owner, values)
        return
    sent = text_generation_hyperparameters(owner, values)
    assert sent["epochCount"] == str(epochs)
    assert sent["learningRateWarmupSteps"] == str(steps)
    assert float(sent["learningRate"]) == rate
    assert "e" not in sent["learningRate"]


def test_generated_names_are_the_stack_prefix_and_the_construct_path_below_the_stack() -> None:
    tables = cdk.Stack(cdk.App(), "Tables")
    prefix = job_name_prefix(tables)
    assert re.fullmatch(r"eg[0-9a-f]{6}-", prefix)
    assert prefix == job_name_prefix(cdk.Stack(cdk.App(), "Tables")) != job_name_prefix(cdk.Stack(cdk.App(), "Other"))
    owner = Construct(Construct(tables, "llama2-7b-support"), "Job")
    assert re.fullmatch(rf"{prefix}llama2-7b-supp-[0-9a-f]{{8}}", checked_job_name(owner, None, AUTOML_JOB))
    long_owner = Construct(tables, "a-very-long-row-name-for-a-support-bot")
    assert re.fullmatch(rf"{prefix}a-very-long-ro-[0-9a-f]{{8}}", checked_job_name(long_owner, None, AUTOML_JOB))


def test_an_explicit_name_must_carry_the_stack_prefix(stack: cdk.Stack) -> None:
    prefix = job_name_prefix(stack)
    with pytest.raises(ValueError, match=rf"job_name 'support-bot' must start with this stack's job-name prefix "
                                         rf"'{prefix}'.* name it '{prefix}support-bot', or leave job_name out"):
        job(stack, job_name="support-bot")


@settings(max_examples=40, deadline=None)
@given(construct_id=st.text(st.characters(exclude_characters="/", exclude_categories=["Cs"]), min_size=1,
                            max_size=60))
@example(construct_id="__proto__")  # refused by the constructs library (hypothesis once drew it): not a case
def test_generated_names_always_fit_the_api(construct_id: str) -> None:
    scratch = cdk.Stack(cdk.App(), "Names")
    try:
        construct = Construct(scratch, construct_id)
    except RuntimeError as error:  # an id the constructs library itself refuses (JavaScript's __proto__)
        assume("There is already a Construct with name" not in str(error))
        raise
    name = checked_job_name(construct, None, AUTOML_JOB)
    assert len(name) <= 32
    assert JOB_NAME_PATTERN.fullmatch(name)


@pytest.mark.parametrize(("value", "text"), [
    (1e-5, "0.00001"), (0.0001, "0.0001"), (0.5, "0.5"), (2e-10, "0.0000000002"),
])
def test_decimal_text_stays_positional(value: float, text: str) -> None:
    assert decimal_text(value) == text


# --- regulated controls, failures and timeouts ------------------------------------------------------------------


def test_kms_vpc_and_network_isolation_reach_the_request(declared: SynthesizedJobs) -> None:
    request = declared.request("Secured")
    assert request["OutputDataConfig"] == {"S3OutputPath": "s3://tuning-output/d/", "KmsKeyId": KMS_KEY_ARN}
    assert request["SecurityConfig"] == {
        "VolumeKmsKeyId": KMS_KEY_ARN,
        "EnableInterContainerTrafficEncryption": True,
        "VpcConfig": {"Subnets": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
                      "SecurityGroupIds": ["sg-0123456789abcdef0"]},
    }
    assert "SecurityConfig" not in declared.request("Llama")
    assert "KmsKeyId" not in declared.request("Llama")["OutputDataConfig"]


def test_job_role_may_use_the_key_and_attach_to_the_vpc(declared: SynthesizedJobs) -> None:
    role_id = declared.logical_id(declared.jobs["Secured"].role.node.default_child)
    statements = declared.role_statements(role_id)
    key_use = [s for s in statements if s["Resource"] == KMS_KEY_ARN]
    assert {(tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],)): s.get("Condition")
            for s in key_use} == {
        ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"): None,
        ("kms:CreateGrant",): {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    }
    assert network_statements(statements) == expected_network_statements(
        PLACEMENT.subnet_ids, PLACEMENT.security_group_ids, region=REGION)
    plain = declared.role_statements(declared.logical_id(declared.jobs["Llama"].role.node.default_child))
    assert not any(str(s["Action"]).count("kms:") or str(s["Action"]).count("ec2:") for s in plain)


def test_an_encrypted_job_gets_a_provider_whose_logs_queue_and_functions_use_its_key(
    declared: SynthesizedJobs,
) -> None:
    provider = declared.jobs["Secured"].provider
    assert provider.kms_key_arn == KMS_KEY_ARN
    assert declared.jobs["Llama"].provider.kms_key_arn is None
    resources = declared.template["Resources"]
    mine = {k: r for k, r in resources.items() if k.startswith(provider.node.id)}
    log_groups = [r["Properties"] for r in mine.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(log_groups) == 3 and all(g["KmsKeyId"] == KMS_KEY_ARN for g in log_groups)  # on-event, watch, framework
    queues = [r["Properties"] for r in mine.values() if r["Type"] == "AWS::SQS::Queue"]
    assert [q["KmsMasterKeyId"] for q in queues] == [KMS_KEY_ARN]
    # without a key of the user's, the stack's own key encrypts the log groups (secure by default)
    plain = [r["Properties"] for k, r in resources.items()
             if k.startswith("EulaGateAutoMLJobProvider") and r["Type"] == "AWS::Logs::LogGroup"]
    stack_key = declared.logical_id(declared.stack.node.find_child("EulaGateKey").node.default_child)
    assert plain and all(g["KmsKeyId"] == {"Fn::GetAtt": [stack_key, "Arn"]} for g in plain)


def test_every_function_has_a_dead_letter_queue_and_reserved_concurrency(declared: SynthesizedJobs) -> None:
    functions = declared.of_type("AWS::Lambda::Function")
    # each Provider's on-event handler and framework function, the waiter's is-complete handler and framework
    # is-complete and on-timeout functions, and the failure watcher of each Provider that does not wait
    assert len(functions) == 3 * 2 + 3 + 2
    queues = set(declared.of_type("AWS::SQS::Queue"))
    for logical_id, function in functions.items():
        properties = function["Properties"]
        assert properties["ReservedConcurrentExecutions"] == HANDLER_CONCURRENCY, logical_id
        assert properties["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0] in queues, logical_id
    handlers = [f["Properties"] for f in functions.values() if f["Properties"]["Handler"].startswith("automl_job.")]
    assert all(f["Environment"]["Variables"] == {"JOB_NAME_PREFIX": job_name_prefix(declared.stack)}
               for f in handlers)
    assert all(f["Timeout"] == 300 for f in handlers)


def test_service_timeout_leaves_the_waiter_time_to_report_under_the_job_name(declared: SynthesizedJobs) -> None:
    assert declared.resource("Llama")["Properties"]["ServiceTimeout"] == "3600"
    assert declared.resource("Falcon")["Properties"]["ServiceTimeout"] == "600"
    machine = next(iter(declared.of_type("AWS::StepFunctions::StateMachine").values()))
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    definition = json.loads("".join(part if isinstance(part, str) else "<arn>" for part in parts))
    retry = definition["States"]["framework-isComplete-task"]["Retry"][0]
    waiter_seconds = retry["IntervalSeconds"] * (retry["MaxAttempts"] + 1)
    handler_seconds = HANDLER_TIMEOUT.to_seconds()
    # onEvent, the waiter and its last poll all end before CloudFormation stops waiting
    assert handler_seconds + waiter_seconds + retry["IntervalSeconds"] <= 3600
    # and a waited job's own runtime limit ends it before the waiter gives up
    assert MAX_WAITED_RUNTIME_SECONDS + 2 * retry["IntervalSeconds"] <= waiter_seconds


def test_jobs_not_waited_for_expose_a_failure_topic(declared: SynthesizedJobs) -> None:
    assert declared.jobs["Llama"].failure_topic is None  # waited: its failure fails the deployment
    falcon = declared.jobs["Falcon"]
    assert falcon.failure_topic is falcon.provider.node.find_child("JobFailures")
    assert declared.jobs["Unaccepted"].failure_topic is falcon.failure_topic  # one default topic per Provider
    assert declared.stack.resolve(declared.jobs["Secured"].failure_topic.topic_arn) == (
        f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts")
    topics = declared.of_type("AWS::SNS::Topic")
    assert len(topics) == 1  # the team's topic is imported
    policies = [r["Properties"]["PolicyDocument"]["Statement"]
                for r in declared.of_type("AWS::SNS::TopicPolicy").values()]
    assert any(s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} and s["Effect"] == "Deny"
               for statements in policies for s in statements)
    # SageMaker sends no state-change event for AutoML jobs: each Provider not waiting watches on a schedule, and
    # each job names its topic in a tag the watcher reads
    rules = [r["Properties"] for r in declared.of_type("AWS::Events::Rule").values()]
    assert [r["ScheduleExpression"] for r in rules] == ["rate(5 minutes)", "rate(5 minutes)"]
    topic_ref = {"Ref": declared.logical_id(falcon.failure_topic.node.default_child)}
    assert declared.request("Falcon")["Tags"] == [{"Key": "eulagate:failure-topic", "Value": topic_ref}]
    assert declared.request("Secured")["Tags"] == [
        {"Key": "eulagate:failure-topic", "Value": f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts"}]
    assert "Tags" not in declared.request("Llama")
    watcher_role = declared.logical_id(falcon.provider.handler_role.node.default_child)
    statements = declared.role_statements(watcher_role)
    assert {"Action": "sagemaker:ListAutoMLJobs", "Effect": "Allow", "Resource": "*"} in statements
    assert any(s["Action"] == "sns:Publish" and s["Resource"] == {"Ref": declared.logical_id(
        falcon.failure_topic.node.default_child)} for s in statements)


@pytest.mark.parametrize("kms_key_arn", [
    "alias/my-key", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/my-key", "1234abcd-12ab-34cd-56ef-1234567890ab",
])
def test_kms_key_must_be_a_key_arn_of_the_region(stack: cdk.Stack, kms_key_arn: str) -> None:
    with pytest.raises(ValueError, match=f"kms_key_arn '{re.escape(kms_key_arn)}' is not the ARN of a KMS key in "
                                         f"{REGION}"):
        job(stack, kms_key_arn=kms_key_arn)


@pytest.mark.parametrize(("subnets", "groups", "message"), [
    ((), ("sg-0123456789abcdef0",), "subnet_ids must be a list of 1 to 16 ids"),
    (("subnet-0123456789abcdef0",), ("default",), "security_group_ids holds 'default'"),
    ("subnet-0123456789abcdef0", ("sg-0123456789abcdef0",), "subnet_ids must be a list"),
    (("subnet-0123456789abcdef0", "subnet-0123456789abcdef0"), ("sg-0123456789abcdef0",), "lists an id twice"),
])
def test_vpc_placement_refuses_what_sagemaker_would(subnets: Any, groups: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VpcPlacement(subnet_ids=subnets, security_group_ids=groups)


def test_vpc_placement_takes_ids_known_only_at_deploy_time(stack: cdk.Stack) -> None:
    subnet = cdk.Fn.import_value("PrivateSubnet")
    placement = VpcPlacement(subnet_ids=(subnet,), security_group_ids=("sg-0123456789abcdef0",))
    assert placement.vpc_config() == {"Subnets": [subnet], "SecurityGroupIds": ["sg-0123456789abcdef0"]}

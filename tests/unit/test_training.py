"""JumpStartFineTuningJob: the CreateTrainingJob request it declares for gated and public JumpStart models, its
roles, the EULA gate's view of it, and its early errors.

One app is synthesized once per module (the catalog's training data, plus a model built in the test); the error
tests construct (no synth) in scratch stacks of their own.
"""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam

from constructs_lib import rules
from constructs_lib.catalog import (
    Catalog,
    ModelSpec,
    NotTrainableError,
    TrainingSpec,
    UnknownModelError,
    UnsupportedInstanceTypeError,
    UnsupportedRegionError,
)
from constructs_lib.constructs.jobs.base import JobNotAwaitedError, job_name_prefix
from constructs_lib.constructs.jobs.training import CODE_CHANNEL_SOURCE_DIR, JumpStartFineTuningJob
from constructs_lib.constructs.placement import VpcPlacement
from constructs_lib.errors import ConstructValidationError
from tests.unit.test_automl import SynthesizedJobs, handler_roles, partition_arn

pytestmark = pytest.mark.synth

ACCOUNT = "111122223333"
REGION = "us-west-2"
TEAM_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/TeamTrainingRole"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PLACEMENT = VpcPlacement(subnet_ids=("subnet-0123456789abcdef0",), security_group_ids=("sg-0123456789abcdef0",))
CUSTOM_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/my-trainer:1.0"
CUSTOM_MODEL = ModelSpec(
    model_id="acme-textgeneration-tiny", version="1.0.0", gated=False, eula_key=None,
    default_instance_type="ml.g5.xlarge",
    training=TrainingSpec(
        default_instance_type="ml.g5.2xlarge", supported_instance_types=("ml.g5.2xlarge", "ml.g5.4xlarge"),
        artifact_key=None, script_key=None, images={REGION: {"g5": CUSTOM_IMAGE}},
    ),
)


class Declared(SynthesizedJobs):
    def channels(self, job: str) -> dict[str, dict[str, Any]]:
        return {c["ChannelName"]: c for c in self.request(job)["InputDataConfig"]}


@pytest.fixture(scope="module")
def declared() -> Declared:
    app = cdk.App()
    stack = cdk.Stack(app, "Training", env=cdk.Environment(account=ACCOUNT, region=REGION))
    jobs = {
        "Chat": JumpStartFineTuningJob(
            stack, "Chat", model="meta-textgeneration-llama-2-7b-f", accept_eula=True,
            training_data="s3://tuning-data/chat/train/", validation_data="s3://tuning-data/chat/validation/",
            output_path="s3://tuning-output/chat/", wait_for_completion=True, instance_type="ml.g5.24xlarge",
            hyperparameters={"epoch": 3, "learning_rate": 2e-5, "enable_fsdp": False},
        ),
        "Base": JumpStartFineTuningJob(
            stack, "Base", model="meta-textgeneration-llama-2-7b", training_data="s3://tuning-data/base/",
            output_path="s3://tuning-output/base/",
        ),
        "Declined": JumpStartFineTuningJob(
            stack, "Declined", model="meta-textgeneration-llama-3-1-70b", accept_eula=False,
            training_data="s3://tuning-data/big/", output_path="s3://tuning-output/big/",
        ),
        "Flan": JumpStartFineTuningJob(
            stack, "Flan", model="huggingface-text2text-flan-t5-base", training_data="s3://tuning-data/flan/",
            output_path="s3://tuning-output/flan/",
        ),
        "Custom": JumpStartFineTuningJob(
            stack, "Custom", model=CUSTOM_MODEL, catalog=Catalog([CUSTOM_MODEL]),
            job_name=f"{job_name_prefix(stack)}Custom-Train", training_data="s3://tuning-data/custom/",
            output_path="s3://tuning-output/custom/",
            hyperparameters={"use_lora": True, "rate": 1e-5, "mode": "fast", "steps": 10},
            role=iam.Role.from_role_arn(stack, "TeamRole", TEAM_ROLE_ARN), max_runtime=7200,
            instance_count=2, volume_size_gb=100, instance_type="ml.g5.4xlarge",
        ),
        "Secured": JumpStartFineTuningJob(
            stack, "Secured", model="meta-textgeneration-llama-2-7b-f", accept_eula=True,
            training_data="s3://tuning-data/secured/", output_path="s3://tuning-output/secured/",
            kms_key_arn=KMS_KEY_ARN, vpc=PLACEMENT, network_isolation=True,
        ),
    }
    return Declared(app, stack, assertions.Template.from_stack(stack).to_json(), jobs)


def test_gated_model_request_accepts_the_eula_on_the_model_channel_and_in_the_environment(
    declared: Declared, catalog: Catalog,
) -> None:
    spec = catalog.get("meta-textgeneration-llama-2-7b-f")
    assert spec.training is not None
    request = declared.request("Chat")
    role_id = declared.logical_id(declared.jobs["Chat"].role.node.default_child)
    expected_hyperparameters = {
        **spec.training.hyperparameters, "epoch": "3", "learning_rate": "0.00002", "enable_fsdp": "False",
        "sagemaker_submit_directory": CODE_CHANNEL_SOURCE_DIR, "sagemaker_program": "transfer_learning.py",
        "sagemaker_container_log_level": "20", "sagemaker_region": REGION,
    }
    assert request == {
        "TrainingJobName": request["TrainingJobName"],
        "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
        "AlgorithmSpecification": {"TrainingImage": spec.training_image_uri(REGION, "ml.g5.24xlarge"),
                                   "TrainingInputMode": "File"},
        "HyperParameters": expected_hyperparameters,
        "InputDataConfig": [
            {"ChannelName": "training", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://tuning-data/chat/train/",
                "S3DataDistributionType": "FullyReplicated"}}},
            {"ChannelName": "validation", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://tuning-data/chat/validation/",
                "S3DataDistributionType": "FullyReplicated"}}},
            {"ChannelName": "code", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://jumpstart-cache-prod-{REGION}/{spec.training.script_key}",
                "S3DataDistributionType": "FullyReplicated"}}},
            {"ChannelName": "model", "ContentType": "application/x-sagemaker-model", "CompressionType": "None",
             "InputMode": "File", "DataSource": {"S3DataSource": {
                 "S3DataType": "S3Prefix",
                 "S3Uri": f"s3://jumpstart-private-cache-prod-{REGION}/{spec.training.artifact_key}",
                 "S3DataDistributionType": "FullyReplicated", "ModelAccessConfig": {"AcceptEula": True}}}},
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://tuning-output/chat/"},
        "ResourceConfig": {"InstanceType": "ml.g5.24xlarge", "InstanceCount": 1, "VolumeSizeInGB": 256},
        "StoppingCondition": {"MaxRuntimeInSeconds": 45 * 60},
        "EnableNetworkIsolation": True,
        "Tags": [{"Key": "sagemaker-sdk:jumpstart-model-id", "Value": spec.model_id},
                 {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": spec.version}],
        "Environment": {"accept_eula": "true"},
    }
    resource = declared.template["Resources"][declared.logical_id(declared.jobs["Chat"].custom_resource)]
    assert resource["Type"] == "Custom::TrainingJob"


def test_gated_model_key_comes_from_the_private_bucket_without_acceptance(declared: Declared, catalog: Catalog) -> None:
    training = catalog.get("meta-textgeneration-llama-2-7b").training
    assert training is not None and training.gated_model_key
    model = declared.channels("Base")["model"]["DataSource"]["S3DataSource"]
    assert model["S3Uri"] == f"s3://jumpstart-private-cache-prod-{REGION}/{training.gated_model_key}"
    assert "ModelAccessConfig" not in model
    assert "Environment" not in declared.request("Base")
    assert declared.request("Base")["StoppingCondition"] == {"MaxRuntimeInSeconds": 24 * 3600}
    # a gated key is in the private bucket even when the model's hosting artifacts are not
    declined = declared.channels("Declined")["model"]["DataSource"]["S3DataSource"]
    assert declined["S3Uri"].startswith(f"s3://jumpstart-private-cache-prod-{REGION}/")
    assert declined["ModelAccessConfig"] == {"AcceptEula": False}
    assert "Environment" not in declared.request("Declined")


def test_public_model_reads_its_artifact_from_the_public_bucket(declared: Declared, catalog: Catalog) -> None:
    training = catalog.get("huggingface-text2text-flan-t5-base").training
    assert training is not None
    model = declared.channels("Flan")["model"]["DataSource"]["S3DataSource"]
    assert model["S3Uri"] == f"s3://jumpstart-cache-prod-{REGION}/{training.artifact_key}"
    assert "ModelAccessConfig" not in model
    request = declared.request("Flan")
    assert request["ResourceConfig"]["InstanceType"] == training.default_instance_type
    assert {k: v for k, v in request["HyperParameters"].items() if not k.startswith("sagemaker_")} == dict(
        training.hyperparameters)


def test_model_without_script_or_artifact_takes_only_the_user_data(declared: Declared) -> None:
    request = declared.request("Custom")
    assert request["TrainingJobName"] == f"{job_name_prefix(declared.stack)}Custom-Train"
    assert list(declared.channels("Custom")) == ["training"]
    assert request["HyperParameters"] == {"use_lora": "True", "rate": "0.00001", "mode": "fast", "steps": "10"}
    assert request["RoleArn"] == TEAM_ROLE_ARN
    assert request["AlgorithmSpecification"]["TrainingImage"] == CUSTOM_IMAGE
    assert request["ResourceConfig"] == {"InstanceType": "ml.g5.4xlarge", "InstanceCount": 2, "VolumeSizeInGB": 100}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}


def test_eula_gate_fails_exactly_the_unaccepted_gated_jobs(declared: Declared) -> None:
    findings = rules.check_template(declared.template, template_path="Training.template.json")
    flagged = {(f.logical_id, f.rule_id, f.model_id) for f in findings}
    assert flagged == {
        (declared.logical_id(declared.jobs["Base"].custom_resource), "EULA004", "meta-textgeneration-llama-2-7b"),
        (declared.logical_id(declared.jobs["Declined"].custom_resource), "EULA004",
         "meta-textgeneration-llama-3-1-70b"),
    }


def test_job_role_reads_data_and_jumpstart_artifacts_and_writes_only_the_output(
    declared: Declared, catalog: Catalog,
) -> None:
    training = catalog.get("meta-textgeneration-llama-2-7b-f").training
    assert training is not None
    role_id = declared.logical_id(declared.jobs["Chat"].role.node.default_child)
    assert declared.attached_policies(role_id) == []  # one inline policy: no separate policy resource
    statements = declared.role_statements(role_id)
    reads = next(s for s in statements if s["Action"] == "s3:GetObject")["Resource"]
    assert sorted(r["Fn::Join"][1][2] for r in reads) == sorted([
        ":s3:::tuning-data/chat/train/*", ":s3:::tuning-data/chat/validation/*",
        f":s3:::jumpstart-cache-prod-{REGION}/{training.script_key}*",
        f":s3:::jumpstart-private-cache-prod-{REGION}/{training.artifact_key}*",
    ])
    writes = next(s for s in statements if "s3:PutObject" in s["Action"])
    assert writes["Resource"] == partition_arn(":s3:::tuning-output/chat/*")
    image_pull = next(s for s in statements if "ecr:BatchGetImage" in s["Action"])
    repository = f":ecr:{REGION}:763104351884:repository/huggingface-pytorch-training"
    assert image_pull["Resource"] == f"arn:aws{repository}"
    assert not any(s["Action"] == "iam:PassRole" for s in statements)  # a training job starts no other jobs


def test_handler_manages_the_stacks_training_jobs_and_their_tags(declared: Declared) -> None:
    roles = handler_roles(declared, "Training")
    assert len(roles) == 3  # waiting, not waiting, and not waiting with a key
    prefix = job_name_prefix(declared.stack)
    passed = []
    for role in roles.values():
        statements = declared.role_statements(role)
        assert [s for s in statements if s["Action"][0].startswith("sagemaker:")] == [{
            "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                       "sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:ListTags"],
            "Effect": "Allow",
            "Resource": partition_arn(f":sagemaker:{REGION}:{ACCOUNT}:training-job/{prefix}*"),
        }]
        # a Delete whose Create response was lost finds the resource's jobs by listing them
        assert {"Action": "sagemaker:ListTrainingJobs", "Effect": "Allow", "Resource": "*"} in statements
        passed += [s for s in statements if s["Action"] == "iam:PassRole"]
    assert TEAM_ROLE_ARN in [s["Resource"] for s in passed]
    assert all(s["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}} for s in passed)


def test_failures_of_jobs_not_waited_for_reach_the_failure_topic(declared: Declared) -> None:
    all_rules = {k: r["Properties"] for k, r in declared.of_type("AWS::Events::Rule").items()}
    rules = {k: r for k, r in all_rules.items() if "EventPattern" in r}
    not_waited = [name for name, job in declared.jobs.items() if not job.wait_for_completion]
    assert len(rules) == len(not_waited) == 5
    # and each Provider not waiting sweeps the jobs no resource records (a lost Create response)
    assert [r["ScheduleExpression"] for r in all_rules.values() if "EventPattern" not in r] == ["rate(5 minutes)"] * 2
    flan = declared.jobs["Flan"]
    rule = rules[declared.logical_id(flan.node.find_child("FailureRule").node.default_child)]
    name = declared.request("Flan")["TrainingJobName"]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
        "detail": {"TrainingJobName": [{"prefix": name[:54]}], "TrainingJobStatus": ["Failed", "Stopped"]},
    }
    assert rule["Targets"][0]["Arn"] == {"Ref": declared.logical_id(flan.failure_topic.node.default_child)}
    secured_topic = declared.jobs["Secured"].failure_topic
    topic = declared.template["Resources"][declared.logical_id(secured_topic.node.default_child)]["Properties"]
    assert topic["KmsMasterKeyId"] == KMS_KEY_ARN
    assert declared.jobs["Chat"].failure_topic is None


def test_kms_vpc_and_network_isolation_reach_the_request(declared: Declared) -> None:
    request = declared.request("Secured")
    assert request["OutputDataConfig"] == {"S3OutputPath": "s3://tuning-output/secured/", "KmsKeyId": KMS_KEY_ARN}
    assert request["ResourceConfig"]["VolumeKmsKeyId"] == KMS_KEY_ARN
    assert request["VpcConfig"] == {"Subnets": ["subnet-0123456789abcdef0"],
                                    "SecurityGroupIds": ["sg-0123456789abcdef0"]}
    assert request["EnableNetworkIsolation"] is True
    assert request["EnableInterContainerTrafficEncryption"] is True
    plain = declared.request("Base")
    assert not {"VpcConfig", "EnableInterContainerTrafficEncryption"} & set(plain)
    assert "VolumeKmsKeyId" not in plain["ResourceConfig"] and "KmsKeyId" not in plain["OutputDataConfig"]
    role = declared.logical_id(declared.jobs["Secured"].role.node.default_child)
    assert any(s["Resource"] == KMS_KEY_ARN and s["Action"] == "kms:CreateGrant"
               for s in declared.role_statements(role))


def test_a_given_mutable_role_is_granted_the_job_access(declared: Declared) -> None:
    team_policies = [r["Properties"]["PolicyDocument"]["Statement"] for r in declared.template["Resources"].values()
                     if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == ["TeamTrainingRole"]]
    assert len(team_policies) == 1
    reads = next(s for s in team_policies[0] if s["Action"] == "s3:GetObject")
    assert reads["Resource"] == partition_arn(":s3:::tuning-data/custom/*")
    image_pull = next(s for s in team_policies[0] if "ecr:BatchGetImage" in s["Action"])
    assert image_pull["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/my-trainer"


def test_outputs(declared: Declared, catalog: Catalog) -> None:
    chat = declared.jobs["Chat"]
    logical_id = declared.logical_id(chat.custom_resource)
    assert declared.stack.resolve(chat.model_data) == {"Fn::GetAtt": [logical_id, "ModelData"]}
    assert declared.stack.resolve(chat.job_arn) == {"Fn::GetAtt": [logical_id, "JobArn"]}
    assert chat.inference_image == catalog.get("meta-textgeneration-llama-2-7b-f").image_uri(REGION)
    with pytest.raises(JobNotAwaitedError, match="model_data"):
        _ = declared.jobs["Flan"].model_data
    with pytest.raises(JobNotAwaitedError, match="inference_image"):
        _ = declared.jobs["Flan"].inference_image


# --- early errors -----------------------------------------------------------------------------------------


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Scratch", env=cdk.Environment(account=ACCOUNT, region=REGION))


def job(stack: cdk.Stack, **overrides: Any) -> JumpStartFineTuningJob:
    """A valid job but for ``overrides``."""
    valid = dict(model="meta-textgeneration-llama-2-7b-f",
                 training_data="s3://data/train/", output_path="s3://data/out/", accept_eula=True)
    return JumpStartFineTuningJob(stack, "Job", **{**valid, **overrides})


def test_model_without_training_data_lists_the_trainable_ones(stack: cdk.Stack, catalog: Catalog) -> None:
    with pytest.raises(ConstructValidationError) as raised:
        job(stack, model="Falcon7B")
    assert isinstance(raised.value.__cause__, NotTrainableError)
    assert raised.value.construct_path.endswith("/Job")
    trainable = [m.model_id for m in catalog.trainable_models()]
    assert trainable
    assert all(model_id in str(raised.value) for model_id in trainable)


def test_unknown_model(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match="meta-textgeneration-llama-2-7b-f") as raised:
        job(stack, model="meta-textgeneration-llama-2-7b-F")
    assert isinstance(raised.value.__cause__, UnknownModelError)
    assert raised.value.construct_path.endswith("/Job")


def test_unsupported_training_instance_type(stack: cdk.Stack) -> None:
    with pytest.raises(ConstructValidationError, match=r"ml\.g5\.12xlarge") as raised:
        job(stack, instance_type="ml.m5.xlarge")
    assert isinstance(raised.value.__cause__, UnsupportedInstanceTypeError)
    assert raised.value.construct_path.endswith("/Job")


def test_region_without_a_training_image() -> None:
    east = cdk.Stack(cdk.App(), "East", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(ConstructValidationError, match="us-east-1") as raised:
        job(east, model="meta-textgeneration-llama-2-7b")
    assert isinstance(raised.value.__cause__, UnsupportedRegionError)
    assert raised.value.construct_path.endswith("/Job")


def test_unknown_hyperparameter_lists_the_model_ones(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"hyperparameter 'epochs' of meta-textgeneration-llama-2-7b-f: unknown "
                                         r"training hyperparameter \(did you mean 'epoch'\?\); the model has: .*epoch"):
        job(stack, hyperparameters={"epochs": 3})


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("epoch", -5, "expected an integer from 1 to 1000 (the default is 1), got an integer (-5)"),
    ("learning_rate", 2, "expected a number from 1e-08 to 1 (the default is 0.0001), got an integer (2)"),
    ("lora_r", "eight", "expected an integer (the default is 8), got a string ('eight')"),
    ("enable_fsdp", "sometimes", "expected one of True, False (the default is True), got a string ('sometimes')"),
])
def test_hyperparameter_outside_the_model_spec_fails_early(
    stack: cdk.Stack, name: str, value: object, problem: str,
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"hyperparameter {name!r} of meta-textgeneration-llama-2-7b-f: "
                                                   f"{problem}")) as caught:
        job(stack, hyperparameters={name: value})
    assert str(caught.value).startswith(f"{stack.node.path}/")  # names the construct path


def test_script_mode_hyperparameters_are_reserved() -> None:
    scratch = cdk.Stack(cdk.App(), "Reserved", env=cdk.Environment(region=REGION))
    with pytest.raises(ValueError, match="sagemaker_program"):
        job(scratch, model=CUSTOM_MODEL, catalog=Catalog([CUSTOM_MODEL]),
            hyperparameters={"sagemaker_program": "mine.py"})


@pytest.mark.parametrize(("prop", "value"), [
    ("instance_count", 0), ("instance_count", True), ("instance_count", 1.5), ("volume_size_gb", 0),
])
def test_invalid_counts(stack: cdk.Stack, prop: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"{prop} must be a whole number >= 1"):
        job(stack, **{prop: value})


@pytest.mark.parametrize("name", ["a" * 64, "bad_name", "-x"])
def test_invalid_job_names(stack: cdk.Stack, name: str) -> None:
    with pytest.raises(ValueError, match="1 to 63 letters"):
        job(stack, job_name=name)


@pytest.mark.parametrize(("prop", "uri"), [
    ("training_data", "s3:/data/train"), ("validation_data", "s3://data?/x"), ("output_path", "file:///tmp/out"),
])
def test_invalid_s3_uris(stack: cdk.Stack, prop: str, uri: str) -> None:
    with pytest.raises(ValueError, match=prop):
        job(stack, **{prop: uri})


def test_environment_agnostic_stack_is_refused() -> None:
    with pytest.raises(ValueError, match=r"env=Environment\(region="):
        job(cdk.Stack(cdk.App(), "Agnostic"))


def test_acceptance_must_be_a_boolean(stack: cdk.Stack) -> None:
    with pytest.raises(ValueError, match="accept_eula must be True, False or None"):
        job(stack, accept_eula=1)

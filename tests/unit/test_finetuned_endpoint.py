"""FineTunedEndpoint: the user's own weights, served without EULA acceptance, with the same serving pieces.

One app is built and synthesized once per module; error tests construct (no synth) in scratch stacks.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match
from cdk_nag import AwsSolutionsChecks

from constructs_lib.catalog import Catalog
from constructs_lib.constructs.placement import VpcPlacement
from constructs_lib.constructs.serving.base import DataCapture, EndpointAutoScaling
from constructs_lib.constructs.serving.finetuned import FineTunedEndpoint
from constructs_lib.errors import ConstructValidationError

pytestmark = pytest.mark.synth

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi2.0.0-gpu-py310"
TARBALL = "s3://my-ml-bucket/automl/output/best/model.tar.gz"
PREFIX = "s3://my-ml-bucket/training/output/model/"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VPC = VpcPlacement(subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
                   security_group_ids=("sg-0123456789abcdef0",))


class Built:
    def __init__(self) -> None:
        self.app = cdk.App()
        cdk.Validations.of(self.app).add_plugins(AwsSolutionsChecks())
        self.stack = cdk.Stack(self.app, "Tuned", env=cdk.Environment(region="us-east-1"))
        # Stands in for a fine-tuning job's custom resource: its attributes are deploy-time tokens.
        job = cdk.CfnResource(self.stack, "Job", type="Custom::AutoMLJobV2")
        self.job_id = self.stack.get_logical_id(job)
        self.key = kms.Key(self.stack, "Key", enable_key_rotation=True)
        self.endpoints = {
            "Tarball": FineTunedEndpoint(
                self.stack, "Tarball", model_data=TARBALL, image_uri=IMAGE, base_model="Llama2-7BChat",
                instance_type="ml.g5.12xlarge", environment={"SM_NUM_GPUS": 4},
            ),
            "Prefix": FineTunedEndpoint(
                self.stack, "Prefix", model_data=PREFIX, image_uri=IMAGE,
                base_model="meta-textgeneration-llama-2-13b", instance_type="ml.g5.12xlarge", compressed=False,
                autoscaling=EndpointAutoScaling(max_capacity=2, target_invocations_per_instance=20),
            ),
            "FromJob": FineTunedEndpoint(
                self.stack, "FromJob", model_data=job.get_att("BestCandidateModelData").to_string(),
                image_uri=job.get_att("BestCandidateImage").to_string(), base_model="Llama2-7B",
                instance_type="ml.g5.12xlarge", compressed=False,
                data_capture=DataCapture(destination=job.get_att("CapturePath").to_string()),
            ),
            "Encrypted": FineTunedEndpoint(
                self.stack, "Encrypted", model_data=TARBALL, image_uri=IMAGE, base_model="FlanT5XL",
                instance_type="ml.m5.2xlarge", kms_key=self.key, network_isolation=False,
            ),
            # A table row's controls: a key by ARN, a VPC by ids, captures encrypted with the same key.
            "Controlled": FineTunedEndpoint(
                self.stack, "Controlled", model_data=TARBALL, image_uri=IMAGE, base_model="FlanT5XL",
                instance_type="ml.m5.2xlarge", kms_key_arn=KEY_ARN, vpc=VPC,
                data_capture=DataCapture(destination="s3://my-capture-bucket/flan/"),
            ),
            "HardwareEncrypted": FineTunedEndpoint(
                self.stack, "HardwareEncrypted", model_data=TARBALL, image_uri=IMAGE, base_model="Llama2-7B",
                instance_type="ml.g5.12xlarge", kms_key_arn=KEY_ARN,
                data_capture=DataCapture(destination="s3://my-capture-bucket/llama/"),
            ),
            "OtherAccount": FineTunedEndpoint(
                self.stack, "OtherAccount", model_data=TARBALL, image_account="111122223333",
                image_uri=job.get_att("BestCandidateImage").to_string(), base_model="Llama2-7B",
                instance_type="ml.g5.12xlarge",
            ),
        }
        self.assertions = assertions.Template.from_stack(self.stack)
        self.template: dict[str, Any] = dict(self.assertions.to_json())

    def resource(self, name: str, element: Any) -> dict[str, Any]:
        return self.template["Resources"][self.stack.get_logical_id(element)]["Properties"]

    def model(self, name: str) -> dict[str, Any]:
        return self.resource(name, self.endpoints[name].cfn_model)

    def statements(self, name: str) -> list[dict[str, Any]]:
        role = self.endpoints[name].cfn_role
        assert role is not None
        return self.resource(name, role)["Policies"][0]["PolicyDocument"]["Statement"]


@pytest.fixture(scope="module")
def built() -> Built:
    """Synthesized with cdk-nag AwsSolutions registered: building it fails on any unacknowledged finding."""
    return Built()


def by_action(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if action in s["Action"]]


def test_compressed_weights_are_a_model_data_url(built: Built) -> None:
    built.assertions.has_resource_properties("AWS::SageMaker::Model", {
        "PrimaryContainer": Match.object_equals(
            {"Image": IMAGE, "ModelDataUrl": TARBALL, "Environment": {"SM_NUM_GPUS": "4"}}
        ),
    })


def test_uncompressed_weights_are_an_s3_prefix_without_model_access_config(built: Built) -> None:
    built.assertions.has_resource_properties("AWS::SageMaker::Model", {
        "PrimaryContainer": {
            "ModelDataSource": {"S3DataSource": Match.object_equals({
                "S3Uri": PREFIX, "S3DataType": "S3Prefix", "CompressionType": "None",
            })},
            "ModelDataUrl": Match.absent(),
            "Environment": Match.absent(),
        },
    })


def test_no_eula_acceptance_anywhere(built: Built) -> None:
    assert "ModelAccessConfig" not in json.dumps(built.template)
    assert "AcceptEula" not in json.dumps(built.template)


def test_tags_name_the_base_model(built: Built, catalog: Catalog) -> None:
    spec = catalog.get("Llama2-7BChat")
    expected = [{"Key": "sagemaker-sdk:jumpstart-model-id", "Value": spec.model_id},
                {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": spec.version}]
    endpoint = built.endpoints["Tarball"]
    for element in (endpoint.cfn_model, endpoint.cfn_endpoint_config, endpoint.cfn_endpoint):
        assert built.resource("Tarball", element)["Tags"] == expected
    assert endpoint.model_spec is spec


def test_network_isolation_is_on_unless_turned_off(built: Built) -> None:
    assert built.model("Tarball")["EnableNetworkIsolation"] is True
    assert built.model("Encrypted")["EnableNetworkIsolation"] is False
    isolated = built.assertions.find_resources("AWS::SageMaker::Model", {
        "Properties": {"EnableNetworkIsolation": True},
    })
    assert len(isolated) == len(built.endpoints) - 1  # all but "Encrypted"


def test_role_reads_exactly_the_tarball(built: Built) -> None:
    statements = built.statements("Tarball")
    assert by_action(statements, "s3:GetObject") == [{
        "Effect": "Allow", "Action": ["s3:GetObject"],
        "Resource": "arn:aws:s3:::my-ml-bucket/automl/output/best/model.tar.gz",
    }]
    assert by_action(statements, "s3:ListBucket") == []
    assert by_action(statements, "ecr:BatchGetImage")[0]["Resource"] == \
        "arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"


def test_role_reads_the_prefix_with_a_conditioned_listing(built: Built) -> None:
    statements = built.statements("Prefix")
    assert by_action(statements, "s3:GetObject")[0]["Resource"] == \
        "arn:aws:s3:::my-ml-bucket/training/output/model/*"
    assert by_action(statements, "s3:ListBucket")[0] == {
        "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::my-ml-bucket",
        "Condition": {"StringLike": {"s3:prefix": "training/output/model/*"}},
    }


def test_deploy_time_model_data_is_scoped_by_intrinsics(built: Built) -> None:
    path = {"Fn::Select": [1, {"Fn::Split": ["s3://", {"Fn::GetAtt": [built.job_id, "BestCandidateModelData"]}]}]}
    statements = built.statements("FromJob")
    assert by_action(statements, "s3:GetObject")[0]["Resource"] == \
        {"Fn::Join": ["", ["arn:aws:s3:::", path, "*"]]}
    assert by_action(statements, "s3:ListBucket")[0]["Resource"] == \
        {"Fn::Join": ["", ["arn:aws:s3:::", {"Fn::Select": [0, {"Fn::Split": ["/", path]}]}]]}
    # The job picks the image when it ends: pulls stay in the account the base model's JumpStart image is in.
    assert by_action(statements, "ecr:BatchGetImage")[0]["Resource"] == \
        "arn:aws:ecr:us-east-1:763104351884:repository/*"
    container = built.model("FromJob")["PrimaryContainer"]
    assert container["Image"] == {"Fn::GetAtt": [built.job_id, "BestCandidateImage"]}
    assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == \
        {"Fn::GetAtt": [built.job_id, "BestCandidateModelData"]}


def test_deploy_time_capture_destination_is_scoped_by_intrinsics(built: Built) -> None:
    put = by_action(built.statements("FromJob"), "s3:PutObject")[0]
    path = {"Fn::Select": [1, {"Fn::Split": ["s3://", {"Fn::GetAtt": [built.job_id, "CapturePath"]}]}]}
    assert put["Resource"] == {"Fn::Join": ["", ["arn:aws:s3:::", path, "*"]]}


def test_volume_key_on_an_instance_without_local_storage(built: Built) -> None:
    config = built.resource("Encrypted", built.endpoints["Encrypted"].cfn_endpoint_config)
    key = built.key.node.default_child
    assert isinstance(key, kms.CfnKey)
    assert config["KmsKeyId"] == {"Fn::GetAtt": [built.stack.get_logical_id(key), "Arn"]}


def test_a_key_arn_encrypts_volume_and_captures_and_is_granted_to_the_role(built: Built) -> None:
    built.assertions.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "KmsKeyId": KEY_ARN,
        "ProductionVariants": [Match.object_like({"InstanceType": "ml.m5.2xlarge"})],
        "DataCaptureConfig": Match.object_like({
            "DestinationS3Uri": "s3://my-capture-bucket/flan/", "KmsKeyId": KEY_ARN,
        }),
    })
    key_statements = Match.array_with([
        Match.object_like({"Action": Match.array_with(["ec2:CreateNetworkInterface"])}),
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
         "Resource": KEY_ARN},
        {"Effect": "Allow", "Action": ["kms:CreateGrant"], "Resource": KEY_ARN,
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    ])
    built.assertions.has_resource_properties("AWS::IAM::Role", {
        "Description": Match.string_like_regexp("fine-tuned from .*FlanT5XL"),
        "Policies": [{"PolicyName": "Serving",
                      "PolicyDocument": {"Version": "2012-10-17", "Statement": key_statements}}],
    })


def test_a_vpc_placement_becomes_the_models_vpc_config(built: Built) -> None:
    built.assertions.has_resource_properties("AWS::SageMaker::Model", {
        "VpcConfig": {"Subnets": list(VPC.subnet_ids), "SecurityGroupIds": list(VPC.security_group_ids)},
        "EnableNetworkIsolation": True,
        "PrimaryContainer": Match.object_like({"ModelDataUrl": TARBALL}),
    })


def test_local_storage_keeps_the_key_for_captures_and_grants_but_not_the_volume(built: Built) -> None:
    """SageMaker refuses a volume key for g5 (hardware-encrypted local storage); the key still does the rest."""
    config = built.resource("HardwareEncrypted", built.endpoints["HardwareEncrypted"].cfn_endpoint_config)
    assert "KmsKeyId" not in config
    assert config["DataCaptureConfig"]["KmsKeyId"] == KEY_ARN
    assert by_action(built.statements("HardwareEncrypted"), "kms:Decrypt")[0]["Resource"] == KEY_ARN


def test_image_account_scopes_pulls_of_a_deploy_time_image(built: Built) -> None:
    (pull,) = by_action(built.statements("OtherAccount"), "ecr:BatchGetImage")
    assert pull["Resource"] == "arn:aws:ecr:us-east-1:111122223333:repository/*"


def test_shared_serving_pieces(built: Built) -> None:
    """Autoscaling and the endpoint output come from the same implementation as JumpStartEndpoint's."""
    endpoint = built.endpoints["Prefix"]
    assert endpoint.scalable_target is not None
    endpoint_id = built.stack.get_logical_id(endpoint.cfn_endpoint)
    assert built.resource("Prefix", endpoint.scalable_target)["ResourceId"]["Fn::Join"][1][1] == \
        {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    assert any(o["Value"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]} for o in built.template["Outputs"].values())


def test_cdk_nag_passes_including_deploy_time_paths(built: Built) -> None:
    """The fixture synthesized with AwsSolutionsChecks: the wildcards of token-derived ARNs are acknowledged."""
    role = built.endpoints["FromJob"].cfn_role
    assert role is not None
    acknowledged = [rule for entry in role.node.metadata
                    if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY for rule in entry.data]
    assert any("BestCandidateModelData" in rule for rule in acknowledged)
    assert any("CapturePath" in rule for rule in acknowledged)


def test_rule_engine_passes_a_fine_tuned_llama(built: Built) -> None:
    """The weights are the user's own: the EULA gate demands no acceptance, whatever the tags say."""
    from constructs_lib.rules import check_template

    findings = check_template(built.template, template_path="Tuned.template.json")
    assert [f for f in findings if f.severity == "error"] == []


# --- early errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("props", "message"), [
    ({"model_data": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/x/model.tar.gz"},
     "is a JumpStart artifact, not fine-tuned weights: serve JumpStart models with JumpStartEndpoint"),
    ({"model_data": "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/x/", "compressed": False},
     "is a JumpStart artifact"),
    ({"model_data": "s3://my-ml-bucket/out/model"}, "must name a .tar.gz object when compressed=True"),
    ({"model_data": "s3://my-ml-bucket/out/model", "compressed": False}, "must be a prefix ending with '/'"),
    ({"model_data": "my-ml-bucket/out/model.tar.gz"}, "model_data 'my-ml-bucket/out/model.tar.gz' is not an S3 URI"),
    ({"image_uri": "docker.io/library/python:3"}, "is not an ECR image URI"),
    ({"image_uri": IMAGE.replace("us-east-1", "eu-west-1")}, "is in region 'eu-west-1' but the stack deploys to"),
    ({"base_model": "Llama3-8B"}, "unknown JumpStart model 'Llama3-8B'"),
    ({"instance_type": "g5.12xlarge"}, r"instance_type 'g5.12xlarge' is not a SageMaker instance type"),
    ({"instance_type": None}, r"instance_type None is not a SageMaker instance type"),
    ({"kms_key": "key"}, r"'ml.g5.12xlarge' has local NVMe instance storage"),
    ({"instance_count": -1}, "instance_count must be an integer >= 1"),
    ({"model_data": "s3://bucket/out*/", "compressed": False}, "the key contains a wildcard"),
    ({"model_data": "s3://bucket/out?/model.tar.gz"}, "the key contains a wildcard"),
    ({"kms_key_arn": "alias/mine", "instance_type": "ml.m5.2xlarge"}, "kms_key_arn 'alias/mine' is not a KMS key ARN"),
    ({"kms_key_arn": KEY_ARN, "kms_key": "key", "instance_type": "ml.m5.2xlarge"},
     "give kms_key or kms_key_arn, not both"),
    ({"vpc": VPC, "vpc_subnets": []}, "give vpc, or vpc_subnets with security_groups, not both"),
    ({"image_uri": "${Token[TOKEN.1]}", "base_model": "meta-textgeneration-llama-2-7b-index-only-x"},
     "unknown JumpStart model"),
])
def test_invalid_props_raise_early(scratch: cdk.Stack, props: dict[str, Any], message: str) -> None:
    if props.get("kms_key") == "key":
        props = {**props, "kms_key": kms.Key(scratch, "Key")}
    arguments: dict[str, Any] = {"model_data": TARBALL, "image_uri": IMAGE, "base_model": "Llama2-7B",
                                 "instance_type": "ml.g5.12xlarge", **props}
    with pytest.raises(ValueError, match=message) as raised:
        FineTunedEndpoint(scratch, "Bad", **arguments)
    assert isinstance(raised.value, ConstructValidationError)
    assert raised.value.construct_path.startswith("Scratch")
    assert str(raised.value).startswith(raised.value.construct_path + ": ")


def test_role_passed_in_creates_no_role(scratch_app: cdk.App) -> None:
    stack = cdk.Stack(scratch_app, "PassedRole", env=cdk.Environment(region="us-east-1"))
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/Mine")
    endpoint = FineTunedEndpoint(stack, "Tuned", model_data=TARBALL, image_uri=IMAGE, base_model="Llama2-7B",
                                 instance_type="ml.g5.12xlarge", role=role)
    assert endpoint.cfn_role is None and endpoint.role is role

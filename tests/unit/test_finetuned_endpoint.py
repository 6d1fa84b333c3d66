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
from cdk_nag import AwsSolutionsChecks

from constructs_lib.catalog import Catalog
from constructs_lib.constructs.serving.base import DataCapture, EndpointAutoScaling
from constructs_lib.constructs.serving.finetuned import FineTunedEndpoint
from constructs_lib.errors import ConstructValidationError

pytestmark = pytest.mark.synth

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi2.0.0-gpu-py310"
TARBALL = "s3://my-ml-bucket/automl/output/best/model.tar.gz"
PREFIX = "s3://my-ml-bucket/training/output/model/"


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
        }
        self.template: dict[str, Any] = dict(assertions.Template.from_stack(self.stack).to_json())

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
    container = built.model("Tarball")["PrimaryContainer"]
    assert container == {"Image": IMAGE, "ModelDataUrl": TARBALL, "Environment": {"SM_NUM_GPUS": "4"}}


def test_uncompressed_weights_are_an_s3_prefix_without_model_access_config(built: Built) -> None:
    container = built.model("Prefix")["PrimaryContainer"]
    assert container["ModelDataSource"] == {"S3DataSource": {
        "S3Uri": PREFIX, "S3DataType": "S3Prefix", "CompressionType": "None",
    }}
    assert "Environment" not in container


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
    assert by_action(statements, "ecr:BatchGetImage")[0]["Resource"] == "arn:aws:ecr:us-east-1:*:repository/*"
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

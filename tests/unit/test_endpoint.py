"""JumpStartEndpoint: the template it declares for each prop, its early errors, and cdk-nag AwsSolutions.

One app with several stacks is built and synthesized once per module; the error tests construct (no synth) in
scratch stacks of their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match
from cdk_nag import AwsSolutionsChecks

from constructs_lib.catalog import Catalog, ModelSpec
from constructs_lib.constructs.serving.base import has_local_storage, partition_of
from constructs_lib.constructs.serving.jumpstart import DataCapture, EndpointAutoScaling, JumpStartEndpoint
from constructs_lib.errors import ConstructValidationError
from tests.support.network_grants import expected_network_statements, network_statements

pytestmark = pytest.mark.synth

PASSED_ROLE_ARN = "arn:aws:iam::123456789012:role/TeamSageMakerRole"
SUBNET_IDS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
SECURITY_GROUP_ID = "sg-0123456789abcdef0"


@dataclass
class Declared:
    """One synthesized stack and its endpoints' resources, by construct id."""

    stack: cdk.Stack
    assertions: assertions.Template
    endpoints: dict[str, JumpStartEndpoint]
    template: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.template = dict(self.assertions.to_json())

    def resource(self, construct_id: str, part: str) -> dict[str, Any]:
        endpoint = self.endpoints[construct_id]
        element: cdk.CfnElement | None = {
            "Model": endpoint.cfn_model,
            "EndpointConfig": endpoint.cfn_endpoint_config,
            "Endpoint": endpoint.cfn_endpoint,
            "Role": endpoint.cfn_role,
            "ScalableTarget": endpoint.scalable_target,
        }[part]
        assert element is not None, f"{construct_id} has no {part}"
        return self.template["Resources"][self.stack.get_logical_id(element)]

    def container(self, construct_id: str) -> dict[str, Any]:
        return self.resource(construct_id, "Model")["Properties"]["PrimaryContainer"]

    def statements(self, construct_id: str) -> list[dict[str, Any]]:
        policies = self.resource(construct_id, "Role")["Properties"]["Policies"]
        assert len(policies) == 1
        return policies[0]["PolicyDocument"]["Statement"]


def logical_id(declared: Declared, element: cdk.CfnElement | None) -> str:
    assert element is not None
    return declared.stack.get_logical_id(element)


def statement_for(statements: list[dict[str, Any]], action: str) -> dict[str, Any]:
    matches = [s for s in statements if action in s["Action"]]
    assert len(matches) == 1, f"{action}: {matches}"
    return matches[0]


def build_main(stack: cdk.Stack) -> dict[str, JumpStartEndpoint]:
    return {
        "Llama": JumpStartEndpoint(
            stack, "Llama", model="Llama2-7BChat", accept_eula=True,
            environment={"MAX_INPUT_LENGTH": "2048", "EXTRA_WORKERS": 7},  # numbers become strings
            autoscaling=EndpointAutoScaling(min_capacity=1, max_capacity=4, target_invocations_per_instance=100),
            data_capture=DataCapture(destination="s3://capture-bucket/endpoints/", sampling_percentage=25,
                                     capture_output=False),
            startup_health_check_timeout=900, model_data_download_timeout=1200,
        ),
        "Flan": JumpStartEndpoint(stack, "Flan", model="huggingface-text2text-flan-t5-xl",
                                  instance_type="ml.g5.4xlarge", instance_count=2),
        "Declined": JumpStartEndpoint(stack, "Declined", model="Llama2-13B", accept_eula=False),
        "Named": JumpStartEndpoint(
            stack, "Named", model="Mistral7BInstruct", endpoint_name="support-bot",
            role=iam.Role.from_role_arn(stack, "TeamRole", PASSED_ROLE_ARN),
        ),
        "NotGated": JumpStartEndpoint(stack, "NotGated", model="FlanT5L", accept_eula=True),
    }


def build_in_vpc(stack: cdk.Stack) -> dict[str, JumpStartEndpoint]:
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0",
                                      availability_zones=["eu-west-1a", "eu-west-1b"], private_subnet_ids=SUBNET_IDS)
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", SECURITY_GROUP_ID)
    return {"Private": JumpStartEndpoint(stack, "Private", model="Mistral7B", vpc_subnets=vpc.private_subnets,
                                         security_groups=[group])}


def build_china(stack: cdk.Stack) -> dict[str, JumpStartEndpoint]:
    return {"Flan": JumpStartEndpoint(stack, "Flan", model="FlanT5XL")}


@pytest.fixture(scope="module")
def declared() -> dict[str, Declared]:
    """Every stack of the module's app, built before the one synthesis."""
    app = cdk.App()
    stacks = {
        name: (stack, build(stack))
        for name, region, build in (("Main", "us-east-1", build_main), ("InVpc", "eu-west-1", build_in_vpc),
                                    ("China", "cn-north-1", build_china))
        for stack in [cdk.Stack(app, name, env=cdk.Environment(region=region))]
    }
    return {name: Declared(stack, assertions.Template.from_stack(stack), endpoints)
            for name, (stack, endpoints) in stacks.items()}


@pytest.fixture(scope="module")
def main(declared: dict[str, Declared]) -> Declared:
    return declared["Main"]


@pytest.fixture(scope="module")
def vpc_stack(declared: dict[str, Declared]) -> Declared:
    return declared["InVpc"]


@pytest.fixture(scope="module")
def china_stack(declared: dict[str, Declared]) -> Declared:
    return declared["China"]


# --- the model -------------------------------------------------------------------------------------------


def test_gated_model_loads_the_uncompressed_private_artifact_with_acceptance(main: Declared, catalog: Catalog) -> None:
    spec = catalog.get("Llama2-7BChat")
    main.assertions.has_resource_properties("AWS::SageMaker::Model", {
        "PrimaryContainer": Match.object_like({
            "Image": spec.image_uri("us-east-1", "ml.g5.12xlarge"),
            "ModelDataUrl": Match.absent(),
            "ModelDataSource": {"S3DataSource": Match.object_equals({
                "S3Uri": f"s3://jumpstart-private-cache-prod-us-east-1/{spec.hosting_artifact_key}",
                "S3DataType": "S3Prefix",
                "CompressionType": "None",
                "ModelAccessConfig": {"AcceptEula": True},
            })},
        }),
    })


def test_acceptance_is_absent_unless_given_and_false_when_declined(main: Declared) -> None:
    assert "ModelAccessConfig" not in main.container("Flan")["ModelDataSource"]["S3DataSource"]
    declined = main.container("Declined")["ModelDataSource"]["S3DataSource"]
    assert declined["ModelAccessConfig"] == {"AcceptEula": False}
    assert main.endpoints["Declined"].accept_eula is False


def test_acceptance_of_a_model_without_eula_is_declared_with_a_warning(main: Declared) -> None:
    assert main.container("NotGated")["ModelDataSource"]["S3DataSource"]["ModelAccessConfig"] == {"AcceptEula": True}
    annotations = assertions.Annotations.from_stack(main.stack)
    annotations.has_warning("/Main/NotGated", assertions.Match.string_like_regexp("has no EULA to accept"))
    warnings = annotations.find_warning("/Main/Llama", assertions.Match.any_value())
    assert warnings == []


def test_environment_merges_catalog_instance_type_and_overrides_as_strings(main: Declared, catalog: Catalog) -> None:
    spec = catalog.get("Llama2-7BChat")
    environment = main.container("Llama")["Environment"]
    assert environment["SM_NUM_GPUS"] == "4"  # the ml.g5.12xlarge setting over the spec default
    assert environment["MAX_INPUT_LENGTH"] == "2048"  # the user's override over the catalog's "4095"
    assert environment["EXTRA_WORKERS"] == "7"
    assert environment == {**spec.environment("ml.g5.12xlarge"), "MAX_INPUT_LENGTH": "2048", "EXTRA_WORKERS": "7"}
    assert all(isinstance(value, str) for value in environment.values())


def test_model_has_network_isolation_tags_and_own_role(main: Declared) -> None:
    model = main.resource("Llama", "Model")["Properties"]
    assert model["EnableNetworkIsolation"] is True
    assert model["Tags"] == [
        {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "meta-textgeneration-llama-2-7b-f"},
        {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": main.endpoints["Llama"].model_spec.version},
    ]
    role_id = logical_id(main, main.endpoints["Llama"].cfn_role)
    assert model["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert "VpcConfig" not in model


def test_model_name_is_left_to_cloudformation(main: Declared) -> None:
    assert "ModelName" not in main.resource("Llama", "Model")["Properties"]
    assert "EndpointConfigName" not in main.resource("Llama", "EndpointConfig")["Properties"]
    assert "EndpointName" not in main.resource("Llama", "Endpoint")["Properties"]
    assert main.resource("Named", "Endpoint")["Properties"]["EndpointName"] == "support-bot"


# --- endpoint config and endpoint ------------------------------------------------------------------------


def test_endpoint_config_serves_the_model_on_the_instance_type(main: Declared) -> None:
    model_id = main.stack.get_logical_id(main.endpoints["Flan"].cfn_model)
    main.assertions.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "ProductionVariants": [Match.object_like({
            "VariantName": "AllTraffic",
            "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
            "InstanceType": "ml.g5.4xlarge",
            "InitialInstanceCount": 2,
        })],
        "KmsKeyId": Match.absent(),
        "DataCaptureConfig": Match.absent(),
        "Tags": Match.array_with([
            {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "huggingface-text2text-flan-t5-xl"},
        ]),
    })


def test_default_instance_type_and_timeouts(main: Declared) -> None:
    variant = main.resource("Llama", "EndpointConfig")["Properties"]["ProductionVariants"][0]
    assert variant["InstanceType"] == "ml.g5.12xlarge"  # the catalog default of Llama2-7BChat
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 900
    assert variant["ModelDataDownloadTimeoutInSeconds"] == 1200


def test_data_capture_config_and_write_permission(main: Declared) -> None:
    main.assertions.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "DataCaptureConfig": Match.object_equals({  # no KmsKeyId: the capture was given no key
            "EnableCapture": True,
            "DestinationS3Uri": "s3://capture-bucket/endpoints/",
            "InitialSamplingPercentage": 25,
            "CaptureOptions": [{"CaptureMode": "Input"}],
        }),
    })
    put = statement_for(main.statements("Llama"), "s3:PutObject")
    assert put["Resource"] == "arn:aws:s3:::capture-bucket/endpoints/*"
    assert all("s3:PutObject" not in s["Action"] for s in main.statements("Flan"))


def test_endpoint_uses_the_config_and_exposes_name_arn_and_output(main: Declared) -> None:
    endpoint = main.endpoints["Flan"]
    endpoint_id = main.stack.get_logical_id(endpoint.cfn_endpoint)
    config_id = main.stack.get_logical_id(endpoint.cfn_endpoint_config)
    assert main.resource("Flan", "Endpoint")["Properties"]["EndpointConfigName"] == \
        {"Fn::GetAtt": [config_id, "EndpointConfigName"]}
    assert main.stack.resolve(endpoint.endpoint_name) == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    assert main.stack.resolve(endpoint.endpoint_arn) == {"Ref": endpoint_id}
    outputs = [o for o in main.template["Outputs"].values()
               if o["Value"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}]
    assert len(outputs) == 1
    assert "huggingface-text2text-flan-t5-xl" in outputs[0]["Description"]


def test_one_output_per_endpoint(main: Declared) -> None:
    """CloudFormation allows 200 outputs per stack: one per endpoint stays under it at 500 resources."""
    assert len(main.template["Outputs"]) == len(main.endpoints)


def test_autoscaling_tracks_invocations_per_instance(main: Declared) -> None:
    endpoint_id = main.stack.get_logical_id(main.endpoints["Llama"].cfn_endpoint)
    main.assertions.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {
        "ServiceNamespace": "sagemaker",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "ResourceId": {"Fn::Join": ["", ["endpoint/", {"Fn::GetAtt": [endpoint_id, "EndpointName"]},
                                         "/variant/AllTraffic"]]},
        "MinCapacity": 1,
        "MaxCapacity": 4,
    })
    main.assertions.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 1)  # only Llama scales
    main.assertions.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "PolicyType": "TargetTrackingScaling",
        "ScalingTargetId": {"Ref": logical_id(main, main.endpoints["Llama"].scalable_target)},
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 100,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    })


# --- the execution role ----------------------------------------------------------------------------------


def test_role_trusts_sagemaker_only_and_has_no_managed_policies(main: Declared) -> None:
    role = main.resource("Llama", "Role")["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole",
    }]
    assert "ManagedPolicyArns" not in role


def test_role_reads_only_the_models_artifact_prefix(main: Declared, catalog: Catalog) -> None:
    key = catalog.get("Llama2-7BChat").hosting_artifact_key
    statements = main.statements("Llama")
    assert statement_for(statements, "s3:GetObject") == {
        "Effect": "Allow", "Action": ["s3:GetObject"],
        "Resource": f"arn:aws:s3:::jumpstart-private-cache-prod-us-east-1/{key}*",
    }
    assert statement_for(statements, "s3:ListBucket") == {
        "Effect": "Allow", "Action": ["s3:ListBucket"],
        "Resource": "arn:aws:s3:::jumpstart-private-cache-prod-us-east-1",
        "Condition": {"StringLike": {"s3:prefix": f"{key}*"}},
    }


def test_role_pulls_only_the_models_image_repository(main: Declared, catalog: Catalog) -> None:
    image = catalog.get("Llama2-7BChat").image_uri("us-east-1", "ml.g5.12xlarge")
    repository = image.split("/", 1)[1].split(":")[0]
    statements = main.statements("Llama")
    assert statement_for(statements, "ecr:BatchGetImage")["Resource"] == \
        f"arn:aws:ecr:us-east-1:763104351884:repository/{repository}"
    assert statement_for(statements, "ecr:GetAuthorizationToken")["Resource"] == "*"


def test_role_logs_and_metrics_are_scoped(main: Declared) -> None:
    statements = main.statements("Flan")
    logs = statement_for(statements, "logs:PutLogEvents")
    assert logs["Resource"] == {
        "Fn::Sub": "arn:aws:logs:us-east-1:${AWS::AccountId}:log-group:/aws/sagemaker/Endpoints/*"
    }
    metrics = statement_for(statements, "cloudwatch:PutMetricData")
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}}
    allowed = {action for s in statements for action in s["Action"]}
    assert all(":*" not in action and action != "*" for action in allowed)
    assert not any(action.startswith(("ec2:", "kms:", "iam:", "sagemaker:")) for action in allowed)


def test_passed_role_is_used_as_is(main: Declared) -> None:
    endpoint = main.endpoints["Named"]
    assert endpoint.cfn_role is None
    assert main.resource("Named", "Model")["Properties"]["ExecutionRoleArn"] == PASSED_ROLE_ARN
    assert main.stack.resolve(endpoint.role.role_arn) == PASSED_ROLE_ARN
    roles = [r for r in main.template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == len(main.endpoints) - 1


def test_role_attribute_refers_to_the_created_role(main: Declared) -> None:
    endpoint = main.endpoints["Flan"]
    role_id = logical_id(main, endpoint.cfn_role)
    assert main.stack.resolve(endpoint.role.role_arn) == {"Fn::GetAtt": [role_id, "Arn"]}


# --- VPC and regions -------------------------------------------------------------------------------------


def test_vpc_config_and_network_interface_permissions(vpc_stack: Declared) -> None:
    model = vpc_stack.resource("Private", "Model")["Properties"]
    assert model["VpcConfig"] == {"Subnets": SUBNET_IDS, "SecurityGroupIds": [SECURITY_GROUP_ID]}
    # network interfaces only in the row's subnets, with its security groups (CKV_AWS_111/109: no ENI write on *)
    assert network_statements(vpc_stack.statements("Private")) == expected_network_statements(
        SUBNET_IDS, [SECURITY_GROUP_ID], region="eu-west-1")


def test_region_selects_image_artifact_bucket_and_arns(vpc_stack: Declared, catalog: Catalog) -> None:
    spec = catalog.get("Mistral7B")
    container = vpc_stack.container("Private")
    assert container["Image"] == spec.image_uri("eu-west-1")
    assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == spec.artifact_uri("eu-west-1")
    assert container["ModelDataSource"]["S3DataSource"]["S3Uri"].startswith("s3://jumpstart-cache-prod-eu-west-1/")
    logs = statement_for(vpc_stack.statements("Private"), "logs:CreateLogStream")
    assert ":eu-west-1:" in logs["Resource"]["Fn::Sub"]


def test_china_partition_in_every_arn(china_stack: Declared) -> None:
    statements = china_stack.statements("Flan")
    arns = [statement_for(statements, a)["Resource"] for a in ("s3:GetObject", "s3:ListBucket", "ecr:BatchGetImage")]
    assert all(arn.startswith(("arn:aws-cn:s3:::jumpstart-cache-prod-cn-north-1", "arn:aws-cn:ecr:cn-north-1:"))
               for arn in arns)
    assert statement_for(statements, "logs:PutLogEvents")["Resource"]["Fn::Sub"].startswith("arn:aws-cn:logs:")
    assert ".amazonaws.com.cn/" in china_stack.container("Flan")["Image"]


# --- early errors ----------------------------------------------------------------------------------------


def test_unknown_model_names_the_construct_and_suggests(scratch: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"^Scratch.*/Typo: unknown JumpStart model 'Llama2-7BChta'.*"
                                         r"did you mean Llama2-7BChat"):
        JumpStartEndpoint(scratch, "Typo", model="Llama2-7BChta")


def test_unsupported_instance_type_lists_the_supported_ones(scratch: cdk.Stack) -> None:
    with pytest.raises(ValueError, match=r"does not support instance type 'ml.m5.xlarge'; supported instance types: "
                                         r"ml\.g5\.2xlarge, ml\.g5\.4xlarge, ml\.g5\.8xlarge, ml\.g5\.16xlarge"):
        JumpStartEndpoint(scratch, "Cpu", model="FlanT5XL", instance_type="ml.m5.xlarge")


def test_unsupported_region_lists_the_supported_ones(scratch_app: cdk.App) -> None:
    stack = cdk.Stack(scratch_app, "GatedInChina", env=cdk.Environment(region="cn-north-1"))
    with pytest.raises(ValueError, match=r"not available in region 'cn-north-1'; supported regions: .*us-east-1"):
        JumpStartEndpoint(stack, "Llama", model="Llama2-7B", accept_eula=True)


def test_environment_agnostic_stack_is_refused_with_the_fix(scratch_app: cdk.App) -> None:
    stack = cdk.Stack(scratch_app, "Agnostic")
    with pytest.raises(ValueError, match=r"needs a concrete region.*env=Environment\(region=\"us-east-1\"\)"):
        JumpStartEndpoint(stack, "Flan", model="FlanT5XL")


def test_a_model_without_images_or_artifacts_is_not_deployable(scratch: cdk.Stack) -> None:
    index_only = ModelSpec(model_id="acme-gated", version="1.0.0", gated=True, eula_key="eula.txt",
                           default_instance_type="ml.g5.2xlarge")
    with pytest.raises(ValueError, match=r"acme-gated.*eulagate models refresh"):
        JumpStartEndpoint(scratch, "IndexOnly", model=index_only)


def test_a_region_the_spec_lists_without_images_is_refused(scratch_app: cdk.App) -> None:
    stack = cdk.Stack(scratch_app, "Zurich", env=cdk.Environment(region="eu-central-2"))
    with pytest.raises(ValueError, match=r"'meta-textgeneration-llama-3-1-405b-fp8' is not available in region "
                                         r"'eu-central-2'; supported regions: .*eu-west-1"):
        JumpStartEndpoint(stack, "Big", model="meta-textgeneration-llama-3-1-405b-fp8", accept_eula=True)


def test_kms_key_on_local_storage_instance_is_refused(scratch: cdk.Stack) -> None:
    key = kms.Key(scratch, "Key")
    with pytest.raises(ValueError, match=r"'ml.g5.12xlarge' has local NVMe instance storage.*drop kms_key.*"
                                         r"of this model's: none"):
        JumpStartEndpoint(scratch, "Encrypted", model="Llama2-7B", accept_eula=True, kms_key=key)


@pytest.mark.parametrize(("props", "message"), [
    ({"accept_eula": "true"}, r"accept_eula must be True, False or None \(not set\), not 'true'"),
    ({"instance_count": 0}, r"instance_count must be an integer >= 1, got 0"),
    ({"endpoint_name": "bad_name!"}, r"endpoint_name 'bad_name!' must be 1 to 63"),
    ({"endpoint_name": "x" * 64}, r"must be 1 to 63"),
    ({"environment": {"1BAD": "x"}}, r"environment key '1BAD' must match"),
    ({"environment": {"FLAG": True}}, r"environment value of FLAG must be a string"),
    ({"environment": {"NESTED": {"a": 1}}}, r"environment value of NESTED must be a string"),
    ({"startup_health_check_timeout": 30}, r"startup_health_check_timeout must be whole seconds from 60 to 3600"),
    ({"model_data_download_timeout": 4000}, r"model_data_download_timeout must be whole seconds"),
])
def test_invalid_props_raise_early(scratch: cdk.Stack, props: dict[str, Any], message: str) -> None:
    with pytest.raises(ConstructValidationError, match=message) as raised:
        JumpStartEndpoint(scratch, "Bad", model="FlanT5XL", **props)
    assert raised.value.construct_path == f"{scratch.node.path}/Bad"


def test_a_misspelt_prop_is_refused_by_name(scratch: cdk.Stack) -> None:
    """The props are explicit keyword parameters, so Python itself refuses one that does not exist."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'autoscale'"):
        JumpStartEndpoint(scratch, "Misspelt", model="FlanT5XL", autoscale=None)  # type: ignore[call-arg]


def test_subnets_without_security_groups_are_refused(scratch: cdk.Stack) -> None:
    subnet = ec2.Subnet.from_subnet_id(scratch, "Subnet", SUBNET_IDS[0])
    with pytest.raises(ValueError, match="vpc_subnets and security_groups go together"):
        JumpStartEndpoint(scratch, "HalfVpc", model="FlanT5XL", vpc_subnets=[subnet])


@pytest.mark.parametrize(("props", "message"), [
    ({"max_capacity": 2, "min_capacity": 3, "target_invocations_per_instance": 10}, "min_capacity 3 exceeds"),
    ({"max_capacity": 0, "target_invocations_per_instance": 10}, "max_capacity must be an integer >= 1"),
    ({"max_capacity": 2, "target_invocations_per_instance": 0}, "target_invocations_per_instance must be a number"),
])
def test_autoscaling_props_are_checked(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EndpointAutoScaling(**props)


@pytest.mark.parametrize(("props", "message"), [
    ({"destination": "bucket/prefix"}, "not an S3 URI"),
    ({"destination": "s3://b-1/p", "sampling_percentage": 101}, "sampling_percentage must be an integer from 0"),
    ({"destination": "s3://b-1/p", "capture_input": False, "capture_output": False}, "the input, the output or"),
])
def test_data_capture_props_are_checked(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DataCapture(**props)


# --- helpers with their own rules ------------------------------------------------------------------------


@pytest.mark.parametrize(("instance_type", "local"), [
    ("ml.g5.2xlarge", True), ("ml.g4dn.xlarge", True), ("ml.p4de.24xlarge", True), ("ml.m5d.large", True),
    ("ml.c6id.xlarge", True), ("ml.p5.48xlarge", True), ("ml.g6e.xlarge", True), ("ml.p6-b200.48xlarge", True),
    ("ml.m5.xlarge", False), ("ml.c5.2xlarge", False), ("ml.inf2.xlarge", False), ("ml.p3.2xlarge", False),
])
def test_local_storage_instance_types(instance_type: str, local: bool) -> None:
    assert has_local_storage(instance_type) is local


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"), ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"), ("us-isof-south-1", "aws-iso-f"),
])
def test_partition_of_region(region: str, partition: str) -> None:
    assert partition_of(region) == partition


# --- cdk-nag AwsSolutions --------------------------------------------------------------------------------


def build_nag_app(*, with_wildcard_role: bool) -> tuple[cdk.App, list[JumpStartEndpoint]]:
    app = cdk.App()
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks())
    stack = cdk.Stack(app, "Nagged", env=cdk.Environment(region="us-east-1"))
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0",
                                      availability_zones=["us-east-1a", "us-east-1b"], private_subnet_ids=SUBNET_IDS)
    endpoints = [
        JumpStartEndpoint(
            stack, "Llama", model="Llama2-7BChat", accept_eula=True,
            autoscaling=EndpointAutoScaling(max_capacity=2, target_invocations_per_instance=50),
            data_capture=DataCapture(destination="s3://capture-bucket/llama"),
        ),
        JumpStartEndpoint(stack, "Private", model="Mistral7BInstruct", vpc_subnets=vpc.private_subnets,
                          security_groups=[ec2.SecurityGroup.from_security_group_id(stack, "G", SECURITY_GROUP_ID)]),
        JumpStartEndpoint(stack, "Flan", model="FlanT5XL"),
    ]
    if with_wildcard_role:
        iam.CfnRole(stack, "Careless", assume_role_policy_document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                           "Action": "sts:AssumeRole"}],
        }, policies=[iam.CfnRole.PolicyProperty(policy_name="All", policy_document={
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        })])
    return app, endpoints


def test_cdk_nag_aws_solutions_passes_with_reasoned_acknowledgments() -> None:
    app, endpoints = build_nag_app(with_wildcard_role=False)
    app.synth()  # raises when cdk-nag reports an unacknowledged error
    for endpoint in endpoints:
        assert endpoint.cfn_role is not None
        acknowledged = {
            rule: reason
            for entry in endpoint.cfn_role.node.metadata
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
            for rule, reason in entry.data.items()
        }
        assert acknowledged, endpoint.node.path
        # wildcard findings one by one, and the compliance packs' inline-policy rule (each pack names its own)
        assert all(rule.split("::", 1)[1].startswith("AwsSolutions-IAM5[Resource::") or
                   rule.endswith("-IAMNoInlinePolicy") for rule in acknowledged)
        assert all(len(reason) > 30 for reason in acknowledged.values())
        assert not any(rule.endswith("AwsSolutions-IAM5") for rule in acknowledged), "acknowledge findings, not rules"


def test_cdk_nag_still_reports_wildcards_that_are_not_ours() -> None:
    app, _ = build_nag_app(with_wildcard_role=True)
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5") as failure:
        app.synth()
    assert "Careless" in str(failure.value)
    assert "Llama" not in str(failure.value)


# --- the EULA gate's view --------------------------------------------------------------------------------


def test_rule_engine_reports_only_the_unaccepted_gated_model(main: Declared) -> None:
    from constructs_lib.rules import check_template

    errors = [f for f in check_template(main.template, template_path="Main.template.json") if f.severity == "error"]
    assert {f.logical_id for f in errors} == {main.stack.get_logical_id(main.endpoints["Declined"].cfn_model)}
    assert errors[0].model_id == "meta-textgeneration-llama-2-13b"


def test_template_is_plain_json(main: Declared) -> None:
    """Everything the gate reads is in the template: no token escaped into a string."""
    assert "${Token[" not in json.dumps(main.template)


# --- every catalog model, and Llama 3.1 ------------------------------------------------------------------

LLAMA_31_8B_INSTRUCT = "meta-textgeneration-llama-3-1-8b-instruct"
ENDPOINTS_PER_STACK = 120  # 3 resources each with a passed role: under CloudFormation's 500


@dataclass
class EveryModel:
    """Every catalog model as a JumpStartEndpoint in us-east-1 on its default instance type, with and without
    acceptance, in one app synthesized once; the rule engine's findings per template."""

    models: dict[str, dict[str, Any]]  # model id -> {"accepted": container, "findings": [...] without acceptance}


def _declare_every_model(app: cdk.App, catalog: Catalog, *, accept: bool) -> list[tuple[str, cdk.Stack, Any]]:
    declared = []
    stack = None
    role = None
    for index, spec in enumerate(catalog):
        if index % ENDPOINTS_PER_STACK == 0:
            name = f"{'Accepted' if accept else 'Undeclared'}{index // ENDPOINTS_PER_STACK}"
            stack = cdk.Stack(app, name, env=cdk.Environment(region="us-east-1"))
            role = iam.Role.from_role_arn(stack, "Role", PASSED_ROLE_ARN, mutable=False)
        assert stack is not None
        endpoint = JumpStartEndpoint(stack, f"M{index}", model=spec.model_id, accept_eula=True if accept else None,
                                     role=role, catalog=catalog)
        declared.append((spec.model_id, stack, endpoint.cfn_model))
    return declared


@pytest.fixture(scope="module")
def every_model(catalog: Catalog) -> EveryModel:
    from constructs_lib.rules import check_template

    app = cdk.App()
    accepted = _declare_every_model(app, catalog, accept=True)
    undeclared = _declare_every_model(app, catalog, accept=False)
    assembly = app.synth()
    templates = {stack.stack_name: assembly.get_stack_by_name(stack.stack_name).template
                 for stack in {stack for _, stack, _ in accepted + undeclared}}
    findings: dict[str, list[Any]] = {}
    for stack_name, template in templates.items():
        for finding in check_template(template, template_path=stack_name, catalog=catalog):
            findings.setdefault(f"{stack_name}/{finding.logical_id}", []).append(finding)
    models: dict[str, dict[str, Any]] = {}
    for (model_id, stack, model), (_, bare, bare_model) in zip(accepted, undeclared, strict=True):
        logical = stack.get_logical_id(model)
        bare_logical = bare.get_logical_id(bare_model)
        models[model_id] = {
            "accepted": templates[stack.stack_name]["Resources"][logical]["Properties"]["PrimaryContainer"],
            "accepted_findings": findings.get(f"{stack.stack_name}/{logical}", []),
            "findings": findings.get(f"{bare.stack_name}/{bare_logical}", []),
        }
    return EveryModel(models)


@pytest.mark.parametrize("model_id", [spec.model_id for spec in Catalog.default()])
def test_every_catalog_model_synthesizes_and_only_gated_ones_need_acceptance(
    every_model: EveryModel, catalog: Catalog, model_id: str
) -> None:
    spec = catalog.get(model_id)
    declared = every_model.models[model_id]
    container = declared["accepted"]
    source = container["ModelDataSource"]["S3DataSource"]
    assert container["Image"] == spec.image_uri("us-east-1")
    assert source["S3Uri"] == spec.artifact_uri("us-east-1") and source["ModelAccessConfig"] == {"AcceptEula": True}
    assert container["Environment"] == spec.environment()
    assert [f for f in declared["accepted_findings"] if f.severity == "error"] == []
    errors = [(f.rule_id, f.model_id) for f in declared["findings"] if f.severity == "error"]
    assert errors == ([("EULA001", model_id)] if spec.gated else [])


def test_the_gated_ones_are_the_catalogs_60(every_model: EveryModel) -> None:
    failing = {model_id for model_id, declared in every_model.models.items()
               if any(f.severity == "error" for f in declared["findings"])}
    assert len(every_model.models) == 343 and len(failing) == 60


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_llama_3_1_deploys_its_gated_artifact_with_acceptance(catalog: Catalog, region: str) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Llama31", env=cdk.Environment(region=region))
    endpoint = JumpStartEndpoint(stack, "Chat", model=LLAMA_31_8B_INSTRUCT, accept_eula=True)
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties("AWS::SageMaker::Model", {
        "PrimaryContainer": {
            "Image": f"{'763104351884'}.dkr.ecr.{region}.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124",
            "ModelDataSource": {"S3DataSource": {
                "S3Uri": f"s3://jumpstart-private-cache-prod-{region}/meta-textgeneration/{LLAMA_31_8B_INSTRUCT}/"
                         "artifacts/inference-prepack/v2.0.0/",
                "S3DataType": "S3Prefix", "CompressionType": "None",
                "ModelAccessConfig": {"AcceptEula": True},
            }},
        },
        "EnableNetworkIsolation": True,
    })
    template.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "ProductionVariants": [assertions.Match.object_like({"InstanceType": "ml.g5.4xlarge"})],
    })
    assert endpoint.model_spec.version == catalog.get(LLAMA_31_8B_INSTRUCT).version


def test_the_gate_fails_the_synth_of_llama_3_1_without_acceptance_naming_the_model() -> None:
    from constructs_lib.synth.gate import EulaGate

    app = cdk.App()
    cdk.Validations.of(app).add_plugins(EulaGate())
    stack = cdk.Stack(app, "Llama31", env=cdk.Environment(region="eu-west-1"))
    JumpStartEndpoint(stack, "Chat", model=LLAMA_31_8B_INSTRUCT)
    with pytest.raises(RuntimeError) as failure:
        app.synth()
    assert LLAMA_31_8B_INSTRUCT in str(failure.value) and "EULA001" in str(failure.value)


# --- a version served through JumpStart model packages --------------------------------------------------


def package_only_llama() -> ModelSpec:
    """Llama 2 7B Chat 2.0.4 (a raw spec sample): a tarball artifact, and model packages in 6 regions."""
    from constructs_lib.catalog.build import DEFAULT_JUMPSTART_DIR, SAMPLES_DIR_NAME
    from constructs_lib.catalog.raw_spec import parse_model_spec

    name = "meta-textgeneration-llama-2-7b-f_specs_v2.0.4.json"
    document = json.loads((DEFAULT_JUMPSTART_DIR / SAMPLES_DIR_NAME / name).read_text())
    return parse_model_spec(document, source=name)


def test_a_package_only_version_is_served_through_the_package_of_the_region() -> None:
    from constructs_lib.rules import check_template

    spec = package_only_llama()
    app = cdk.App()
    stack = cdk.Stack(app, "Packaged", env=cdk.Environment(region="us-west-2"))
    endpoint = JumpStartEndpoint(stack, "Chat", model=spec, environment={"MAX_INPUT_LENGTH": 2048})
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties("AWS::SageMaker::Model", {
        "PrimaryContainer": {"ModelPackageName": spec.model_package_arns["us-west-2"],
                             "Environment": {"MAX_INPUT_LENGTH": "2048"}},
    })
    statements = template.to_json()["Resources"][stack.get_logical_id(endpoint.cfn_role)]["Properties"][
        "Policies"][0]["PolicyDocument"]["Statement"]
    actions = {action for statement in statements for action in statement["Action"]}
    assert not any(action.startswith(("s3:", "ecr:BatchGetImage")) for action in actions)  # the package has both
    [finding] = check_template(template.to_json(), template_path="Packaged")
    assert (finding.rule_id, finding.severity, finding.model_id) == ("EULA005", "warning", spec.model_id)
    assert "accept_eula=true" in finding.fix


def test_a_package_only_version_in_a_region_without_a_package_is_refused(scratch_app: cdk.App) -> None:
    stack = cdk.Stack(scratch_app, "NoPackage", env=cdk.Environment(region="ap-south-1"))
    with pytest.raises(ValueError, match=r"deploys only through JumpStart model packages, and it has none in region "
                                         r"'ap-south-1'; model package regions: .*us-west-2"):
        JumpStartEndpoint(stack, "Chat", model=package_only_llama())

"""What every SageMaker real-time endpoint of this package shares: the execution role, endpoint config,
endpoint, autoscaling, data capture and stack output that `JumpStartEndpoint` and `FineTunedEndpoint` emit.

Construction cost matters (a table may declare hundreds of endpoints), and on these machines every jsii call
costs about half a millisecond. So the resources are L1 constructs, the role's policy is one inline JSON
document (built in Python, intrinsics as raw ``Fn::*`` objects), attributes are read once, and the stack region
is read once per stack.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.aws_names import (
    ACCOUNT_PATTERN,
    JUMPSTART_MODEL_ID_TAG,
    JUMPSTART_MODEL_VERSION_TAG,
    KMS_KEY_ARN_PATTERN,
    is_token,
    parse_ecr_image,
    partition_of,
    split_s3_uri,
)
from constructs_lib.catalog import ModelSpec, instance_family
from constructs_lib.catalog.errors import supported_list
from constructs_lib.constructs.acknowledgments import acknowledge_in_compliance_packs, acknowledge_wildcards
from constructs_lib.constructs.encryption import stack_key
from constructs_lib.constructs.serving.access import SAGEMAKER_NAMESPACE, VARIANT_NAME, EndpointAccess
from constructs_lib.constructs.serving.scaling import (
    ZeroCapacityAlarm,
    scalable_target,
    scale_out_from_zero,
    target_tracking,
)
from constructs_lib.props import AsyncInference, BacklogScaling, DataCapture, EndpointAutoScaling, ServerlessInference
from constructs_lib.props.placement import VpcPlacement, network_interface_grants
from constructs_lib.props.values import check_integer, is_int

# Limits and patterns from the SageMaker API reference (CreateEndpoint, ContainerDefinition, VpcConfig,
# ProductionVariant, DataCaptureConfig).
ENDPOINT_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
ENVIRONMENT_KEY_PATTERN = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
ENVIRONMENT_MAX_ENTRIES = 100
ENVIRONMENT_MAX_LENGTH = 1024
INSTANCE_TYPE_PATTERN = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9]+")
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
TIMEOUT_RANGE = (60, 3600)

# SageMaker's CreateEndpointConfig reference: "Certain Nitro-based instances include local storage ... You can't
# request a KmsKeyId when using an instance type with local storage ... the call to CreateEndpointConfig fails."
# Which types have it: the SageMaker Python SDK's `volume_size_supported` rule (a "d" in the family attributes,
# e.g. c5d, m5d, r5d, g4dn, p3dn, p4d, p4de, and g5), extended with the EC2 instance-store tables for the
# newer GPU/accelerator families whose names carry no "d" but ship NVMe instance storage.
LOCAL_STORAGE_FAMILIES = frozenset({"g5", "g6", "g6e", "gr6", "p5", "p5e", "p5en", "p6-b200", "trn1", "trn1n", "trn2"})
_FAMILY_ATTRIBUTES = re.compile(r"[a-z]+\d+([a-z]*)")


# Why the execution role's one policy is inline (the compliance packs' IAMNoInlinePolicy finding).
INLINE_ROLE_POLICY_REASON = (
    "The role's only policy is declared inline, in the same resource as the role: it grants nothing beyond this "
    "endpoint's own resources (named by ARN), is reviewed and deployed with the role in one change, and is "
    "deleted with it. A customer managed policy would be a second, separately attachable copy of the same "
    "statements, which could then be attached to other principals: it would widen who can hold these grants "
    "without narrowing any of them."
)

def has_local_storage(instance_type: str) -> bool:
    """Whether the instance type has local NVMe instance storage (SageMaker then rejects a volume KMS key)."""
    family = instance_family(instance_type)
    match = _FAMILY_ATTRIBUTES.match(family.split("-")[0])
    return family in LOCAL_STORAGE_FAMILIES or bool(match and "d" in match.group(1))


class ServingProps(TypedDict, total=False):
    """The serving keywords both endpoint constructs take, as a ``TypedDict``: type a dict of them with it and pass
    it as ``**props`` (each is also a keyword parameter of ``JumpStartEndpoint`` and ``FineTunedEndpoint``, documented
    there). Absent or None means the default."""

    role: iam.IRole | None
    """The execution role, used as is. Default: a least-privilege role of the endpoint's own (read of the model
    data, pull of its image, its logs and metrics, use of its key)."""
    vpc: VpcPlacement | None
    """Subnet and security group ids for the model's network interfaces. Default: no VPC."""
    vpc_subnets: Sequence[ec2.ISubnet] | None
    """Subnets for the model's network interfaces (with ``security_groups``; instead of ``vpc``). Default: no VPC."""
    security_groups: Sequence[ec2.ISecurityGroup] | None
    """Security groups of those interfaces (with ``vpc_subnets``). Default: no VPC."""
    kms_key_arn: str | None
    """ARN of the endpoint's key (instead of ``kms_key``). It encrypts the storage volume where the instance type
    has one (types with local NVMe storage, such as g5, g6, p4d and p5, encrypt theirs by hardware, and
    SageMaker refuses a key for them), and captured data unless ``data_capture.kms_key`` names another; the role
    may use it to decrypt the model data. Default: none."""
    kms_key: kms.IKey | None
    """Key for the instances' storage volume; instance types with local NVMe storage (g5, g6, p4d, p5, ...)
    cannot take one. Default: SageMaker's own encryption."""
    autoscaling: EndpointAutoScaling | None
    """Target-tracking autoscaling of the variant. Default: a fixed instance count."""
    data_capture: DataCapture | None
    """Capture of requests and responses to S3. Default: no capture."""
    endpoint_name: str | None
    """The endpoint's name. Default: CloudFormation generates one."""
    startup_health_check_timeout: int | None
    """Seconds (60-3600) SageMaker waits for the container's health check. Default: SageMaker's."""
    model_data_download_timeout: int | None
    """Seconds (60-3600) SageMaker allows for downloading the model. Default: SageMaker's."""


@dataclass(frozen=True)
class NetworkPlacement:
    """The subnet and security group ids of the model's ``VpcConfig`` (ids may be deploy-time tokens)."""

    subnet_ids: list[str]
    security_group_ids: list[str]


@dataclass(frozen=True)
class Encryption:
    """Which key encrypts what, and which keys the execution role uses."""

    volume_key_arn: str | None = None
    """``KmsKeyId`` of the endpoint config (the storage volume)."""
    capture_key_arn: str | None = None
    """``KmsKeyId`` of the data capture."""
    endpoint_key_arn: str | None = None
    """``kms_key_arn``: the role may decrypt model data and encrypt the volume and captures with it."""
    hardware_encrypted_volume: bool = False
    """The instance type has local NVMe storage, which the instance encrypts by hardware (no volume key)."""


@dataclass(frozen=True, kw_only=True)
class ServingOptions:
    """Everything an endpoint construct serves its model with, besides the model itself (the constructs' keyword
    parameters of the same names)."""

    instance_type: str
    instance_count: int
    network_isolation: bool = True
    role: iam.IRole | None = None
    vpc: VpcPlacement | None = None
    vpc_subnets: Sequence[ec2.ISubnet] | None = None
    security_groups: Sequence[ec2.ISecurityGroup] | None = None
    kms_key_arn: str | None = None
    kms_key: kms.IKey | None = None
    autoscaling: EndpointAutoScaling | None = None
    data_capture: DataCapture | None = None
    endpoint_name: str | None = None
    startup_health_check_timeout: int | None = None
    model_data_download_timeout: int | None = None
    async_inference: AsyncInference | None = None
    serverless: ServerlessInference | None = None

    def validate(self, supported_instance_types: Iterable[str] = ()) -> None:
        """Raise ``ValueError`` for props SageMaker would refuse (the construct re-raises it with its path)."""
        _check_mode_of(self)
        check_integer("instance_count", self.instance_count, 1)
        _check_endpoint_name(self.endpoint_name)
        _check_timeouts(self)
        if not isinstance(self.network_isolation, bool):
            raise ValueError(f"network_isolation must be True or False, got {self.network_isolation!r}")
        self.network_placement()
        self.encryption(supported_instance_types)

    def network_placement(self) -> NetworkPlacement | None:
        placement, subnets, groups = self.vpc, self.vpc_subnets, self.security_groups
        if placement is not None:
            if subnets is not None or groups is not None:
                raise ValueError("give vpc, or vpc_subnets with security_groups, not both")
            if not isinstance(placement, VpcPlacement):
                raise ValueError(f"vpc must be a VpcPlacement, got {placement!r}")
            return NetworkPlacement(list(placement.subnet_ids), list(placement.security_group_ids))
        if (subnets is None) != (groups is None):
            raise ValueError("vpc_subnets and security_groups go together: give both or neither")
        if subnets is None or groups is None:
            return None
        if not 1 <= len(subnets) <= MAX_SUBNETS:
            raise ValueError(f"vpc_subnets must hold 1 to {MAX_SUBNETS} subnets, got {len(subnets)}")
        if not 1 <= len(groups) <= MAX_SECURITY_GROUPS:
            raise ValueError(f"security_groups must hold 1 to {MAX_SECURITY_GROUPS} groups, got {len(groups)}")
        return NetworkPlacement([subnet.subnet_id for subnet in subnets], [group.security_group_id for group in groups])

    def encryption(self, supported_instance_types: Iterable[str] = ()) -> Encryption:
        key, key_arn, capture = self.kms_key, self.kms_key_arn, self.data_capture
        if key is not None and key_arn is not None:
            raise ValueError("give kms_key or kms_key_arn, not both")
        if key_arn is not None and not is_token(key_arn) and not KMS_KEY_ARN_PATTERN.fullmatch(key_arn):
            raise ValueError(f"kms_key_arn {key_arn!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
        local_storage = has_local_storage(self.instance_type)
        if key is not None and local_storage:
            without_storage = [t for t in supported_instance_types if not has_local_storage(t)]
            raise ValueError(
                f"instance type {self.instance_type!r} has local NVMe instance storage, which SageMaker encrypts "
                "itself and for which CreateEndpointConfig rejects a KMS key: drop kms_key, or choose an instance "
                f"type without local storage (of this model's: {supported_list(without_storage)})"
            )
        volume_key_arn = key.key_arn if key is not None else (None if local_storage else key_arn)
        capture_key = capture.kms_key if capture is not None else None
        capture_key_arn = capture_key.key_arn if capture_key is not None else key_arn if capture else None
        return Encryption(volume_key_arn, capture_key_arn, key_arn, local_storage)


SERVERLESS_REFUSES = {
    "vpc": "serverless endpoints cannot attach to a VPC",
    "vpc_subnets": "serverless endpoints cannot attach to a VPC",
    "security_groups": "serverless endpoints cannot attach to a VPC",
    "kms_key": "serverless endpoints have no storage volume to encrypt",
    "kms_key_arn": "serverless endpoints have no storage volume to encrypt and take no data capture",
    "data_capture": "serverless endpoints take no data capture",
    "autoscaling": "serverless endpoints scale by themselves up to ServerlessInference.max_concurrency",
}


def _check_mode_of(options: ServingOptions) -> None:
    """What an asynchronous or serverless endpoint cannot take."""
    if options.async_inference is not None and options.serverless is not None:
        raise ValueError("give async_inference or serverless, not both")
    if options.async_inference is not None:
        if not isinstance(options.async_inference, AsyncInference):
            raise ValueError(f"async_inference must be AsyncInference props, got {options.async_inference!r}")
        if options.autoscaling is not None:
            raise ValueError("an asynchronous endpoint scales on its backlog: give AsyncInference(scaling="
                             "BacklogScaling(...)) instead of autoscaling")
    if options.serverless is not None:
        if not isinstance(options.serverless, ServerlessInference):
            raise ValueError(f"serverless must be ServerlessInference props, got {options.serverless!r}")
        for name, why in SERVERLESS_REFUSES.items():
            if getattr(options, name) is not None:
                raise ValueError(f"{name} is not for serverless endpoints: {why}")
        if options.network_isolation:
            raise ValueError("serverless endpoints cannot isolate the container's network: pass "
                             "network_isolation=False with serverless")


def _check_endpoint_name(name: str | None) -> None:
    if name is not None and not is_token(name) and not ENDPOINT_NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"endpoint_name {name!r} must be 1 to 63 letters, digits and single or repeated hyphens, "
            "starting and ending with a letter or digit"
        )


def _check_timeouts(options: ServingOptions) -> None:
    for timeout in ("startup_health_check_timeout", "model_data_download_timeout"):
        value = getattr(options, timeout)
        if value is not None and (not is_int(value) or not TIMEOUT_RANGE[0] <= value <= TIMEOUT_RANGE[1]):
            raise ValueError(f"{timeout} must be whole seconds from {TIMEOUT_RANGE[0]} to {TIMEOUT_RANGE[1]}")


def container_environment(
    base: Mapping[str, str], overrides: Mapping[str, str | int | float] | None
) -> dict[str, str]:
    """The container environment: ``base`` with the user's ``overrides`` on top, every value a string."""
    environment = dict(base)
    for key, value in (overrides or {}).items():
        if not isinstance(key, str) or not ENVIRONMENT_KEY_PATTERN.fullmatch(key):
            raise ValueError(f"environment key {key!r} must match {ENVIRONMENT_KEY_PATTERN.pattern}")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(
                f"environment value of {key} must be a string (numbers are converted), got {value!r}; "
                'write booleans as the string the container expects, e.g. "true"'
            )
        environment[key] = value if isinstance(value, str) else str(value)
    if len(environment) > ENVIRONMENT_MAX_ENTRIES:
        raise ValueError(f"the container environment has {len(environment)} entries; SageMaker allows "
                         f"{ENVIRONMENT_MAX_ENTRIES}")
    for key, value in environment.items():
        if len(key) > ENVIRONMENT_MAX_LENGTH or len(value) > ENVIRONMENT_MAX_LENGTH:
            raise ValueError(f"environment entry {key} is longer than SageMaker's {ENVIRONMENT_MAX_LENGTH} characters")
    return environment


@dataclass
class _Policy:
    """The execution role's statements, each wildcard resource with the reason it is as narrow as it can be."""

    statements: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def allow(
        self, actions: list[str], resource: Any, *, condition: Mapping[str, Any] | None = None, why: str = ""
    ) -> None:
        statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resource}
        if condition:
            statement["Condition"] = dict(condition)
        self.statements.append(statement)
        self.reasons.append(why)

    def allow_serving_runtime(self, log_groups: str, *, partition: str, region: str,
                              placement: NetworkPlacement | VpcPlacement | None, logs_why: str) -> None:
        """What every SageMaker serving role needs besides its model and keys: the image registry's login and
        SageMaker's metrics (no resource narrower than ``*``), its logs in the log groups ``log_groups`` (a name
        pattern: SageMaker names them after resources CloudFormation names later, ``logs_why`` says which), and
        the network interfaces it creates in the placement's subnets."""
        self.allow(
            ["ecr:GetAuthorizationToken"], "*",
            why="ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource narrower than *; "
                "the metrics are limited to SageMaker's namespaces by condition",
        )
        self.allow(
            ["cloudwatch:PutMetricData"], "*",
            condition={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", SAGEMAKER_NAMESPACE]}},
        )
        self.allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                   {"Fn::Sub": f"arn:{partition}:logs:{region}:${{AWS::AccountId}}:log-group:{log_groups}"},
                   why=logs_why)
        if placement is not None:
            for grant in network_interface_grants(placement.subnet_ids, placement.security_group_ids,
                                                  partition=partition, region=region):
                self.allow(list(grant.actions), list(grant.resources), condition=grant.condition, why=grant.why)

    def allow_image_pull(self, repository_arns: Any, *, why: str = "") -> None:
        """Pulling the serving image from its repositories (the registry's login is ``allow_serving_runtime``'s)."""
        self.allow(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                   repository_arns, why=why)

    def allow_key_use(self, key_arn: str) -> None:
        """Decrypt: model data the key encrypted (a fine-tuning job's output); the rest: the volume and captures."""
        self.allow(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"], key_arn)
        self.allow(["kms:CreateGrant"], key_arn, condition={"Bool": {"kms:GrantIsForAWSResource": "true"}})

    def resources_with_reasons(self) -> list[tuple[Any, str]]:
        """Each resource of each statement with its statement's reason, for cdk-nag's IAM5 acknowledgements."""
        return [
            (resource, why)
            for statement, why in zip(self.statements, self.reasons, strict=True)
            for resource in (statement["Resource"] if isinstance(statement["Resource"], list)
                             else [statement["Resource"]])
        ]


def _s3_path(uri: str) -> Any:
    """``bucket/key`` of an S3 URI: literal when known, else CloudFormation intrinsics over the token."""
    if is_token(uri):
        return {"Fn::Select": [1, {"Fn::Split": ["s3://", uri]}]}
    bucket, key = split_s3_uri(uri)
    return f"{bucket}/{key}"


def _s3_arn(partition: str, path: Any, suffix: str = "") -> Any:
    if isinstance(path, str):
        return f"arn:{partition}:s3:::{path}{suffix}"
    return {"Fn::Join": ["", [f"arn:{partition}:s3:::", path, *([suffix] if suffix else [])]]}


def _add_s3_read(policy: _Policy, partition: str, uri: str, *, prefix: bool) -> None:
    """Read of one object, or of every object under a prefix (with a prefix-conditioned ListBucket)."""
    path = _s3_path(uri)
    if not prefix:
        policy.allow(["s3:GetObject"], _s3_arn(partition, path))
        return
    policy.allow(
        ["s3:GetObject"], _s3_arn(partition, path, "*"),
        why="SageMaker downloads every object under the model's artifact prefix, and only those",
    )
    if isinstance(path, str):
        bucket, key = path.split("/", 1)
        policy.allow(
            ["s3:ListBucket"], _s3_arn(partition, bucket),
            condition={"StringLike": {"s3:prefix": f"{key}*"}},
        )
    else:
        # CloudFormation cannot strip the bucket from a deploy-time URI, so the listing has no prefix condition.
        deploy_time_bucket = {"Fn::Select": [0, {"Fn::Split": ["/", path]}]}
        policy.allow(["s3:ListBucket"], _s3_arn(partition, deploy_time_bucket))


def ecr_repository_arn(region: str, image_uri: str, *, deploy_time_account: str | None = None) -> str:
    """The ECR repository an image is pulled from. A deploy-time image (a job's output) has no repository known
    before it exists: its pulls are scoped to ``deploy_time_account``'s repositories in the region."""
    if is_token(image_uri):
        if deploy_time_account is None or not ACCOUNT_PATTERN.match(deploy_time_account):
            raise ValueError(
                f"image_uri is a deploy-time value, so its repository is unknown: pass image_account= (the 12-digit "
                f"account of its repository), got {deploy_time_account!r}"
            )
        return f"arn:{partition_of(region)}:ecr:{region}:{deploy_time_account}:repository/*"
    image = parse_ecr_image(image_uri)
    if image is None:
        raise ValueError(
            f"image {image_uri!r} is not an ECR image URI "
            "(<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@sha256:digest])"
        )
    if image.region != region:
        raise ValueError(
            f"image {image_uri!r} is in region {image.region!r} but the stack deploys to {region!r}; "
            "SageMaker pulls images from the endpoint's own region"
        )
    return image.repository_arn()


@dataclass(frozen=True)
class ServedModel:
    """What ``_serve`` declares an endpoint for: the container and where its image and data come from."""

    container: sagemaker.CfnModel.ContainerDefinitionProperty
    region: str
    # None for a model package, which brings its own image and data: the role then grants neither.
    image_repository_arn: str | None
    model_data: str | None
    model_data_is_prefix: bool
    model_spec: ModelSpec
    description: str


class ServingEndpoint(EndpointAccess):
    """Base of the endpoint constructs: a model, served by an endpoint config and an endpoint (real-time on
    instances, asynchronous or serverless), with ``grant_invoke``, ``metric_*`` and ``from_endpoint_*``.

    Subclasses validate their own props, build the model container and call ``_serve``.
    """

    cfn_model: sagemaker.CfnModel
    cfn_endpoint_config: sagemaker.CfnEndpointConfig
    cfn_endpoint: sagemaker.CfnEndpoint
    cfn_role: iam.CfnRole | None
    """The execution role this construct created, or None when a role was passed in."""
    endpoint_name: str
    """The endpoint's name (``Fn::GetAtt`` of the endpoint)."""
    scalable_target: autoscaling.CfnScalableTarget | None = None

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._role: iam.IRole | None = None

    @property
    def role(self) -> iam.IRole:
        """The execution role: the one passed in, or the least-privilege role this construct created."""
        if self._role is None:
            assert self.cfn_role is not None  # set by _serve whenever no role was passed in
            self._role = iam.Role.from_role_arn(self, "ExecutionRoleRef", self.cfn_role.attr_arn)
        return self._role

    def _serve(self, options: ServingOptions, model: ServedModel) -> None:
        """Declare the role, model, endpoint config, endpoint, autoscaling and output, tagged with the JumpStart
        model (the base model, for fine-tuned weights) as the SageMaker SDK tags them."""
        tags = [cdk.CfnTag(key=JUMPSTART_MODEL_ID_TAG, value=model.model_spec.model_id),
                cdk.CfnTag(key=JUMPSTART_MODEL_VERSION_TAG, value=model.model_spec.version)]
        placement = options.network_placement()
        encryption = options.encryption()
        if encryption.volume_key_arn is None and not encryption.hardware_encrypted_volume \
                and options.serverless is None:  # a serverless endpoint has no volume
            # secure by default: the storage volume is encrypted with the stack's own key
            encryption = dataclasses.replace(encryption, volume_key_arn=stack_key(self).key_arn)
        role_arn = self._execution_role(options, model, placement, encryption)
        self.cfn_model = sagemaker.CfnModel(
            self, "Model",
            execution_role_arn=role_arn,
            primary_container=model.container,
            enable_network_isolation=options.network_isolation,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=placement.subnet_ids, security_group_ids=placement.security_group_ids,
            ) if placement is not None else None,
            tags=tags,
        )
        self.cfn_endpoint_config = self._endpoint_config(options, encryption, tags)
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint",
            endpoint_config_name=self.cfn_endpoint_config.attr_endpoint_config_name,
            endpoint_name=options.endpoint_name,
            tags=tags,
        )
        self.endpoint_name = self.cfn_endpoint.attr_endpoint_name
        self.endpoint_arn = self.cfn_endpoint.ref
        scaling = options.autoscaling
        if scaling is not None:
            self._autoscale(scaling)
        backlog = options.async_inference.scaling if options.async_inference is not None else None
        if backlog is not None:
            self._scale_on_backlog(backlog)
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint_name, description=f"Endpoint of {model.description}")

    def _execution_role(
        self, options: ServingOptions, model: ServedModel, placement: NetworkPlacement | None, encryption: Encryption
    ) -> str:
        """The ARN of the role passed in, or of a least-privilege role this construct creates."""
        role = options.role
        if role is not None:
            self.cfn_role = None
            self._role = role
            return role.role_arn
        policy = _execution_policy(model, options.data_capture, placement, encryption)
        if options.async_inference is not None:
            _add_async_writes(policy, partition_of(model.region), options.async_inference)
        self.cfn_role = iam.CfnRole(
            self, "ExecutionRole",
            assume_role_policy_document={
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }],
            },
            description=f"SageMaker execution role of {model.description}"[:1000],
            policies=[iam.CfnRole.PolicyProperty(
                policy_name="Serving",
                policy_document={"Version": "2012-10-17", "Statement": policy.statements},
            )],
        )
        acknowledge_wildcards(self.cfn_role, policy.resources_with_reasons())
        acknowledge_in_compliance_packs(self.cfn_role, "IAMNoInlinePolicy", INLINE_ROLE_POLICY_REASON)
        return str(self.cfn_role.attr_arn)

    def _endpoint_config(
        self, options: ServingOptions, encryption: Encryption, tags: list[cdk.CfnTag]
    ) -> sagemaker.CfnEndpointConfig:
        serverless = options.serverless
        if serverless is not None:
            variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                model_name=self.cfn_model.attr_model_name,
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    memory_size_in_mb=serverless.memory_mb, max_concurrency=serverless.max_concurrency,
                    provisioned_concurrency=serverless.provisioned_concurrency,
                ),
            )
        else:
            variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                model_name=self.cfn_model.attr_model_name,
                instance_type=options.instance_type,
                initial_instance_count=options.instance_count,
                initial_variant_weight=1.0,
                container_startup_health_check_timeout_in_seconds=options.startup_health_check_timeout,
                model_data_download_timeout_in_seconds=options.model_data_download_timeout,
            )
        capture = options.data_capture
        config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig",
            production_variants=[variant],
            kms_key_id=encryption.volume_key_arn,
            data_capture_config=_data_capture_config(capture, encryption.capture_key_arn) if capture else None,
            async_inference_config=_async_inference_config(options.async_inference, encryption.endpoint_key_arn)
            if options.async_inference is not None else None,
            tags=tags,
        )
        if serverless is not None:
            acknowledge_in_compliance_packs(config, "SageMakerEndpointConfigurationKMSKeyConfigured", (
                "A serverless endpoint has no storage volume for a KmsKeyId to encrypt: SageMaker runs the model on "
                "its own serverless compute, and serverless endpoints take no data capture, so no key has data to "
                "encrypt here."
            ))
        if encryption.hardware_encrypted_volume:
            key_use = (
                f"The endpoint's customer managed key ({encryption.endpoint_key_arn}) still encrypts the captured "
                "data and decrypts the model data." if encryption.endpoint_key_arn else
                "Nothing else of the endpoint is stored on the instance: the model data stays in S3."
            )
            acknowledge_in_compliance_packs(config, "SageMakerEndpointConfigurationKMSKeyConfigured", (
                f"Instance type {options.instance_type} has local NVMe instance storage and no EBS storage volume: "
                "the instance encrypts that storage itself with a hardware module (AES-256), and CreateEndpointConfig "
                "refuses a KmsKeyId for such instance types (SageMaker API reference, CreateEndpointConfig). "
                + key_use
            ))
        return config

    def _variant_instance_count(self, min_capacity: int, max_capacity: int) -> autoscaling.CfnScalableTarget:
        """The scalable target of the endpoint's one variant's instance count."""
        return scalable_target(
            self, dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT_NAME}",
            min_capacity=min_capacity, max_capacity=max_capacity,
        )

    def _scale_on_backlog(self, scaling: BacklogScaling) -> None:
        """Target tracking on ``ApproximateBacklogSizePerInstance``, and, down to zero instances, the SageMaker
        guide's scale-out-from-zero policy on ``HasBacklogWithoutCapacity`` (without it a queue waits until its
        backlog exceeds the target)."""
        dimension = ("EndpointName", self.endpoint_name)
        self.scalable_target = self._variant_instance_count(scaling.min_instances, scaling.max_instances)
        target_tracking(
            self, self.scalable_target, policy_name="BacklogPerInstance",
            target_value=scaling.target_backlog_per_instance,
            customized_metric=("ApproximateBacklogSizePerInstance", dimension, "Average"),
            scale_in_cooldown=scaling.scale_in_cooldown_seconds, scale_out_cooldown=scaling.scale_out_cooldown_seconds,
        )
        if scaling.min_instances == 0:
            scale_out_from_zero(self, self.scalable_target, ZeroCapacityAlarm(
                metric_name="HasBacklogWithoutCapacity", dimension=dimension, statistic="Average",
                period_seconds=60, evaluation_periods=2,
                description="Requests wait with no instance to serve them: add one (scale out from zero)",
            ), cooldown=scaling.scale_out_cooldown_seconds)

    def metric_backlog(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """Requests an asynchronous endpoint has queued (``ApproximateBacklogSize``, average)."""
        return self.metric("ApproximateBacklogSize", statistic="Average", period=period,
                           dimensions={"EndpointName": self.endpoint_name})

    def _autoscale(self, scaling: EndpointAutoScaling) -> None:
        self.scalable_target = self._variant_instance_count(scaling.min_capacity, scaling.max_capacity)
        target_tracking(
            self, self.scalable_target, policy_name="InvocationsPerInstance",
            target_value=scaling.target_invocations_per_instance,
            predefined_metric="SageMakerVariantInvocationsPerInstance",
            scale_in_cooldown=scaling.scale_in_cooldown_seconds, scale_out_cooldown=scaling.scale_out_cooldown_seconds,
        )

def _data_capture_config(
    capture: DataCapture, key_arn: str | None
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    modes = [mode for mode, wanted in (("Input", capture.capture_input), ("Output", capture.capture_output)) if wanted]
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True,
        destination_s3_uri=capture.destination,
        initial_sampling_percentage=capture.sampling_percentage,
        capture_options=[sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=mode) for mode in modes],
        kms_key_id=key_arn,
    )


def _async_inference_config(
    settings: AsyncInference, key_arn: str | None
) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty:
    topics = settings.success_topic_arn or settings.error_topic_arn
    return sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
        output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
            s3_output_path=settings.output_path,
            s3_failure_path=settings.failure_path,
            kms_key_id=key_arn,
            notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                success_topic=settings.success_topic_arn, error_topic=settings.error_topic_arn,
            ) if topics else None,
        ),
        client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
            max_concurrent_invocations_per_instance=settings.max_concurrent_invocations_per_instance,
        ) if settings.max_concurrent_invocations_per_instance is not None else None,
    )


def _add_async_writes(policy: _Policy, partition: str, settings: AsyncInference) -> None:
    """An asynchronous endpoint writes its responses and errors under their paths, and tells its topics."""
    for path in dict.fromkeys(p for p in (settings.output_path, settings.failure_path) if p):
        destination = _s3_path(path)
        objects = _s3_arn(partition, destination.rstrip("/"), "/*") if isinstance(destination, str) \
            else _s3_arn(partition, destination, "*")
        policy.allow(["s3:PutObject"], objects,
                     why="SageMaker writes one object per asynchronous response under the output (or failure) path")
    topics = [topic for topic in (settings.success_topic_arn, settings.error_topic_arn) if topic]
    if topics:
        policy.allow(["sns:Publish"], sorted(set(topics)))


def _execution_policy(
    model: ServedModel, capture: DataCapture | None, placement: NetworkPlacement | None, encryption: Encryption,
) -> _Policy:
    """Least privilege for serving: the model data, the image, the endpoint's logs and metrics, its keys."""
    partition, region = partition_of(model.region), model.region
    policy = _Policy()
    if model.model_data is not None:
        _add_s3_read(policy, partition, model.model_data, prefix=model.model_data_is_prefix)
    if model.image_repository_arn is not None:
        policy.allow_image_pull(
            model.image_repository_arn,
            why="the fine-tuning job chooses the inference image when it finishes, so only the account of its "
                "repositories is known at synth time",
        )
    policy.allow_serving_runtime(
        "/aws/sagemaker/Endpoints/*", partition=partition, region=region, placement=placement,
        logs_why="SageMaker logs to /aws/sagemaker/Endpoints/<endpoint name>, and CloudFormation generates the "
                 "name after this role exists",
    )
    if capture is not None:
        _add_capture_write(policy, partition, capture, encryption)
    for key_arn in sorted(key for key in {encryption.endpoint_key_arn, encryption.volume_key_arn} if key):
        policy.allow_key_use(key_arn)
    return policy


def _add_capture_write(policy: _Policy, partition: str, capture: DataCapture, encryption: Encryption) -> None:
    destination = _s3_path(capture.destination)
    # SageMaker writes <destination>/<endpoint>/<variant>/...; a deploy-time destination may end in "/".
    if isinstance(destination, str):
        objects = _s3_arn(partition, destination.rstrip("/"), "/*")
    else:
        objects = _s3_arn(partition, destination, "*")
    policy.allow(
        ["s3:PutObject"], objects,
        why="SageMaker writes captured data under the destination prefix, one object per capture",
    )
    capture_key = encryption.capture_key_arn
    if capture_key is not None and capture_key not in (encryption.endpoint_key_arn, encryption.volume_key_arn):
        policy.allow(["kms:Encrypt", "kms:GenerateDataKey"], capture_key)

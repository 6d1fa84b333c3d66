"""`FineTunedEndpoint`: a SageMaker real-time endpoint serving the weights of a fine-tuning job.

After fine-tuning, the weights are the user's own: the endpoint declares no EULA acceptance (it has none to
give, and the EULA gate requires none), while its tags still name the JumpStart base model it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.aws_names import is_token, parse_ecr_image, split_s3_uri
from constructs_lib.catalog import GATED_BUCKET_PREFIX, PUBLIC_BUCKET_PREFIX, Catalog, CatalogError, ModelSpec
from constructs_lib.constructs.checks import concrete_region, props_checked_by
from constructs_lib.constructs.serving.base import (
    INSTANCE_TYPE_PATTERN,
    DataCapture,
    EndpointAutoScaling,
    ServedModel,
    ServingEndpoint,
    ServingOptions,
    container_environment,
    ecr_repository_arn,
)
from constructs_lib.props.placement import VpcPlacement

__all__ = ["FineTunedEndpoint"]


class FineTunedEndpoint(ServingEndpoint):
    """The result of a fine-tuning job served by a SageMaker endpoint, without any EULA acceptance.

    :param model_data: the fine-tuned weights: an ``s3://.../model.tar.gz`` object when ``compressed``, else an
        ``s3://.../`` prefix of uncompressed files. May be a deploy-time token (a job's ``Fn::GetAtt``); the role
        then reads exactly that object (or, for a prefix, its objects and an unconditioned listing of its bucket).
    :param image_uri: the inference image (ECR, in the stack's region), e.g. a job's ``best_candidate_image``.
    :param image_account: for a deploy-time ``image_uri``, the account whose repositories the role may pull
        from. Default: the account of the base model's JumpStart image in the region (AWS's Deep Learning
        Containers account, where Autopilot and JumpStart training take inference images from).
    :param base_model: the JumpStart model that was fine-tuned (a ``ModelSpec``, model id or BaseModelName);
        it only names the model in tags.
    :param instance_type: the instance type (``ml.<family>.<size>``).
    :param instance_count: initial number of instances. Default: 1.
    :param compressed: whether ``model_data`` is a ``model.tar.gz`` (served as ``ModelDataUrl``) rather than an
        uncompressed prefix (``ModelDataSource`` with ``S3Prefix``). Default: True.
    :param environment: the container environment (numbers become strings). Default: none.
    :param network_isolation: run the container without network access. Default: True.
    :param catalog: the catalog to resolve ``base_model`` in. Default: ``Catalog.default()``.
    :param role: the execution role, used as is. Default: a least-privilege role of the endpoint's own:
        read of exactly ``model_data`` (the object or the prefix's objects), pull of its image, its logs and
        metrics, use of its key.
    :param vpc: subnet and security group ids for the model's network interfaces (``VpcPlacement``). Default: no
        VPC.
    :param vpc_subnets: subnets for the model's network interfaces, with ``security_groups`` (instead of ``vpc``).
        Default: no VPC.
    :param security_groups: security groups of those interfaces, with ``vpc_subnets``. Default: no VPC.
    :param kms_key_arn: ARN of the endpoint's key (instead of ``kms_key``). It encrypts the storage volume where
        the instance type has one (types with local NVMe storage, such as g5, g6, p4d and p5, encrypt theirs by
        hardware, and SageMaker refuses a key for them), and captured data unless ``data_capture.kms_key`` names
        another; the role may use it to decrypt the model data. Default: none.
    :param kms_key: key for the instances' storage volume; instance types with local NVMe storage cannot take one.
        Default: SageMaker's own encryption.
    :param autoscaling: target-tracking autoscaling of the variant (``EndpointAutoScaling``). Default: a fixed
        instance count.
    :param data_capture: capture of requests and responses to S3 (``DataCapture``). Default: no capture.
    :param endpoint_name: the endpoint's name. Default: CloudFormation generates one.
    :param startup_health_check_timeout: seconds (60-3600) SageMaker waits for the container's health check.
        Default: SageMaker's.
    :param model_data_download_timeout: seconds (60-3600) SageMaker allows for downloading the model. Default:
        SageMaker's.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_data: str,
        image_uri: str,
        base_model: str | ModelSpec,
        image_account: str | None = None,
        instance_type: str,
        instance_count: int = 1,
        compressed: bool = True,
        environment: Mapping[str, str | int | float] | None = None,
        network_isolation: bool = True,
        catalog: Catalog | None = None,
        role: iam.IRole | None = None,
        vpc: VpcPlacement | None = None,
        vpc_subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        kms_key_arn: str | None = None,
        kms_key: kms.IKey | None = None,
        autoscaling: EndpointAutoScaling | None = None,
        data_capture: DataCapture | None = None,
        endpoint_name: str | None = None,
        startup_health_check_timeout: int | None = None,
        model_data_download_timeout: int | None = None,
    ) -> None:
        super().__init__(scope, id)
        with props_checked_by(self):
            spec = base_model if isinstance(base_model, ModelSpec) else (catalog or Catalog.default()).get(base_model)
            if not is_token(model_data):
                _check_own_weights(model_data, compressed=compressed)
            if not is_token(instance_type) and not (
                isinstance(instance_type, str) and INSTANCE_TYPE_PATTERN.fullmatch(instance_type)
            ):
                raise ValueError(
                    f"instance_type {instance_type!r} is not a SageMaker instance type (ml.<family>.<size>)"
                )
            region = concrete_region(self)
            # checks the image's form and region, whatever the role
            repository_arn = ecr_repository_arn(
                region, image_uri, deploy_time_account=image_account or _jumpstart_image_account(spec, region),
            )
            options = ServingOptions(
                instance_type=instance_type, instance_count=instance_count, network_isolation=network_isolation,
                role=role, vpc=vpc, vpc_subnets=vpc_subnets, security_groups=security_groups, kms_key_arn=kms_key_arn,
                kms_key=kms_key, autoscaling=autoscaling, data_capture=data_capture, endpoint_name=endpoint_name,
                startup_health_check_timeout=startup_health_check_timeout,
                model_data_download_timeout=model_data_download_timeout,
            )
            options.validate()
            container_env = container_environment({}, environment)

        self.model_spec = spec
        """The base model's catalog entry."""
        if compressed:
            container = sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image_uri, environment=container_env or None, model_data_url=model_data,
            )
        else:
            container = sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image_uri,
                environment=container_env or None,
                model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
                    s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                        s3_uri=model_data, s3_data_type="S3Prefix", compression_type="None",
                    ),
                ),
            )
        self._serve(options, ServedModel(
            container=container,
            region=region,
            image_repository_arn=repository_arn,
            model_data=model_data,
            model_data_is_prefix=not compressed,
            model_spec=spec,
            description=f"a model fine-tuned from {spec.display_name}",
        ))


def _jumpstart_image_account(spec: ModelSpec, region: str) -> str | None:
    """The account of the base model's JumpStart inference image in ``region`` (None when the catalog has none)."""
    try:
        image = parse_ecr_image(spec.image_uri(region))
    except CatalogError:
        return None
    return image.account if image is not None else None


def _check_own_weights(model_data: str, *, compressed: bool) -> None:
    """A literal ``model_data`` must be the user's own artifact in the shape ``compressed`` says."""
    bucket, key = split_s3_uri(model_data, what="model_data")
    if bucket.startswith((GATED_BUCKET_PREFIX, PUBLIC_BUCKET_PREFIX)):
        raise ValueError(
            f"model_data {model_data!r} is a JumpStart artifact, not fine-tuned weights: serve JumpStart models "
            "with JumpStartEndpoint, which declares their EULA acceptance"
        )
    if compressed and not key.endswith(".tar.gz"):
        raise ValueError(
            f"model_data {model_data!r} must name a .tar.gz object when compressed=True; for a prefix of "
            "uncompressed files, pass compressed=False and end it with '/'"
        )
    if not compressed and not key.endswith("/"):
        raise ValueError(f"model_data {model_data!r} must be a prefix ending with '/' when compressed=False")

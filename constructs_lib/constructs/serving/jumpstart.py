"""`JumpStartEndpoint`: a SageMaker real-time endpoint serving a JumpStart model from the catalog.

It never throws for a missing EULA acceptance: the EULA gate reports every unaccepted gated model at once, with
its construct path. It does throw early (``ConstructValidationError`` naming the construct, supported values
listed) for props it can check itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.aws_names import is_token
from constructs_lib.catalog import Catalog, ModelSpec
from constructs_lib.catalog.errors import supported_list
from constructs_lib.catalog.instances import accelerator_count
from constructs_lib.constructs.checks import check_accept_eula, concrete_region, props_checked_by
from constructs_lib.constructs.serving.base import (
    DataCapture,
    EndpointAutoScaling,
    ServedModel,
    ServingEndpoint,
    ServingOptions,
    ServingProps,
    container_environment,
    ecr_repository_arn,
)
from constructs_lib.props import AsyncInference, ServerlessInference
from constructs_lib.props.placement import VpcPlacement

__all__ = ["DataCapture", "EndpointAutoScaling", "JumpStartEndpoint", "ServingProps"]


class JumpStartEndpoint(ServingEndpoint):
    """A JumpStart model served by a SageMaker endpoint: ``CfnModel``, ``CfnEndpointConfig``, ``CfnEndpoint``.

    The model loads JumpStart's uncompressed artifact prefix for the stack's region (``ModelDataSource`` with
    ``S3Prefix`` and ``CompressionType: None``, the only form that can carry ``ModelAccessConfig.AcceptEula``),
    runs the regional image for the instance type with network isolation on, and is tagged with the JumpStart
    model id and version. The stack must have a concrete region.

    A model version that ships no uncompressed artifact but JumpStart model packages (a refreshed catalog can hold
    one) is served through the package of the stack's region (``ModelPackageName``); the package brings its
    image and weights, and its EULA is accepted per request (``CustomAttributes: accept_eula=true``), which no
    template can show: the EULA gate warns (EULA005) whatever ``accept_eula`` says.

    :param model: a catalog ``ModelSpec``, or a JumpStart model id / Autopilot BaseModelName.
    :param instance_type: the instance type. Default: the model's default instance type.
    :param instance_count: initial number of instances. Default: 1.
    :param accept_eula: declares (True) or declines (False) the model's EULA in
        ``ModelAccessConfig.AcceptEula``. Default: None, which declares nothing (a gated model then fails the
        EULA gate at synth time; SageMaker would refuse it at deploy time).
    :param environment: container environment overrides (numbers become strings); they win over the catalog's
        values for the instance type. Default: none.
    :param network_isolation: run the container without network access (the model loads from its artifact
        prefix, so it needs none). Default: True.
    :param catalog: the catalog to resolve ``model`` in. Default: ``Catalog.default()``.
    :param role: the execution role, used as is. Default: a least-privilege role of the endpoint's own:
        read of the model's artifact prefix, pull of its image, its logs and metrics, use of its key.
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
    :param async_inference: serve asynchronously (``AsyncInference``: S3 output and failure paths, SNS topics,
        backlog scaling down to zero instances). Default: real-time.
    :param serverless: serve serverless (``ServerlessInference``: memory, concurrency), on CPU, never a gated
        model; takes no ``instance_type``, VPC, key or data capture, and needs ``network_isolation=False`` and
        ``model_data_url``. Default: on instances.
    :param model_data_url: serverless only: the S3 URI of the model's ``model.tar.gz`` (serverless endpoints
        cannot load JumpStart's uncompressed prefix). Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: str | ModelSpec,
        instance_type: str | None = None,
        instance_count: int = 1,
        accept_eula: bool | None = None,
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
        async_inference: AsyncInference | None = None,
        serverless: ServerlessInference | None = None,
        model_data_url: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        with props_checked_by(self):
            spec = model if isinstance(model, ModelSpec) else (catalog or Catalog.default()).get(model)
            check_accept_eula(self, accept_eula, spec)
            region = concrete_region(self)
            if serverless is not None:
                instance_type = _serverless_image_instance_type(spec, instance_type, model_data_url)
            elif model_data_url is not None:
                raise ValueError("model_data_url is for serverless endpoints (which cannot load JumpStart's "
                                 "uncompressed artifact); other modes load the catalog's artifact prefix")
            instance_type = instance_type or spec.default_instance_type or ""
            options = ServingOptions(
                async_inference=async_inference, serverless=serverless,
                instance_type=instance_type, instance_count=instance_count, network_isolation=network_isolation,
                role=role, vpc=vpc, vpc_subnets=vpc_subnets, security_groups=security_groups, kms_key_arn=kms_key_arn,
                kms_key=kms_key, autoscaling=autoscaling, data_capture=data_capture, endpoint_name=endpoint_name,
                startup_health_check_timeout=startup_health_check_timeout,
                model_data_download_timeout=model_data_download_timeout,
            )
            if spec.deploys_through_package:
                spec.check_instance_type(instance_type)
                package_arn = spec.model_package_arn(region)  # checks the region: one package per region
                # The package's own container environment applies; only the user's overrides are added.
                overrides = container_environment({}, environment) or None
            else:
                image_uri = spec.image_uri(region, instance_type)  # checks the region and the instance type
                artifact_uri = spec.artifact_uri(region)
                container_env = container_environment(spec.environment(instance_type), environment)
            options.validate(spec.supported_instance_types)

        self.model_spec = spec
        self.accept_eula = accept_eula
        if accept_eula and not spec.gated:
            cdk.Annotations.of(self).add_warning_v2(
                "eulagate:eula-not-required",
                f"{spec.model_id} has no EULA to accept; accept_eula=True is declared but not needed",
            )
        description = f"JumpStart model {spec.display_name}"
        if spec.deploys_through_package:
            if spec.gated:
                cdk.Annotations.of(self).add_warning_v2(
                    "eulagate:eula-per-request",
                    f"{spec.model_id} {spec.version} is served through the JumpStart model package {package_arn}, "
                    "whose EULA is accepted per request: send CustomAttributes accept_eula=true with every "
                    "invocation (`eulagate invoke --accept-eula`)",
                )
            self._serve(options, ServedModel(
                container=sagemaker.CfnModel.ContainerDefinitionProperty(
                    model_package_name=package_arn, environment=overrides,
                ),
                region=region, image_repository_arn=None, model_data=None, model_data_is_prefix=False,
                model_spec=spec, description=description,
            ))
            return
        if serverless is not None:
            self._serve(options, ServedModel(
                container=sagemaker.CfnModel.ContainerDefinitionProperty(
                    image=image_uri, environment=container_env, model_data_url=model_data_url),
                region=region, image_repository_arn=ecr_repository_arn(region, image_uri), model_data=model_data_url,
                model_data_is_prefix=False, model_spec=spec, description=description,
            ))
            return
        model_access = (
            sagemaker.CfnModel.ModelAccessConfigProperty(accept_eula=accept_eula) if accept_eula is not None else None
        )
        container = sagemaker.CfnModel.ContainerDefinitionProperty(
            image=image_uri,
            environment=container_env,
            model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
                s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                    s3_uri=artifact_uri,
                    s3_data_type="S3Prefix",
                    compression_type="None",
                    model_access_config=model_access,
                ),
            ),
        )
        self._serve(options, ServedModel(
            container=container,
            region=region,
            image_repository_arn=ecr_repository_arn(region, image_uri),
            model_data=artifact_uri,
            model_data_is_prefix=True,
            model_spec=spec,
            description=description,
        ))


def _serverless_image_instance_type(spec: ModelSpec, instance_type: str | None, model_data_url: str | None) -> str:
    """The CPU instance type whose image a serverless endpoint runs. Serverless endpoints have no GPU, load only
    ``ModelDataUrl`` (so they cannot accept an EULA), and take no model package."""
    if spec.gated:
        raise ValueError(f"{spec.display_name} is EULA-gated, and serverless endpoints cannot load ModelDataSource, "
                         "the only place acceptance can be given: serve it on instances (drop serverless)")
    if spec.deploys_through_package:
        raise ValueError(f"{spec.model_id} {spec.version} deploys only through a model package, which serverless "
                         "endpoints cannot serve")
    if model_data_url is None:
        raise ValueError("serverless endpoints load only ModelDataUrl: pass model_data_url (the S3 URI of the "
                         "model's model.tar.gz)")
    if not is_token(model_data_url) and not model_data_url.startswith("s3://"):
        raise ValueError(f"model_data_url must be an S3 URI of a model.tar.gz, got {model_data_url!r}")
    cpu_types = [t for t in spec.supported_instance_types if accelerator_count(t) == 0]
    if instance_type is not None:
        raise ValueError("instance_type is not for serverless endpoints, which have no instances")
    if not cpu_types:
        raise ValueError(f"model {spec.model_id!r} serves only on accelerator instances "
                         f"({supported_list(spec.supported_instance_types)}); serverless endpoints run on CPU only")
    return cpu_types[0]

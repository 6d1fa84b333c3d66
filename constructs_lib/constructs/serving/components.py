"""`InferenceComponentEndpoint`: one SageMaker endpoint whose instances several JumpStart models share, each an
inference component with its own copy count, scaled down to zero copies if asked.

Per component: an ``AWS::SageMaker::Model`` (JumpStart's uncompressed artifact through ``ModelDataSource``, whose
``ModelAccessConfig.AcceptEula`` is where a gated model's EULA is accepted: a component has no acceptance of its
own) and an ``AWS::SageMaker::InferenceComponent`` naming it. The endpoint config's variant has managed instance
scaling (``MinInstanceCount`` 0 lets the endpoint release every instance) and routes to the least busy copy.
Copy counts scale by target tracking on ``SageMakerInferenceComponentInvocationsPerCopy``; a component with
``min_copies`` 0 also gets the scale-out-from-zero policy the SageMaker guide documents (a step scaling policy
that adds a copy, triggered by an alarm on ``NoCapacityInvocationFailures``).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.aws_names import JUMPSTART_MODEL_ID_TAG, JUMPSTART_MODEL_VERSION_TAG, partition_of, split_s3_uri
from constructs_lib.catalog import Catalog, ModelSpec
from constructs_lib.catalog.instances import accelerators_per_copy
from constructs_lib.constructs.acknowledgments import acknowledge_in_compliance_packs, acknowledge_wildcards
from constructs_lib.constructs.checks import check_accept_eula, concrete_region, props_checked_by
from constructs_lib.constructs.encryption import stack_key
from constructs_lib.constructs.serving.access import (
    SAGEMAKER_NAMESPACE,
    VARIANT_NAME,
    EndpointAccess,
    grant_component_invoke,
)
from constructs_lib.constructs.serving.base import (
    INLINE_ROLE_POLICY_REASON,
    _Policy,
    container_environment,
    ecr_repository_arn,
    has_local_storage,
)
from constructs_lib.constructs.serving.scaling import (
    ZeroCapacityAlarm,
    scalable_target,
    scale_out_from_zero,
    target_tracking,
)
from constructs_lib.errors import ConstructValidationError
from constructs_lib.props import ComponentCompute, CopyScaling, InferenceComponent, InstanceScaling
from constructs_lib.props.placement import VpcPlacement

MAX_COMPONENTS = 100


class InferenceComponentEndpoint(EndpointAccess):
    """A SageMaker endpoint hosting several models as inference components on shared instances.

    :param components: the models, as ``InferenceComponent`` props (name, model, ``accept_eula``, copies,
        compute per copy, copy scaling, environment). At least one, at most 100.
    :param instance_type: the instance type. Default: the first component's model's default instance type; every
        component's model must serve on it.
    :param instance_count: instances at creation. Default: 1.
    :param instance_scaling: managed instance scaling. Default: between 1 and ``instance_count`` instances.
    :param role: the execution role, used as is. Default: a least-privilege role of the endpoint's own (read of
        each model's artifact prefix, pull of each image, logs, metrics, the key).
    :param vpc: subnet and security group ids for the containers' network interfaces. Default: no VPC.
    :param kms_key_arn: the key for the instances' storage volume (not for types with local NVMe storage, which
        encrypt it by hardware). Default: SageMaker's encryption.
    :param network_isolation: run the containers without network access. Default: True.
    :param endpoint_name: the endpoint's name. Default: CloudFormation generates one.
    :param catalog: the catalog to resolve model ids in. Default: ``Catalog.default()``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        components: Sequence[InferenceComponent],
        instance_type: str | None = None,
        instance_count: int = 1,
        instance_scaling: InstanceScaling | None = None,
        role: iam.IRole | None = None,
        vpc: VpcPlacement | None = None,
        kms_key_arn: str | None = None,
        network_isolation: bool = True,
        endpoint_name: str | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        super().__init__(scope, id)
        with props_checked_by(self):
            region = concrete_region(self)
            specs = self._specs(components, catalog)
            instance_type = instance_type or specs[0].default_instance_type or ""
            for component, spec in zip(components, specs, strict=True):
                check_accept_eula(self, component.accept_eula, spec)
                spec.check_instance_type(instance_type)
            if isinstance(instance_count, bool) or not isinstance(instance_count, int) or instance_count < 1:
                raise ValueError(f"instance_count must be an integer >= 1, got {instance_count!r}")
            scaling = instance_scaling or InstanceScaling(min_instances=1, max_instances=instance_count)
            if vpc is not None and not isinstance(vpc, VpcPlacement):
                raise ValueError(f"vpc must be a VpcPlacement, got {vpc!r}")
            local_storage = has_local_storage(instance_type)

        self.instance_type = instance_type
        # Secure by default, as JumpStartEndpoint: without a key of the user's the stack's own encrypts the volume.
        volume_key = None if local_storage else kms_key_arn or stack_key(self).key_arn
        role_arn, policy = self._role(role)
        tags = [cdk.CfnTag(key=JUMPSTART_MODEL_ID_TAG, value="+".join(sorted({s.model_id for s in specs}))[:256])]
        self.cfn_endpoint_config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig",
            execution_role_arn=role_arn,
            kms_key_id=volume_key,
            # An endpoint of inference components takes its network settings here as well as on each model.
            enable_network_isolation=network_isolation,
            vpc_config=sagemaker.CfnEndpointConfig.VpcConfigProperty(
                subnets=list(vpc.subnet_ids), security_group_ids=list(vpc.security_group_ids),
            ) if vpc is not None else None,
            production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                instance_type=instance_type,
                initial_instance_count=instance_count,
                managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                    status="ENABLED", min_instance_count=scaling.min_instances,
                    max_instance_count=scaling.max_instances,
                ),
                routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                    routing_strategy="LEAST_OUTSTANDING_REQUESTS"),
            )],
            tags=tags,
        )
        if local_storage:
            acknowledge_in_compliance_packs(
                self.cfn_endpoint_config, "SageMakerEndpointConfigurationKMSKeyConfigured", (
                f"Instance type {instance_type} has local NVMe instance storage and no EBS volume: the instance "
                "encrypts it by hardware, and CreateEndpointConfig refuses a KmsKeyId for such types."))
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint", endpoint_config_name=self.cfn_endpoint_config.attr_endpoint_config_name,
            endpoint_name=endpoint_name, tags=tags,
        )
        self.endpoint_name = self.cfn_endpoint.attr_endpoint_name
        self.endpoint_arn = self.cfn_endpoint.ref
        self.components: dict[str, ComponentResources] = {}
        for component, spec in zip(components, specs, strict=True):
            self.components[component.name] = ComponentResources(
                self, component.name, component=component, spec=spec, region=region, instance_type=instance_type,
                role_arn=role_arn, vpc=vpc, network_isolation=network_isolation, endpoint_name=self.endpoint_name,
            )
        if policy is not None:
            self._finish_role(policy, region, vpc, [key for key in dict.fromkeys((kms_key_arn, volume_key)) if key])
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint_name,
                      description=f"Endpoint hosting {', '.join(component.name for component in components)}")

    # -- props --------------------------------------------------------------------------------------------

    @staticmethod
    def _specs(components: Sequence[InferenceComponent], catalog: Catalog | None) -> list[ModelSpec]:
        if not components or len(components) > MAX_COMPONENTS:
            raise ValueError(f"components must hold 1 to {MAX_COMPONENTS} InferenceComponent, got {len(components)}")
        names: set[str] = set()
        specs = []
        for component in components:
            if not isinstance(component, InferenceComponent):
                raise ValueError(f"components must be InferenceComponent props, got {component!r}")
            if component.name.lower() in names:
                raise ValueError(f"component name {component.name!r} is used twice")
            names.add(component.name.lower())
            model = component.model
            spec = model if isinstance(model, ModelSpec) else (catalog or Catalog.default()).get(model)
            if spec.deploys_through_package:
                raise ValueError(f"model {spec.model_id!r} deploys only through a JumpStart model package, which an "
                                 "inference component cannot name; use JumpStartEndpoint")
            specs.append(spec)
        return specs

    # -- the execution role -------------------------------------------------------------------------------

    def _role(self, role: iam.IRole | None) -> tuple[str, _Policy | None]:
        """The role passed in, or one this construct fills once its components are known."""
        self.cfn_role: iam.CfnRole | None = None
        if role is not None:
            self.role = role
            return role.role_arn, None
        self.cfn_role = iam.CfnRole(
            self, "ExecutionRole",
            assume_role_policy_document={"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole",
            }]},
            description=f"SageMaker execution role of the inference components of {self.node.path}"[:1000],
        )
        self.role = iam.Role.from_role_arn(self, "ExecutionRoleRef", self.cfn_role.attr_arn)
        return str(self.cfn_role.attr_arn), _Policy()

    def _finish_role(self, policy: _Policy, region: str, vpc: VpcPlacement | None, key_arns: list[str]) -> None:
        """The role's one policy: a statement per kind of access, each listing every component's resources (a
        statement per component would make the document, and its jsii round trip, grow 40-fold)."""
        assert self.cfn_role is not None
        partition = partition_of(region)
        prefixes_by_bucket: dict[str, list[str]] = {}
        for resources in self.components.values():
            bucket, key = split_s3_uri(resources.artifact_uri)
            prefixes_by_bucket.setdefault(bucket, []).append(key)
        policy.allow(
            ["s3:GetObject"],
            sorted(f"arn:{partition}:s3:::{bucket}/{key}*" for bucket, keys in prefixes_by_bucket.items()
                   for key in keys),
            why="SageMaker downloads every object under each component model's artifact prefix, and only those",
        )
        for bucket, keys in sorted(prefixes_by_bucket.items()):
            policy.allow(["s3:ListBucket"], f"arn:{partition}:s3:::{bucket}",
                         condition={"StringLike": {"s3:prefix": sorted({f"{key}*" for key in keys})}})
        policy.allow_image_pull(sorted({resources.image_repository_arn for resources in self.components.values()}))
        policy.allow_serving_runtime(
            "/aws/sagemaker/*", partition=partition, region=region, placement=vpc,
            logs_why="SageMaker logs to /aws/sagemaker/Endpoints/<endpoint> and /aws/sagemaker/InferenceComponents/"
                     "<component>, names CloudFormation generates after this role exists",
        )
        for key_arn in key_arns:
            policy.allow_key_use(key_arn)
        self.cfn_role.policies = [iam.CfnRole.PolicyProperty(
            policy_name="Serving", policy_document={"Version": "2012-10-17", "Statement": policy.statements})]
        acknowledge_wildcards(self.cfn_role, policy.resources_with_reasons())
        acknowledge_in_compliance_packs(self.cfn_role, "IAMNoInlinePolicy", INLINE_ROLE_POLICY_REASON)

    # -- users ---------------------------------------------------------------------------------------------

    def grant_invoke(self, grantee: iam.IGrantable, *components: str) -> iam.Grant:
        """Let ``grantee`` invoke the named components (default: every component), and no other."""
        names = list(components) or list(self.components)
        unknown = sorted(set(names) - set(self.components))
        if unknown:
            raise ConstructValidationError(self.node.path, f"no component named {', '.join(unknown)}; the "
                                                           f"components are {', '.join(self.components)}")
        return grant_component_invoke(grantee, self.endpoint_arn,
                                      [self.components[name].component_name for name in names])

    def metric_copy_count(self, component: str, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """Copies of a component in service (``CopyCount``, average)."""
        return self.components[component].metric("CopyCount", statistic="Average", period=period)

    def metric_component_invocations(self, component: str, *, period: cdk.Duration | None = None
                                     ) -> cloudwatch.Metric:
        """Requests a component served (sum)."""
        return self.components[component].metric("Invocations", period=period)


class ComponentResources(Construct):
    """One component's resources: its Model, its InferenceComponent, and the scaling of its copies."""

    def __init__(
        self, scope: Construct, id: str, *, component: InferenceComponent, spec: ModelSpec, region: str,
        instance_type: str, role_arn: str, vpc: VpcPlacement | None, network_isolation: bool, endpoint_name: str,
    ) -> None:
        super().__init__(scope, id)
        image_uri = spec.image_uri(region, instance_type)
        self.artifact_uri = artifact_uri = spec.artifact_uri(region)
        self.image_repository_arn = ecr_repository_arn(region, image_uri)
        environment = container_environment(spec.environment(instance_type), dict(component.environment))
        tags = [cdk.CfnTag(key=JUMPSTART_MODEL_ID_TAG, value=spec.model_id),
                cdk.CfnTag(key=JUMPSTART_MODEL_VERSION_TAG, value=spec.version)]
        access = sagemaker.CfnModel.ModelAccessConfigProperty(accept_eula=component.accept_eula) \
            if component.accept_eula is not None else None
        self.cfn_model = sagemaker.CfnModel(
            self, "Model",
            execution_role_arn=role_arn,
            enable_network_isolation=network_isolation,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image_uri, environment=environment,
                model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
                    s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                        s3_uri=artifact_uri, s3_data_type="S3Prefix", compression_type="None",
                        model_access_config=access,
                    )),
            ),
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=list(vpc.subnet_ids), security_group_ids=list(vpc.security_group_ids),
            ) if vpc is not None else None,
            tags=tags,
        )
        # A name known at synth time: scaling, alarms, grants and `eulagate invoke` name the component by it.
        self.component_name = cdk.Names.unique_resource_name(self, max_length=63, separator="-")
        compute = component.compute or ComponentCompute(accelerators=accelerators_per_copy(spec, instance_type))
        self.cfn_inference_component = sagemaker.CfnInferenceComponent(
            self, "Component",
            inference_component_name=self.component_name,
            endpoint_name=endpoint_name,
            variant_name=VARIANT_NAME,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=self.cfn_model.attr_model_name,
                compute_resource_requirements=(
                    sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                        min_memory_required_in_mb=compute.memory_mb,
                        number_of_accelerator_devices_required=compute.accelerators,
                        number_of_cpu_cores_required=compute.cpu_cores,
                    )),
            ),
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(
                copy_count=component.copies),
            tags=tags,
        )
        self.scalable_target: autoscaling.CfnScalableTarget | None = None
        if component.scaling is not None:
            self._scale(component.scaling)

    def metric(self, metric_name: str, *, statistic: str = "Sum", period: cdk.Duration | None = None
               ) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace=SAGEMAKER_NAMESPACE, metric_name=metric_name, statistic=statistic,
                                 period=period or cdk.Duration.minutes(5),
                                 dimensions_map={"InferenceComponentName": self.component_name})

    def _scale(self, scaling: CopyScaling) -> None:
        self.scalable_target = scalable_target(
            self, dimension="sagemaker:inference-component:DesiredCopyCount",
            resource_id=f"inference-component/{self.component_name}",
            min_capacity=scaling.min_copies, max_capacity=scaling.max_copies,
        )
        self.scalable_target.node.add_dependency(self.cfn_inference_component)  # its id is a name, not a Ref
        target_tracking(
            self, self.scalable_target, policy_name="InvocationsPerCopy",
            target_value=scaling.target_invocations_per_copy,
            predefined_metric="SageMakerInferenceComponentInvocationsPerCopy",
            scale_in_cooldown=scaling.scale_in_cooldown_seconds, scale_out_cooldown=scaling.scale_out_cooldown_seconds,
        )
        if scaling.min_copies == 0:
            # The SageMaker guide's alarm: any request refused for lack of a copy, within 30 seconds.
            scale_out_from_zero(self, self.scalable_target, ZeroCapacityAlarm(
                metric_name="NoCapacityInvocationFailures", dimension=("InferenceComponentName", self.component_name),
                statistic="Maximum", period_seconds=30, evaluation_periods=1,
                description=f"A request to {self.component_name} found no copy: add one (scale out from zero)",
            ), cooldown=60)

"""``JumpStartFineTuningJob``: fine-tune a trainable JumpStart model with a SageMaker training job.

The job is a ``Custom::TrainingJob`` resource whose properties are the CreateTrainingJob request, built the
way the SageMaker Python SDK builds a JumpStart training job:
- the training image for the region and instance family, JumpStart's training script as a ``code`` channel
  (``sagemaker_submit_directory``/``sagemaker_program``, as the SDK does under network isolation);
- the base model's artifact as a ``model`` channel. For an EULA-gated model, acceptance is expressed as
  SDK v3's ``ModelTrainer`` does, ``ModelAccessConfig.AcceptEula`` on that channel, plus the training
  environment ``accept_eula=true`` that SDK v2's ``JumpStartEstimator`` requires (SDK v2 passed the gated
  artifact in the ``SageMakerGatedModelS3Uri`` environment variable instead of a channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.aws_names import JUMPSTART_MODEL_ID_TAG, JUMPSTART_MODEL_VERSION_TAG
from constructs_lib.catalog import Catalog, ModelSpec, TrainingSpec, content_bucket
from constructs_lib.constructs.checks import check_accept_eula, concrete_region, props_checked_by
from constructs_lib.constructs.jobs.base import (
    FineTuningJobBase,
    FineTuningJobProps,
    S3Location,
    accepts_deprecated_props,
    checked_job_name,
    checked_kms_key_arn,
    data_channels,
    decimal_text,
    output_config,
    parse_s3_uri,
    runtime_seconds,
)
from constructs_lib.constructs.jobs.handlers.job_contract import TRAINING_JOB
from constructs_lib.errors import ConstructValidationError
from constructs_lib.props.placement import VpcPlacement

# From the SageMaker Python SDK's JumpStart estimator: the entry point of JumpStart training scripts, the
# path of the script tarball inside the ``code`` channel, and the default maximum runtime (1 day).
TRAINING_ENTRY_POINT = "transfer_learning.py"
CODE_CHANNEL_SOURCE_DIR = "/opt/ml/input/data/code/sourcedir.tar.gz"
DEFAULT_MAX_RUNTIME_SECONDS = 24 * 60 * 60
DEFAULT_VOLUME_SIZE_GB = 256  # JumpStart's LLM training specs ask for 256 GB or more
MODEL_CONTENT_TYPE = "application/x-sagemaker-model"


def trainable_model(catalog: Catalog | None, model: str | ModelSpec) -> tuple[ModelSpec, TrainingSpec]:
    """The model and its training data; ``NotTrainableError`` listing the trainable models otherwise."""
    catalog = catalog or Catalog.default()
    spec = model if isinstance(model, ModelSpec) else catalog.get(model)
    training = spec.check_trainable(m.model_id for m in catalog.trainable_models())
    return spec, training


def hyperparameter_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)  # JumpStart's text hyperparameters take "True"/"False"
    if isinstance(value, float):
        return decimal_text(value)
    return str(value)


class JumpStartFineTuningJob(FineTuningJobBase):
    """A SageMaker training job that fine-tunes a JumpStart model with JumpStart's own training script.

    ``JumpStartFineTuningJob(self, "Tune", model="meta-textgeneration-llama-2-7b", accept_eula=True,
    training_data="s3://my-data/train/", output_path="s3://my-models/tune/")``

    :param model: a JumpStart model id or a ``ModelSpec`` with training data in the catalog. No default.
    :param accept_eula: True accepts the model's EULA (``ModelAccessConfig.AcceptEula`` on the ``model`` channel
        and the environment ``accept_eula=true``); the EULA gate requires it for gated models. Default: None
        (nothing declared).
    :param training_data: ``s3://bucket/prefix`` of the ``training`` channel. No default.
    :param output_path: ``s3://bucket/prefix``; ``<job>/output/model.tar.gz`` lands under it. No default.
    :param validation_data: ``s3://bucket/prefix`` of the ``validation`` channel. Default: none.
    :param hyperparameters: overrides of the model's JumpStart hyperparameters, checked against its spec. Default:
        JumpStart's values.
    :param job_name: letters, digits and hyphens, starting with the stack's job-name prefix. Default: the prefix and
        a name derived from the construct path (stable across synths).
    :param role: the role the job runs with; it is granted what the job needs. Default: a new least-privilege role.
    :param max_runtime: the job's maximum runtime (``cdk.Duration`` or seconds). Default: 1 day (45 minutes with
        ``wait_for_completion``).
    :param wait_for_completion: the deployment waits for the job (at most 50 minutes), fails if the job fails, and
        ``model_data`` / ``inference_image`` exist. Default: False.
    :param kms_key_arn: a customer-managed KMS key for the output (``OutputDataConfig.KmsKeyId``), the storage
        volume (``ResourceConfig.VolumeKmsKeyId``), the handlers' log groups and queues and the failure topic; its
        key policy must let the roles use it. Default: AWS-managed encryption.
    :param vpc: the subnets and security groups of the job's containers (``VpcConfig``). Default: no VPC.
    :param network_isolation: encrypt traffic between the job's containers
        (``EnableInterContainerTrafficEncryption``; ``EnableNetworkIsolation`` is always on, since code and model
        arrive as channels). Default: False.
    :param failure_topic: where the job's failure or stop is published when it is not waited for. Default: the
        Provider's topic (one per stack, job kind and key).
    :param catalog: the catalog to resolve ``model`` in. Default: ``Catalog.default()``.
    :param instance_type: the training instance type. Default: the model's default training instance type.
    :param instance_count: number of training instances. Default: 1.
    :param volume_size_gb: the training volume in GB. Default: 256.

    Bad props raise ``ConstructValidationError`` naming this construct (an unknown or untrainable model included).
    """

    @accepts_deprecated_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: str | ModelSpec,
        accept_eula: bool | None = None,
        training_data: str,
        output_path: str,
        validation_data: str | None = None,
        hyperparameters: Mapping[str, int | float | str] | None = None,
        job_name: str | None = None,
        role: iam.IRole | None = None,
        max_runtime: cdk.Duration | int | None = None,
        wait_for_completion: bool = False,
        kms_key_arn: str | None = None,
        vpc: VpcPlacement | None = None,
        network_isolation: bool = False,
        failure_topic: sns.ITopic | None = None,
        catalog: Catalog | None = None,
        instance_type: str | None = None,
        instance_count: int = 1,
        volume_size_gb: int = DEFAULT_VOLUME_SIZE_GB,
    ) -> None:
        super().__init__(scope, id)
        props = FineTuningJobProps(
            training_data=training_data, output_path=output_path, accept_eula=accept_eula,
            validation_data=validation_data, hyperparameters=hyperparameters, job_name=job_name, role=role,
            max_runtime=max_runtime, wait_for_completion=wait_for_completion, kms_key_arn=kms_key_arn, vpc=vpc,
            network_isolation=network_isolation, failure_topic=failure_topic, catalog=catalog,
        )
        with props_checked_by(self):
            self._declare(props, model, instance_type, instance_count, volume_size_gb)

    def _declare(
        self, props: FineTuningJobProps, model: str | ModelSpec, instance_type: str | None, instance_count: int,
        volume_size_gb: int,
    ) -> None:
        self.model_spec, training = trainable_model(props.catalog, model)
        self._region = concrete_region(self)
        accept_eula = props.accept_eula
        check_accept_eula(self, accept_eula, self.model_spec)
        instance_type = instance_type or training.default_instance_type
        image = self.model_spec.training_image_uri(self._region, instance_type)
        for what, count in (("instance_count", instance_count), ("volume_size_gb", volume_size_gb)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ConstructValidationError(self.node.path, f"{what} must be a whole number >= 1, not {count!r}")
        data = data_channels(self, props.training_data, props.validation_data)
        output = parse_s3_uri(self, "output_path", props.output_path)
        name = checked_job_name(self, props.job_name, TRAINING_JOB)
        seconds = (runtime_seconds(self, props.max_runtime, wait=props.wait_for_completion)
                   or DEFAULT_MAX_RUNTIME_SECONDS)
        checked_kms_key_arn(self, props.kms_key_arn)
        gated = self.model_spec.gated

        channels = [_channel(channel, location) for channel, location in data]
        jumpstart_reads = []
        hyperparameter_values = self._hyperparameters(training, props.hyperparameters or {})
        if training.script_key:
            code = _jumpstart_location(self._region, training.script_key, gated=False)
            channels.append(_channel("code", code))
            jumpstart_reads.append(code)
            hyperparameter_values.update({
                "sagemaker_submit_directory": CODE_CHANNEL_SOURCE_DIR,
                "sagemaker_program": TRAINING_ENTRY_POINT,
                "sagemaker_container_log_level": "20",
                "sagemaker_region": self._region,
            })
        artifact = _model_artifact(self.model_spec, training, self._region)
        if artifact is not None:
            model_channel = _channel("model", artifact)
            model_channel.update(ContentType=MODEL_CONTENT_TYPE, CompressionType="None", InputMode="File")
            if gated and accept_eula is not None:
                model_channel["DataSource"]["S3DataSource"]["ModelAccessConfig"] = {"AcceptEula": accept_eula}
            channels.append(model_channel)
            jumpstart_reads.append(artifact)

        job_role = self._job_role(
            props.role, reads=[location for _, location in data] + jumpstart_reads, writes=[output],
            image_uris=[image], kms_key_arn=props.kms_key_arn, vpc=props.vpc,
        )
        resources: dict[str, Any] = {
            "InstanceType": instance_type, "InstanceCount": instance_count, "VolumeSizeInGB": volume_size_gb,
        }
        if props.kms_key_arn is not None:
            resources["VolumeKmsKeyId"] = props.kms_key_arn
        request: dict[str, Any] = {
            "TrainingJobName": name,
            "RoleArn": job_role.role_arn,
            "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
            "HyperParameters": hyperparameter_values,
            "InputDataConfig": channels,
            "OutputDataConfig": output_config(output, props),
            "ResourceConfig": resources,
            "StoppingCondition": {"MaxRuntimeInSeconds": seconds},
            # code and model arrive as channels, so the container needs no network
            "EnableNetworkIsolation": True,
            "Tags": [
                {"Key": JUMPSTART_MODEL_ID_TAG, "Value": self.model_spec.model_id},
                {"Key": JUMPSTART_MODEL_VERSION_TAG, "Value": self.model_spec.version},
            ],
        }
        if gated and accept_eula:
            request["Environment"] = {"accept_eula": "true"}
        if props.network_isolation:
            request["EnableInterContainerTrafficEncryption"] = True
        if props.vpc is not None:
            request["VpcConfig"] = props.vpc.vpc_config()
        self._create_job(TRAINING_JOB, request, props)

    def _hyperparameters(self, training: TrainingSpec, overrides: Mapping[str, Any]) -> dict[str, str]:
        """JumpStart's defaults with the user's overrides, each checked by the model's spec; all as strings."""
        for name, value in overrides.items():
            problem = training.hyperparameter_problem(name, value)
            if problem:
                raise ConstructValidationError(
                    self.node.path, f"hyperparameter {name!r} of {self.model_spec.model_id}: {problem}"
                )
        checked = {name: training.hyperparameter_value(name, value) for name, value in overrides.items()}
        return {name: hyperparameter_text(value) for name, value in {**training.hyperparameters, **checked}.items()}

    @property
    def model_data(self) -> str:
        """S3 URI of the fine-tuned ``model.tar.gz``; needs ``wait_for_completion``."""
        return self._awaited_attribute("model_data", "ModelData")

    @property
    def inference_image(self) -> str:
        """The base model's JumpStart inference image in the stack's region; needs ``wait_for_completion``."""
        self._require_completion("inference_image")
        return self.model_spec.image_uri(self._region)


def _model_artifact(spec: ModelSpec, training: TrainingSpec, region: str) -> S3Location | None:
    """The base model the job starts from. Like the SageMaker Python SDK: a gated model key is always in the
    private content bucket, the training artifact in the bucket the model's spec names."""
    if training.gated_model_key:
        return _jumpstart_location(region, training.gated_model_key, gated=True)
    if training.artifact_key:
        return _jumpstart_location(region, training.artifact_key, gated=spec.gated_bucket)
    return None


def _jumpstart_location(region: str, key: str, *, gated: bool) -> S3Location:
    bucket = content_bucket(region, gated=gated)
    return S3Location(uri=f"s3://{bucket}/{key}", bucket=bucket, prefix=key)


def _channel(name: str, location: S3Location) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": location.uri, "S3DataDistributionType": "FullyReplicated",
        }},
    }

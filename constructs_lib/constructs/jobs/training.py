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

from constructs import Construct

from constructs_lib.aws_names import JUMPSTART_MODEL_ID_TAG, JUMPSTART_MODEL_VERSION_TAG
from constructs_lib.catalog import Catalog, ModelSpec, TrainingSpec, content_bucket
from constructs_lib.constructs.checks import check_accept_eula, concrete_region
from constructs_lib.constructs.jobs.base import (
    FineTuningJobBase,
    FineTuningJobProps,
    S3Location,
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

    :param props: what every fine-tuning job takes (``FineTuningJobProps``): the data (the ``training`` and
        ``validation`` channels), the output path (``<job>/output/model.tar.gz`` lands under it), acceptance
        (``ModelAccessConfig.AcceptEula`` on the ``model`` channel and the environment ``accept_eula=true``),
        overrides of the model's JumpStart hyperparameters, the KMS key (``OutputDataConfig.KmsKeyId``,
        ``ResourceConfig.VolumeKmsKeyId``), the VPC (``VpcConfig``) and ``network_isolation``
        (``EnableInterContainerTrafficEncryption``; ``EnableNetworkIsolation`` is always on). ``max_runtime``
        defaults to 1 day (45 minutes with ``wait_for_completion``, which enables ``model_data`` and
        ``inference_image``).
    :param model: a JumpStart model id or a ``ModelSpec`` with training data in the catalog.
    :param instance_type: the training instance type. Default: the model's default training instance type.
    :param instance_count: Default: 1.
    :param volume_size_gb: the training volume. Default: 256.
    """

    def __init__(
        self, scope: Construct, id: str, props: FineTuningJobProps, *, model: str | ModelSpec,
        instance_type: str | None = None, instance_count: int = 1, volume_size_gb: int = DEFAULT_VOLUME_SIZE_GB,
    ) -> None:
        super().__init__(scope, id)
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

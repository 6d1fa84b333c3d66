"""``AutoMLFineTuningJob``: fine-tune an LLM with SageMaker Autopilot (an AutoML V2 text-generation job).

The job is a ``Custom::AutoMLJobV2`` resource whose properties are the CreateAutoMLJobV2 request
(API shape from the SageMaker API reference, CreateAutoMLJobV2 / TextGenerationJobConfig).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs import Construct

from constructs_lib.catalog import Catalog, ModelSpec
from constructs_lib.catalog.autopilot import (
    AUTOPILOT_CONTENT_TYPES,
    AUTOPILOT_HYPERPARAMETERS,
    DEFAULT_AUTOPILOT_CONTENT_TYPE,
    autopilot_hyperparameter_problem,
)
from constructs_lib.constructs.checks import check_accept_eula, concrete_region
from constructs_lib.constructs.jobs.base import (
    FineTuningJobBase,
    FineTuningJobProps,
    JobProvider,
    checked_job_name,
    checked_kms_key_arn,
    data_channels,
    decimal_text,
    output_config,
    parse_s3_uri,
    runtime_seconds,
    security_config,
)
from constructs_lib.constructs.jobs.handlers.job_contract import AUTOML_JOB, FAILURE_TOPIC_TAG
from constructs_lib.errors import ConstructValidationError


def autopilot_images(spec: ModelSpec, region: str) -> list[str]:
    """The images Autopilot fine-tunes and serves the model with: the model's JumpStart training and inference
    images of the region (their repositories are what the job role may pull)."""
    images = [spec.image_uri(region)]
    if region in spec.training_regions:
        images.append(spec.training_image_uri(region))
    return images


def text_generation_hyperparameters(owner: Construct, values: Mapping[str, int | float | str]) -> dict[str, str]:
    """Checked against Autopilot's ranges and sent as strings, as the API expects."""
    checked: dict[str, str] = {}
    for name, value in values.items():
        problem = autopilot_hyperparameter_problem(name, value)
        if problem is not None:
            raise ConstructValidationError(owner.node.path, f"hyperparameter {name}: {problem}")
        number = float(value)
        checked[name] = str(int(number)) if AUTOPILOT_HYPERPARAMETERS[name].integer else decimal_text(number)
    return checked


class AutoMLFineTuningJob(FineTuningJobBase):
    """An Autopilot (AutoML V2) job that fine-tunes one of the LLMs Autopilot supports on your data.

    :param props: what every fine-tuning job takes (``FineTuningJobProps``): the data (CSV with a header, or
        Parquet), the output path where Autopilot writes its artifacts and the fine-tuned model, acceptance
        (``ModelAccessConfig.AcceptEula``), hyperparameters (``epochCount`` 1-10, ``batchSize`` 1-64,
        ``learningRate`` 0-1, ``learningRateWarmupSteps`` 0-250), the KMS key (``OutputDataConfig.KmsKeyId``,
        ``SecurityConfig.VolumeKmsKeyId``), the VPC (``SecurityConfig.VpcConfig``) and ``network_isolation``
        (``SecurityConfig.EnableInterContainerTrafficEncryption``: Autopilot has no network isolation switch).
    :param base_model: an Autopilot BaseModelName (``Llama2-7BChat``), a JumpStart model id
        (``meta-textgeneration-llama-2-7b-f``) or a ``ModelSpec``; resolved through the catalog.
    :param content_type: of both data channels: ``text/csv;header=present`` (default) or
        ``x-application/vnd.amazon+parquet``.

    With ``wait_for_completion`` the deployment waits for the job and ``best_candidate_model_data`` and
    ``best_candidate_image`` exist. Without, SageMaker sends no event for AutoML jobs, so the Provider's watcher
    looks for the stack's failed or stopped jobs every 5 minutes and publishes each to its ``failure_topic``.
    """

    def __init__(
        self, scope: Construct, id: str, props: FineTuningJobProps, *, base_model: str | ModelSpec,
        content_type: str = DEFAULT_AUTOPILOT_CONTENT_TYPE,
    ) -> None:
        super().__init__(scope, id)
        self.model_spec = (props.catalog or Catalog.default()).get_autopilot(base_model)
        region = concrete_region(self)
        self.model_spec.check_region(region)
        check_accept_eula(self, props.accept_eula, self.model_spec)
        if content_type not in AUTOPILOT_CONTENT_TYPES:
            raise ConstructValidationError(
                self.node.path, f"content_type {content_type!r} is not supported; "
                f"use one of: {', '.join(AUTOPILOT_CONTENT_TYPES)}"
            )
        channels = data_channels(self, props.training_data, props.validation_data)
        output = parse_s3_uri(self, "output_path", props.output_path)
        name = checked_job_name(self, props.job_name, AUTOML_JOB)
        seconds = runtime_seconds(self, props.max_runtime, wait=props.wait_for_completion)
        checked_hyperparameters = text_generation_hyperparameters(self, props.hyperparameters or {})
        checked_kms_key_arn(self, props.kms_key_arn)

        job_role = self._job_role(
            props.role, reads=[location for _, location in channels], writes=[], read_writes=[output],
            image_uris=autopilot_images(self.model_spec, region), passes_itself=True,
            kms_key_arn=props.kms_key_arn, vpc=props.vpc,
        )
        completion: dict[str, int] = {"MaxCandidates": 1}
        if seconds is not None:
            completion["MaxAutoMLJobRuntimeInSeconds"] = seconds
        text_generation: dict[str, object] = {
            "BaseModelName": self.model_spec.base_model_name,
            "CompletionCriteria": completion,
        }
        if checked_hyperparameters:
            text_generation["TextGenerationHyperParameters"] = checked_hyperparameters
        if self.model_spec.gated and props.accept_eula is not None:
            text_generation["ModelAccessConfig"] = {"AcceptEula": props.accept_eula}
        request: dict[str, Any] = {
            "AutoMLJobName": name,
            "AutoMLJobInputDataConfig": [
                {
                    "ChannelType": channel,
                    "ContentType": content_type,
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": location.uri}},
                }
                for channel, location in channels
            ],
            "OutputDataConfig": output_config(output, props),
            "AutoMLProblemTypeConfig": {"TextGenerationJobConfig": text_generation},
            "RoleArn": job_role.role_arn,
        }
        security = security_config(props)
        if security:
            request["SecurityConfig"] = security
        if not props.wait_for_completion:
            # the Provider's failure watcher publishes the job's failure to this topic
            topic = props.failure_topic or JobProvider.of(
                self, AUTOML_JOB, wait=False, kms_key_arn=props.kms_key_arn).failure_topic()
            request["Tags"] = [{"Key": FAILURE_TOPIC_TAG, "Value": topic.topic_arn}]
        self._create_job(AUTOML_JOB, request, props)

    @property
    def best_candidate_model_data(self) -> str:
        """S3 URI of the fine-tuned model (the best candidate's artifact); needs ``wait_for_completion``."""
        return self._awaited_attribute("best_candidate_model_data", "BestCandidateModelData")

    @property
    def best_candidate_image(self) -> str:
        """Inference image of the fine-tuned model; needs ``wait_for_completion``."""
        return self._awaited_attribute("best_candidate_image", "BestCandidateImage")

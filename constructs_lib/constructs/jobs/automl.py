"""``AutoMLFineTuningJob``: fine-tune an LLM with SageMaker Autopilot (an AutoML V2 text-generation job).

The job is a ``Custom::AutoMLJobV2`` resource whose properties are the CreateAutoMLJobV2 request
(API shape from the SageMaker API reference, CreateAutoMLJobV2 / TextGenerationJobConfig).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.catalog import Catalog, ModelSpec
from constructs_lib.catalog.autopilot import (
    AUTOPILOT_CONTENT_TYPES,
    AUTOPILOT_HYPERPARAMETERS,
    DEFAULT_AUTOPILOT_CONTENT_TYPE,
    autopilot_hyperparameter_problem,
)
from constructs_lib.constructs.checks import check_accept_eula, concrete_region, props_checked_by
from constructs_lib.constructs.jobs.base import (
    FineTuningJobBase,
    FineTuningJobProps,
    JobProvider,
    accepts_deprecated_props,
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
from constructs_lib.props.placement import VpcPlacement


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

    ``AutoMLFineTuningJob(self, "Chat", base_model="Llama2-7BChat", accept_eula=True,
    training_data="s3://my-data/train/", output_path="s3://my-models/chat/")``

    :param base_model: an Autopilot BaseModelName (``Llama2-7BChat``), a JumpStart model id
        (``meta-textgeneration-llama-2-7b-f``) or a ``ModelSpec``; resolved through the catalog. No default.
    :param accept_eula: True accepts the model's EULA (``TextGenerationJobConfig.ModelAccessConfig.AcceptEula``);
        the EULA gate requires it for gated models. Default: None (nothing declared).
    :param training_data: ``s3://bucket/prefix`` of the training data (CSV with a header, or Parquet). No default.
    :param output_path: ``s3://bucket/prefix`` where Autopilot writes its artifacts and the fine-tuned model. No
        default.
    :param validation_data: ``s3://bucket/prefix`` of validation data. Default: none (Autopilot splits the
        training data).
    :param hyperparameters: ``epochCount`` 1-10, ``batchSize`` 1-64, ``learningRate`` 0-1,
        ``learningRateWarmupSteps`` 0-250; sent as strings. Default: Autopilot's.
    :param job_name: letters, digits and hyphens, starting with the stack's job-name prefix. Default: the prefix and
        a name derived from the construct path (stable across synths).
    :param role: the role the job runs with; it is granted what the job needs. Default: a new least-privilege role.
    :param max_runtime: the job's maximum runtime (``cdk.Duration`` or seconds). Default: Autopilot's (45 minutes
        with ``wait_for_completion``).
    :param wait_for_completion: the deployment waits for the job (at most 50 minutes), fails if the job fails, and
        ``best_candidate_model_data`` / ``best_candidate_image`` exist. Default: False.
    :param kms_key_arn: a customer-managed KMS key for the output (``OutputDataConfig.KmsKeyId``), the storage
        volume (``SecurityConfig.VolumeKmsKeyId``), the handlers' log groups and queues and the failure topic; its
        key policy must let the roles use it. Default: AWS-managed encryption.
    :param vpc: the subnets and security groups of the job's containers (``SecurityConfig.VpcConfig``). Default:
        no VPC.
    :param network_isolation: encrypt traffic between the job's containers
        (``SecurityConfig.EnableInterContainerTrafficEncryption``; Autopilot has no network isolation switch).
        Default: False.
    :param failure_topic: where the job's failure or stop is published when it is not waited for. Default: the
        Provider's topic (one per stack, job kind and key).
    :param catalog: the catalog to resolve ``base_model`` in. Default: ``Catalog.default()``.
    :param content_type: of both data channels: ``text/csv;header=present`` or
        ``x-application/vnd.amazon+parquet``. Default: ``text/csv;header=present``.

    Without ``wait_for_completion``, SageMaker sends no event for AutoML jobs, so the Provider's watcher looks for
    the stack's failed or stopped jobs every 5 minutes and publishes each to its ``failure_topic``. Bad props raise
    ``ConstructValidationError`` naming this construct (an unknown model included).
    """

    @accepts_deprecated_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        base_model: str | ModelSpec,
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
        content_type: str = DEFAULT_AUTOPILOT_CONTENT_TYPE,
    ) -> None:
        super().__init__(scope, id)
        props = FineTuningJobProps(
            training_data=training_data, output_path=output_path, accept_eula=accept_eula,
            validation_data=validation_data, hyperparameters=hyperparameters, job_name=job_name, role=role,
            max_runtime=max_runtime, wait_for_completion=wait_for_completion, kms_key_arn=kms_key_arn, vpc=vpc,
            network_isolation=network_isolation, failure_topic=failure_topic, catalog=catalog,
        )
        with props_checked_by(self):
            self._declare(props, base_model, content_type)

    def _declare(self, props: FineTuningJobProps, base_model: str | ModelSpec, content_type: str) -> None:
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

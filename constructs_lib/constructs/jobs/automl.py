"""``AutoMLFineTuningJob``: fine-tune an LLM with SageMaker Autopilot (an AutoML V2 text-generation job).

The job is a ``Custom::AutoMLJobV2`` resource whose properties are the CreateAutoMLJobV2 request
(API shape from the SageMaker API reference, CreateAutoMLJobV2 / TextGenerationJobConfig).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.catalog import Catalog, CatalogError, ModelSpec
from constructs_lib.catalog.autopilot import (
    AUTOPILOT_CONTENT_TYPES,
    AUTOPILOT_HYPERPARAMETERS,
    DEFAULT_AUTOPILOT_CONTENT_TYPE,
    autopilot_hyperparameter_problem,
)
from constructs_lib.constructs.jobs.base import (
    FineTuningJobBase,
    JobResourceKind,
    check_accept_eula,
    checked_job_name,
    concrete_region,
    data_channels,
    decimal_text,
    parse_s3_uri,
    runtime_seconds,
)
from constructs_lib.errors import ConstructValidationError

AUTOML_JOB = JobResourceKind(
    title="AutoML",
    resource_type="Custom::AutoMLJobV2",
    handler_module="automl_job",
    name_key="AutoMLJobName",
    arn_resource="automl-job",
    handler_actions=("sagemaker:CreateAutoMLJobV2", "sagemaker:DescribeAutoMLJobV2", "sagemaker:StopAutoMLJob"),
    max_name_length=32,
)


class AutopilotUnsupportedModelError(CatalogError, ValueError):
    """The model is in the catalog, but Autopilot cannot fine-tune it."""


def autopilot_model(catalog: Catalog | None, model: str | ModelSpec) -> ModelSpec:
    """The catalog model of a BaseModelName or JumpStart id; an error listing Autopilot's models otherwise."""
    catalog = catalog or Catalog.default()
    spec = model if isinstance(model, ModelSpec) else catalog.get(model)
    if spec.base_model_name is None:
        choices = ", ".join(f"{m.base_model_name} ({m.model_id})" for m in catalog.autopilot_models())
        raise AutopilotUnsupportedModelError(
            f"Autopilot cannot fine-tune {spec.model_id!r}; it fine-tunes these models (BaseModelName and "
            f"JumpStart id): {choices}. Use JumpStartFineTuningJob for other trainable JumpStart models"
        )
    return spec


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

    :param base_model: an Autopilot BaseModelName (``Llama2-7BChat``), a JumpStart model id
        (``meta-textgeneration-llama-2-7b-f``) or a ``ModelSpec``; resolved through the catalog.
    :param training_data: ``s3://bucket/prefix`` of the training data (CSV with a header, or Parquet).
    :param output_path: ``s3://bucket/prefix`` where Autopilot writes its artifacts and the fine-tuned model.
    :param accept_eula: True accepts the model's EULA (``ModelAccessConfig.AcceptEula``); required for the
        EULA-gated models (Llama 2) by the EULA gate. Default: not set (no acceptance).
    :param validation_data: ``s3://bucket/prefix`` of validation data. Default: Autopilot splits the training data.
    :param content_type: of both data channels: ``text/csv;header=present`` (default) or
        ``x-application/vnd.amazon+parquet``.
    :param hyperparameters: ``epochCount`` (1-10), ``batchSize`` (1-64), ``learningRate`` (0-1),
        ``learningRateWarmupSteps`` (0-250). Default: Autopilot's.
    :param job_name: 1 to 32 letters, digits and hyphens. Default: derived from the construct path (stable).
    :param role: the role the job runs with; it is granted what the job needs. Default: a new role that reads
        the data prefixes and reads/writes the output prefix.
    :param max_runtime: the job's maximum runtime. Default: Autopilot's (55 minutes with ``wait_for_completion``).
    :param wait_for_completion: the deployment waits for the job (at most 1 hour) and fails if the job fails;
        enables ``best_candidate_model_data`` and ``best_candidate_image``. Default: False.
    :param catalog: the model catalog. Default: ``Catalog.default()``.
    """

    def __init__(
        self, scope: Construct, id: str, *, base_model: str | ModelSpec, training_data: str, output_path: str,
        accept_eula: bool | None = None, validation_data: str | None = None,
        content_type: str = DEFAULT_AUTOPILOT_CONTENT_TYPE,
        hyperparameters: Mapping[str, int | float | str] | None = None,
        job_name: str | None = None, role: iam.IRole | None = None,
        max_runtime: cdk.Duration | int | None = None, wait_for_completion: bool = False,
        catalog: Catalog | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.model_spec = autopilot_model(catalog, base_model)
        self.model_spec.check_region(concrete_region(self))
        check_accept_eula(self, accept_eula, self.model_spec)
        if content_type not in AUTOPILOT_CONTENT_TYPES:
            raise ConstructValidationError(
                self.node.path, f"content_type {content_type!r} is not supported; "
                f"use one of: {', '.join(AUTOPILOT_CONTENT_TYPES)}"
            )
        channels = data_channels(self, training_data, validation_data)
        output = parse_s3_uri(self, "output_path", output_path)
        name = checked_job_name(self, job_name, AUTOML_JOB)
        seconds = runtime_seconds(self, max_runtime, wait=wait_for_completion)
        checked_hyperparameters = text_generation_hyperparameters(self, hyperparameters or {})

        job_role = self._job_role(
            role, reads=[location for _, location in channels], writes=[], read_writes=[output],
            image_uri=None, passes_itself=True,
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
        if self.model_spec.gated and accept_eula is not None:
            text_generation["ModelAccessConfig"] = {"AcceptEula": accept_eula}
        request = {
            "AutoMLJobName": name,
            "AutoMLJobInputDataConfig": [
                {
                    "ChannelType": channel,
                    "ContentType": content_type,
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": location.uri}},
                }
                for channel, location in channels
            ],
            "OutputDataConfig": {"S3OutputPath": output.uri},
            "AutoMLProblemTypeConfig": {"TextGenerationJobConfig": text_generation},
            "RoleArn": job_role.role_arn,
        }
        self._create_job(AUTOML_JOB, request, wait=wait_for_completion)

    @property
    def best_candidate_model_data(self) -> str:
        """S3 URI of the fine-tuned model (the best candidate's artifact); needs ``wait_for_completion``."""
        return self._awaited_attribute("best_candidate_model_data", "BestCandidateModelData")

    @property
    def best_candidate_image(self) -> str:
        """Inference image of the fine-tuned model; needs ``wait_for_completion``."""
        return self._awaited_attribute("best_candidate_image", "BestCandidateImage")

"""EULA004: a training job that reads an EULA-gated JumpStart artifact without accepting its EULA."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import Check, Problem, Rule, artifact_problem, s3_data_source_problems
from constructs_lib.rules.detection.requests import CREATE_TRAINING_JOB
from constructs_lib.rules.evaluation.values import ABSENT

GATED_MODEL_ENVIRONMENT_VARIABLE = "SageMakerGatedModelS3Uri"
ACCEPT_EULA_ENVIRONMENT_VARIABLE = "accept_eula"

NONCOMPLIANT_EXAMPLE = """\
Resources:
  TrainLlama:
    Type: Custom::TrainingJob
    Properties:
      ServiceToken: arn:aws:lambda:us-west-2:123456789012:function:training-job-provider
      AlgorithmSpecification:
        TrainingImage: 763104351884.dkr.ecr.us-west-2.amazonaws.com/huggingface-pytorch-training:2.0.0-transformers4.28.1-gpu-py310-cu118-ubuntu20.04
        TrainingInputMode: File
      OutputDataConfig: {S3OutputPath: "s3://my-data/models/"}
      RoleArn: arn:aws:iam::123456789012:role/training-job
      InputDataConfig:
        - ChannelName: model
          DataSource:
            S3DataSource:
              S3DataType: S3Object
              S3Uri: s3://jumpstart-private-cache-prod-us-west-2/meta-training/train-meta-textgeneration-llama-2-7b.tar.gz
"""  # noqa: E501 (a real ARN or image URI reads better whole)


class GatedTrainingJobWithoutAcceptance(Rule):
    id = "EULA004"
    short_description = "Training job reads an EULA-gated JumpStart model without accepting its EULA"
    description = (
        "A CreateTrainingJob request (in a custom resource's properties, such as JumpStartFineTuningJob's; in an "
        "AwsCustomResource SDK call; in a Step Functions task sagemaker:createTrainingJob[.sync] or "
        "aws-sdk:sagemaker:createTrainingJob; or a tuning job's training definition) pulls the artifact of an "
        "EULA-gated JumpStart model. Each input channel whose DataSource.S3DataSource.S3Uri is a gated artifact "
        "must set that S3DataSource's ModelAccessConfig.AcceptEula to true, and a gated artifact in the "
        f"environment variable {GATED_MODEL_ENVIRONMENT_VARIABLE} needs Environment.{ACCEPT_EULA_ENVIRONMENT_VARIABLE} "
        "set to \"true\". The job's output is the user's own model: deploying it needs no acceptance."
    )
    kinds = frozenset({CREATE_TRAINING_JOB})
    construct = "JumpStartFineTuningJob"
    surfaces = ("CreateTrainingJob in custom resources (JumpStartFineTuningJob), AwsCustomResource SDK calls, "
                "Step Functions tasks and tuning jobs' training definitions",)
    noncompliant_example = NONCOMPLIANT_EXAMPLE
    compliant_example = NONCOMPLIANT_EXAMPLE + "              ModelAccessConfig: {AcceptEula: true}\n"

    def check(self, check: Check) -> Iterator[Problem]:
        reader = check.reader
        image = reader.path(check.request, "AlgorithmSpecification", "TrainingImage")
        for position, channel in reader.elements(reader.field(check.request, "InputDataConfig")):
            location = f"{check.path}.InputDataConfig[{position}].DataSource.S3DataSource"
            yield from s3_data_source_problems(check, reader.path(channel, "DataSource", "S3DataSource"),
                                               location, image)
        environment = reader.field(check.request, "Environment")
        gated_uri = reader.field(environment, GATED_MODEL_ENVIRONMENT_VARIABLE)
        artifact = check.index.artifact(reader, gated_uri) if gated_uri is not ABSENT else None
        if artifact is None or not artifact.needs_acceptance:
            return
        location = f"{check.path}.Environment"
        reason = reader.acceptance_problem(environment, location, (ACCEPT_EULA_ENVIRONMENT_VARIABLE,))
        if reason is not None:
            yield artifact_problem(
                check, artifact, f"{location}.{GATED_MODEL_ENVIRONMENT_VARIABLE}",
                f"but {location}.{GATED_MODEL_ENVIRONMENT_VARIABLE} names its artifact and {reason}",
                f'set {location}.{ACCEPT_EULA_ENVIRONMENT_VARIABLE} to "true"', image,
            )

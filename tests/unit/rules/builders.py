"""Small CloudFormation templates for the rule tests: one resource, with the part under test swapped in."""

from __future__ import annotations

import json
from typing import Any

LLAMA_7B = "meta-textgeneration-llama-2-7b"
LLAMA_7B_CHAT = "meta-textgeneration-llama-2-7b-f"
GATED_URI = f"s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/{LLAMA_7B_CHAT}/artifacts/inference-prepack/v1.1.0/"
GATED_TRAINING_URI = f"s3://jumpstart-private-cache-prod-us-west-2/meta-training/train-{LLAMA_7B}.tar.gz"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0"
MISSING = object()  # leave the property out


def s3_data_source(uri: Any = GATED_URI, accept: Any = True) -> dict[str, Any]:
    source: dict[str, Any] = {"S3Uri": uri, "S3DataType": "S3Prefix", "CompressionType": "None"}
    if accept is not MISSING:
        source["ModelAccessConfig"] = {"AcceptEula": accept}
    return source


def container(uri: Any = GATED_URI, accept: Any = True) -> dict[str, Any]:
    return {"Image": IMAGE, "ModelDataSource": {"S3DataSource": s3_data_source(uri, accept)}}


def template(*resources: tuple[str, dict[str, Any]], **sections: Any) -> dict[str, Any]:
    return {**sections, "Resources": dict(resources)}


def model(name: str = "Model", uri: Any = GATED_URI, accept: Any = True, **properties: Any
          ) -> tuple[str, dict[str, Any]]:
    body = {"ExecutionRoleArn": ROLE, "PrimaryContainer": container(uri, accept), **properties}
    return name, {"Type": "AWS::SageMaker::Model", "Properties": body}


def automl_request(base_model: Any = "Llama2-7B", accept: Any = True) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if base_model is not MISSING:
        config["BaseModelName"] = base_model
    if accept is not MISSING:
        config["ModelAccessConfig"] = {"AcceptEula": accept}
    return {
        "AutoMLJobName": "tuning",
        "AutoMLJobInputDataConfig": [{"ChannelType": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://my-data/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://my-data/output/"},
        "AutoMLProblemTypeConfig": {"TextGenerationJobConfig": config},
        "RoleArn": ROLE,
    }


def training_request(channel_accept: Any = True, environment_accept: Any = "true",
                     uri: Any = GATED_TRAINING_URI) -> dict[str, Any]:
    environment: dict[str, Any] = {"SageMakerGatedModelS3Uri": uri}
    if environment_accept is not MISSING:
        environment["accept_eula"] = environment_accept
    return {
        "TrainingJobName": "training",
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "Environment": environment,
        "InputDataConfig": [
            {"ChannelName": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                        "S3Uri": "s3://my-data/train/"}}},
            {"ChannelName": "model", "DataSource": {"S3DataSource": s3_data_source(uri, channel_accept)}},
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://my-data/models/"},
        "RoleArn": ROLE,
    }


def custom_resource(request: dict[str, Any], name: str = "Job", resource_type: str = "Custom::Job"
                    ) -> tuple[str, dict[str, Any]]:
    properties = {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider", **request}
    return name, {"Type": resource_type, "Properties": properties}


def state_machine(resource_arn: str, parameters: dict[str, Any], name: str = "Machine"
                  ) -> tuple[str, dict[str, Any]]:
    definition = {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": resource_arn, "Parameters": parameters, "End": True}}}
    return name, {"Type": "AWS::StepFunctions::StateMachine",
                  "Properties": {"RoleArn": ROLE, "DefinitionString": json.dumps(definition)}}

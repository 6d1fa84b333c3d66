"""EULA004: training jobs that read an EULA-gated JumpStart artifact (channels and SageMakerGatedModelS3Uri)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from constructs_lib.rules import Finding, check_template
from tests.unit.rules.builders import (
    GATED_TRAINING_URI,
    IMAGE,
    MISSING,
    ROLE,
    custom_resource,
    model,
    state_machine,
    template,
    training_request,
)


def findings(document: dict[str, Any], catalog: Catalog) -> list[Finding]:
    return check_template(document, template_path="t.json", catalog=catalog)


def test_accepted_training_job_passes(rules_catalog: Catalog) -> None:
    assert findings(template(custom_resource(training_request())), rules_catalog) == []


def test_gated_channel_without_acceptance_fails(rules_catalog: Catalog) -> None:
    [finding] = findings(template(custom_resource(training_request(channel_accept=MISSING))), rules_catalog)
    assert (finding.rule_id, finding.model_id) == ("EULA004", "meta-textgeneration-llama-2-7b")
    assert "Properties.InputDataConfig[1].DataSource.S3DataSource.ModelAccessConfig is absent" in finding.message
    assert "us-west-2" in (finding.eula_url or "")


@pytest.mark.parametrize(("accept", "said"), [
    (MISSING, "Properties.Environment.accept_eula is absent"),
    ("false", "Properties.Environment.accept_eula is 'false', not true"),
    ({"Ref": "Accept"}, "a Ref to parameter 'Accept'"),
], ids=repr)
def test_gated_model_environment_variable_needs_accept_eula(accept: Any, said: str, rules_catalog: Catalog) -> None:
    document = template(custom_resource(training_request(environment_accept=accept)),
                        Parameters={"Accept": {"Type": "String"}})
    [finding] = findings(document, rules_catalog)
    assert "Properties.Environment.SageMakerGatedModelS3Uri names its artifact" in finding.message
    assert said in finding.message
    assert finding.fix.endswith('set Properties.Environment.accept_eula to "true".')


def test_non_gated_training_needs_nothing(rules_catalog: Catalog) -> None:
    uri = "s3://jumpstart-cache-prod-us-west-2/huggingface-training/train-huggingface-text2text-flan-t5-base.tar.gz"
    document = template(custom_resource(training_request(MISSING, MISSING, uri=uri)))
    assert findings(document, rules_catalog) == []


def test_catalog_gated_model_in_the_public_bucket(rules_catalog: Catalog) -> None:
    uri = "s3://jumpstart-cache-prod-us-east-1/huggingface-training/train-huggingface-llm-gemma-7b.tar.gz"
    document = template(custom_resource(training_request(MISSING, "true", uri=uri)))
    [finding] = findings(document, rules_catalog)
    assert finding.model_id == "huggingface-llm-gemma-7b"


@pytest.mark.parametrize("arn", [
    "arn:aws:states:::sagemaker:createTrainingJob",
    "arn:aws:states:::sagemaker:createTrainingJob.sync",
    "arn:aws:states:::sagemaker:createTrainingJob.waitForTaskToken",
    "arn:aws:states:::aws-sdk:sagemaker:createTrainingJob",
])
def test_step_functions_training_tasks(arn: str, rules_catalog: Catalog) -> None:
    document = template(state_machine(arn, training_request(channel_accept=False)))
    [finding] = findings(document, rules_catalog)
    assert finding.rule_id == "EULA004"
    assert arn.split(":::")[1] in finding.message
    assert findings(template(state_machine(arn, training_request())), rules_catalog) == []


def test_aws_custom_resource_training_call(rules_catalog: Catalog) -> None:
    call = json.dumps({"service": "SageMaker", "action": "createTrainingJob",
                       "parameters": training_request(environment_accept="no")})
    document = template(("Sdk", {"Type": "Custom::AWS", "Properties": {"Create": call}}))
    [finding] = findings(document, rules_catalog)
    assert "Properties.Create[JSON].parameters.Environment.accept_eula is 'no', not true" in finding.message


def test_tuning_job_training_definition(rules_catalog: Catalog) -> None:
    request = {"HyperParameterTuningJobName": "hpo",
               "TrainingJobDefinition": training_request(channel_accept=MISSING, environment_accept="true")}
    document = template(state_machine("arn:aws:states:::aws-sdk:sagemaker:createHyperParameterTuningJob", request))
    [finding] = findings(document, rules_catalog)
    assert "Parameters.TrainingJobDefinition.InputDataConfig[1]" in finding.message


def test_deploying_the_training_output_needs_no_acceptance(rules_catalog: Catalog) -> None:
    document = template(
        custom_resource(training_request()),
        model(uri={"Fn::GetAtt": ["Job", "ModelArtifacts.S3ModelArtifacts"]}, accept=MISSING),
        ("Served", {"Type": "AWS::SageMaker::Model", "Properties": {"ExecutionRoleArn": ROLE, "PrimaryContainer": {
            "Image": IMAGE, "ModelDataUrl": "s3://my-data/models/training/output/model.tar.gz"}}}),
    )
    assert findings(document, rules_catalog) == []


def test_the_gated_key_names_the_model(rules_catalog: Catalog) -> None:
    uri = GATED_TRAINING_URI.replace("llama-2-7b.tar.gz", "llama-2-13b-f.tar.gz")
    [finding] = findings(template(custom_resource(training_request(MISSING, "true", uri=uri))), rules_catalog)
    assert finding.model_id == "meta-textgeneration-llama-2-13b-f"

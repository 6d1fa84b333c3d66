"""EulaChecks (the cdk-nag pack): a compliant and a non-compliant resource per rule, acknowledgments (ignored for
errors, honoured for warnings), nested stacks, verbose descriptions and constructs it cannot map.

Each app is built and synthesized once per module (fixtures) with only the pack registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from constructs import Construct

from constructs_lib.catalog import Catalog
from constructs_lib.rules import RULES
from constructs_lib.synth.nag import EulaChecks
from tests.unit.test_gate import (
    LLAMA_7B,
    LLAMA_7B_CHAT,
    LLAMA_13B,
    REGION,
    ROLE_ARN,
    SynthResult,
    automl_custom_resource,
    marketplace_model,
    raw_model,
    stack,
    synth,
)

pytestmark = pytest.mark.synth

PACK = "EulaChecks"
TRAINING_IMAGE = (f"763104351884.dkr.ecr.{REGION}.amazonaws.com/huggingface-pytorch-training:2.0.0-transformers4.28.1"
                  "-gpu-py310-cu118-ubuntu20.04")


def gated_artifact(model_id: str) -> str:
    return Catalog.default().get(model_id).artifact_uri(REGION)


def accepted(accept_eula: bool | None) -> dict[str, Any]:
    return {"ModelAccessConfig": {"AcceptEula": accept_eula}} if accept_eula is not None else {}


def model_package(scope: Construct, id: str, accept_eula: bool | None) -> cdk.CfnResource:
    return cdk.CfnResource(scope, id, type="AWS::SageMaker::ModelPackage", properties={
        "ModelPackageGroupName": "llama",
        "InferenceSpecification": {
            "Containers": [{
                "Image": Catalog.default().get(LLAMA_7B).image_uri(REGION),
                "ModelDataSource": {"S3DataSource": {
                    "S3Uri": gated_artifact(LLAMA_7B), "S3DataType": "S3Prefix", "CompressionType": "None",
                    **accepted(accept_eula),
                }},
            }],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    })


def training_job(scope: Construct, id: str, accept_eula: bool | None) -> cdk.CfnResource:
    """A custom resource holding a CreateTrainingJob request whose model channel is Llama 2 13B's artifact."""
    return cdk.CfnResource(scope, id, type="Custom::TrainingJob", properties={
        "ServiceToken": f"arn:aws:lambda:{REGION}:123456789012:function:training-job-provider",
        "TrainingJobName": f"{id.lower()}-job",
        "AlgorithmSpecification": {"TrainingImage": TRAINING_IMAGE, "TrainingInputMode": "File"},
        "InputDataConfig": [
            {"ChannelName": "training",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://team-data/train/"}}},
            {"ChannelName": "model",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": gated_artifact(LLAMA_13B),
                                             **accepted(accept_eula)}}},
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://team-data/models/"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.g5.12xlarge", "VolumeSizeInGB": 256},
        "RoleArn": ROLE_ARN,
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    })


def own_model_package(scope: Construct, id: str) -> cdk.CfnResource:
    return cdk.CfnResource(scope, id, type="AWS::SageMaker::Model", properties={
        "ExecutionRoleArn": ROLE_ARN,
        "PrimaryContainer": {"ModelPackageName": f"arn:aws:sagemaker:{REGION}:123456789012:model-package/team/1"},
    })


# (construct id, rule, compliant?) for each resource of the pack's app
CASES = [
    ("Eula001NonCompliant", "EULA001", False),
    ("Eula001Compliant", "EULA001", True),
    ("Eula002NonCompliant", "EULA002", False),
    ("Eula002Compliant", "EULA002", True),
    ("Eula003NonCompliant", "EULA003", False),
    ("Eula003Compliant", "EULA003", True),
    ("Eula004NonCompliant", "EULA004", False),
    ("Eula004Compliant", "EULA004", True),
    ("Eula005NonCompliant", "EULA005", False),
    ("Eula005Compliant", "EULA005", True),
]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("nag")))
    main = stack(app, "Nag")
    raw_model(main, "Eula001NonCompliant", LLAMA_7B, accept_eula=None)
    raw_model(main, "Eula001Compliant", LLAMA_7B, accept_eula=True)
    model_package(main, "Eula002NonCompliant", accept_eula=None)
    model_package(main, "Eula002Compliant", accept_eula=True)
    automl_custom_resource(main, "Eula003NonCompliant", {"BaseModelName": "Llama2-7BChat"})
    automl_custom_resource(main, "Eula003Compliant", {"BaseModelName": "Llama2-7BChat", **accepted(True)})
    training_job(main, "Eula004NonCompliant", accept_eula=False)
    training_job(main, "Eula004Compliant", accept_eula=True)
    marketplace_model(main, "Eula005NonCompliant")
    own_model_package(main, "Eula005Compliant")
    error_acknowledged = raw_model(main, "ErrorAcknowledged", LLAMA_7B_CHAT, accept_eula=False)
    cdk.Validations.of(error_acknowledged).acknowledge(cdk.Acknowledgment(id="EulaChecks-EULA001", reason="no"))
    warning_acknowledged = marketplace_model(main, "WarningAcknowledged")
    cdk.Validations.of(warning_acknowledged).acknowledge(
        cdk.Acknowledgment(id="EulaChecks-EULA005", reason="subscribed"))
    raw_model(cdk.NestedStack(main, "Nested"), "Llama", LLAMA_13B, accept_eula=None)
    cdk.Validations.of(app).add_plugins(EulaChecks(app))
    return synth(app)


@pytest.mark.parametrize(("construct_id", "rule", "compliant"), CASES)
def test_each_rule_flags_its_non_compliant_resource_only(
    checked: SynthResult, construct_id: str, rule: str, compliant: bool,
) -> None:
    violations = checked.violations(PACK, f"Nag/{construct_id}")
    if compliant:
        assert violations == []
        return
    (violation,) = violations
    assert violation["ruleName"] == f"EulaChecks-{rule}"
    severity = next(r.severity for r in RULES if r.id == rule)
    assert violation["severity"] == ("fatal" if severity == "error" else "warning")
    assert violation["ruleMetadata"]["modelId"] in violation["description"]
    assert violation["suggestedFix"]


def test_an_error_fails_the_synth(checked: SynthResult) -> None:
    assert checked.error is not None and "ValidationFailed" in checked.error
    assert checked.plugin(PACK)["conclusion"] == "failure"


def test_an_acknowledged_error_is_still_fatal_and_says_why(checked: SynthResult) -> None:
    (violation,) = checked.violations(PACK, "Nag/ErrorAcknowledged")
    assert violation["severity"] == "fatal"
    assert violation["description"].startswith(
        "Acknowledgment of EulaChecks-EULA001 ignored: EULA errors cannot be acknowledged.")
    assert LLAMA_7B_CHAT in violation["description"]


def test_an_acknowledged_warning_is_not_reported(checked: SynthResult) -> None:
    assert checked.violations(PACK, "Nag/WarningAcknowledged") == []


def test_a_nested_stack_finding_is_reported_at_its_construct(checked: SynthResult) -> None:
    (violation,) = checked.violations(PACK, "Nag/Nested/Llama")
    assert violation["ruleName"] == "EulaChecks-EULA001" and LLAMA_13B in violation["description"]
    assert violation["violatingConstructs"][0]["cloudFormationResource"]["logicalId"] == "Llama"


def test_nothing_else_is_reported(checked: SynthResult) -> None:
    expected = {f"Nag/{construct_id}" for construct_id, _, compliant in CASES if not compliant}
    assert checked.reported_paths(PACK) == expected | {"Nag/ErrorAcknowledged", "Nag/Nested/Llama"}


def test_verbose_adds_the_rule_explanation(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    raw_model(stack(app, "Verbose"), "Llama", LLAMA_7B, accept_eula=None)
    cdk.Validations.of(app).add_plugins(EulaChecks(app, verbose=True))
    (violation,) = synth(app).violations(PACK, "Verbose/Llama")
    explanation = next(rule.description for rule in RULES if rule.id == "EULA001")
    assert violation["description"].endswith(explanation)


def test_without_logical_id_metadata_findings_are_still_reported(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:disable-logicalId-metadata": True})
    raw_model(stack(app, "Unmapped"), "Llama", LLAMA_7B, accept_eula=None)
    cdk.Validations.of(app).add_plugins(EulaChecks(app))
    result = synth(app)
    assert result.error is not None
    (violation,) = result.violations(PACK, "Unmapped/Llama")  # CDK found the construct by logical id
    assert violation["severity"] == "fatal"


def test_the_pack_names_its_rules_the_cdk_nag_way() -> None:
    pack = EulaChecks()
    assert pack.name == PACK
    assert pack.rule_ids == [f"EulaChecks-{rule.id}" for rule in RULES]

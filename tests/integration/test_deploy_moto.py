"""Deploy endpoint stacks with the real CDK CLI to a local moto server, then read them back with boto3.

Two apps are deployed: a small app of this module's own (run as ``python -m tests.integration.test_deploy_moto``;
it holds both endpoint constructs) and the example app's endpoint stacks (``app.py`` with
``-c synthesizer=bootstrapless``; its fine-tuning stacks need Lambda-backed custom resources, which moto cannot
run here). Each is synthesized to a temporary cloud assembly and deployed from it with
``cdk deploy --method=direct`` (moto cannot execute change sets).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from tests.support.moto_server import MotoServer

REPOSITORY = Path(__file__).resolve().parents[2]
CDK = REPOSITORY / "node_modules" / ".bin" / "cdk"
PYTHON = REPOSITORY / ".venv" / "bin" / "python"
OWN_APP_STACK = "EndpointsOnMoto"
REGION = "us-east-1"
# Resource types whose stacks cannot deploy to moto here (their handlers are Lambda functions).
CUSTOM_RESOURCE_PREFIXES = ("Custom::", "AWS::CloudFormation::CustomResource", "AWS::Lambda::")


def build_own_app() -> None:
    """The module's own app: a gated model with acceptance, one without, and a fine-tuned artifact."""
    import aws_cdk as cdk

    from constructs_lib.constructs.serving.finetuned import FineTunedEndpoint
    from constructs_lib.constructs.serving.jumpstart import JumpStartEndpoint

    app = cdk.App()
    stack = cdk.Stack(app, OWN_APP_STACK, env=cdk.Environment(region=REGION),
                      synthesizer=cdk.BootstraplessSynthesizer())
    JumpStartEndpoint(stack, "Llama2Chat", model="Llama2-7BChat", accept_eula=True)
    JumpStartEndpoint(stack, "FlanT5", model="FlanT5XL")
    FineTunedEndpoint(
        stack, "Tuned", model_data="s3://my-ml-bucket/support/output/model.tar.gz",
        image_uri="763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1",
        base_model="Llama2-7B", instance_type="ml.g5.12xlarge",
    )
    app.synth()


def cdk_cli(moto_server: MotoServer, *arguments: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        **moto_server.environment(),
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",  # offline: no look-up of newer CLI versions
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    result = subprocess.run(
        [str(CDK), *arguments, "--no-notices", "--no-version-reporting"],
        cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert result.returncode == 0, f"cdk {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def synth_and_deploy(moto_server: MotoServer, assembly: Path, app: str | None, *context: str,
                     stacks: list[str] | None = None) -> list[str]:
    """Synthesize to ``assembly``, deploy the chosen (default: every) stack from it; the deployed names."""
    app_arguments = ["--app", app] if app else []
    cdk_cli(moto_server, "synth", *app_arguments, *context, "--output", str(assembly), "--quiet")
    names = stacks if stacks is not None else list(stack_templates(assembly))
    cdk_cli(moto_server, "deploy", *names, "--app", str(assembly), "--method=direct",
            "--require-approval", "never", "--concurrency", "1")
    return names


def stack_templates(assembly: Path) -> dict[str, dict[str, Any]]:
    """Stack name -> template, for the top-level stacks of a cloud assembly."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    templates = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "aws:cloudformation:stack":
            stack_name = artifact["properties"].get("stackName", artifact["displayName"])
            templates[stack_name] = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
    return templates


def deployed_endpoints(moto_server: MotoServer, stack_names: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The deployed models (``describe_model``) and endpoint names (from the stacks' outputs)."""
    cloudformation = moto_server.client("cloudformation")
    sagemaker = moto_server.client("sagemaker")
    models, endpoint_names = [], []
    for stack_name in stack_names:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        endpoint_names += [o["OutputValue"] for o in stack.get("Outputs", []) if "EndpointName" in o["OutputKey"]]
        resources = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
        for resource in resources:
            if resource["ResourceType"] == "AWS::SageMaker::Model":
                name = resource["PhysicalResourceId"].rsplit("/", 1)[-1]  # moto's physical id is the ARN
                models.append(sagemaker.describe_model(ModelName=name))
    return models, endpoint_names


def assert_acceptance_only_where_gated(models: list[dict[str, Any]], catalog: Catalog) -> set[str]:
    """Each JumpStart model carries AcceptEula true exactly when the catalog says it is gated; the model ids."""
    seen = set()
    for model in models:
        container = model["PrimaryContainer"]
        source = container.get("ModelDataSource", {}).get("S3DataSource")
        if source is None:  # a fine-tuned tarball: the user's own weights
            assert "jumpstart" not in container["ModelDataUrl"]
            continue
        key = source["S3Uri"].split("/", 3)[3]
        spec = catalog.model_in_s3_key(key)
        assert spec is not None, source["S3Uri"]
        seen.add(spec.model_id)
        if spec.gated:
            assert source["ModelAccessConfig"] == {"AcceptEula": True}, model["ModelName"]
        else:
            assert "ModelAccessConfig" not in source, model["ModelName"]
    return seen


def assert_in_service(moto_server: MotoServer, endpoint_names: list[str]) -> None:
    sagemaker = moto_server.client("sagemaker")
    assert endpoint_names
    for name in endpoint_names:
        assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"


@pytest.mark.deploy
def test_own_app_deploys_to_moto(moto_server: MotoServer, catalog: Catalog, tmp_path: Path) -> None:
    moto_server.reset()
    stacks = synth_and_deploy(moto_server, tmp_path / "cdk.out", f"{PYTHON} -m {__name__}")
    assert stacks == [OWN_APP_STACK]
    models, endpoint_names = deployed_endpoints(moto_server, stacks)
    assert len(models) == 3 and len(endpoint_names) == 3
    seen = assert_acceptance_only_where_gated(models, catalog)
    assert seen == {"meta-textgeneration-llama-2-7b-f", "huggingface-text2text-flan-t5-xl"}
    tuned = [m for m in models if "ModelDataUrl" in m["PrimaryContainer"]]
    assert [t["PrimaryContainer"]["ModelDataUrl"] for t in tuned] == ["s3://my-ml-bucket/support/output/model.tar.gz"]
    assert_in_service(moto_server, endpoint_names)


@pytest.mark.deploy
# moto's CloudFormation skips the autoscaling resources (the template tests cover them) and warns about each.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_example_app_endpoint_stacks_deploy_to_moto(moto_server: MotoServer, catalog: Catalog, tmp_path: Path) -> None:
    """``app.py`` over ``models.yaml``: the gated Llama 2 chat, Llama 3.1 and Gemma 2 rows accepted, the others
    (DeepSeek among them) without acceptance."""
    moto_server.reset()
    assembly = tmp_path / "cdk.out"
    cdk_cli(moto_server, "synth", "-c", "synthesizer=bootstrapless", "--output", str(assembly), "--quiet")
    endpoint_stacks = [
        name for name, template in stack_templates(assembly).items()
        if any(r["Type"] == "AWS::SageMaker::Endpoint" for r in template.get("Resources", {}).values())
        and not any(r["Type"].startswith(CUSTOM_RESOURCE_PREFIXES) for r in template.get("Resources", {}).values())
    ]
    assert endpoint_stacks, "the example app declares no endpoint-only stack"
    cdk_cli(moto_server, "deploy", *endpoint_stacks, "--app", str(assembly), "--method=direct",
            "--require-approval", "never", "--concurrency", "1")
    models, endpoint_names = deployed_endpoints(moto_server, endpoint_stacks)
    seen = assert_acceptance_only_where_gated(models, catalog)
    assert {"meta-textgeneration-llama-2-7b-f", "meta-textgeneration-llama-3-1-8b-instruct",
            "huggingface-llm-gemma-2-9b-instruct", "deepseek-llm-r1-distill-qwen-7b"} <= seen
    assert any(not catalog.get(model_id).gated for model_id in seen)
    llama_3 = [m for m in models if "meta-textgeneration-llama-3-1-8b-instruct/" in
               m["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"]]
    assert [m["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"] for m in llama_3] == [
        catalog.get("meta-textgeneration-llama-3-1-8b-instruct").artifact_uri(REGION)]
    assert len(endpoint_names) == len(models)
    assert_in_service(moto_server, endpoint_names)


if __name__ == "__main__":
    build_own_app()

"""EULA009 against the concrete CloudFormation evaluator: a serverless endpoint config whose model (chosen by
conditions, parameters and ``Fn::If``) loads a gated artifact in some deployment is an error (sound), and one
whose every deployment serves only the user's own weights gets no finding (precise). Acceptance on the model
does not change the verdict: serverless endpoints cannot carry it."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from tests.support.cfn_concrete import DeployFails, Deployment, deploy
from tests.support.cfn_soundness import GATED_BUCKET, GATED_URI, KEY, OWN_BUCKET, OWN_URI

PARAMETERS = {
    "Env": {"Type": "String", "AllowedValues": ["prod", "dev"], "Default": "dev"},
    "BoundedBucket": {"Type": "String", "AllowedValues": [GATED_BUCKET, OWN_BUCKET], "Default": OWN_BUCKET},
    "Accept": {"Type": "String", "AllowedValues": ["true", "false"], "Default": "true"},
}
CONDITIONS = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
MODEL_NAMES = {"A.ModelName": "model-a", "B.ModelName": "model-b"}

locations = st.sampled_from([
    GATED_URI, OWN_URI, {"Fn::If": ["IsProd", GATED_URI, OWN_URI]},
    {"Fn::Sub": f"s3://${{BoundedBucket}}/{KEY}"},
])
acceptances = st.sampled_from([True, None, {"Ref": "Accept"}, {"Fn::If": ["IsProd", True, False]}])
sources = st.sampled_from(["ModelDataSource", "ModelDataUrl", "AdditionalModelDataSources"])
model_names = st.sampled_from([
    {"Fn::GetAtt": ["A", "ModelName"]}, {"Fn::GetAtt": ["B", "ModelName"]},
    {"Fn::If": ["IsProd", {"Fn::GetAtt": ["A", "ModelName"]}, {"Fn::GetAtt": ["B", "ModelName"]}]},
])


def model(location: Any, accept: Any, source: str) -> dict[str, Any]:
    data_source: dict[str, Any] = {"S3Uri": location, "S3DataType": "S3Prefix", "CompressionType": "None"}
    if accept is not None:
        data_source["ModelAccessConfig"] = {"AcceptEula": accept}
    container: dict[str, Any] = {"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0"}
    if source == "ModelDataUrl":
        container["ModelDataUrl"] = location
    elif source == "ModelDataSource":
        container["ModelDataSource"] = {"S3DataSource": data_source}
    else:
        container["ModelDataSource"] = {"S3DataSource": {**data_source, "S3Uri": f"s3://{OWN_BUCKET}/adapter/"}}
        container["AdditionalModelDataSources"] = [{"ChannelName": "base", "S3DataSource": data_source}]
    return {"Type": "AWS::SageMaker::Model",
            "Properties": {"ExecutionRoleArn": "arn:role", "PrimaryContainer": container}}


@st.composite
def templates(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "Parameters": PARAMETERS, "Conditions": CONDITIONS,
        "Resources": {
            "A": model(draw(locations), draw(acceptances), draw(sources)),
            "B": model(draw(locations), draw(acceptances), draw(sources)),
            "Serverless": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [{
                "VariantName": "AllTraffic", "ModelName": draw(model_names),
                "ServerlessConfig": {"MemorySizeInMB": 6144, "MaxConcurrency": 5}}]}},
        },
    }


def loads_gated(properties: dict[str, Any]) -> bool:
    """Written from the API shapes, independently of the engine: any gated location in the container."""
    container = properties["PrimaryContainer"]
    locations = [container.get("ModelDataUrl"), container.get("ModelDataSource", {}).get("S3DataSource", {})
                 .get("S3Uri")]
    locations += [entry["S3DataSource"]["S3Uri"] for entry in container.get("AdditionalModelDataSources", [])]
    return any(isinstance(uri, str) and uri.startswith(f"s3://{GATED_BUCKET}/") for uri in locations)


def serves_gated_serverless(template: dict[str, Any]) -> bool:
    """Whether some deployment's serverless variant names a model that loads a gated artifact."""
    for env, bucket, accept in itertools.product(*(PARAMETERS[name]["AllowedValues"] for name in PARAMETERS)):
        deployment = Deployment(parameters={"Env": env, "BoundedBucket": bucket, "Accept": accept},
                                externals=MODEL_NAMES)
        try:
            resources = deploy(template, deployment, set())
        except DeployFails:
            continue
        names = {MODEL_NAMES[f"{logical}.ModelName"]: logical for logical in ("A", "B")}
        named = resources["Serverless"]["ProductionVariants"][0]["ModelName"]
        if loads_gated(resources[names[named]]):
            return True
    return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates())
def test_a_serverless_config_is_an_error_exactly_when_some_deployment_serves_a_gated_model(
        template: dict[str, Any], rules_catalog: Catalog) -> None:
    findings = [f for f in check_template(template, catalog=rules_catalog) if f.logical_id == "Serverless"]
    assert {f.rule_id for f in findings} <= {"EULA009"}
    errors = [f for f in findings if f.severity == "error"]
    assert bool(errors) == serves_gated_serverless(template), findings

"""The differential soundness check of the rule engine against the concrete evaluator (``cfn_concrete``).

``templates(bounded=...)`` builds SageMaker model templates that mix gated and non-gated locations and
acceptance through every construct the engine evaluates: parameters with and without ``AllowedValues``, list
parameters, conditions (``Fn::Equals/Not/And/Or/Condition``, resource conditions), ``Fn::If``, ``Fn::Select``
with literal and parameter indexes, ``Fn::Split``, ``Fn::Join``, ``Fn::Sub`` with variable maps,
``Fn::FindInMap`` keyed by the region, with list values and ``DefaultValue``, ``Fn::GetAtt``, ``Fn::ImportValue``,
dynamic references and ``Fn::ForEach`` over literal and parameter collections.

``deployments(template)`` lists concrete deployments: every combination of the values the template's unknowns
may take (sampled when there are too many). A *violation* is a deployed model whose container loads a gated
artifact without ``AcceptEula: true``.

- Soundness: whenever some deployment has a violation, the strict engine reports that resource as an error
  (and the default engine reports it at least as a warning).
- Precision (``bounded=True``: every unknown bounded by the template): when no deployment has a violation, the
  engine reports no error, for resources whose intrinsics evaluate in every deployment (the engine reads only
  the branch and element a reading picks, so an out-of-range ``Fn::Select`` elsewhere in the value, which fails
  the real stack, may go unseen: the engine then reports a stack that cannot deploy).
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from constructs_lib.catalog import GATED_BUCKET_PREFIX, PUBLIC_BUCKET_PREFIX, Catalog
from constructs_lib.rules import Finding
from tests.support.cfn_concrete import DeployFails, Deployment, deploy

GATED_BUCKET = "jumpstart-private-cache-prod-us-east-1"
OWN_BUCKET = "my-models"
KEY = "meta-textgeneration/meta-textgeneration-llama-2-7b-f/artifacts/inference-prepack/v1.1.0/"
GATED_URI = f"s3://{GATED_BUCKET}/{KEY}"
OWN_URI = f"s3://{OWN_BUCKET}/{KEY}"
PUBLIC_GATED_URI = "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/huggingface-llm-gemma-7b/artifacts/v1/"
PUBLIC_OPEN_URI = ("s3://jumpstart-cache-prod-us-east-1/huggingface-llm/"
                   "huggingface-llm-tinyllama-tinyllama-1-1b-chat-v1-0/artifacts/v1/")
MAX_DEPLOYMENTS = 512
REGION = {"Ref": "AWS::Region"}

PARAMETERS: dict[str, Any] = {
    "Bucket": {"Type": "String", "Default": OWN_BUCKET},
    "BoundedBucket": {"Type": "String", "AllowedValues": [GATED_BUCKET, OWN_BUCKET], "Default": OWN_BUCKET},
    "Accept": {"Type": "String", "AllowedValues": ["true", "false"], "Default": "true"},
    "AcceptOnly": {"Type": "String", "AllowedValues": ["true"], "Default": "true"},
    "FreeAccept": {"Type": "String", "Default": "true"},
    "Env": {"Type": "String", "AllowedValues": ["prod", "dev"], "Default": "dev"},
    "Index": {"Type": "Number", "AllowedValues": [0, 1], "Default": 0},
    "FreeIndex": {"Type": "Number", "Default": 0},
    "Uris": {"Type": "CommaDelimitedList", "Default": f"{OWN_URI},{OWN_URI}"},
    "SsmUri": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/models/uri"},
    "Models": {"Type": "CommaDelimitedList", "Default": "huggingface-llm-tinyllama-tinyllama-1-1b-chat-v1-0"},
}
# What a deployment may choose for each unknown (parameters, the region, values only deployment knows).
CHOICES: dict[str, list[str]] = {
    "Bucket": [OWN_BUCKET, GATED_BUCKET],
    "BoundedBucket": [GATED_BUCKET, OWN_BUCKET],
    "Accept": ["true", "false"],
    "AcceptOnly": ["true"],
    "FreeAccept": ["true", "false"],
    "Env": ["prod", "dev"],
    "Index": ["0", "1"],
    "FreeIndex": ["0", "1"],
    "Uris": [f"{OWN_URI},{GATED_URI}", f"{GATED_URI},{OWN_URI}"],
    "SsmUri": [OWN_URI, GATED_URI],  # the value the SSM parameter holds
    "Models": ["huggingface-llm-tinyllama-tinyllama-1-1b-chat-v1-0", "huggingface-llm-gemma-7b"],
    "region": ["us-east-1", "eu-west-1", "ap-south-1", "cn-north-1"],
    "Ext.Uri": [OWN_URI, GATED_URI],
    "Ext.Accept": ["true", "false"],
    "import:SharedUri": [OWN_URI, GATED_URI],
    "{{resolve:ssm:/models/uri}}": [OWN_URI, GATED_URI],
    "{{resolve:ssm:/models/accept}}": ["true", "false"],
}
MAPPINGS = {"Regions": {
    "us-east-1": {"Bucket": GATED_BUCKET, "Accept": "true", "Uris": [OWN_URI, GATED_URI]},
    "eu-west-1": {"Bucket": OWN_BUCKET, "Accept": "false", "Uris": [GATED_URI, OWN_URI]},
}}
CONDITIONS = {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    "IsEast": {"Fn::Equals": [REGION, "us-east-1"]},
    "ProdOrEast": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsEast"}]},
    "ProdAndWest": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["eu-west-1", REGION]}]},
    "OwnBucket": {"Fn::Equals": [{"Ref": "Bucket"}, OWN_BUCKET]},
    # The partition and URL suffix follow the region: China in us-east-1 never holds.
    "InChina": {"Fn::Equals": ["aws-cn", {"Ref": "AWS::Partition"}]},
    "ChinaEast": {"Fn::And": [{"Condition": "InChina"}, {"Condition": "IsEast"}]},
    "ChineseSuffix": {"Fn::Equals": [{"Ref": "AWS::URLSuffix"}, "amazonaws.com.cn"]},
}
BOUNDED_CONDITIONS = ["IsProd", "IsDev", "IsEast", "ProdOrEast", "ProdAndWest", "InChina", "ChinaEast",
                      "ChineseSuffix"]

BOUNDED_LOCATIONS: list[Any] = [
    GATED_URI, OWN_URI, PUBLIC_GATED_URI, PUBLIC_OPEN_URI,
    {"Fn::Sub": "s3://${BoundedBucket}/" + KEY},
    {"Fn::Sub": "s3://jumpstart-private-cache-prod-${AWS::Region}/" + KEY},
    {"Fn::Join": ["", ["s3://", {"Fn::FindInMap": ["Regions", REGION, "Bucket"]}, "/" + KEY]]},
    {"Fn::Select": [1, {"Fn::FindInMap": ["Regions", REGION, "Uris"]}]},
    {"Fn::Sub": ["s3://${B}/" + KEY, {"B": {"Fn::If": ["IsProd", GATED_BUCKET, OWN_BUCKET]}}]},
    {"Fn::FindInMap": ["Regions", REGION, "Uri", {"DefaultValue": OWN_URI}]},
    {"Fn::Select": [0, {"Fn::Split": [",", f"{OWN_URI},{GATED_URI}"]}]},
    {"Fn::Select": [{"Fn::Length": [1, {"Ref": "AWS::NoValue"}]}, [GATED_URI, OWN_URI]]},
]
UNBOUNDED_LOCATIONS: list[Any] = [
    {"Fn::Sub": "s3://${Bucket}/" + KEY},
    {"Fn::Join": ["", ["s3://", {"Ref": "Bucket"}, "/", KEY]]},
    {"Fn::Select": [{"Ref": "Index"}, {"Ref": "Uris"}]},
    {"Fn::Select": [{"Ref": "FreeIndex"}, [OWN_URI, GATED_URI]]},
    {"Fn::Select": [1, {"Fn::Split": [",", {"Fn::Join": [",", {"Ref": "Uris"}]}]}]},
    {"Ref": "SsmUri"},
    {"Fn::GetAtt": ["Ext", "Uri"]},
    {"Fn::ImportValue": "SharedUri"},
    "{{resolve:ssm:/models/uri}}",
    {"Fn::Sub": ["s3://${B}/k/", {"B": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}]},
]
BOUNDED_ACCEPTANCE: list[Any] = [
    True, False, "true", "false", "True", {"Ref": "AWS::NoValue"}, {"Ref": "Accept"}, {"Ref": "AcceptOnly"},
    {"Fn::FindInMap": ["Regions", REGION, "Accept"]},
    {"Fn::FindInMap": ["Regions", REGION, "Other", {"DefaultValue": "true"}]},
    {"Fn::Join": ["", ["tr", "ue"]]}, {"Fn::Sub": "${Accept}"},
    {"Fn::Select": [{"Ref": "Index"}, ["true", "false"]]},
    {"Fn::Select": [{"Fn::Length": [1]}, ["false", "true"]]},
]
UNBOUNDED_ACCEPTANCE: list[Any] = [
    {"Ref": "FreeAccept"}, {"Fn::GetAtt": ["Ext", "Accept"]}, "{{resolve:ssm:/models/accept}}",
    {"Fn::Select": [{"Ref": "FreeIndex"}, ["true", "false"]]},
]


def _choice(leaves: list[Any], conditions: list[str], indexes: list[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.sampled_from(leaves),
        lambda children: (st.builds(lambda c, a, b: {"Fn::If": [c, a, b]}, st.sampled_from(conditions),
                                    children, children)
                          | st.builds(lambda i, a, b: {"Fn::Select": [i, [a, b]]}, st.sampled_from(indexes),
                                      children, children)),
        max_leaves=3,
    )


@st.composite
def templates(draw: st.DrawFn, *, bounded: bool = False) -> dict[str, Any]:
    """A template of one or two SageMaker models (possibly in an Fn::ForEach) built from the pools above."""
    conditions = BOUNDED_CONDITIONS if bounded else list(CONDITIONS)
    indexes: list[Any] = [0, 1, {"Ref": "Index"}] + ([] if bounded else [{"Ref": "FreeIndex"}])
    locations = _choice(BOUNDED_LOCATIONS + ([] if bounded else UNBOUNDED_LOCATIONS), conditions, indexes)
    acceptance = _choice(BOUNDED_ACCEPTANCE + ([] if bounded else UNBOUNDED_ACCEPTANCE), conditions, indexes)
    resources: dict[str, Any] = {"Ext": {"Type": "Custom::Settings", "Properties": {"ServiceToken": "arn:token"}}}
    for number in range(draw(st.integers(1, 2))):
        shape = draw(st.sampled_from(["source", "url", "both", "training"]))
        model = (_training_job(draw(locations), draw(acceptance)) if shape == "training"
                 else _model(draw(locations), draw(acceptance), shape))
        condition = draw(st.none() | st.sampled_from(conditions))
        if condition is not None:
            model["Condition"] = condition
        loop = draw(st.sampled_from(["none", "none", "literal"] + ([] if bounded else ["parameter"])))
        if loop == "none":
            resources[f"Model{number}"] = model
            continue
        collection: Any = ([PUBLIC_GATED_URI.split("/")[4], PUBLIC_OPEN_URI.split("/")[4]] if loop == "literal"
                           else {"Ref": "Models"})
        if draw(st.booleans()):  # the item names the model
            container = model["Properties"].get("PrimaryContainer") or model["Properties"]["InputDataConfig"][0]
            by_item = {"Fn::Sub": "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/${Item}/artifacts/v1/"}
            if "DataSource" in container:
                container["DataSource"]["S3DataSource"]["S3Uri"] = by_item
            elif "ModelDataSource" in container:
                container["ModelDataSource"]["S3DataSource"]["S3Uri"] = by_item
            else:
                container["ModelDataUrl"] = by_item
        resources[f"Fn::ForEach::Loop{number}"] = ["Item", collection, {f"Model{number}&{{Item}}": model}]
    return {"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::LanguageExtensions",
            "Parameters": PARAMETERS, "Mappings": MAPPINGS, "Conditions": CONDITIONS, "Resources": resources}


def _model(location: Any, accept: Any, shape: str) -> dict[str, Any]:
    container: dict[str, Any] = {"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.21.0"}
    if shape in ("url", "both"):
        container["ModelDataUrl"] = location if shape == "url" else OWN_URI
    if shape in ("source", "both"):
        container["ModelDataSource"] = {"S3DataSource": {
            "S3Uri": location, "S3DataType": "S3Prefix", "CompressionType": "None",
            "ModelAccessConfig": {"AcceptEula": accept}}}
    return {"Type": "AWS::SageMaker::Model",
            "Properties": {"ExecutionRoleArn": "arn:aws:iam::123456789012:role/r", "PrimaryContainer": container}}


def _training_job(location: Any, accept: Any) -> dict[str, Any]:
    """A CreateTrainingJob request in a custom resource (as JumpStartFineTuningJob writes it)."""
    return {"Type": "Custom::TrainingJob", "Properties": {
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:jobs", "TrainingJobName": "tune",
        "AlgorithmSpecification": {"TrainingImage": "image", "TrainingInputMode": "File"},
        "InputDataConfig": [{"ChannelName": "model", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": location, "ModelAccessConfig": {"AcceptEula": accept}}}}],
        "OutputDataConfig": {"S3OutputPath": f"s3://{OWN_BUCKET}/output/"}, "RoleArn": "arn:role"}}


def deployments(template: dict[str, Any], seed: int = 0) -> Iterator[Deployment]:
    """Every combination of the values the template's unknowns may take (a sample when there are too many)."""
    text = json.dumps([template["Resources"], template["Conditions"]])
    names = [name for name in CHOICES if name == "region" or _mentions(text, name)]
    combinations = 1
    for name in names:
        combinations *= len(CHOICES[name])
    if combinations <= MAX_DEPLOYMENTS:
        chosen: Iterator[tuple[str, ...]] = itertools.product(*(CHOICES[name] for name in names))
    else:
        generator = random.Random(seed)
        chosen = iter([tuple(generator.choice(CHOICES[name]) for name in names) for _ in range(MAX_DEPLOYMENTS)])
    for values in chosen:
        assignment = dict(zip(names, values, strict=True))
        parameters = {name: value for name, value in assignment.items() if name in PARAMETERS}
        externals = {name: value for name, value in assignment.items() if name not in PARAMETERS}
        if "SsmUri" in assignment:  # an SSM parameter resolves to the value it holds
            parameters["SsmUri"] = assignment["SsmUri"]
        yield Deployment(parameters=parameters, region=assignment["region"], externals=externals)


def _mentions(text: str, name: str) -> bool:
    if name.startswith("{{"):
        return name in text
    if name.startswith("import:"):
        return f'"{name[len("import:"):]}"' in text
    if "." in name:
        return json.dumps(name.split(".")) in text
    return f'"{name}"' in text or f"${{{name}}}" in text


@dataclass
class Outcome:
    """What the deployments of one template did."""

    violated: set[str] = field(default_factory=set)  # resources some deployment creates gated and unaccepted
    failed: set[str] = field(default_factory=set)  # resources some deployment fails to evaluate
    tried: int = 0  # deployments


def violations(template: dict[str, Any], catalog: Catalog, seed: int = 0) -> Outcome:
    """Every deployment of the template, concretely."""
    outcome = Outcome()
    for deployment in deployments(template, seed):
        outcome.tried += 1
        try:
            resources = deploy(template, deployment, outcome.failed)
        except DeployFails:
            continue
        outcome.violated.update(logical_id for logical_id, properties in resources.items()
                                if logical_id != "Ext" and unaccepted_gated(properties, catalog))
    return outcome


def unaccepted_gated(properties: dict[str, Any], catalog: Catalog) -> bool:
    for channel in properties.get("InputDataConfig") or []:
        source = channel.get("DataSource", {}).get("S3DataSource", {})
        if _gated(source.get("S3Uri"), catalog) and not _accepted(source):
            return True
    containers = [properties.get("PrimaryContainer"), *(properties.get("Containers") or [])]
    for container in containers:
        if not isinstance(container, dict):
            continue
        if _gated(container.get("ModelDataUrl"), catalog):
            return True
        source = (container.get("ModelDataSource") or {}).get("S3DataSource") or {}
        if _gated(source.get("S3Uri"), catalog) and not _accepted(source):
            return True
    return False


def _accepted(source: dict[str, Any]) -> bool:
    accept = (source.get("ModelAccessConfig") or {}).get("AcceptEula")
    return accept is True or accept == "true"


def _gated(uri: Any, catalog: Catalog) -> bool:
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return False
    bucket, _, key = uri[len("s3://"):].partition("/")
    if bucket.startswith(GATED_BUCKET_PREFIX):
        return True
    spec = catalog.model_in_s3_key(key) if bucket.startswith(PUBLIC_BUCKET_PREFIX) else None
    return spec is not None and spec.gated


def reported(findings: list[Finding], violated: str, *, errors_only: bool) -> bool:
    """Whether the engine reports a violating resource (a copy of an Fn::ForEach over an unknown collection
    stands for every copy the collection may make)."""
    ids = {finding.logical_id for finding in findings if finding.severity == "error" or not errors_only}
    model = violated[:len("Model0")]  # the resource (or loop) number
    return violated in ids or f"{model}[Item]" in ids

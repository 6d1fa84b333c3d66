"""Templates of the common production pattern: the model is chosen by a parameter, acceptance is given per model.

``models_by_parameter(all_accepted=...)`` draws a few JumpStart models (gated and not, in a random order) as a
parameter's ``AllowedValues``, and gives acceptance per model in one of four ways:

- ``if``: ``Fn::If`` over conditions ``Fn::Equals [Ref Model, id]`` (operands in either order);
- ``list``: the same, with ``Model`` a ``CommaDelimitedList`` whose first item (``Fn::Select [0, Ref Model]``)
  is the model (CloudFormation checks each item against ``AllowedValues``, or a rule's ``Fn::EachMemberIn``);
- ``map``: ``Fn::FindInMap [AcceptByModel, Ref Model, Accept]``;
- ``split``: one parameter ``id|accept``, read by two ``Fn::Select`` of one ``Fn::Split``;
- ``rules``: acceptance a parameter of its own (with AllowedValues or free), the ``Rules`` section requiring it
  for each gated model.

Optionally the template is a StackSet's inline template (with the model passed by the StackSet, or not).
With ``all_accepted`` every gated model is accepted, so every concrete deployment accepts: the engine must report
no error (precision). Without, one gated model is not: some deployment violates, and the engine must report an
error (soundness). ``violating(template, catalog)`` decides that concretely, deployment by deployment.

``nested_models_by_parameter(all_accepted=...)`` builds the same choice in a parent that passes the model and its
acceptance, correlated, to a nested template (``AWS::CloudFormation::Stack``, a local ``TemplateURL``) that serves
it: sometimes through a middle template, sometimes with a second parent passing one fixed pair.
``nested_violating(files, catalog)`` deploys each parent concretely, then the templates it nests with what it
passes them; ``nested_errors(files, catalog)`` is what the engine reports on the same files.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from constructs_lib.catalog import Catalog
from constructs_lib.rules import scan_template
from constructs_lib.synth.assembly import located, read_with_nested_templates
from constructs_lib.synth.templates import load_template
from tests.support.cfn_concrete import (
    DeployFails,
    Deployment,
    deploy,
    nested_stack_resources,
    parameter_choices,
    stack_set_resources,
)
from tests.support.cfn_soundness import unaccepted_gated

# From the JumpStart catalog (/work/shared/jumpstart): huggingface-llm models that are gated, and that are not.
GATED_MODELS = ["huggingface-llm-gemma-7b-instruct", "huggingface-llm-gemma-2-2b",
                "huggingface-llm-gemma-2-2b-instruct", "huggingface-llm-dbrx-instruct",
                "huggingface-llm-gemma-2-9b-instruct"]
OPEN_MODELS = ["huggingface-llm-mistral-7b-instruct", "huggingface-llm-falcon-7b-instruct-bf16",
               "huggingface-llm-amazon-mistrallite", "huggingface-llm-aya-101"]
_LOCATION = "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/${Id}/artifacts/inference-prepack/v1.0.0/"
_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0-gpu"
STYLES = ("if", "list", "map", "split", "rules")


@st.composite
def models_by_parameter(draw: st.DrawFn, *, all_accepted: bool) -> dict[str, Any]:
    models, accept, unaccepted = _models(draw, all_accepted)
    style = draw(st.sampled_from(STYLES))
    template = _template(draw, style, models, accept)
    if draw(st.booleans()):
        parameter = "Choice" if style == "split" else "Model"
        # Passing a value binds it: to keep a violation possible, the StackSet passes the unaccepted model.
        violating_value = None if unaccepted is None else unaccepted + ("|false" if style == "split" else "")
        template = _in_stack_set(draw, template, parameter, violating_value)
    return template


def _models(draw: st.DrawFn, all_accepted: bool) -> tuple[list[str], dict[str, bool], str | None]:
    """A parameter's models (gated and not, in a random order), whether each is accepted, and the gated one that
    is not (``None`` with ``all_accepted``)."""
    models = draw(st.lists(st.sampled_from(GATED_MODELS + OPEN_MODELS), min_size=1, max_size=4, unique=True))
    gated = [model for model in models if model in GATED_MODELS]
    if not all_accepted and not gated:
        gated = [draw(st.sampled_from(GATED_MODELS))]
        models.insert(draw(st.integers(0, len(models))), gated[0])
    accept = {model: True if model in gated else draw(st.booleans()) for model in models}
    unaccepted = None if all_accepted else draw(st.sampled_from(gated))
    if unaccepted is not None:
        accept[unaccepted] = False
    return models, accept, unaccepted


def _literal(draw: st.DrawFn, value: bool) -> Any:
    return draw(st.sampled_from([value, "true" if value else "false"]))


def _template(draw: st.DrawFn, style: str, models: list[str], accept: dict[str, bool]) -> dict[str, Any]:
    parameters: dict[str, Any] = {"Model": {"Type": "String", "AllowedValues": models}}
    template: dict[str, Any] = {"Parameters": parameters}
    model_id: Any = {"Ref": "Model"}
    if style == "list":
        parameters["Model"]["Type"] = "CommaDelimitedList"
        model_id = {"Fn::Select": [0, {"Ref": "Model"}]}
        if draw(st.booleans()):  # no AllowedValues: a rule keeps every item among the models instead
            del parameters["Model"]["AllowedValues"]
            listed = {"Fn::EachMemberIn": [{"Ref": "Model"}, models]}
            template["Rules"] = {"Listed": {"Assertions": [{"Assert": listed}]}}
    if style in ("if", "list"):
        conditions = {}
        for number, model in enumerate(models):
            operands = [model_id, model]
            conditions[f"Is{number}"] = {"Fn::Equals": operands if draw(st.booleans()) else operands[::-1]}
        template["Conditions"] = conditions
        acceptance: Any = _literal(draw, accept[models[-1]])
        for number in reversed(range(len(models) - 1)):
            acceptance = {"Fn::If": [f"Is{number}", _literal(draw, accept[models[number]]), acceptance]}
    elif style == "map":
        template["Mappings"] = {"AcceptByModel": {model: {"Accept": _literal(draw, accept[model])}
                                                  for model in models}}
        acceptance = {"Fn::FindInMap": ["AcceptByModel", {"Ref": "Model"}, "Accept"]}
    elif style == "split":
        del parameters["Model"]
        parameters["Choice"] = {"Type": "String", "AllowedValues": [
            f"{model}|{'true' if accept[model] else 'false'}" for model in models]}
        model_id = {"Fn::Select": [0, {"Fn::Split": ["|", {"Ref": "Choice"}]}]}
        acceptance = {"Fn::Select": [1, {"Fn::Split": ["|", {"Ref": "Choice"}]}]}
    else:  # rules
        parameters["AcceptEula"] = draw(st.sampled_from([
            {"Type": "String", "AllowedValues": draw(st.permutations(["true", "false"]))},
            {"Type": "String", "Default": "false"}]))  # free: only the rules bound it
        acceptance = {"Ref": "AcceptEula"}
        required = [model for model in models if accept[model] and model in GATED_MODELS]
        if draw(st.booleans()) and required:  # one rule: Fn::Contains of the models that need acceptance
            template["Rules"] = {"Accepted": {
                "RuleCondition": {"Fn::Contains": [required, {"Ref": "Model"}]},
                "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "AcceptEula"}, "true"]}}]}}
        else:  # one rule per model
            # "not false" bounds only a parameter whose AllowedValues are true and false.
            bounded = "AllowedValues" in parameters["AcceptEula"]
            accepted = ({"Fn::Not": [{"Fn::Equals": ["false", {"Ref": "AcceptEula"}]}]} if bounded
                        else {"Fn::Equals": ["true", {"Ref": "AcceptEula"}]})
            template["Rules"] = {f"Accept{number}": {
                "RuleCondition": {"Fn::Equals": [{"Ref": "Model"}, model]}, "Assertions": [{"Assert": accepted}]}
                for number, model in enumerate(models) if model in required}
    template["Resources"] = {"Chat": _model(model_id, acceptance)}
    return template


def _model(model_id: Any, acceptance: Any) -> dict[str, Any]:
    return {"Type": "AWS::SageMaker::Model", "Properties": {
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/sagemaker",
        "PrimaryContainer": {"Image": _IMAGE, "ModelDataSource": {"S3DataSource": {
            "S3Uri": {"Fn::Sub": [_LOCATION, {"Id": model_id}]}, "S3DataType": "S3Prefix",
            "CompressionType": "None", "ModelAccessConfig": {"AcceptEula": acceptance}}}}}}


# What a parameter without AllowedValues is given in a concrete deployment: acceptance in several spellings, and a
# free list of models each model, and one no rule allows (refused by the rule that bounds it).
_FREE_VALUES = {"AcceptEula": ["true", "false", "yes"], "Model": [*GATED_MODELS, *OPEN_MODELS, "huggingface-llm-new"]}


def _in_stack_set(draw: st.DrawFn, inner: dict[str, Any], parameter: str, value: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"StackSetName": "serving", "PermissionModel": "SERVICE_MANAGED",
                                  "TemplateBody": json.dumps(inner)}
    if draw(st.booleans()):  # the StackSet passes one of the values (bound in the inner template)
        allowed = inner["Parameters"][parameter].get("AllowedValues") or \
            inner["Rules"]["Listed"]["Assertions"][0]["Assert"]["Fn::EachMemberIn"][1]  # a free list's rule
        value = value or draw(st.sampled_from(allowed))
        properties["Parameters"] = [{"ParameterKey": parameter, "ParameterValue": value}]
    return {"Resources": {"Serving": {"Type": "AWS::CloudFormation::StackSet", "Properties": properties}}}


def violating(template: dict[str, Any], catalog: Catalog) -> set[str]:
    """The resources some concrete deployment creates with a gated model and no acceptance (a StackSet counts
    for what its template deploys)."""
    inner = [json.loads(resource["Properties"]["TemplateBody"]) for resource in template["Resources"].values()
             if resource["Type"] == "AWS::CloudFormation::StackSet"]
    found: set[str] = set()
    for parameters in parameter_choices(template, *inner, free=_FREE_VALUES):
        deployment = Deployment(parameters=parameters)
        try:
            resources = deploy(template, deployment)
        except DeployFails:
            continue
        for logical_id, properties in resources.items():
            if template["Resources"][logical_id]["Type"] == "AWS::CloudFormation::StackSet":
                try:
                    deployed = list(stack_set_resources(properties, deployment).values())
                except DeployFails:
                    continue
            else:
                deployed = [properties]
            if any(unaccepted_gated(each, catalog) for each in deployed):
                found.add(logical_id)
    return found


@st.composite
def nested_models_by_parameter(draw: st.DrawFn, *, all_accepted: bool) -> dict[str, dict[str, Any]]:
    """``{file name: template}``: ``parent.json`` chooses the model by parameter with acceptance per model (any
    style above) and passes both, as ``ModelId`` and ``AcceptEula``, to ``serving.json``, directly or through
    ``middle.json``; ``other-parent.json``, when drawn, nests ``serving.json`` too with one fixed pair. When
    ``by_region`` is drawn, in eu-west-1 the parent passes no acceptance and the serving template an open model
    instead (one region in both: a nested stack deploys in its parent's); or the same in China, the parent
    telling it by its partition and the serving template by its URL suffix, or the other way round (one partition
    in both)."""
    models, accept, _unaccepted = _models(draw, all_accepted)
    chosen = _template(draw, draw(st.sampled_from(STYLES)), models, accept)
    source = chosen["Resources"]["Chat"]["Properties"]["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]
    # What the parent's own model would read, passed instead.
    passes = {"ModelId": source["S3Uri"]["Fn::Sub"][1]["Id"], "AcceptEula": source["ModelAccessConfig"]["AcceptEula"]}
    by_region = draw(st.sampled_from([None, *_PLACES]))
    if by_region is not None:
        chosen["Conditions"] = {**chosen.get("Conditions", {}), "InWest": _PLACES[by_region]}
        passes["AcceptEula"] = {"Fn::If": ["InWest", "false", passes["AcceptEula"]]}
    through_middle = draw(st.booleans())
    files = {"parent.json": {**chosen, "Resources": {
        "Serving": _nested_stack("middle.json" if through_middle else "serving.json", passes)}}}
    if through_middle:
        files["middle.json"] = {
            "Parameters": {"ModelId": {"Type": "String"}, "AcceptEula": {"Type": "String"}},
            "Resources": {"Serving": _nested_stack("serving.json", {name: {"Ref": name} for name in passes})}}
    if draw(st.booleans()):
        model = draw(st.sampled_from(models))
        files["other-parent.json"] = {"Resources": {"Serving": _nested_stack(
            "serving.json", {"ModelId": model, "AcceptEula": _literal(draw, accept[model])})}}
    files["serving.json"] = _serving(draw, models, by_region)
    return files


_IN_WEST = {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}
# How the parent tells where it deploys; the serving template tells by the same place's other name.
_BY_PARTITION = {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws-cn"]}
_BY_SUFFIX = {"Fn::Equals": [{"Ref": "AWS::URLSuffix"}, "amazonaws.com.cn"]}
_PLACES = {"region": _IN_WEST, "partition": _BY_PARTITION, "suffix": _BY_SUFFIX}
_SERVING_PLACES = {"region": _IN_WEST, "partition": _BY_SUFFIX, "suffix": _BY_PARTITION}
REGIONS = ("us-east-1", "eu-west-1", "cn-north-1")


def _nested_stack(url: str, passes: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url, "Parameters": passes}}


def _serving(draw: st.DrawFn, models: list[str], by_region: str | None) -> dict[str, Any]:
    """The nested template: the model and its acceptance are its parameters (bounded or free, with a Default or
    not; a condition of its own may compare the model), so alone it may be deployed without acceptance."""
    model_id: dict[str, Any] = {"Type": "String"}
    if draw(st.booleans()):
        model_id["AllowedValues"] = draw(st.permutations([*models, *OPEN_MODELS[:1]]))
    accept_eula = draw(st.sampled_from([{"Type": "String"}, {"Type": "String", "Default": "false"},
                                        {"Type": "String", "AllowedValues": draw(st.permutations(["true", "false"]))}]))
    template: dict[str, Any] = {"Parameters": {"ModelId": model_id, "AcceptEula": accept_eula}, "Conditions": {}}
    acceptance: Any = {"Ref": "AcceptEula"}
    served: Any = {"Ref": "ModelId"}
    if draw(st.booleans()):  # a condition of its own on the model passed: an open model is never accepted
        operands = [{"Ref": "ModelId"}, draw(st.sampled_from(OPEN_MODELS))]
        template["Conditions"]["IsOpen"] = {"Fn::Equals": draw(st.permutations(operands))}
        acceptance = {"Fn::If": ["IsOpen", "false", acceptance]}
    if by_region is not None:  # in eu-west-1 (or China) it serves an open model, whatever is passed
        template["Conditions"]["InWest"] = _SERVING_PLACES[by_region]
        served = {"Fn::If": ["InWest", draw(st.sampled_from(OPEN_MODELS)), served]}
    template["Resources"] = {"Llm": _model(served, acceptance)}
    return template


def nested_violating(files: dict[str, dict[str, Any]], catalog: Catalog) -> set[tuple[str, str]]:
    """``(file, logical id)`` of each resource of a nested template that some concrete deployment of a parent
    creates with a gated model and no acceptance."""
    found: set[tuple[str, str]] = set()
    for name, template in files.items():
        if "parent" not in name:
            continue
        choices = parameter_choices(template, free=_FREE_VALUES)
        for parameters, region in itertools.product(choices, REGIONS):
            deployment = Deployment(parameters=parameters, region=region)
            try:
                deployed = deploy(template, deployment)
            except DeployFails:
                continue
            found |= _nested_violating(files, template, deployed, deployment, catalog)
    return found


def _nested_violating(files: dict[str, dict[str, Any]], template: dict[str, Any],
                      deployed: dict[str, dict[str, Any]], deployment: Deployment, catalog: Catalog
                      ) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for logical_id, properties in deployed.items():
        if template["Resources"][logical_id]["Type"] != "AWS::CloudFormation::Stack":
            continue
        name = properties["TemplateURL"]
        try:
            nested = nested_stack_resources(properties, files[name], deployment)
        except DeployFails:
            continue
        found |= {(name, nested_id) for nested_id, nested_properties in nested.items()
                  if files[name]["Resources"][nested_id]["Type"] == "AWS::SageMaker::Model"
                  and unaccepted_gated(nested_properties, catalog)}
        found |= _nested_violating(files, files[name], nested, deployment, catalog)
    return found


def nested_errors(files: dict[str, dict[str, Any]], catalog: Catalog) -> set[tuple[str, str]]:
    """``(file, logical id)`` of each error the engine reports on the files, read as ``eulagate check`` reads a
    directory of templates (every nested template judged as the stacks nesting it deploy it)."""
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for name, template in sorted(files.items()):  # as a walk lists them: children may come first
            paths.append(Path(directory) / name)
            paths[-1].write_text(json.dumps(template), encoding="utf-8")
        return {(path.name, finding.logical_id)
                for path, (template, _), nested, passed in read_with_nested_templates(
                    paths, lambda path, _data: (load_template(path), None))
                for finding in scan_template(template, template_path=path.name, catalog=catalog,
                                             nested_templates_read=located(nested), passed=passed).findings
                if finding.severity == "error"}

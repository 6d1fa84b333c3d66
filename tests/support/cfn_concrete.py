"""A small *concrete* CloudFormation evaluator, for differential tests of the rule engine.

Given a template, parameter values, a region and the values only a deployment knows (attributes, imports,
dynamic references), it computes what CloudFormation would deploy: the properties of each resource whose
condition holds, every intrinsic resolved, ``Fn::ForEach`` expanded (``AWS::LanguageExtensions``). A deployment
CloudFormation would refuse (a value outside ``AllowedValues``, an assertion of the ``Rules`` section that fails,
a lookup that finds nothing, an index out of range) raises ``DeployFails``. ``stack_set_resources`` deploys a
StackSet's inline template with the parameters it passes; ``nested_stack_resources`` deploys a nested stack's
template with the parameters its resource passes in one deployment of the parent. ``parameter_choices`` lists
what a deployment may choose for each parameter with ``AllowedValues``. Written from the CloudFormation
documentation, independently of ``constructs_lib.rules``.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

NO_VALUE: Any = object()
_NOT_ALPHANUMERIC = re.compile("[^A-Za-z0-9]")
_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:[^}]*\}\}")
FOR_EACH = "Fn::ForEach::"
# The partition and URL suffix of a region, by the first part of its name (the regions the tests deploy to).
_PARTITIONS = {"cn": ("aws-cn", "amazonaws.com.cn")}


class DeployFails(Exception):
    """CloudFormation would refuse or roll back this deployment: nothing is deployed."""


@dataclass(frozen=True)
class Deployment:
    """One concrete deployment: what the person deploying chose, and what only deployment knows."""

    parameters: Mapping[str, str] = field(default_factory=dict)  # list parameters comma-separated
    region: str = "us-east-1"
    # "Resource.Attribute" for Fn::GetAtt, "import:Name" for Fn::ImportValue, the whole "{{resolve:...}}" text.
    externals: Mapping[str, str] = field(default_factory=dict)
    account: str = "123456789012"


def deploy(template: Mapping[str, Any], deployment: Deployment,
           failed: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """``{logical id: properties}`` of every resource the deployment creates; the ids of resources whose
    properties fail to evaluate (which fail the real stack) are added to ``failed``."""
    return _Evaluator(template, deployment).resources(failed if failed is not None else set())


class _Evaluator:
    def __init__(self, template: Mapping[str, Any], deployment: Deployment) -> None:
        self.deployment = deployment
        self.parameters = template.get("Parameters") or {}
        self.mappings = template.get("Mappings") or {}
        self.values = {name: self._parameter(name, spec) for name, spec in self.parameters.items()}
        self.resources_section = self._for_each(template.get("Resources") or {}, {})
        self.conditions_section = self._for_each(template.get("Conditions") or {}, {})
        self.condition_values: dict[str, bool] = {}
        self._check_rules(template.get("Rules") or {})

    def _check_rules(self, rules: Mapping[str, Any]) -> None:
        """CloudFormation refuses the parameters when an assertion of a rule whose RuleCondition holds fails."""
        for name, rule in rules.items():
            if "RuleCondition" in rule and not self._rule_truth(rule["RuleCondition"]):
                continue
            if not all(self._rule_truth(assertion["Assert"]) for assertion in rule.get("Assertions", [])):
                raise DeployFails(f"rule {name} refuses the parameters")

    def _rule_truth(self, expression: Any) -> bool:
        """A rule-specific function: the condition functions, and the list functions only rules may use."""
        (function, argument), = expression.items()
        if function not in ("Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn"):
            return self._logic(expression, self._rule_truth)
        members = [_text(member) for member in self.value(argument[0])]
        if function == "Fn::Contains":
            return _text(self.value(argument[1])) in members
        if function == "Fn::EachMemberEquals":
            return all(member == _text(self.value(argument[1])) for member in members)
        return set(members) <= {_text(member) for member in self.value(argument[1])}

    # -- parameters and conditions --------------------------------------------------------------------

    def _parameter(self, name: str, spec: Mapping[str, Any]) -> Any:
        given = self.deployment.parameters.get(name)
        value = given if given is not None else spec.get("Default")
        if value is None:
            raise DeployFails(f"parameter {name} has no value")
        text = _text(value)
        allowed = spec.get("AllowedValues")
        kind = str(spec.get("Type", "String"))
        is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
        options = [_text(option) for option in allowed] if allowed is not None else None
        if options is not None and not is_list and text not in options:
            raise DeployFails(f"parameter {name} is not one of its AllowedValues")
        # A CommaDelimitedList's AllowedValues constrain each item (CloudFormation, since December 2022).
        if options is not None and kind == "CommaDelimitedList" and any(
                item not in options for item in text.split(",")):
            raise DeployFails(f"an item of parameter {name} is not one of its AllowedValues")
        return text.split(",") if is_list else text

    def condition(self, name: str) -> bool:
        if name not in self.condition_values:
            if name not in self.conditions_section:
                raise DeployFails(f"condition {name} is not defined")
            self.condition_values[name] = self._truth(self.conditions_section[name])
        return self.condition_values[name]

    def _truth(self, expression: Any) -> bool:
        return self._logic(expression, self._truth)

    def _logic(self, expression: Any, truth: Callable[[Any], bool]) -> bool:
        (function, argument), = expression.items()
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Not":
            return not truth(argument[0])
        if function == "Fn::And":
            return all(truth(operand) for operand in argument)
        if function == "Fn::Or":
            return any(truth(operand) for operand in argument)
        if function == "Fn::Equals":
            return _text(self.value(argument[0])) == _text(self.value(argument[1]))
        raise DeployFails(f"unknown condition function {function}")

    # -- Fn::ForEach ----------------------------------------------------------------------------------

    def _for_each(self, value: Any, bindings: dict[str, str]) -> Any:
        if isinstance(value, str):
            for identifier, item in bindings.items():
                value = value.replace(f"${{{identifier}}}", item).replace(
                    f"&{{{identifier}}}", _NOT_ALPHANUMERIC.sub("", item))
            return value
        if isinstance(value, list):
            return [self._for_each(item, bindings) for item in value]
        if not isinstance(value, dict):
            return value
        if list(value) == ["Ref"] and value["Ref"] in bindings:
            return bindings[value["Ref"]]
        result: dict[str, Any] = {}
        for key, child in value.items():
            if key.startswith(FOR_EACH):
                identifier, collection, fragment = child
                items = self.value(self._for_each(collection, bindings))
                for item in items:
                    result.update(self._for_each(fragment, {**bindings, identifier: _text(item)}))
            else:
                result[self._for_each(key, bindings)] = self._for_each(child, bindings)
        return result

    # -- values ---------------------------------------------------------------------------------------

    def resources(self, failed: set[str]) -> dict[str, dict[str, Any]]:
        """Each resource evaluated on its own: one that fails (an index out of range) fails the real stack
        too, but the others are still reported as what they would be, as the engine judges resources."""
        deployed = {}
        for logical_id, resource in self.resources_section.items():
            condition = resource.get("Condition")
            if condition is not None and not self.condition(condition):
                continue
            try:
                properties = self.value(resource.get("Properties", {}))
            except DeployFails:
                failed.add(logical_id)
                continue
            deployed[logical_id] = properties if isinstance(properties, dict) else {}
        return deployed

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return _DYNAMIC_REFERENCE.sub(lambda match: self._external(match.group()), value)
        if isinstance(value, list):
            return [item for item in (self.value(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            handler = _FUNCTIONS.get(function)
            if handler is not None:
                return handler(self, argument)
        result = {key: self.value(child) for key, child in value.items()}
        return {key: child for key, child in result.items() if child is not NO_VALUE}

    def _external(self, key: str) -> str:
        return self.deployment.externals.get(key, f"value-of-{key}")

    def ref(self, name: str) -> Any:
        partition, suffix = _PARTITIONS.get(self.deployment.region.split("-")[0], ("aws", "amazonaws.com"))
        pseudo = {"AWS::Region": self.deployment.region, "AWS::AccountId": self.deployment.account,
                  "AWS::Partition": partition, "AWS::URLSuffix": suffix, "AWS::StackName": "stack",
                  "AWS::StackId": "stack-id", "AWS::NoValue": NO_VALUE}
        if name in pseudo:
            return pseudo[name]
        if name in self.values:
            return self.values[name]
        if name in self.resources_section:
            return self.deployment.externals.get(name, f"{name.lower()}-physical-id")
        raise DeployFails(f"Ref to undefined {name}")

    def if_(self, argument: Any) -> Any:
        condition, when_true, when_false = argument
        return self.value(when_true if self.condition(condition) else when_false)

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(self.value(variables[name]))
            if "." in name:
                return _text(self.get_att(name.split(".", 1)))
            return _text(self.ref(name))

        return self.value(re.sub(r"\$\{([^}]*)\}", replace, text))

    def join(self, argument: Any) -> str:
        delimiter, items = argument
        return _text(self.value(delimiter)).join(_text(item) for item in self.value(items))

    def select(self, argument: Any) -> Any:
        index, items = self.value(argument[0]), self.value(argument[1])
        position = int(_text(index))
        if not 0 <= position < len(items):
            raise DeployFails("Fn::Select index out of range")
        return items[position]

    def split(self, argument: Any) -> list[str]:
        return _text(self.value(argument[1])).split(_text(self.value(argument[0])))

    def find_in_map(self, argument: Any) -> Any:
        name, top, second = (_text(self.value(key)) for key in argument[:3])
        row = self.mappings.get(name, {}).get(top, {})
        if second in row:
            return row[second]
        if len(argument) == 4:
            return self.value(argument[3]["DefaultValue"])
        raise DeployFails(f"Fn::FindInMap {name} {top} {second} finds nothing")

    def get_att(self, argument: Any) -> str:
        target = argument if isinstance(argument, str) else ".".join(_text(self.value(part)) for part in argument)
        return self.deployment.externals.get(target, f"{target}-value")

    def import_value(self, argument: Any) -> str:
        return self._external(f"import:{_text(self.value(argument))}")


def stack_set_resources(properties: Mapping[str, Any], deployment: Deployment) -> dict[str, dict[str, Any]]:
    """What a StackSet's inline template deploys in one stack instance: its own parameters (those the StackSet
    passes; else their ``Default``, which an instance cannot override, since it overrides only parameters the
    StackSet specifies; else the deployment's choice of the same name), conditions and rules."""
    template = yaml.safe_load(properties["TemplateBody"]) if isinstance(properties["TemplateBody"], str) \
        else properties["TemplateBody"]
    passed = {entry["ParameterKey"]: _text(entry["ParameterValue"]) for entry in properties.get("Parameters", [])}
    defaulted = {name for name, spec in (template.get("Parameters") or {}).items() if "Default" in spec}
    chosen = {name: value for name, value in deployment.parameters.items() if name not in defaulted}
    instance = Deployment(parameters={**chosen, **passed}, region=deployment.region,
                          externals=deployment.externals, account=deployment.account)
    return deploy(template, instance)


def nested_stack_resources(properties: Mapping[str, Any], template: Mapping[str, Any], deployment: Deployment
                           ) -> dict[str, dict[str, Any]]:
    """What a nested stack (``AWS::CloudFormation::Stack``) deploys in one deployment of its parent: its template
    with the parameters the resource passes (``properties``, as the parent's deployment evaluated them; a
    parameter it does not pass takes its ``Default``), in the parent's region and account."""
    passed = {key: _text(value) for key, value in (properties.get("Parameters") or {}).items()}
    return deploy(template, Deployment(parameters=passed, region=deployment.region, externals=deployment.externals,
                                       account=deployment.account))


def parameter_choices(*templates: Mapping[str, Any], free: Mapping[str, list[str]] | None = None
                      ) -> Iterator[dict[str, str]]:
    """Every combination of the AllowedValues of the templates' parameters (parameters of one name share it), and
    of the values ``free`` gives parameters without AllowedValues."""
    allowed: dict[str, list[str]] = {}
    for template in templates:
        for name, spec in (template.get("Parameters") or {}).items():
            if "AllowedValues" in spec:
                allowed.setdefault(name, [_text(option) for option in spec["AllowedValues"]])
            elif free and name in free:
                allowed.setdefault(name, free[name])
    for values in itertools.product(*allowed.values()):
        yield dict(zip(allowed, values, strict=True))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return str(value)


_FUNCTIONS = {
    "Ref": _Evaluator.ref,
    "Fn::If": _Evaluator.if_,
    "Fn::Sub": _Evaluator.sub,
    "Fn::Join": _Evaluator.join,
    "Fn::Select": _Evaluator.select,
    "Fn::Split": _Evaluator.split,
    "Fn::FindInMap": _Evaluator.find_in_map,
    "Fn::GetAtt": _Evaluator.get_att,
    "Fn::ImportValue": _Evaluator.import_value,
    "Fn::Base64": lambda evaluator, argument: base64.b64encode(_text(evaluator.value(argument)).encode()).decode(),
    "Fn::Length": lambda evaluator, argument: len(evaluator.value(argument)),
    "Fn::ToJsonString": lambda evaluator, argument: json.dumps(evaluator.value(argument), separators=(",", ":")),
    "Fn::GetAZs": lambda evaluator, _argument: [f"{evaluator.deployment.region}{zone}" for zone in "abc"],
}

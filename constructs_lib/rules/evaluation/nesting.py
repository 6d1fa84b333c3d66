"""What a nested stack resource passes its template, deployment by deployment, and the ``PassedValues`` a nested
template is judged with.

A nested stack resource (``AWS::CloudFormation::Stack``, ``AWS::Serverless::Application``) passes its template's
parameters in ``Parameters``. In each deployment of the parent that deploys the resource (its ``Condition``
holds, the parent's ``Rules`` allow it), every passed value is one text, or unknown: those texts together are one
*assignment*. The nested template is judged over the assignments its parents make, never over each passed value
on its own, so a model and its acceptance chosen by one parent parameter stay together. A nested stack deploys
in its parent's region and partition: where the parent's deployment fixes ``AWS::Region``, ``AWS::Partition`` or
``AWS::URLSuffix`` (a condition or lookup chose it), the assignment carries it to the nested template too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from constructs_lib.rules.evaluation.reader import Reader, readings
from constructs_lib.rules.evaluation.values import (
    ABSENT,
    MAX_READINGS,
    DeploymentFails,
    EvaluationLimit,
    PassedValues,
    TemplateContext,
    has_tokens,
    is_intrinsic,
    is_portable,
    parameter_choice,
    parameter_values,
    scalar_text,
)

Assignment = tuple[str | None, ...]  # the text of each bound parameter in one deployment, None where unknown
_BOUND_TYPES = ("String", "Number")  # a list or SSM parameter type is not bound (an SSM one is passed a name)
# Pseudo parameters a nested stack shares with its parent, after the parameters in each assignment.
SHARED_PSEUDO_PARAMETERS = ("AWS::Region", "AWS::Partition", "AWS::URLSuffix")
_SHARED_CHOICES = tuple(parameter_choice(name) for name in SHARED_PSEUDO_PARAMETERS)


def bound_parameters(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The parameters of a nested template that what its parents pass can bind: text and number ones."""
    parameters = template.get("Parameters")
    if not isinstance(parameters, dict):
        return {}
    return {str(name): spec for name, spec in parameters.items()
            if isinstance(spec, dict) and spec.get("Type") in _BOUND_TYPES}


def passed_assignments(resource: Mapping[str, Any], context: TemplateContext,
                       parameters: Mapping[str, Mapping[str, Any]]) -> set[Assignment]:
    """What the nested stack ``resource`` passes the nested template's ``parameters`` (``bound_parameters``) in
    each deployment of its own template (``context``, which may itself be bound by the stacks nesting it) that
    deploys it: one assignment per deployment, over ``parameters`` in order then ``SHARED_PSEUDO_PARAMETERS``
    (several when a value may be several texts in one). A parameter it does not pass takes its ``Default``; without
    one, CloudFormation refuses the nested stack, so that deployment passes nothing. Past ``MAX_READINGS``
    assignments or deployments: ``EvaluationLimit``."""
    properties = resource.get("Properties")
    condition = resource.get("Condition")
    # No Default: a deployment that does not pass the parameter fails ("must have values"), no assignment.
    defaults = [[scalar_text(spec["Default"])] if "Default" in spec else [] for spec in parameters.values()]
    found: set[Assignment] = set()
    for reader in readings(context, exact_keys=True):
        try:
            if isinstance(condition, str) and not reader.choose(condition):
                continue  # the nested stack is not deployed in this deployment of its parent
            passes = reader.field(properties, "Parameters") if isinstance(properties, dict) else ABSENT
            if passes is ABSENT:
                texts = defaults
            elif isinstance(passes, dict) and not is_intrinsic(passes):
                texts = [_texts(reader, passes[name], default) if name in passes else default
                         for name, default in zip(parameters, defaults, strict=True)]
            else:  # a map known only at deployment: it may pass anything
                texts = [[None]] * len(parameters)
            for name, key in zip(SHARED_PSEUDO_PARAMETERS, _SHARED_CHOICES, strict=True):
                if key in context.passed_slots:  # the region the parent's own parents fix travels down too
                    reader.render({"Ref": name})
            if reader.refusing_rule() is not None:
                continue  # CloudFormation refuses this deployment of the parent
        except DeploymentFails:
            continue
        shared = [[chosen if isinstance(chosen := reader.choices.get(key), str) else None] for key in _SHARED_CHOICES]
        found.update(itertools.product(*texts, *shared))
        if len(found) > MAX_READINGS:
            raise EvaluationLimit(f"the values passed to it combine in more than {MAX_READINGS} ways")
    return found


def _texts(reader: Reader, value: Any, default: list[str | None]) -> list[str | None]:
    """The texts a passed value is in one deployment (several when an unknown in it has known candidates only; a
    text whose only unknown is the region's shape is kept, ``is_portable``), ``[None]`` when the deployment leaves
    it otherwise unknown, ``default`` when it is ``AWS::NoValue`` (not passed)."""
    text = reader.render(value)
    if text is None:
        return default
    options: list[str | None] = [*reader.context.expand(text)]
    return [None] if any(option is None or not is_portable(option) for option in options) else options


def passed_values(parameters: Mapping[str, Mapping[str, Any]], assignments: Iterable[Assignment],
                  limit: str | None = None) -> PassedValues | None:
    """The ``PassedValues`` of a nested template's ``parameters`` (``bound_parameters``) from what its parents
    pass (``assignments``, from every stack nesting it). An assignment a ``String`` parameter's ``AllowedValues``
    refuse deploys nothing (CloudFormation refuses the nested stack). A parameter (or shared pseudo parameter) no
    assignment fixes is left out, free as on its own; ``None`` when nothing is bound."""
    if not parameters:
        return None
    if limit is not None:  # a valuation that meets a passed parameter cannot be evaluated
        return PassedValues(tuple(parameters), (), limit)
    names = (*parameters, *SHARED_PSEUDO_PARAMETERS)
    domains = [parameter_values(spec) if spec.get("Type") == "String" else ((), False) for spec in parameters.values()]
    allowed_values = [*(values if bounded else None for values, bounded in domains), *[None] * len(_SHARED_CHOICES)]
    # A text with the region's shape in it may be any of the allowed values in some region: never refused.
    rows = [assignment for assignment in set(assignments) if not any(
        value is not None and not has_tokens(value) and allowed is not None and value not in allowed
        for value, allowed in zip(assignment, allowed_values, strict=True))]
    if not rows:  # no deployment of a parent deploys the nested stack: a valuation that meets a parameter fails
        return PassedValues(tuple(parameters), ())
    fixed = [slot for slot in range(len(names)) if any(row[slot] is not None for row in rows)]
    if not fixed:
        return None  # every deployment leaves every parameter free: nothing is bound
    projected = {tuple(row[slot] for slot in fixed) for row in rows}
    return PassedValues(tuple(names[slot] for slot in fixed), tuple(sorted(projected, key=str)))

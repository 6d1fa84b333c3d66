"""What a nested stack resource passes its template, deployment by deployment, and the ``PassedValues`` a nested
template is judged with.

A nested stack resource (``AWS::CloudFormation::Stack``, ``AWS::Serverless::Application``) passes its template's
parameters in ``Parameters``. In each deployment of the parent that deploys the resource (its ``Condition``
holds, the parent's ``Rules`` allow it), every passed value is one text, or unknown: those texts together are one
*assignment*. The nested template is judged over the assignments its parents make, never over each passed value
on its own, so a model and its acceptance chosen by one parent parameter stay together.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from constructs_lib.rules.evaluation.reader import Reader, readings
from constructs_lib.rules.evaluation.values import (
    MAX_READINGS,
    DeploymentFails,
    EvaluationLimit,
    PassedValues,
    TemplateContext,
    has_tokens,
    parameter_values,
    scalar_text,
)

Assignment = Mapping[str, str | None]  # a parameter the resource passes -> its text in one deployment, or None
_BOUND_TYPES = ("String", "Number")  # a list or SSM parameter type is not bound (an SSM one is passed a name)


def bound_parameters(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The parameters of a nested template that what its parents pass can bind: text and number ones."""
    parameters = template.get("Parameters")
    if not isinstance(parameters, dict):
        return {}
    return {str(name): spec for name, spec in parameters.items()
            if isinstance(spec, dict) and spec.get("Type") in _BOUND_TYPES}


def passed_assignments(resource: Mapping[str, Any], context: TemplateContext, names: Collection[str]
                       ) -> list[Assignment]:
    """What the nested stack ``resource`` passes the parameters ``names`` in each deployment of its template
    (``context``, which may itself be bound by the stacks nesting it) that deploys it: one assignment per
    deployment, deduplicated (several when a value may be several texts in one). Past ``MAX_READINGS``
    assignments or deployments: ``EvaluationLimit``."""
    properties = resource.get("Properties")
    given = properties.get("Parameters") if isinstance(properties, Mapping) else None
    passes = {str(key): value for key, value in given.items() if str(key) in names} if isinstance(given, dict) \
        else {}
    condition = resource.get("Condition")
    found: dict[tuple[str | None, ...], None] = {}
    for reader in readings(context):
        try:
            if isinstance(condition, str) and not reader.choose(condition):
                continue  # the nested stack is not deployed in this deployment of its parent
            texts = [_texts(reader, value) for value in passes.values()]
            if reader.refusing_rule() is not None:
                continue  # CloudFormation refuses this deployment of the parent
        except DeploymentFails:
            continue
        found.update(dict.fromkeys(itertools.product(*texts)))
        if len(found) > MAX_READINGS:
            raise EvaluationLimit(f"the values passed to it combine in more than {MAX_READINGS} ways")
    return [dict(zip(passes, assignment, strict=True)) for assignment in found]


def _texts(reader: Reader, value: Any) -> list[str | None]:
    """The texts a passed value is in one deployment (several when an unknown in it has known candidates only),
    or ``[None]`` when the deployment leaves it unknown."""
    text = reader.render(value)
    if text is None:
        return [None]
    options: list[str | None] = [*reader.context.expand(text)]
    return [None] if any(option is None or has_tokens(option) for option in options) else options


def passed_values(template: Mapping[str, Any], assignments: Iterable[Assignment], limit: str | None = None
                  ) -> PassedValues | None:
    """The ``PassedValues`` of a nested template from what its parents pass (``assignments``, from every stack
    nesting it): each text or number parameter takes the value passed, its ``Default`` when an assignment does
    not pass it, or stays free when neither is known. An assignment a ``String`` parameter's ``AllowedValues``
    refuse deploys nothing (CloudFormation refuses the nested stack). ``None`` when nothing is bound."""
    specs = bound_parameters(template)
    if not specs:
        return None
    names = tuple(specs)
    if limit is not None:
        return PassedValues(names, (), limit)
    defaults = [scalar_text(spec.get("Default")) for spec in specs.values()]
    domains = [parameter_values(spec) if spec.get("Type") == "String" else ((), False) for spec in specs.values()]
    allowed_values = [values if bounded else None for values, bounded in domains]
    rows: dict[tuple[str | None, ...], None] = {}
    for assignment in assignments:
        row = tuple(assignment.get(name, default) for name, default in zip(names, defaults, strict=True))
        if not any(value is not None and allowed is not None and value not in allowed
                   for value, allowed in zip(row, allowed_values, strict=True)):
            rows[row] = None
    if rows and all(value is None for row in rows for value in row):
        return None  # every deployment leaves every parameter free: nothing is bound
    return PassedValues(names, tuple(rows))

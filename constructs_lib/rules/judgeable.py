"""What every reader of templates refuses (``eulagate check``, the synth-time gate, the deploy-time hook), so that
nothing the rules cannot judge passes as clean: a resource that is not an object or has no ``Type``
(CloudFormation would reject the template), and a suppression that names a rule that does not exist (it would
silently suppress nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import repeat
from pathlib import Path
from typing import Any

from constructs_lib.catalog.errors import did_you_mean
from constructs_lib.errors import TemplateError
from constructs_lib.rules import RULE_IDS
from constructs_lib.rules.finding import normalized_rule_id
from constructs_lib.rules.suppressions import METADATA_KEY, SUPPRESS_KEY, unknown_suppressed_rules

FOR_EACH_PREFIX = "Fn::ForEach::"  # a loop of the LanguageExtensions transform, a list rather than a resource


class UnjudgeableTemplate(TemplateError):
    """A template that reads, with a resource the rules cannot judge: one line naming the file and the resource."""


def refuse_unjudgeable(template: Mapping[str, Any], path: Path | str) -> None:
    """``UnjudgeableTemplate`` (one line naming ``path`` and the resource) on the first resource the rules cannot
    judge, else on the first suppression of a rule that does not exist."""
    resources = template.get("Resources")
    if not isinstance(resources, Mapping) or (type(resources) is dict and _plainly_judgeable(resources)):
        return
    suppressing: list[str] = []  # the resources whose metadata may suppress rules
    for logical_id, resource in resources.items():
        # A dict resource is decided without the Mapping ABC.
        if type(resource) is dict and (resource_type := resource.get("Type")) and type(resource_type) is str:
            metadata = resource.get("Metadata")
            if metadata and (type(metadata) is not dict or METADATA_KEY in metadata):
                suppressing.append(logical_id)
            continue
        suppressing.append(logical_id)
        if str(logical_id).startswith(FOR_EACH_PREFIX):
            continue
        shown = _shown(logical_id)
        if not isinstance(resource, Mapping):
            raise UnjudgeableTemplate(f"{path}: resource {shown} is {_kind(resource)}, not an object with a Type "
                                "and Properties")
        resource_type = resource.get("Type")
        if not isinstance(resource_type, str) or not resource_type:
            raise UnjudgeableTemplate(f"{path}: resource {shown} has no Type; give it one, e.g. "
                                "Type: AWS::SageMaker::Model")
    if not suppressing:
        return
    for logical_id, rule in unknown_suppressed_rules({"Resources": {key: resources[key] for key in suppressing}},
                                                     RULE_IDS):
        raise UnjudgeableTemplate(
            f"{path}: resource {_shown(logical_id)} suppresses unknown rule {rule!r} in Metadata.{METADATA_KEY}."
            f"{SUPPRESS_KEY}{did_you_mean(normalized_rule_id(rule), RULE_IDS)} (`eulagate rules` lists them)")


def _plainly_judgeable(resources: dict[Any, Any]) -> bool:
    """Whether every resource is a dict with a non-empty string ``Type`` and none has ``eulagate`` metadata: nearly
    every template, told in C loops (``map``) rather than a Python loop over each resource of a large assembly.
    Anything else (``False``) is looked at resource by resource."""
    values = resources.values()
    try:
        types = set(map(dict.get, values, repeat("Type")))
        if any(map(dict.__contains__, filter(None, map(dict.get, values, repeat("Metadata"))),
                   repeat(METADATA_KEY))):
            return False
    except TypeError:  # a resource or its metadata that is not a dict, or a Type that cannot be hashed
        return False
    return "" not in types and all(type(resource_type) is str for resource_type in types)


def _shown(logical_id: Any) -> str:
    """A logical id as the one-line message shows it: as written, or quoted with escapes when it holds a line break
    or another character a terminal would not print."""
    text = str(logical_id)
    return text if text.isprintable() else repr(text)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"

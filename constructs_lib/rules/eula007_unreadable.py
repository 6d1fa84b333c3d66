"""EULA007: a definition the template holds but the engine cannot read; an unread definition is not a passed one."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import Check, Problem, Rule
from constructs_lib.rules.detection.requests import UNREADABLE
from constructs_lib.rules.eula006_not_shown import STATE_MACHINE, RequestsNotShown


class UnreadableDefinition(Rule):
    id = "EULA007"
    short_description = "A definition that may hold SageMaker requests cannot be read"
    description = (
        "A state machine definition, a SageMaker pipeline definition, a scheduled request, an SSM Automation "
        "document, a StackSet's inline template, or a string in a place that can carry a SageMaker request and "
        "looks like a document (JSON, or JSON encoded again), is malformed (not JSON or YAML, encoded more than "
        "EulaGate decodes, or nested too deeply), whatever words it holds, so EulaGate cannot read the requests it "
        "holds. The rest of the template is still checked; this resource fails until it can be read."
    )
    kinds = frozenset({UNREADABLE})
    surfaces = ("definitions a template holds: state machines, pipelines, scheduled requests, Automation documents, "
                "StackSets' TemplateBody, strings that look like documents where a request can be",)
    noncompliant_example = STATE_MACHINE + ("      DefinitionString: '{\"StartAt\": \"Done\", \"States\": "
                                            "{\"Done\": {\"Type\": \"Succeed\"}'\n")
    compliant_example = RequestsNotShown.compliant_example

    def check(self, check: Check) -> Iterator[Problem]:
        unread = check.request
        yield Problem(
            unread.location,
            f"so EulaGate cannot read the SageMaker requests of {unread.holds}",
            f"correct {unread.location}",
            lead=f"{unread.location} {unread.why}",
        )

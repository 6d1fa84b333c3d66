"""EULA006 (warning): SageMaker requests the template does not show, so nothing proves their acceptance."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import Check, Problem, Rule
from constructs_lib.rules.detection.requests import NOT_SHOWN

STATE_MACHINE = """\
Resources:
  Tuning:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/states
"""


class RequestsNotShown(Rule):
    id = "EULA006"
    short_description = "A definition that may hold SageMaker requests is kept outside the template"
    description = (
        "A state machine definition (DefinitionS3Location, DefinitionUri), a SageMaker pipeline definition "
        "(PipelineDefinitionS3Location), a StackSet's template (TemplateURL), a nested stack's template that "
        "cannot be located (an error with --strict), a scheduled or Step Functions "
        "request computed at run time, or one of these given by a parameter or another resource's attribute: "
        "the template does not show what it holds, so EulaGate cannot tell whether it deploys or fine-tunes an "
        "EULA-gated model without accepting its EULA. Write it inline, or run `eulagate check` on the file "
        "where it is kept, and acknowledge the warning."
    )
    severity = "warning"
    kinds = frozenset({NOT_SHOWN})
    surfaces = ("state machines' DefinitionS3Location/DefinitionUri", "pipelines' PipelineDefinitionS3Location",
                "StackSets' TemplateURL", "nested stacks whose template cannot be located",
                "requests computed at run time or given by a parameter")
    noncompliant_example = STATE_MACHINE + "      DefinitionS3Location: {Bucket: my-definitions, Key: tune.json}\n"
    compliant_example = STATE_MACHINE + ("      DefinitionString: '{\"StartAt\": \"Done\", \"States\": "
                                         "{\"Done\": {\"Type\": \"Succeed\"}}}'\n")

    def check(self, check: Check) -> Iterator[Problem]:
        unread = check.request
        yield Problem(
            unread.location,
            "so EulaGate cannot tell whether it uses an EULA-gated model without acceptance",
            unread.fix or f"write {unread.holds} inline in the template, or run `eulagate check` on it where it is "
                          "kept",
            lead=f"{unread.location} {unread.why}: it holds {unread.holds}",
            severity="warning" if unread.unknown else None,
        )

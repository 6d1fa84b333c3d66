"""EULA000: a resource that may send a SageMaker request but that the engine cannot evaluate."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import Check, Problem, Rule
from constructs_lib.rules.eula001_model import NONCOMPLIANT_EXAMPLE as GATED_MODEL
from constructs_lib.rules.eula001_model import GatedModelWithoutAcceptance
from constructs_lib.rules.evaluation.values import MAX_DEPTH

_GATED_URI = GATED_MODEL.split("S3Uri: ", 1)[1].split("\n", 1)[0]
# The gated artifact's location behind one more Fn::Join than the engine reads.
_TOO_DEEP = "{'Fn::Join': ['', [" * (MAX_DEPTH + 1) + repr(_GATED_URI) + "]]}" * (MAX_DEPTH + 1)


class UnevaluableResource(Rule):
    id = "EULA000"
    short_description = "Resource cannot be evaluated, so EULA acceptance cannot be proven"
    description = (
        "A resource a rule applies to (a SageMaker model, model package or inference component, a custom "
        "resource, a state machine) could not be evaluated: its intrinsic functions nest deeper than the "
        "engine reads, a value may take more texts than it enumerates, its parameters and conditions combine in "
        "more ways (deployments) than "
        "it reads, or a part of it is malformed. The engine never passes what it cannot read: simplify the "
        "resource (fewer nested intrinsics or conditions), or fix the malformed part the message names. The "
        "rest of the template is still checked."
    )
    # Reported by the engine itself (rules/engine.py) when evaluation stops, not from a request.
    kinds = frozenset({"unevaluable"})
    surfaces = ("every resource a rule applies to",)
    noncompliant_example = GATED_MODEL.replace(_GATED_URI, _TOO_DEEP, 1) + (
        "            ModelAccessConfig: {AcceptEula: true}\n")
    compliant_example = GatedModelWithoutAcceptance.compliant_example

    def check(self, check: Check) -> Iterator[Problem]:
        return iter(())

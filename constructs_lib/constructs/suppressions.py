"""``suppress_warning``: the construct-side way to write the metadata ``constructs_lib.rules.suppressions`` reads."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.errors import ConstructValidationError
from constructs_lib.rules import RULE_IDS, RULES
from constructs_lib.rules.suppressions import METADATA_KEY, SUPPRESS_KEY


def suppress_warning(scope: IConstruct, rule: str, reason: str) -> None:
    """Suppress warning ``rule`` (e.g. ``EULA005``), with ``reason``, on every CloudFormation resource in ``scope``.

    Errors cannot be suppressed, and a suppression needs a reason: both are refused here, at the construct.
    """
    severity = {rule_class.id: rule_class.severity for rule_class in RULES}.get(rule)
    if severity is None:
        raise ConstructValidationError(scope.node.path, f"unknown rule {rule!r}; the rules are "
                                                        f"{', '.join(RULE_IDS)}")
    if severity == "error":
        raise ConstructValidationError(scope.node.path, f"{rule} is an error and cannot be suppressed: accept the "
                                                        "EULA instead (`eulagate explain " + rule + "`)")
    if not reason.strip():
        raise ConstructValidationError(scope.node.path, f"suppressing {rule} needs a reason, e.g. the ticket that "
                                                        "records the Marketplace subscription")
    for construct in scope.node.find_all():
        if isinstance(construct, cdk.CfnResource):
            settings: dict[str, Any] = dict(construct.get_metadata(METADATA_KEY) or {})
            settings[SUPPRESS_KEY] = [*settings.get(SUPPRESS_KEY, []), {"rule": rule, "reason": reason.strip()}]
            construct.add_metadata(METADATA_KEY, settings)

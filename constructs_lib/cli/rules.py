"""``eulagate rules [--format json]``: every EULA rule with its id, severity, surfaces and documentation."""

from __future__ import annotations

import argparse
import json
from typing import Any

from constructs_lib.rules import RULES, Rule

RULES_DOCUMENTATION = "docs/rules.md"
# Where the project's documentation is published; SARIF's helpUri must be an absolute URI.
PROJECT_URL = "https://github.com/eulagate/eulagate"


def documentation_link(rule: type[Rule]) -> str:
    """Where the rule is documented: its anchor in docs/rules.md, relative to the repository."""
    return f"{RULES_DOCUMENTATION}#{rule.id.lower()}"


def documentation_url(rule: type[Rule]) -> str:
    """``documentation_link`` as an absolute URL on the project's published repository."""
    return f"{PROJECT_URL}/blob/main/{documentation_link(rule)}"


def rule_entry(rule: type[Rule]) -> dict[str, Any]:
    return {
        "id": rule.id,
        "severity": rule.severity,
        "summary": rule.short_description,
        "surfaces": list(rule.surfaces),
        "documentation": documentation_link(rule),
    }


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list the EULA rules (id, severity, where each looks, documentation)",
        description="List the rules `eulagate check` and the synth-time gate apply. `eulagate explain ID` shows "
                    "one rule's long description with a compliant and a non-compliant example.",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.format == "json":
        print(json.dumps([rule_entry(rule) for rule in RULES], indent=2))
        return 0
    lines = []
    for rule in RULES:
        lines.append(f"{rule.id}  {rule.severity:<7}  {rule.short_description}")
        if args.verbosity >= 0:
            lines.append(f"{'':18}surfaces: {'; '.join(rule.surfaces)}")
            lines.append(f"{'':18}docs: {documentation_link(rule)} (or `eulagate explain {rule.id}`)")
    print("\n".join(lines))
    return 0

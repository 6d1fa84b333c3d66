"""``eulagate explain RULE``: a rule's long description, with a template it fails and one it passes."""

from __future__ import annotations

import argparse
import textwrap

from constructs_lib.cli.rules import documentation_link
from constructs_lib.errors import InputError
from constructs_lib.rules import RULE_IDS, RULES, Rule
from constructs_lib.rules.finding import normalized_rule_id

WIDTH = 100


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain one EULA rule, with a compliant and a non-compliant example",
        description="Print a rule's long description, where it looks, a template it reports (non-compliant) and "
                    "the same template fixed (compliant).",
    )
    parser.add_argument("rule", metavar="RULE", help="a rule id, e.g. EULA001 (`eulagate rules` lists them)")
    parser.set_defaults(handler=run)


def find_rule(rule_id: str) -> type[Rule]:
    wanted = normalized_rule_id(rule_id)
    for rule in RULES:
        if rule.id == wanted:
            return rule
    raise InputError(f"unknown rule {rule_id!r}: the rules are {', '.join(RULE_IDS)} "
                     "(`eulagate rules` lists them)")


def explanation(rule: type[Rule]) -> str:
    verdict = "reports an error" if rule.severity == "error" else "warns"
    return "\n".join([
        f"{rule.id} ({rule.severity}): {rule.short_description}",
        "",
        textwrap.fill(rule.description, WIDTH, break_on_hyphens=False),
        "",
        f"Where it looks: {'; '.join(rule.surfaces)}.",
        "",
        f"Non-compliant ({rule.id} {verdict}):",
        "",
        textwrap.indent(rule.noncompliant_example, "    ").rstrip(),
        "",
        "Compliant:",
        "",
        textwrap.indent(rule.compliant_example, "    ").rstrip(),
        "",
        f"Documentation: {documentation_link(rule)}",
    ])


def run(args: argparse.Namespace) -> int:
    print(explanation(find_rule(args.rule)))
    return 0

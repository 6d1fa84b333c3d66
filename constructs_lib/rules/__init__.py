"""The EULA rule engine: pure Python over CloudFormation templates (plain dicts), shared by ``eulagate check``,
the synth-time gate and the cdk-nag pack. See docs/rules.md for the rules and what counts as acceptance."""

from constructs_lib.rules.base import Problem, Rule
from constructs_lib.rules.engine import RULES, TemplateScan, check_template, scan_template
from constructs_lib.rules.finding import Finding, Severity

__all__ = ["RULES", "RULE_IDS", "Finding", "Problem", "Rule", "Severity", "TemplateScan", "check_template",
           "scan_template"]

RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)  # the registry's ids, in its order

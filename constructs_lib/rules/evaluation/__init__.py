"""The evaluator: CloudFormation values read under one valuation (one deployment) at a time.

``values`` is the bottom (tokens for unknowns, a template's context, limits, parameters' domains); ``reader``
renders intrinsics under one valuation and holds the table of evaluators; each module above it registers a
family (``lists``: Fn::Select, Fn::Split; ``lookups``: Fn::FindInMap; ``conditions``; ``acceptance``;
``template_rules``: the Rules section). Importing this package registers them all.
"""

from constructs_lib.rules.evaluation import acceptance, conditions, lists, lookups, template_rules

__all__ = ["acceptance", "conditions", "lists", "lookups", "template_rules"]

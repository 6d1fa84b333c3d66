"""The evaluator: CloudFormation values read under one valuation (a deployment) at a time.

``values`` is the bottom (tokens for unknowns, a template's context, limits); ``reader`` renders intrinsics under
one valuation; the other modules are families of intrinsics and sections (conditions, lists, lookups,
acceptance, ``Fn::ForEach``) built on them.
"""

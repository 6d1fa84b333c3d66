"""Turn a model table into stacks under an App or a Stage, and pick each stack's synthesizer."""

from __future__ import annotations

import dataclasses

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.aws_names import ACCOUNT_PATTERN
from constructs_lib.errors import InputError
from constructs_lib.table import ModelTable
from constructs_lib.table.layout import StackKind, plan_stacks
from stacks.table_stack import ModelTableStack

SYNTHESIZERS = ("default", "bootstrapless", "legacy")


def synthesizer_for(name: str | None, kind: StackKind) -> cdk.IStackSynthesizer | None:
    """The synthesizer a ``-c synthesizer=NAME`` choice gives a stack of ``kind`` (None: CDK's default).

    ``bootstrapless`` (deploying without a bootstrap, e.g. to a local AWS emulator) applies to endpoint stacks;
    fine-tuning stacks carry their handlers' code as a file asset, which ``BootstraplessSynthesizer`` refuses,
    so they get ``LegacyStackSynthesizer`` (asset parameters) instead.
    """
    if name in (None, "default"):
        return None
    if name == "legacy" or (name == "bootstrapless" and kind != "endpoints"):
        return cdk.LegacyStackSynthesizer()
    if name == "bootstrapless":
        return cdk.BootstraplessSynthesizer()
    raise InputError(f"context synthesizer={name!r}: expected one of {', '.join(SYNTHESIZERS)}")


def add_table_stacks(
    scope: Construct,
    table: ModelTable,
    *,
    environment: str | None = None,
    synthesizer: str | None = None,
    account: str | None = None,
) -> list[ModelTableStack]:
    """Add the table's stacks to ``scope`` (an App, or a Stage per environment in a pipeline).

    ``environment`` keeps only that environment's targets (default: every row and target). ``account``
    (``-c account=...``) replaces ``defaults.account`` for rows outside environments.
    """
    if synthesizer not in (None, *SYNTHESIZERS):
        synthesizer_for(synthesizer, "endpoints")  # raises the one-line error listing the choices
    if account is not None:
        if not ACCOUNT_PATTERN.match(account):
            raise InputError(f"context account={account!r}: expected a 12-digit AWS account id")
        table = dataclasses.replace(table, default_account=account)
    return [
        ModelTableStack(
            scope, plan.stack_id, plan=plan, source=table.source, synthesizer=synthesizer_for(synthesizer, plan.kind)
        )
        for plan in plan_stacks(table, environment=environment)
    ]

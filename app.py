#!/usr/bin/env python3
"""The EulaGate CDK app: declares the stacks of the model table.

Context: ``table`` (default ``models.yaml``; cdk.json sets it), ``account`` (replaces ``defaults.account``),
``synthesizer`` (``default``, ``bootstrapless`` or ``legacy``), ``pipeline``, ``guard`` (the deploy-time hook's stacks
instead of the table's: docs/hook.md) and their settings. A bad table prints one line and exits 2 (under
``cdk synth`` the CLI then adds ``Subprocess exited with error 2`` and exits 1); so does a context key close to one
of these but not one of them (``-c tabel=mine.yaml`` would otherwise synthesize the default table in silence).
A synth names the table it read, on stderr.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from collections.abc import Iterable

# jsii prints an 11-line "Node 20 is end-of-life" banner each time it starts unless this names the Node major
# version; the README states the Node versions the project runs on. Set before aws_cdk is imported: the jsii
# runtime starts then, and inherits this environment.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk

from constructs_lib.constructs.one_line_errors import install_one_line_errors
from constructs_lib.errors import InputError
from constructs_lib.synth.gate import EulaGate
from constructs_lib.table import DEFAULT_TABLE, load_table
from stacks import add_guard_stacks, add_pipeline_stack, add_table_stacks, guard_requested, pipeline_requested
from stacks.pipeline import PipelineSettings

# The context keys this app reads: its own, the deploy-time hook's (docs/hook.md) and the pipeline's
# (docs/pipeline.md). CDK's own keys ("@aws-cdk/...", "aws:cdk:...", cached look-ups) hold ':' and are not ours.
CONTEXT_KEYS = frozenset({
    "table", "account", "synthesizer", "pipeline", "guard",
    "guard_failure_mode", "guard_regions", "guard_ous", "guard_code_bucket_prefix",
    *(field.name for field in dataclasses.fields(PipelineSettings)),
})


def refuse_misspelt_context(keys: Iterable[str]) -> None:
    """``InputError`` on a context key that is not one of ours but close to one (a typo would be ignored)."""
    for key in keys:
        if key in CONTEXT_KEYS or ":" in key:
            continue
        close = difflib.get_close_matches(key, sorted(CONTEXT_KEYS), n=1, cutoff=0.75)
        if close:
            raise InputError(f"unknown context key {key!r}; did you mean {close[0]!r}? (-c {close[0]}=...)")


def describe(table_source: str, endpoints: int, jobs: int) -> str:
    """The line a synth prints first: which table it read and what the table declares."""
    return (f"app.py: model table {table_source}: {endpoints} endpoint{'' if endpoints == 1 else 's'}, "
            f"{jobs} fine-tuning job{'' if jobs == 1 else 's'}")


def main() -> int:
    install_one_line_errors()  # a construct's bad props end the synth with one line, not a traceback
    app = cdk.App()
    # The EULA gate: the synth fails on a gated model used without acceptance (docs/gate.md).
    cdk.Validations.of(app).add_plugins(EulaGate())
    try:
        refuse_misspelt_context(app.node.get_all_context())
        table = load_table(app.node.try_get_context("table") or DEFAULT_TABLE)
        if guard_requested(app.node.try_get_context):  # -c guard=true: the deploy-time hook, docs/hook.md
            add_guard_stacks(app, table)
        elif pipeline_requested(app.node.try_get_context):  # -c pipeline=true: docs/pipeline.md
            add_pipeline_stack(app, table)
        else:
            add_table_stacks(
                app,
                table,
                synthesizer=app.node.try_get_context("synthesizer"),
                account=app.node.try_get_context("account"),
            )
    except InputError as error:
        print(f"app.py: {error}", file=sys.stderr)
        return 2
    # Named once the table's stacks are declared, so that bad input stays one line.
    print(describe(table.source, len(table.endpoints), len(table.fine_tuning)), file=sys.stderr)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())

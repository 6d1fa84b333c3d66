#!/usr/bin/env python3
"""The EulaGate CDK app: declares the stacks of the model table.

Context: ``table`` (default ``models.yaml``; cdk.json sets it), ``account`` (replaces ``defaults.account``),
``synthesizer`` (``default``, ``bootstrapless`` or ``legacy``), ``pipeline``, ``guard`` (the deploy-time hook's stacks
instead of the table's: docs/hook.md). A bad table prints one line and exits 2 (under ``cdk synth`` the CLI then
adds ``Subprocess exited with error 2`` and exits 1).
"""

from __future__ import annotations

import os
import sys

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


def main() -> int:
    install_one_line_errors()  # a construct's bad props end the synth with one line, not a traceback
    app = cdk.App()
    # The EULA gate: the synth fails on a gated model used without acceptance (docs/gate.md).
    cdk.Validations.of(app).add_plugins(EulaGate())
    try:
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
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())

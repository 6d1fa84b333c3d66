#!/usr/bin/env python3
"""Synth time of a table at delivery scale: 300 endpoints over 3 regions (dev: us-east-1; prod: us-west-2 and
eu-west-1), as plain table stacks and as the CDK Pipelines app that delivers them.

The baseline, measured in the same process and run, synthesizes the same stacks (the same layout: one stack per
target and shard) holding bare ``CfnModel`` + ``CfnEndpointConfig`` + ``CfnEndpoint`` trios with literal
properties: the least any endpoint costs. jsii starts (an empty synth) before anything is measured.

    .venv/bin/python bench/scale_synth.py [--endpoints 300] [--rounds 1]

``write_scale_table`` also gives ``tests/unit/test_scale_sharding.py`` its table.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# The app's `stacks` package and `bench` itself live at the repository root, which a script's path lacks.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk  # after the variable above: jsii reads it when it starts

from constructs_lib.catalog import Catalog
from constructs_lib.table import ModelTable, load_table
from constructs_lib.table.layout import plan_stacks
from stacks import add_pipeline_stack, add_table_stacks

SCALE_ENDPOINTS = 300
SCALE_ENVIRONMENTS = {
    "dev": [{"account": "111111111111", "region": "us-east-1"}],
    "prod": [{"account": "222222222222", "region": "us-west-2"}, {"account": "222222222222", "region": "eu-west-1"}],
}
PIPELINE_ACCOUNT = "111111111111"
PIPELINE_CONTEXT = {
    "pipeline": "true",
    "pipeline_source": "codecommit",
    "repository": "model-table",
    "pipeline_account": PIPELINE_ACCOUNT,
    "pipeline_region": "us-east-1",
}
TABLE_FILE = "models.yaml"
# The baseline endpoint of bench/construct_cost.py. bench/ holds scripts, not a package: mypy names its files as
# top-level modules, so a static `from bench.construct_cost import ...` would make it see that file twice.
bare_endpoint: Callable[[cdk.Stack, int], None] = importlib.import_module("bench.construct_cost").bare_endpoint


def scale_table(endpoints: int = SCALE_ENDPOINTS) -> dict[str, Any]:
    """A table of ``endpoints`` rows over the Autopilot models, each row in every environment; the gated ones
    accept their EULA, so the gate passes."""
    models = Catalog.default().autopilot_models()
    rows = []
    for index in range(endpoints):
        spec = models[index % len(models)]
        row: dict[str, Any] = {"name": f"endpoint-{index:03d}", "model": spec.base_model_name or spec.model_id,
                               "environments": list(SCALE_ENVIRONMENTS)}
        if spec.gated:
            row["accept_eula"] = True
        rows.append(row)
    environments = {name: {"targets": targets} for name, targets in SCALE_ENVIRONMENTS.items()}
    return {"environments": environments, "endpoints": rows}


def write_scale_table(directory: Path, endpoints: int = SCALE_ENDPOINTS) -> Path:
    path = directory / TABLE_FILE
    path.write_text(yaml.safe_dump(scale_table(endpoints), sort_keys=False), encoding="utf-8")
    return path


def pipeline_app(table: ModelTable, outdir: str, **context: Any) -> cdk.App:
    """The app ``app.py`` builds for ``-c pipeline=true`` with ``PIPELINE_CONTEXT``, writing to ``outdir``."""
    app = cdk.App(outdir=outdir, context={**PIPELINE_CONTEXT, **context})
    add_pipeline_stack(app, table)
    return app


def table_app(table: ModelTable, outdir: str) -> cdk.App:
    app = cdk.App(outdir=outdir)
    add_table_stacks(app, table)
    return app


def baseline_app(table: ModelTable, outdir: str) -> cdk.App:
    """The same stacks as the table's, each holding one bare endpoint trio per row."""
    app = cdk.App(outdir=outdir)
    for plan in plan_stacks(table):
        stack = cdk.Stack(app, plan.stack_id, env=cdk.Environment(account=plan.target.account,
                                                                  region=plan.target.region))
        for index in range(len(plan.placements)):
            bare_endpoint(stack, index)
    return app


def cpu_seconds() -> float:
    """CPU time of this process and its live descendants: jsii's runtime (node) runs its kernel, which does the
    synthesis, in a child process of its own.

    CPU time, unlike wall time, does not grow when other jobs share the machine's cores. Linux ``/proc`` only.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = time.process_time()
    pending = _children(os.getpid())
    while pending:
        pid = pending.pop()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # it may exit meanwhile
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            pending += _children(pid)
    return total


def _children(pid: int | str) -> list[str]:
    return [child for task in Path(f"/proc/{pid}/task").glob("*/children") for child in task.read_text().split()]


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def timed_synth(build: Callable[[str], cdk.App], outdir: str) -> Timing:
    """Seconds (wall and CPU) to build the app and synthesize it."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    build(outdir).synth()
    return Timing(time.perf_counter() - wall, cpu_seconds() - cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=SCALE_ENDPOINTS)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant, alternating order (median)")
    args = parser.parse_args()

    # The pipeline's synth step names the table relative to the repository: synthesize from the table's directory.
    with tempfile.TemporaryDirectory(prefix="eulagate-scale-") as work, contextlib.chdir(work):
        write_scale_table(Path(work), args.endpoints)
        start = time.perf_counter()
        table = load_table(TABLE_FILE)
        stacks = plan_stacks(table)
        layout_seconds = time.perf_counter() - start

        start = time.perf_counter()
        cdk.App(outdir=f"{work}/warm").synth()  # jsii start-up, not measured below
        startup_seconds = time.perf_counter() - start

        variants: dict[str, Callable[[str], cdk.App]] = {
            "baseline (bare trios, same stacks)": lambda outdir: baseline_app(table, outdir),
            "table stacks (cdk synth)": lambda outdir: table_app(table, outdir),
            "pipeline (-c pipeline=true)": lambda outdir: pipeline_app(table, outdir),
        }
        names = list(variants)
        samples: dict[str, list[Timing]] = {name: [] for name in names}
        for round_index in range(args.rounds):
            for name in names if round_index % 2 == 0 else names[::-1]:  # alternate, so drift favours none
                samples[name].append(timed_synth(variants[name], f"{work}/{round_index}-{names.index(name)}"))

    placements = sum(len(plan.placements) for plan in stacks)
    regions = sorted({plan.target.region for plan in stacks})
    print(f"table: {args.endpoints} endpoints x {len(regions)} regions ({', '.join(regions)}) = {placements} "
          f"endpoints in {len(stacks)} stacks (largest estimate {max(p.estimated_resources for p in stacks)} "
          "resources)")
    print(f"load + layout (pure Python): {layout_seconds * 1000:.0f} ms; jsii start-up: {startup_seconds:.1f} s "
          "(not included below)")
    print(f"build + synth, median of {args.rounds} run(s); CPU time (Python + jsii kernel) is the steadier "
          "figure on a shared machine:")
    baseline = _median(samples[names[0]])
    for name in names:
        timing = _median(samples[name])
        print(f"  {name:36s} wall {timing.wall:6.1f} s ({timing.wall / baseline.wall:.2f}x)   "
              f"CPU {timing.cpu:6.1f} s ({timing.cpu / baseline.cpu:.2f}x baseline)")
    return 0


def _median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings))


if __name__ == "__main__":
    raise SystemExit(main())

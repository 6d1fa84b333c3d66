#!/usr/bin/env python3
"""What the synth-time EULA gate adds to ``app.synth()`` on a stack at CloudFormation's size limit.

The stack holds 160 endpoints as ``CfnModel`` + ``CfnEndpointConfig`` + ``CfnEndpoint`` (480 resources, under the
500 a stack may hold) serving the 18 Autopilot models in turn from their JumpStart artifacts, the gated ones with
``AcceptEula: true`` (so the gate passes and the whole synth runs). Each run is a fresh process that builds the
app and times ``app.synth()``: the baseline without the gate and the app with it alternate, so drift favours
neither. Two clocks are read: wall time, and CPU time (this process plus its jsii kernel, where most of the synth
runs, read from /proc), which other jobs on a shared machine disturb far less. The gate's own ``validate`` time,
measured inside the same processes, is printed too.

    .venv/bin/python bench/gate_overhead.py [--runs 5] [--endpoints 160] [--plugin gate|pack]

``--plugin pack`` measures the cdk-nag pack (``EulaChecks``) instead. Target for the gate: at most 3 %.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerExecution"
TARGET_PERCENT = 3.0
MIN_RUNS = 5
BASELINE = "none"


def build_app(outdir: str, endpoints: int) -> Any:
    import aws_cdk as cdk
    from aws_cdk import aws_sagemaker as sagemaker

    from constructs_lib.catalog import Catalog

    models = Catalog.default().autopilot_models()
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "GateOverhead", env=cdk.Environment(region=REGION))
    for index in range(endpoints):
        spec = models[index % len(models)]
        model = sagemaker.CfnModel(
            stack, f"Model{index}", execution_role_arn=ROLE_ARN, enable_network_isolation=True,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=spec.image_uri(REGION), environment=spec.environment(),
                model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
                    s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                        s3_uri=spec.artifact_uri(REGION), s3_data_type="S3Prefix", compression_type="None",
                        model_access_config=(sagemaker.CfnModel.ModelAccessConfigProperty(accept_eula=True)
                                             if spec.gated else None),
                    ),
                ),
            ),
        )
        config = sagemaker.CfnEndpointConfig(
            stack, f"Config{index}",
            production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="AllTraffic", model_name=model.attr_model_name,
                instance_type=spec.default_instance_type, initial_instance_count=1, initial_variant_weight=1.0,
            )],
        )
        sagemaker.CfnEndpoint(stack, f"Endpoint{index}", endpoint_config_name=config.attr_endpoint_config_name)
    return app


def cpu_seconds() -> float:
    """CPU time so far of this process and its descendants (the jsii kernel: two Node.js processes)."""
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    children: dict[str, list[str]] = {}
    cpu: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # the fields after "pid (comm)"
        except (OSError, IndexError):
            continue  # the process has gone
        pid = stat.parent.name
        children.setdefault(fields[1], []).append(pid)  # fields[1]: the parent's pid
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks_per_second  # utime + stime
    total, pending = time.process_time(), list(children.get(str(os.getpid()), []))
    while pending:
        pid = pending.pop()
        total += cpu[pid]
        pending.extend(children.get(pid, []))
    return total


def child(plugin: str, endpoints: int) -> dict[str, float]:
    """One measured run (in a fresh process): build, register the plugin (or not), time ``app.synth()``."""
    import aws_cdk as cdk

    from constructs_lib.synth.gate import EulaGate
    from constructs_lib.synth.nag import EulaChecks

    validate_seconds = 0.0

    def timed(plugin_class: Any) -> Any:
        class Timed(plugin_class):
            def validate(self, context: Any) -> Any:
                nonlocal validate_seconds
                start = time.perf_counter()
                try:
                    return super().validate(context)
                finally:
                    validate_seconds += time.perf_counter() - start
        return Timed

    with tempfile.TemporaryDirectory() as outdir:
        app = build_app(outdir, endpoints)
        if plugin == "gate":
            cdk.Validations.of(app).add_plugins(timed(EulaGate)())
        elif plugin == "pack":
            cdk.Validations.of(app).add_plugins(timed(EulaChecks)(app))
        start, start_cpu = time.perf_counter(), cpu_seconds()
        assembly = app.synth()
        synth_seconds, synth_cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
        resources = len(assembly.get_stack_by_name("GateOverhead").template["Resources"])
    return {"synth": synth_seconds, "synth_cpu": synth_cpu, "validate": validate_seconds, "resources": resources}


def run_child(plugin: str, endpoints: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", plugin, "--endpoints", str(endpoints)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"gate_overhead: the {plugin} run failed:\n{result.stderr.strip()}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"runs of each (at least {MIN_RUNS})")
    parser.add_argument("--endpoints", type=int, default=160, help="endpoints in the stack (3 resources each)")
    parser.add_argument("--plugin", choices=("gate", "pack"), default="gate", help="what to measure")
    parser.add_argument("--child", choices=(BASELINE, "gate", "pack"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.endpoints)))
        return 0
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")

    samples: dict[str, list[dict[str, float]]] = {BASELINE: [], args.plugin: []}
    for run in range(args.runs):
        order = [BASELINE, args.plugin] if run % 2 == 0 else [args.plugin, BASELINE]
        for plugin in order:
            samples[plugin].append(run_child(plugin, args.endpoints))
            sample = samples[plugin][-1]
            print(f"  run {run + 1} {plugin:5s} synth {sample['synth']:.2f} s wall, {sample['synth_cpu']:.2f} s CPU",
                  file=sys.stderr)

    resources = int(samples[args.plugin][0]["resources"])
    print(f"{args.endpoints} endpoints, {resources} resources; app.synth(), median of {args.runs} fresh processes "
          "each:")
    for clock, label in (("synth", "wall time"), ("synth_cpu", "CPU time")):
        baseline = statistics.median(s[clock] for s in samples[BASELINE])
        measured = statistics.median(s[clock] for s in samples[args.plugin])
        print(f"  {label:9s}: without {args.plugin} {baseline:.2f} s, with {args.plugin} {measured:.2f} s, "
              f"median overhead {(measured - baseline) / baseline * 100:+.1f} %")
    validate = statistics.median(s["validate"] for s in samples[args.plugin])
    baseline_wall = statistics.median(s["synth"] for s in samples[BASELINE])
    print(f"  the {args.plugin}'s own validate(): {validate * 1000:.0f} ms median "
          f"({validate / baseline_wall * 100:.1f} % of the baseline's wall time)")
    if args.plugin == "gate":
        print(f"  target: at most {TARGET_PERCENT:.0f} % overhead")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""What declaring endpoints costs: catalog load time, and time per endpoint to construct 100 endpoints (no synth).

The baseline, measured in the same process and run, is the bare minimum any endpoint costs: a ``CfnModel``, a
``CfnEndpointConfig`` and a ``CfnEndpoint`` with literal properties. The ratio shows what `JumpStartEndpoint` adds
(catalog look-ups, validation, its execution role, acknowledgments and output). Construction time is dominated by
jsii round trips, so the jsii round trip of this machine is printed too.

    .venv/bin/python bench/construct_cost.py [--endpoints 100] [--rounds 5]

Targets: at most 10 ms per endpoint and 50 ms to load the catalog.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # after the variable above: jsii reads it at start
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker

from constructs_lib.catalog import DEFAULT_CATALOG_PATH, Catalog
from constructs_lib.constructs.serving.jumpstart import JumpStartEndpoint

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerExecution"
TARGET_MS_PER_ENDPOINT = 10.0
TARGET_CATALOG_MS = 50.0


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_catalog_load(repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        Catalog.from_file(DEFAULT_CATALOG_PATH)
        samples.append(time.perf_counter() - start)
    return samples


def bare_endpoint(stack: cdk.Stack, index: int) -> None:
    model = sagemaker.CfnModel(
        stack, f"Model{index}",
        execution_role_arn=ROLE_ARN,
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
            image="763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1",
            environment={"HF_MODEL_ID": "/opt/ml/model"},
            model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
                s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                    s3_uri="s3://jumpstart-cache-prod-us-east-1/some/prefix/", s3_data_type="S3Prefix",
                    compression_type="None",
                ),
            ),
        ),
        enable_network_isolation=True,
    )
    config = sagemaker.CfnEndpointConfig(
        stack, f"Config{index}",
        production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic", model_name=model.attr_model_name, instance_type="ml.g5.2xlarge",
            initial_instance_count=1, initial_variant_weight=1.0,
        )],
    )
    sagemaker.CfnEndpoint(stack, f"Endpoint{index}", endpoint_config_name=config.attr_endpoint_config_name)


def our_endpoint(models: list[str], role: iam.IRole | None) -> Callable[[cdk.Stack, int], None]:
    def build(stack: cdk.Stack, index: int) -> None:
        model = models[index % len(models)]
        JumpStartEndpoint(stack, f"Endpoint{index}", model=model, accept_eula=True if "Llama" in model else None,
                          role=role)
    return build


def time_round(app: cdk.App, round_index: int, variants: dict[str, Callable[[cdk.Stack, int], None]],
               count: int) -> dict[str, float]:
    """Seconds per endpoint of each variant, constructing ``count`` of each into fresh stacks.

    The variants take turns endpoint by endpoint, so a load spike on this shared machine hits all of them alike.
    """
    stacks = {name: cdk.Stack(app, f"R{round_index}V{i}", env=cdk.Environment(region=REGION))
              for i, name in enumerate(variants)}
    totals = dict.fromkeys(variants, 0.0)
    names = list(variants)
    for index in range(count):
        for name in names[index % len(names):] + names[:index % len(names)]:
            start = time.perf_counter()
            variants[name](stacks[name], index)
            totals[name] += time.perf_counter() - start
    return {name: total / count for name, total in totals.items()}


def jsii_round_trip(stack: cdk.Stack, repeats: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        _ = stack.region
    return (time.perf_counter() - start) / repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    catalog_samples = time_catalog_load(10)
    catalog = Catalog.default()
    models = [spec.base_model_name or spec.model_id for spec in catalog.autopilot_models()]

    app = cdk.App()
    warm = cdk.Stack(app, "Warm", env=cdk.Environment(region=REGION))
    passed_role = iam.Role.from_role_arn(warm, "PassedRole", ROLE_ARN)
    variants: dict[str, Callable[[cdk.Stack, int], None]] = {
        "bare CfnModel+CfnEndpointConfig+CfnEndpoint": bare_endpoint,
        "JumpStartEndpoint (own role)": our_endpoint(models, None),
        "JumpStartEndpoint (role passed in)": our_endpoint(models, passed_role),
    }
    for index, build in enumerate(variants.values()):  # start jsii and load every class before measuring
        build(warm, index)

    samples: dict[str, list[float]] = {name: [] for name in variants}
    round_trips = []
    names = list(variants)
    for round_index in range(args.rounds):
        for name, seconds in time_round(app, round_index, variants, args.endpoints).items():
            samples[name].append(seconds)
        round_trips.append(jsii_round_trip(warm))

    baseline = median_ms(samples[names[0]])
    print(f"catalog load ({len(catalog)} models): {median_ms(catalog_samples):.1f} ms "
          f"(median of {len(catalog_samples)}; target {TARGET_CATALOG_MS:.0f} ms)")
    round_trip_ms = median_ms(round_trips)
    print(f"jsii round trip on this machine: {round_trip_ms:.2f} ms (median of {len(round_trips)} rounds)")
    print(f"time per endpoint, {args.endpoints} endpoints, median of {args.rounds} rounds (no synth):")
    for name in names:
        value = median_ms(samples[name])
        print(f"  {name:45s} {value:6.1f} ms  ({value / baseline:.2f}x baseline)")
    ours = median_ms(samples[names[1]])
    print(f"target: {TARGET_MS_PER_ENDPOINT:.0f} ms per endpoint; JumpStartEndpoint with its own role adds "
          f"{ours - baseline:.1f} ms to the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""What declaring endpoints costs: catalog load time, time per endpoint to construct 100 endpoints, and time to
construct one endpoint hosting 40 inference components (no synth).

The baseline, measured in the same process and run, is the bare minimum any endpoint costs: a ``CfnModel``, a
``CfnEndpointConfig`` and a ``CfnEndpoint`` with literal properties. The ratio shows what `JumpStartEndpoint` adds
(catalog look-ups, validation, its execution role, acknowledgments and output). Construction time is dominated by
jsii round trips, so the jsii round trip of this machine is printed too.

The inference-component row's baseline is the bare L1 resources of such an endpoint: one ``CfnEndpointConfig``
(managed instance scaling) and ``CfnEndpoint``, and per component a ``CfnModel`` and a ``CfnInferenceComponent``
with literal properties. `InferenceComponentEndpoint` adds the catalog look-ups, validation, its execution role
and a synth-time name per component.

    .venv/bin/python bench/construct_cost.py [--endpoints 100] [--rounds 5] [--components 40]

Targets: at most 10 ms per endpoint, 50 ms to load the catalog, and at most 2.5x the bare L1 resources for 40
components on one endpoint.
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
from constructs_lib.constructs.serving.components import InferenceComponentEndpoint
from constructs_lib.constructs.serving.jumpstart import JumpStartEndpoint
from constructs_lib.props import ComponentCompute, InferenceComponent

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerExecution"
TARGET_MS_PER_ENDPOINT = 10.0
TARGET_CATALOG_MS = 50.0
TARGET_COMPONENTS_RATIO = 2.5
SHARED_INSTANCE_TYPE = "ml.g5.12xlarge"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_catalog_load(repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        Catalog.from_file(DEFAULT_CATALOG_PATH)
        samples.append(time.perf_counter() - start)
    return samples


def bare_model(stack: cdk.Stack, id: str) -> sagemaker.CfnModel:
    return sagemaker.CfnModel(
        stack, id,
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


def bare_endpoint(stack: cdk.Stack, index: int) -> None:
    model = bare_model(stack, f"Model{index}")
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


def bare_components(stack: cdk.Stack, count: int) -> None:
    config = sagemaker.CfnEndpointConfig(
        stack, "Config",
        execution_role_arn=ROLE_ARN,
        production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic", instance_type=SHARED_INSTANCE_TYPE, initial_instance_count=1,
            managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                status="ENABLED", min_instance_count=0, max_instance_count=2),
        )],
    )
    endpoint = sagemaker.CfnEndpoint(stack, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name)
    for index in range(count):
        model = bare_model(stack, f"Model{index}")
        sagemaker.CfnInferenceComponent(
            stack, f"Component{index}",
            inference_component_name=f"component-{index}",
            endpoint_name=endpoint.attr_endpoint_name,
            variant_name="AllTraffic",
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=model.attr_model_name,
                compute_resource_requirements=(
                    sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                        min_memory_required_in_mb=1024, number_of_accelerator_devices_required=1)),
            ),
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(copy_count=1),
        )


def our_components(models: list[str], role: iam.IRole | None) -> Callable[[cdk.Stack, int], None]:
    def build(stack: cdk.Stack, count: int) -> None:
        InferenceComponentEndpoint(
            stack, "Shared", instance_type=SHARED_INSTANCE_TYPE, role=role,
            components=[InferenceComponent(name=f"c{index}", model=models[index % len(models)],
                                           compute=ComponentCompute(accelerators=1)) for index in range(count)],
        )
    return build


def time_components(app: cdk.App, variants: dict[str, Callable[[cdk.Stack, int], None]], count: int,
                    rounds: int) -> dict[str, float]:
    """Median seconds to construct one endpoint of ``count`` components, per variant (taking turns per round)."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for round_index in range(rounds):
        for position, (name, build) in enumerate(variants.items()):
            stack = cdk.Stack(app, f"C{round_index}V{position}", env=cdk.Environment(region=REGION))
            start = time.perf_counter()
            build(stack, count)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def jsii_round_trip(stack: cdk.Stack, repeats: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        _ = stack.region
    return (time.perf_counter() - start) / repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--components", type=int, default=40)
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

    shared = [spec.model_id for spec in catalog if spec.deployable and not spec.deploys_through_package
              and SHARED_INSTANCE_TYPE in spec.supported_instance_types]
    component_variants: dict[str, Callable[[cdk.Stack, int], None]] = {
        "bare L1 (config, endpoint, per component a CfnModel and a CfnInferenceComponent)": bare_components,
        "InferenceComponentEndpoint (own role)": our_components(shared, None),
        "InferenceComponentEndpoint (role passed in)": our_components(shared, passed_role),
    }
    for index, build in enumerate(component_variants.values()):  # load every class before measuring
        build(cdk.Stack(app, f"WarmComponents{index}", env=cdk.Environment(region=REGION)), 2)
    medians = time_components(app, component_variants, args.components, args.rounds)
    component_names = list(component_variants)
    component_baseline = medians[component_names[0]] * 1000
    print(f"one endpoint with {args.components} inference components, median of {args.rounds} rounds (no synth):")
    for name in component_names:
        value = medians[name] * 1000
        print(f"  {name:85s} {value:7.1f} ms  ({value / component_baseline:.2f}x baseline)")
    print(f"target: at most {TARGET_COMPONENTS_RATIO}x the bare L1 resources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

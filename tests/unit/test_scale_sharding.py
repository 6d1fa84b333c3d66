"""Delivery at scale: 300 endpoints over 3 regions (dev: us-east-1; prod: us-west-2, eu-west-1) through the pipeline.

One synth for the module (``bench/scale_synth.py`` builds the same table and app and prints its synth time). The
stacks are sharded under CloudFormation's 500-resource limit, every row is deployed exactly once per target, in the
shard the layout gives it, and the pipeline deploys every stack.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.scale_synth import SCALE_ENDPOINTS, SCALE_ENVIRONMENTS, TABLE_FILE, pipeline_app, write_scale_table
from constructs_lib.table import ModelTable, load_table
from constructs_lib.table.layout import STACK_RESOURCE_LIMIT, plan_stacks, shard_of
from stacks.pipeline import PIPELINE_STACK_ID

pytestmark = pytest.mark.synth

PATH_METADATA = "aws:cdk:path"


@dataclass(frozen=True)
class StackTemplate:
    stage: str  # the stage's artifact id (its assembly directory)
    artifact_id: str
    stack_name: str
    environment: str  # aws://account/region
    template: dict[str, Any]

    @property
    def stage_id(self) -> str:
        """The Stage's construct id: ``<environment>-<region>-<account>``."""
        return self.stage.removeprefix(f"assembly-{PIPELINE_STACK_ID}-")

    @property
    def stack_id(self) -> str:
        """The table stack's id (the layout's), which CDK prefixes with the Stage's id to name the stack."""
        return self.stack_name.removeprefix(f"{self.stage_id}-")

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources


@dataclass(frozen=True)
class ScaleApp:
    table: ModelTable
    pipeline_template: dict[str, Any]
    stacks: list[StackTemplate]  # every stack of every stage

    def targets(self) -> dict[str, list[StackTemplate]]:
        by_stage: dict[str, list[StackTemplate]] = {}
        for stack in self.stacks:
            by_stage.setdefault(stack.stage, []).append(stack)
        return by_stage


def stage_stacks(outdir: Path) -> list[StackTemplate]:
    """The stack templates of each nested assembly (one per pipeline Stage), read from the manifests."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = []
    for stage, artifact in manifest["artifacts"].items():
        if artifact["type"] != "cdk:cloud-assembly":
            continue
        directory = outdir / artifact["properties"]["directoryName"]
        inner = json.loads((directory / "manifest.json").read_text())
        for artifact_id, stack in inner["artifacts"].items():
            if stack["type"] == "aws:cloudformation:stack":
                template = json.loads((directory / stack["properties"]["templateFile"]).read_text())
                stacks.append(StackTemplate(stage, artifact_id, stack["properties"].get("stackName", artifact_id),
                                            stack["environment"], template))
    return stacks


@pytest.fixture(scope="module")
def scale(tmp_path_factory: pytest.TempPathFactory) -> ScaleApp:
    work = tmp_path_factory.mktemp("scale")
    write_scale_table(work)
    outdir = work / "cdk.out"
    with contextlib.chdir(work):  # the pipeline names its table relative to the repository root
        table = load_table(TABLE_FILE)
        # Path metadata ties each resource to its row's construct; `cdk synth` adds it too.
        pipeline_app(table, str(outdir), **{"aws:cdk:enable-path-metadata": True}).synth()
    pipeline_template = json.loads((outdir / f"{PIPELINE_STACK_ID}.template.json").read_text())
    return ScaleApp(table, pipeline_template, stage_stacks(outdir))


def row_of(resource: dict[str, Any]) -> str:
    """The row a resource belongs to: rows are construct ids directly under their stack."""
    path: str = resource["Metadata"][PATH_METADATA]
    return path.split("/")[3]  # pipeline stack / stage / table stack / row / ...


def expected_targets() -> list[str]:
    return [f"aws://{target['account']}/{target['region']}" for targets in SCALE_ENVIRONMENTS.values()
            for target in targets]


def test_the_table_spans_three_regions_and_needs_sharding(scale: ScaleApp) -> None:
    assert len(scale.table.endpoints) == SCALE_ENDPOINTS
    by_stage = scale.targets()
    environments = sorted({stacks[0].environment for stacks in by_stage.values()})
    assert environments == sorted(expected_targets())
    assert len({environment.rsplit("/", 1)[1] for environment in environments}) == 3
    for stacks in by_stage.values():
        assert sum(len(stack.resources) for stack in stacks) > STACK_RESOURCE_LIMIT  # one stack could not hold it
        assert len(stacks) > 1


def test_no_stack_exceeds_cloudformations_resource_limit(scale: ScaleApp) -> None:
    counts = {stack.artifact_id: len(stack.resources) for stack in scale.stacks}
    counts[PIPELINE_STACK_ID] = len(scale.pipeline_template["Resources"])
    assert max(counts.values()) <= STACK_RESOURCE_LIMIT, counts


def test_the_layout_estimate_bounds_every_synthesized_stack(scale: ScaleApp) -> None:
    estimates = {plan.stack_id: plan.estimated_resources for plan in plan_stacks(scale.table)}
    assert len(estimates) == len(scale.stacks)
    for stack in scale.stacks:
        assert len(stack.resources) <= estimates[stack.stack_id], stack.stack_name


def test_every_row_is_deployed_exactly_once_per_target_in_its_shard(scale: ScaleApp) -> None:
    names = sorted(row.name for row in scale.table.endpoints)
    for stage, stacks in scale.targets().items():
        deployed: Counter[str] = Counter()
        for stack in stacks:
            rows = {row_of(resource) for resource in stack.resources.values()
                    if resource["Type"] == "AWS::SageMaker::Endpoint"}
            endpoint_count = sum(1 for r in stack.resources.values() if r["Type"] == "AWS::SageMaker::Endpoint")
            assert len(rows) == endpoint_count  # one endpoint per row
            shard = int(stack.stack_id.rsplit("-s", 1)[1])
            assert {shard_of(name, scale.table.shards) for name in rows} == {shard}, stack.stack_name
            deployed.update(rows)
        assert sorted(deployed) == names, stage
        assert set(deployed.values()) == {1}, stage


def test_the_pipeline_deploys_every_stack_in_its_environments_wave(scale: ScaleApp) -> None:
    (pipeline,) = [r for r in scale.pipeline_template["Resources"].values()
                   if r["Type"] == "AWS::CodePipeline::Pipeline"]
    deployed: dict[str, set[str]] = {}
    for pipeline_stage in pipeline["Properties"]["Stages"]:
        for action in pipeline_stage["Actions"]:
            if action.get("Configuration", {}).get("ActionMode") == "CHANGE_SET_EXECUTE":
                deployed.setdefault(pipeline_stage["Name"], set()).add(action["Configuration"]["StackName"])
    # A one-target wave's pipeline stage is named after its Stage; dev, then prod.
    assert list(deployed) == ["dev-us-east-1-111111111111", "prod"]
    expected: dict[str, set[str]] = {"dev-us-east-1-111111111111": set(), "prod": set()}
    for stack in scale.stacks:
        expected["prod" if stack.stage_id.startswith("prod-") else stack.stage_id].add(stack.stack_name)
    assert deployed == expected
    assert sum(len(names) for names in deployed.values()) == len(scale.stacks)

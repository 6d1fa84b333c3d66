"""Which stack each row lands in: per target, endpoint stacks and fine-tuning stacks, rows sharded by name.

Stability: a row's shard is ``sha256(name) mod shards``, a function of the row's own name and the table's
``defaults.shards`` only. Adding, removing or reordering other rows never changes it, so an existing endpoint
never moves to another stack (moving would delete and re-create it). Construct ids are row names, so logical
ids never change either. Only changing ``defaults.shards`` moves rows, which is why it is an explicit setting.

Capacity: CloudFormation allows 500 resources per stack. Each row kind's resource count is an upper bound of
what its constructs declare (``tests/unit/test_stacks.py`` synthesizes each kind and checks the bound); a stack
whose estimate exceeds the limit minus a safety margin is a ``TableError`` before any synthesis.

Endpoints and fine-tuning jobs live in separate stacks: the jobs' handler code is a file asset, which
``BootstraplessSynthesizer`` cannot hold, and the job plumbing is paid once per job stack.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from constructs_lib.errors import TableError
from constructs_lib.table.model import EndpointRow, FineTuningRow, ModelTable, Placement, Target

STACK_RESOURCE_LIMIT = 500  # CloudFormation's per-stack quota
SAFETY_MARGIN = 50  # room for what the estimates cannot see (CDK metadata, future construct additions)
STACK_PREFIX = "EulaGate"

# Upper bounds of CloudFormation resources per row, by what the row declares.
ENDPOINT_RESOURCES = 4  # model, endpoint config, endpoint, execution role (inline policy)
AUTOSCALING_RESOURCES = 2  # scalable target, target-tracking policy
SCALE_FROM_ZERO_RESOURCES = 2  # step scaling policy and its alarm (what scales to zero: docs/serving-modes.md)
SHARED_ENDPOINT_RESOURCES = 3  # endpoint config, endpoint, execution role (inline policy)
COMPONENT_RESOURCES = 2  # a component's model and inference component
FINE_TUNING_JOB_RESOURCES = 4  # custom resource, job role and its policy, one spare
JOB_PROVIDER_RESOURCES = 24  # per stack, method and waiting mode: handler functions, Provider framework, roles
STACK_BASE_RESOURCES = 2  # AWS::CDK::Metadata, and the stack's own KMS key (constructs/encryption.py)

StackKind = Literal["endpoints", "fine-tuning"]
KIND_SEGMENT: dict[StackKind, str | None] = {"endpoints": None, "fine-tuning": "finetune"}


@dataclass(frozen=True)
class StackPlan:
    """One stack: the rows of one kind and shard for one target (and environment)."""

    stack_id: str
    kind: StackKind
    environment: str | None
    target: Target
    shard: int
    placements: tuple[Placement, ...]

    @property
    def estimated_resources(self) -> int:
        return estimate_resources(self.placements)


def shard_of(name: str, shards: int) -> int:
    """The stable shard of a row: depends on its name and the shard count only."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


def stack_id(
    kind: StackKind, environment: str | None, target: Target, shard: int, *, prefix: str = STACK_PREFIX
) -> str:
    """``EulaGate-us-east-1-s0``, ``EulaGate-us-east-1-finetune-s0``; environment stacks add the environment
    and the target's account (outside environments there is one account per app, so it stays out of the id)."""
    account = target.account if environment else None
    parts = (prefix, environment, target.region, account, KIND_SEGMENT[kind], f"s{shard}")
    return "-".join(part for part in parts if part)


def kind_of(placement: Placement) -> StackKind:
    return "endpoints" if isinstance(placement.row, EndpointRow) else "fine-tuning"


def row_resources(placement: Placement) -> int:
    row = placement.row
    if isinstance(row, EndpointRow):
        if row.serving == "inference_components":
            return SHARED_ENDPOINT_RESOURCES + sum(
                COMPONENT_RESOURCES + _scaling_resources(component.props.scaling is not None,
                                                         component.props.scaling is not None
                                                         and component.props.scaling.min_copies == 0)
                for component in row.components)
        backlog = row.async_inference.scaling if row.async_inference is not None else None
        return ENDPOINT_RESOURCES + _scaling_resources(row.autoscaling is not None or backlog is not None,
                                                       backlog is not None and backlog.min_instances == 0)
    deploy = row.deploy
    served = ENDPOINT_RESOURCES + (AUTOSCALING_RESOURCES if deploy.autoscaling else 0) if deploy else 0
    return FINE_TUNING_JOB_RESOURCES + served


def _scaling_resources(scaled: bool, from_zero: bool) -> int:
    return (AUTOSCALING_RESOURCES if scaled else 0) + (SCALE_FROM_ZERO_RESOURCES if from_zero else 0)


def estimate_resources(placements: tuple[Placement, ...] | list[Placement]) -> int:
    # Jobs share one Provider per stack, method, waiting mode (a `deploy:` block waits for the job) and KMS key.
    providers = {(p.row.method, p.row.deploy is not None, p.row.controls.kms_key_arn)
                 for p in placements if isinstance(p.row, FineTuningRow)}
    return (
        STACK_BASE_RESOURCES
        + JOB_PROVIDER_RESOURCES * len(providers)
        + sum(row_resources(placement) for placement in placements)
    )


def plan_stacks(
    table: ModelTable, *, environment: str | None = None, prefix: str = STACK_PREFIX
) -> list[StackPlan]:
    """The stacks of the table (or of one environment), each checked against the resource limit.

    Stacks come in a stable order: targets in the order rows first name them, then kind, then shard.
    """
    groups: dict[tuple[str | None, Target, StackKind, int], list[Placement]] = {}
    target_rank: dict[tuple[str | None, Target], int] = {}
    for placement in table.placements(environment):
        target_rank.setdefault((placement.environment, placement.target), len(target_rank))
        key = (placement.environment, placement.target, kind_of(placement), shard_of(placement.row.name, table.shards))
        groups.setdefault(key, []).append(placement)
    ordered = sorted(groups.items(), key=lambda item: (target_rank[item[0][:2]], item[0][2], item[0][3]))
    plans = [
        StackPlan(stack_id(kind, env, target, shard, prefix=prefix), kind, env, target, shard, tuple(placements))
        for (env, target, kind, shard), placements in ordered
    ]
    for plan in plans:
        _check_capacity(table, plan)
    return plans


def _check_capacity(table: ModelTable, plan: StackPlan) -> None:
    budget = STACK_RESOURCE_LIMIT - SAFETY_MARGIN
    if plan.estimated_resources <= budget:
        return
    last = plan.placements[-1].row
    raise TableError(
        f"{table.source}:{last.line}: stack {plan.stack_id} would hold about {plan.estimated_resources} "
        f"resources ({len(plan.placements)} rows), over the budget of {budget} (CloudFormation allows "
        f"{STACK_RESOURCE_LIMIT} per stack); raise `defaults.shards` (now {table.shards}; this moves rows "
        "between stacks) or spread the rows over more regions or environments",
        source=table.source,
        line=last.line,
    )

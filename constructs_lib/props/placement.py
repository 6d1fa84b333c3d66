"""Where SageMaker runs a job's or a model's containers: the subnets and security groups of a VPC.

One frozen value shared by the fine-tuning jobs (``VpcConfig`` / AutoML ``SecurityConfig.VpcConfig``) and the
endpoints (the model's ``VpcConfig``), so a table row's ``vpc:`` block means the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from constructs_lib.aws_names import is_token
from constructs_lib.deprecation import positional_fields_deprecated
from constructs_lib.errors import InvalidArgumentError

# The API's patterns (SageMaker VpcConfig: Subnets [-0-9a-zA-Z]+ up to 32 chars, 1-16 of them;
# SecurityGroupIds [-0-9a-zA-Z]+ up to 32 chars, 1-5 of them), narrowed to the ids EC2 actually issues.
SUBNET_ID_PATTERN = re.compile(r"subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?")
SECURITY_GROUP_ID_PATTERN = re.compile(r"sg-[0-9a-f]{8}(?:[0-9a-f]{9})?")
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
# The network interface calls EC2 authorizes on network-interface resources, which carry the ec2:Subnet key
# (Service Authorization Reference, Amazon EC2), and the Describe calls it authorizes on no resource.
NETWORK_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
)
DESCRIBE_NETWORK_ACTIONS = (
    "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)


@positional_fields_deprecated  # VpcPlacement(subnets, groups), the 0.1 spelling, warns until 0.3.0
@dataclass(frozen=True, kw_only=True)
class VpcPlacement:
    """The subnets and security groups SageMaker attaches the containers to (``VpcConfig``).

    ``VpcPlacement(subnet_ids=("subnet-0123456789abcdef0",), security_group_ids=("sg-0123456789abcdef0",))``.
    Ids may be deploy-time tokens (a CDK ``Vpc``'s subnets); literal ones are checked. Raises
    ``InvalidArgumentError`` (a ``ValueError``) for ids SageMaker would refuse.
    """

    subnet_ids: tuple[str, ...]
    """1 to 16 subnet ids (``subnet-...``), no default."""
    security_group_ids: tuple[str, ...]
    """1 to 5 security group ids (``sg-...``), no default."""

    def __post_init__(self) -> None:
        problem = vpc_placement_problem(self.subnet_ids, self.security_group_ids)
        if problem is not None:
            raise InvalidArgumentError(f"vpc: {problem}")

    def vpc_config(self) -> dict[str, list[str]]:
        """The API's ``VpcConfig``: ``{"Subnets": [...], "SecurityGroupIds": [...]}``."""
        return {"Subnets": list(self.subnet_ids), "SecurityGroupIds": list(self.security_group_ids)}


def vpc_placement_problem(subnet_ids: Any, security_group_ids: Any) -> str | None:
    """What is wrong with the ids (one line naming the fix), or None when SageMaker would accept them."""
    for what, ids, pattern, limit, example in (
        ("subnet_ids", subnet_ids, SUBNET_ID_PATTERN, MAX_SUBNETS, "subnet-0123456789abcdef0"),
        ("security_group_ids", security_group_ids, SECURITY_GROUP_ID_PATTERN, MAX_SECURITY_GROUPS,
         "sg-0123456789abcdef0"),
    ):
        if isinstance(ids, str) or not isinstance(ids, tuple | list) or not 1 <= len(ids) <= limit:
            return f"{what} must be a list of 1 to {limit} ids such as {example}, not {ids!r}"
        # a token (e.g. a subnet of a CDK Vpc) is known only at deploy time: CloudFormation and SageMaker check it
        bad = [i for i in ids if not isinstance(i, str) or (pattern.fullmatch(i) is None and not is_token(i))]
        if bad:
            return f"{what} holds {bad[0]!r}, which is not an id such as {example}"
        if len(set(ids)) != len(ids):
            return f"{what} lists an id twice: {sorted(i for i in set(ids) if ids.count(i) > 1)[0]!r}"
    return None


@dataclass(frozen=True, kw_only=True)
class NetworkGrant:
    """One IAM statement of what SageMaker does with a role to attach containers to the subnets, and why its
    resources are as wide as they are (for cdk-nag's wildcard acknowledgments)."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict[str, Any] | None
    why: str


def network_interface_grants(
    subnet_ids: Sequence[str], security_group_ids: Sequence[str], *, partition: str, region: str,
) -> list[NetworkGrant]:
    """What SageMaker needs of a role to put a job's or a model's containers in these subnets (SageMaker developer
    guide, "Give SageMaker access to resources in your Amazon VPC"), each action as narrow as EC2 allows (Service
    Authorization Reference, Amazon EC2): CreateNetworkInterface on exactly these subnets and security groups;
    creating, sharing and deleting network interfaces only in these subnets (``ec2:Subnet``, a condition key of the
    network-interface resource); the Describe calls, which EC2 authorizes on no resource, on ``*``. Subnets and
    groups are named in any account: a shared VPC's belong to its owner's."""
    def arn(resource: str) -> str:
        return f"arn:{partition}:ec2:{region}:*:{resource}"

    subnets = tuple(arn(f"subnet/{subnet}") for subnet in subnet_ids)
    in_any_account = ("subnets and security groups of a shared VPC belong to the VPC owner's account, so the account "
                      "is left open; their ids name them")
    return [
        NetworkGrant(
            actions=("ec2:CreateNetworkInterface",),
            resources=subnets + tuple(arn(f"security-group/{group}") for group in security_group_ids),
            condition=None, why=in_any_account,
        ),
        NetworkGrant(
            actions=NETWORK_INTERFACE_ACTIONS, resources=(arn("network-interface/*"),),
            condition={"ArnLike": {"ec2:Subnet": list(subnets)}},
            why="SageMaker names the network interfaces when it creates them; the ec2:Subnet condition keeps them "
                "to the given subnets",
        ),
        NetworkGrant(
            actions=DESCRIBE_NETWORK_ACTIONS, resources=("*",), condition=None,
            why="EC2 authorizes its Describe actions on no resource narrower than *",
        ),
    ]

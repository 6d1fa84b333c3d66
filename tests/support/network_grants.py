"""The ENI statements a role that attaches SageMaker containers to a VPC must carry, written out independently of
``constructs_lib.constructs.placement`` (EC2's Service Authorization Reference: CreateNetworkInterface is authorized
on the subnet, the security groups and the new network interface; the network-interface resource carries the
``ec2:Subnet`` condition key, for the permission calls too; Describe* take no resource)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def _as_tuple(value: Any) -> tuple[str, ...]:
    return tuple(sorted(value if isinstance(value, list) else [value]))


def network_statements(statements: Iterable[Mapping[str, Any]]) -> set[tuple[Any, ...]]:
    """The role's statements that grant EC2 actions, as comparable (actions, resources, condition) triples."""
    return {
        (_as_tuple(s["Action"]), _as_tuple(s["Resource"]), json.dumps(s.get("Condition"), sort_keys=True))
        for s in statements if any(str(action).startswith("ec2:") for action in _as_tuple(s["Action"]))
    }


def expected_network_statements(
    subnets: Iterable[str], groups: Iterable[str], *, region: str, partition: str = "aws",
) -> set[tuple[Any, ...]]:
    subnet_arns = [f"arn:{partition}:ec2:{region}:*:subnet/{subnet}" for subnet in subnets]
    group_arns = [f"arn:{partition}:ec2:{region}:*:security-group/{group}" for group in groups]
    return {
        (("ec2:CreateNetworkInterface",), tuple(sorted(subnet_arns + group_arns)), "null"),
        (("ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
          "ec2:DeleteNetworkInterfacePermission"),
         (f"arn:{partition}:ec2:{region}:*:network-interface/*",),
         json.dumps({"ArnLike": {"ec2:Subnet": subnet_arns}}, sort_keys=True)),
        (("ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets", "ec2:DescribeVpcs"), ("*",), "null"),
    }

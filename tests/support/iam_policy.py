"""What a synthesized role may do: its Allow statements, resolved for one account and region, and matched as IAM
matches actions and resources (case-insensitive actions, ``*`` and ``?`` wildcards). Enough to decide whether a
handler role allows a call; conditions are not evaluated (the handler's only condition, ``iam:PassedToService``,
always holds for its SageMaker calls).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PSEUDO_PARAMETERS = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        return (any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions)
                and any(fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources))


@dataclass(frozen=True)
class RolePolicy:
    """The Allow statements of one role in a synthesized template."""

    statements: tuple[Statement, ...]

    @classmethod
    def of(cls, template: Mapping[str, Any], role_logical_id: str, *, account: str, region: str,
           attributes: Mapping[tuple[str, str], str] | None = None) -> RolePolicy:
        """``attributes`` resolves ``Fn::GetAtt`` of other resources, e.g. ``{("JobRole1234", "Arn"): "arn:..."}``."""
        resolver = _Resolver({**PSEUDO_PARAMETERS, "AWS::AccountId": account, "AWS::Region": region},
                             dict(attributes or {}))
        resources = template["Resources"]
        inline = resources[role_logical_id]["Properties"].get("Policies", [])
        documents = [policy["PolicyDocument"] for policy in inline]
        documents += [
            resource["Properties"]["PolicyDocument"] for resource in resources.values()
            if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}
            and {"Ref": role_logical_id} in resource["Properties"].get("Roles", [])
        ]
        statements = []
        for document in documents:
            for statement in document["Statement"]:
                if statement.get("Effect") != "Allow":
                    continue
                statements.append(Statement(
                    actions=tuple(_listed(statement["Action"])),
                    resources=tuple(resolver.resolve(resource) for resource in _listed(statement["Resource"])),
                ))
        return cls(tuple(statements))

    def allows(self, action: str, resource: str) -> bool:
        return any(statement.allows(action, resource) for statement in self.statements)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class _Resolver:
    references: Mapping[str, str]
    attributes: Mapping[tuple[str, str], str]

    def resolve(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Fn::Join" in value:
            delimiter, parts = value["Fn::Join"]
            return str(delimiter).join(self.resolve(part) for part in parts)
        if "Ref" in value:
            return self.references.get(value["Ref"], f"<unresolved {value['Ref']}>")
        if "Fn::GetAtt" in value:
            return self.attributes.get(tuple(value["Fn::GetAtt"]), f"<unresolved {value['Fn::GetAtt']}>")  # type: ignore[call-overload]
        raise ValueError(f"cannot resolve {value!r}")

"""The stack's own customer managed KMS key, for what the package encrypts when the user names no key.

The compliance packs (HIPAA, NIST 800-53 R5, PCI DSS 3.2.1) want endpoint storage volumes and log groups
encrypted with a KMS key. When a row or a construct gives ``kms_key_arn``, that key is used. Otherwise one key per
stack (``EulaGateKey``, created on first use, yearly rotation, kept when the stack is deleted so nothing it
encrypted becomes unreadable) encrypts the endpoints' storage volumes, the package's log groups and the jobs'
failure topics (an AWS-managed ``alias/aws/sns`` key cannot take EventBridge's messages). AWS-managed
keys cannot serve: SageMaker's ``KmsKeyId`` and CloudWatch Logs' ``KmsKeyId`` take customer managed keys only.
Its key policy is CDK's default (the account administers it through IAM, so the roles' own grants suffice) plus,
once they use it, CloudWatch Logs of the stack's region for this account's log groups, and EventBridge for this
account's rules.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

STACK_KEY_ID = "EulaGateKey"
# What CloudWatch Logs does with a log group's key (CloudWatch Logs user guide, "Encrypt log data in CloudWatch
# Logs using AWS KMS").
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


class StackKey(kms.Key):
    """The stack's key; ``allow_log_groups`` lets CloudWatch Logs use it for the account's log groups, and
    ``allow_event_bridge`` lets EventBridge publish to topics it encrypts."""

    logs_allowed = False
    event_bridge_allowed = False

    def allow_event_bridge(self) -> None:
        """What EventBridge needs to deliver to an encrypted SNS topic (EventBridge user guide, "Amazon SNS
        permissions"), for rules of this account only."""
        if self.event_bridge_allowed:
            return
        self.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
        ))
        self.event_bridge_allowed = True

    def allow_log_groups(self) -> None:
        if self.logs_allowed:
            return
        stack = cdk.Stack.of(self)
        self.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=list(LOGS_KEY_ACTIONS),
            resources=["*"],  # in a key policy, "*" is this key
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                service="logs", resource="log-group", resource_name="*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)}},
        ))
        self.logs_allowed = True


def stack_key(scope: Construct) -> StackKey:
    """The key of ``scope``'s stack, created on first use."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(STACK_KEY_ID)
    if isinstance(existing, StackKey):
        return existing
    return StackKey(
        stack, STACK_KEY_ID, enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.RETAIN,
        description="EulaGate: encrypts this stack's endpoint volumes, log groups and topics when no key is given",
    )


def event_topic_key(scope: Construct) -> kms.IKey:
    """The stack's key, usable by EventBridge to publish to the topics it encrypts."""
    key = stack_key(scope)
    key.allow_event_bridge()
    return key


def log_group_key(scope: Construct) -> kms.IKey:
    """The stack's key, usable by CloudWatch Logs for this account's log groups."""
    key = stack_key(scope)
    key.allow_log_groups()
    return key

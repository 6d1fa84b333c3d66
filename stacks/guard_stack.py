"""The deploy-time hook's stacks, selected by ``-c guard=true`` (docs/hook.md):

- ``GuardStack`` (``EulaGateGuard``): the ``EulaGuardHook`` in one account and region, ``cdk deploy``-able
  (its Lambda code is a CDK asset);
- ``GuardRolloutStack`` (``EulaGateGuardRollout``): the organisation-wide rollout, deployed in the management
  (or a delegated administrator) account: a service-managed StackSet that deploys the hook stack's template
  to every account of the organisational units, in every region of the model table, and to accounts that
  join those units later (auto-deployment). In member accounts the function's code comes from the bucket
  ``<HookCodeBucketPrefix>-<region>`` at the key named by the code's hash (``eulagate hook bundle``).

Context: ``guard`` (true/false), ``guard_failure_mode`` (FAIL, the default, or WARN), ``guard_ous`` (the
rollout's default organisational unit ids, comma-separated; else given as the ``OrganizationalUnitIds``
parameter at deploy time), ``guard_regions`` (comma-separated; default: the table's regions),
``guard_code_bucket_prefix`` (default ``eulagate-hook-code``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.constructs.guard_hook import FAILURE_MODES, EulaGuardHook, FailureMode
from constructs_lib.errors import InputError
from constructs_lib.hook.bundle import bundle_key
from constructs_lib.table import ModelTable
from stacks.context import context_flag, context_list

GUARD_STACK_ID = "EulaGateGuard"
ROLLOUT_STACK_ID = "EulaGateGuardRollout"
STACK_SET_NAME = "EulaGateGuard"
DEFAULT_CODE_BUCKET_PREFIX = "eulagate-hook-code"
MAX_TEMPLATE_BODY_BYTES = 51_200  # CloudFormation's limit on a TemplateBody given inline


class GuardSettingsError(InputError):
    """A ``guard*`` context value we cannot use: one line naming it and the fix."""


def guard_requested(get_context: Callable[[str], Any]) -> bool:
    """Whether ``-c guard=true`` (or ``"guard": true`` in cdk.json) asks for the hook's stacks."""
    return context_flag(get_context, "guard", GuardSettingsError)


class GuardStack(cdk.Stack):
    """The EULA hook in one account and region.

    Its code is a CDK asset, or, with ``code_bucket_prefix`` (the StackSet's member stacks), the zip of
    ``eulagate hook bundle`` in the bucket ``<prefix>-<region>``: both are stack parameters then.
    """

    def __init__(self, scope: Construct, id: str, *, failure_mode: FailureMode = "FAIL",
                 code_bucket_prefix: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("description", "EulaGate: the EULA rules as a CloudFormation Lambda Hook (docs/hook.md)")
        super().__init__(scope, id, **kwargs)
        code = None
        if code_bucket_prefix is not None:
            prefix = cdk.CfnParameter(self, "HookCodeBucketPrefix", type="String", default=code_bucket_prefix,
                                      description="The hook's code is in the bucket <prefix>-<region> of each region")
            key = cdk.CfnParameter(self, "HookCodeKey", type="String", default=bundle_key(),
                                   description="The key of `eulagate hook bundle`'s zip in those buckets")
            bucket = s3.Bucket.from_bucket_name(
                self, "CodeBucket", cdk.Fn.join("-", [prefix.value_as_string, cdk.Aws.REGION]))
            code = lambda_.Code.from_bucket(bucket, key.value_as_string)
        self.hook = EulaGuardHook(self, "Guard", failure_mode=failure_mode, code=code)


def member_template(failure_mode: FailureMode, code_bucket_prefix: str) -> dict[str, Any]:
    """The hook stack as the StackSet deploys it: no CDK bootstrap in member accounts, code from regional buckets."""
    with tempfile.TemporaryDirectory(prefix="eulagate-guard-member-") as outdir:
        app = cdk.App(outdir=outdir, analytics_reporting=False)
        stack = GuardStack(app, "Member", failure_mode=failure_mode, code_bucket_prefix=code_bucket_prefix,
                           synthesizer=cdk.BootstraplessSynthesizer())
        return dict(app.synth().get_stack_artifact(stack.artifact_id).template)


class GuardRolloutStack(cdk.Stack):
    """A service-managed StackSet deploying the hook stack to every account of the organisational units."""

    def __init__(self, scope: Construct, id: str, *, regions: Sequence[str], failure_mode: FailureMode = "FAIL",
                 organizational_unit_ids: Sequence[str] = (), code_bucket_prefix: str = DEFAULT_CODE_BUCKET_PREFIX,
                 call_as: str = "SELF", **kwargs: Any) -> None:
        kwargs.setdefault("description", "EulaGate: the EULA hook in every account of the organisation "
                                         "(docs/hook.md)")
        super().__init__(scope, id, **kwargs)
        if call_as not in ("SELF", "DELEGATED_ADMIN"):
            raise GuardSettingsError(f"call_as={call_as!r}: expected SELF (the management account) or "
                                     "DELEGATED_ADMIN (a StackSets delegated administrator)")
        if not regions:
            raise GuardSettingsError("the guard rollout has no regions: the table names none; pass "
                                     "-c guard_regions=us-east-1,eu-west-1")
        units = cdk.CfnParameter(
            self, "OrganizationalUnitIds", type="CommaDelimitedList",
            default=",".join(organizational_unit_ids) if organizational_unit_ids else None,
            description="The organisational units (ou-... or the root r-...) whose accounts get the EULA hook",
        )
        template = json.dumps(member_template(failure_mode, code_bucket_prefix), separators=(",", ":"), sort_keys=True)
        if len(template.encode()) > MAX_TEMPLATE_BODY_BYTES:
            raise GuardSettingsError(f"the hook stack's template is {len(template.encode()):,} bytes, over the "
                                     f"{MAX_TEMPLATE_BODY_BYTES:,} bytes CloudFormation takes inline")
        self.stack_set = cloudformation.CfnStackSet(
            self, "StackSet",
            stack_set_name=STACK_SET_NAME,
            description="EulaGate: the EULA rules as a CloudFormation Lambda Hook in every account and region",
            permission_model="SERVICE_MANAGED",
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False),
            call_as=call_as,
            capabilities=["CAPABILITY_IAM"],
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                region_concurrency_type="PARALLEL", max_concurrent_percentage=25, failure_tolerance_percentage=0),
            parameters=[
                cloudformation.CfnStackSet.ParameterProperty(parameter_key="HookCodeBucketPrefix",
                                                             parameter_value=code_bucket_prefix),
                cloudformation.CfnStackSet.ParameterProperty(parameter_key="HookCodeKey",
                                                             parameter_value=bundle_key()),
            ],
            stack_instances_group=[cloudformation.CfnStackSet.StackInstancesProperty(
                deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                    organizational_unit_ids=units.value_as_list),
                regions=list(regions),
            )],
            template_body=template,
        )


def table_regions(table: ModelTable) -> tuple[str, ...]:
    """Every region the model table deploys to: its defaults, its rows' and its environments' targets."""
    regions = set(table.default_regions)
    for row in (*table.endpoints, *table.fine_tuning):
        regions.update(row.regions)
    for environment in table.environments.values():
        regions.update(target.region for target in environment.targets)
    return tuple(sorted(regions))


def add_guard_stacks(app: cdk.App, table: ModelTable) -> tuple[GuardStack, GuardRolloutStack]:
    """What ``app.py`` declares for ``-c guard=true``: the hook stack and its organisation-wide rollout."""
    get_context = app.node.try_get_context
    mode = get_context("guard_failure_mode") or "FAIL"
    if mode not in FAILURE_MODES:
        raise GuardSettingsError(f"context guard_failure_mode={mode!r}: expected FAIL or WARN")
    failure_mode = cast(FailureMode, mode)
    guard = GuardStack(app, GUARD_STACK_ID, failure_mode=failure_mode)
    rollout = GuardRolloutStack(
        app, ROLLOUT_STACK_ID, failure_mode=failure_mode,
        regions=context_list(get_context, "guard_regions") or table_regions(table),
        organizational_unit_ids=context_list(get_context, "guard_ous"),
        code_bucket_prefix=get_context("guard_code_bucket_prefix") or DEFAULT_CODE_BUCKET_PREFIX,
    )
    return guard, rollout

"""``EulaGuardHook``: the deploy-time enforcement point, the EULA rules as a CloudFormation Lambda Hook.

It declares the hook's Lambda function (the rule engine and the catalog, bundled by ``constructs_lib.hook.bundle``
without Docker), the function's role (it writes its own log group, nothing else), the role the hooks service
assumes to invoke the function (``lambda:InvokeFunction`` on it, nothing else) and two ``CfnLambdaHook``s:

- ``ResourceHook``: ``RESOURCE`` and ``CLOUD_CONTROL`` operations, filtered to the SageMaker resource types the
  rule engine reads (``resource_target_names``), on create and update;
- ``StackHook``: ``STACK`` and ``CHANGE_SET`` operations, which see the whole template: the job constructs'
  custom resources (``Custom::...`` types cannot be hook target names: the target-name pattern admits only
  three-part ``AWS::Service::Resource`` names), Step Functions and every other surface the engine reads.

Hook formats and roles: CloudFormation Hooks User Guide, "Lambda Hooks" (docs/hook.md cites the pages).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.constructs.acknowledgments import acknowledge, acknowledge_in_compliance_packs
from constructs_lib.constructs.encryption import log_group_key
from constructs_lib.constructs.jobs.base import HANDLER_RUNTIME, ROLE_BOUND_POLICY_REASON
from constructs_lib.errors import ConstructValidationError
from constructs_lib.hook.bundle import stage_bundle
from constructs_lib.hook.handler import HANDLER
from constructs_lib.rules import scan_template

FailureMode = Literal["FAIL", "WARN"]
FAILURE_MODES = ("FAIL", "WARN")
DEFAULT_ALIAS = "EulaGate::Eula::Guard"
STACK_HOOK_SUFFIX = "Stack"  # the stack hook's alias: the resource hook's, with this added
# AWS::CloudFormation::LambdaHook's Alias: Name1::Name2::Name3, not beginning with AWS (the template reference);
# the last name leaves room for the stack hook's suffix.
_LAST_NAME_MAX = 64 - len(STACK_HOOK_SUFFIX)
ALIAS_PATTERN = re.compile(rf"(?i:(?!aws))[A-Za-z0-9]{{2,64}}::[A-Za-z0-9]{{2,64}}::[A-Za-z0-9]{{2,{_LAST_NAME_MAX}}}")
HOOKS_PRINCIPAL = "hooks.cloudformation.amazonaws.com"
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
# The resource types a hook may evaluate one by one; each is targeted once the rule engine reads it.
RESOURCE_TARGET_CANDIDATES = (
    "AWS::SageMaker::Model",
    "AWS::SageMaker::ModelPackage",
    "AWS::SageMaker::InferenceComponent",
    "AWS::SageMaker::Pipeline",
)
TARGET_ACTIONS = ("CREATE", "UPDATE")  # a deletion deploys nothing
# The hook waits 30 seconds for its Lambda function; the function stops before, so a stuck call ends as a failure.
FUNCTION_TIMEOUT = cdk.Duration.seconds(25)
# Lambda gives a function CPU in proportion to its memory, one full vCPU at 1,769 MB: YAML templates are read by
# PyYAML's pure-Python loader there (bench/hook_cost.py: about 2.5 s for 450 resources on one core).
FUNCTION_MEMORY_MB = 1769
# Why the compliance and Serverless packs' findings on the hook stand (cdk-nag acknowledgments, on their resource).
HOOK_FINDINGS = {
    "LambdaDLQ": "CloudFormation invokes the hook synchronously (RequestResponse) and acts on its answer; Lambda "
                 "sends only asynchronous invocations to a dead-letter queue, so one would never receive anything, "
                 "and a failed call already fails the hook (FAIL mode) and is in the function's log group",
    "LambdaInsideVPC": "the hook reads only the template CloudFormation sends (an S3 presigned URL) and answers; it "
                       "reaches no data store, and in a VPC it would need a NAT gateway or an S3 endpoint in every "
                       "account and region of the rollout just to fetch that template",
    "LambdaConcurrency": "a reserved concurrency would throttle the hook under a burst of deployments (a throttled "
                         "hook fails each deployment in FAIL mode), and reserving any fails the stack in accounts "
                         "whose concurrency quota is at the minimum of 10, which the organisation rollout reaches",
}
HOOK_UNTRACED_REASON = (
    "each invocation logs its verdict, its error code and its duration in the function's log group; X-Ray tracing "
    "would add a wildcard xray:PutTraceSegments grant without showing more"
)


def hook_type_arn_name(alias: str) -> str:
    """The name of a hook type in its ARN: ``Acme::Eula::Guard`` -> ``Acme-Eula-Guard``
    (``arn:<partition>:cloudformation:<region>:<account>:type/hook/Acme-Eula-Guard``)."""
    return alias.replace("::", "-")


def resource_target_names() -> tuple[str, ...]:
    """The candidate resource types the rule engine reads (asked of the engine, so the two never disagree)."""
    return tuple(
        name for name in RESOURCE_TARGET_CANDIDATES
        if scan_template({"Resources": {"Probe": {"Type": name, "Properties": {}}}}).checked
    )


class EulaGuardHook(Construct):
    """The EULA rules on every CloudFormation and Cloud Control deployment of the account and region.

    ``failure_mode``: ``FAIL`` stops an operation the hook fails (a finding, or an InternalFailure); ``WARN``
    lets it go on with a warning (a trial period). ``target_stacks``: ``"ALL"``, ``"NONE"`` (the hooks are
    declared but disabled) or stack-name patterns to include (``*`` and ``?`` wildcards). ``alias``: the hook
    type name ``Organization::Service::Hook`` of the resource hook; the stack hook's adds ``Stack``. ``code``:
    the function's code, when not the bundle staged from this package (the organisation rollout reads it from
    a bucket in each region).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        failure_mode: FailureMode = "FAIL",
        target_stacks: str | Sequence[str] = "ALL",
        alias: str = DEFAULT_ALIAS,
        code: lambda_.Code | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, id)
        if failure_mode not in FAILURE_MODES:
            raise ConstructValidationError(self.node.path, f"failure_mode={failure_mode!r}: expected FAIL or WARN")
        if not ALIAS_PATTERN.fullmatch(alias):
            raise ConstructValidationError(self.node.path, f"alias={alias!r}: expected Organization::Service::Hook "
                                           "(letters and digits, not beginning with AWS), e.g. Acme::Eula::Guard")
        stack_patterns = self._stack_patterns(target_stacks)
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, encryption_key=log_group_key(self))
        self.function_role = iam.Role(
            self, "FunctionRole", assumed_by=iam.ServicePrincipal(LAMBDA_PRINCIPAL),
            description="Runs the EulaGate hook's rules: writes its own log group, nothing else",
        )
        self.log_group.grant_write(self.function_role)
        self.function = lambda_.Function(
            self, "Function",
            runtime=HANDLER_RUNTIME,
            handler=HANDLER,
            code=code or lambda_.Code.from_asset(str(stage_bundle()), exclude=[".complete"]),
            role=self.function_role,
            timeout=FUNCTION_TIMEOUT,
            memory_size=FUNCTION_MEMORY_MB,
            log_group=self.log_group,
            description="EulaGate: the EULA rules for SageMaker JumpStart models, as a CloudFormation Lambda Hook",
        )
        # Permission as the Hooks User Guide's "Prepare to create a Lambda Hook" gives it; trust only for this
        # account's two hooks (confused deputy): aws:SourceAccount, and aws:SourceArn as the CloudFormation CLI's
        # hook role template conditions it (the hook's type ARN, and its versions under it).
        self.hook_role = iam.Role(
            self, "HookRole",
            assumed_by=iam.ServicePrincipal(HOOKS_PRINCIPAL, conditions=self._hook_trust_conditions(alias)),
            description="Lets CloudFormation Hooks invoke the EulaGate hook's function, and nothing else",
        )
        self.hook_role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                         resources=[self.function.function_arn]))
        self._acknowledge_findings()
        hook = functools.partial(
            self._hook,
            failure_mode=failure_mode,
            hook_status="DISABLED" if target_stacks == "NONE" else "ENABLED",
            stack_filters=cloudformation.CfnLambdaHook.StackFiltersProperty(
                filtering_criteria="ALL",
                stack_names=cloudformation.CfnLambdaHook.StackNamesProperty(include=list(stack_patterns)),
            ) if stack_patterns else None,
        )
        self.resource_hook = hook(
            "ResourceHook", alias, ["RESOURCE", "CLOUD_CONTROL"],
            target_filters=cloudformation.CfnLambdaHook.TargetFiltersProperty(targets=[
                cloudformation.CfnLambdaHook.HookTargetProperty(
                    action=action, invocation_point="PRE_PROVISION", target_name=target_name)
                for target_name in resource_target_names() for action in TARGET_ACTIONS
            ]),
        )
        self.stack_hook = hook("StackHook", f"{alias}{STACK_HOOK_SUFFIX}", ["STACK", "CHANGE_SET"])

    def _hook(self, id: str, alias: str, operations: list[str], *, failure_mode: str, hook_status: str,
              stack_filters: cloudformation.CfnLambdaHook.StackFiltersProperty | None,
              target_filters: cloudformation.CfnLambdaHook.TargetFiltersProperty | None = None,
              ) -> cloudformation.CfnLambdaHook:
        hook = cloudformation.CfnLambdaHook(
            self, id,
            alias=alias,
            execution_role=self.hook_role.role_arn,
            failure_mode=failure_mode,
            hook_status=hook_status,
            lambda_function=self.function.function_arn,
            target_operations=operations,
            target_filters=target_filters,
            stack_filters=stack_filters,
        )
        hook.node.add_dependency(self.hook_role)  # the role's invoke policy exists before the first call
        return hook

    def _hook_trust_conditions(self, alias: str) -> dict[str, dict[str, object]]:
        stack = cdk.Stack.of(self)
        hook_arns = [
            stack.format_arn(service="cloudformation", resource="type", resource_name=f"hook/{name}{version}",
                             arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME)
            for name in (hook_type_arn_name(alias), hook_type_arn_name(f"{alias}{STACK_HOOK_SUFFIX}"))
            for version in ("", "/*")
        ]
        return {"StringEquals": {"aws:SourceAccount": stack.account}, "StringLike": {"aws:SourceArn": hook_arns}}

    def _acknowledge_findings(self) -> None:
        for rule, reason in HOOK_FINDINGS.items():
            acknowledge_in_compliance_packs(self.function, rule, reason)
        acknowledge(self.function, "Serverless-LambdaDLQ", HOOK_FINDINGS["LambdaDLQ"])
        acknowledge(self.function, "Serverless-LambdaTracing", HOOK_UNTRACED_REASON)
        for role in (self.function_role, self.hook_role):
            acknowledge_in_compliance_packs(role, "IAMNoInlinePolicy", ROLE_BOUND_POLICY_REASON)

    def _stack_patterns(self, target_stacks: str | Sequence[str]) -> tuple[str, ...]:
        if isinstance(target_stacks, str):
            if target_stacks in ("ALL", "NONE"):
                return ()
            raise ConstructValidationError(
                self.node.path, f"target_stacks={target_stacks!r}: expected ALL, NONE or a list of stack-name "
                "patterns, e.g. ['prod-*']")
        patterns = tuple(target_stacks)
        if not patterns or not all(isinstance(pattern, str) and pattern for pattern in patterns):
            raise ConstructValidationError(self.node.path, "target_stacks: give at least one non-empty stack-name "
                                           "pattern, or ALL")
        return patterns

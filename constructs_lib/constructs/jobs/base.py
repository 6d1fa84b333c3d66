"""Plumbing shared by the fine-tuning job constructs (``AutoMLFineTuningJob``, ``JumpStartFineTuningJob``).

CloudFormation has no resource for AutoML or training jobs, so each job is a custom resource whose
``Properties`` are the SageMaker create request itself (beside ``ServiceToken``), which is what the EULA
rule engine reads. One CDK Provider per stack, job kind and waiting mode serves every job of that kind;
its Python handlers (``handlers/``) are bundled as plain files, without Docker, and use the Lambda
runtime's boto3.

Every job name of a stack starts with the stack's job-name prefix, and the handlers may manage exactly the
jobs with that prefix: removing one job from the stack leaves the handler allowed to stop it (CloudFormation
updates the shared policy before it deletes the removed resource).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, cast

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_lib.aws_names import KMS_KEY_ARN_PATTERN, is_token, parse_ecr_image, partition_of, split_s3_uri
from constructs_lib.catalog import Catalog
from constructs_lib.constructs.acknowledgments import (
    acknowledge,
    acknowledge_in_compliance_packs,
    acknowledge_wildcards,
)
from constructs_lib.constructs.encryption import event_topic_key, log_group_key
from constructs_lib.constructs.jobs.handlers.job_contract import (
    JOB_FAILURE_STATUSES,
    JOB_NAME_PATTERN,
    JOB_NAME_PREFIX_VARIABLE,
    REPLACEMENT_SUFFIX_LENGTH,
    WATCH_INTERVAL_SECONDS,
)
from constructs_lib.constructs.jobs.handlers.job_contract import JobKind as JobResourceKind
from constructs_lib.deprecation import warn_deprecated
from constructs_lib.errors import ConstructValidationError, JobNotAwaitedError
from constructs_lib.props.placement import VpcPlacement, network_interface_grants

HANDLERS_DIR = Path(__file__).with_name("handlers")
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14  # the newest Python Lambda runtime in aws-cdk-lib 2.275
# The handlers keep their retries inside the invocation's remaining time, with a reserve for stopping a job
# that a failed create started (handlers/job_common.py, Api).
HANDLER_TIMEOUT = cdk.Duration.minutes(5)
HANDLER_CONCURRENCY = 10  # each handler function's reserved concurrency: CloudFormation's parallel job requests
HANDLER_MEMORY_MB = 256  # boto3 calls and small JSON: Lambda's 128 MB default would also slow the start (CPU)
# "eg" and 6 hex digits of the stack name, then a hyphen: every job name of the stack starts with it.
JOB_NAME_PREFIX_LENGTH = 9
# CloudFormation waits for a custom resource's response at most ServiceTimeout seconds (at most 3600). A waited
# job's response comes after onEvent (at most HANDLER_TIMEOUT), the waiter (at most WAIT_TIMEOUT) and the
# waiter's last poll or onTimeout: the waiter gives up, and reports under the job's name so the rollback's
# Delete stops the job, before CloudFormation would (which would report under no name).
POLL_INTERVAL = cdk.Duration.minutes(1)
WAITED_SERVICE_TIMEOUT = cdk.Duration.hours(1)
WAIT_TIMEOUT = cdk.Duration.minutes(50)
MAX_WAITED_RUNTIME_SECONDS = 45 * 60  # a waited job ends by its own limit, start-up included, before the waiter
UNWAITED_SERVICE_TIMEOUT = cdk.Duration.minutes(HANDLER_TIMEOUT.to_minutes() + 5)
# Jobs of a kind SageMaker sends no events for (AutoML) are watched on this schedule (handlers/job_common.py,
# watch_failures), and name their failure topic in a tag (FAILURE_TOPIC_TAG).
WATCH_INTERVAL = cdk.Duration.seconds(WATCH_INTERVAL_SECONDS)
SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
# Reasons of the cdk-nag findings the Provider framework's grants raise (acknowledged in JobProvider).
INVOKE_VERSIONS_REASON = (
    "the CDK Provider framework invokes this function; CDK's grant_invoke allows the function and its versions "
    "and aliases (<function ARN>:*), and only this function"
)
LOG_DELIVERY_REASON = (
    "Step Functions delivers the waiter's execution log through CloudWatch Logs' vended-log delivery, whose "
    "actions (logs:CreateLogDelivery, logs:PutResourcePolicy and related) take no log-group resource, so CDK "
    "grants them on * as the Step Functions logging guide does"
)
DEAD_LETTER_QUEUE_REASON = (
    "this queue is itself the dead-letter queue of the job handlers and the Provider framework's functions; a "
    "dead-letter queue of a dead-letter queue would only move the same messages once more"
)
HANDLERS_OUTSIDE_VPC_REASON = (
    "the job handlers and the Provider framework only call control-plane APIs (SageMaker Create/Describe/Stop of "
    "the stack's jobs, Lambda, Step Functions, the CloudFormation response URL) and touch no data; the jobs' own "
    "containers run in the VPC the job is given (VpcConfig), and a VPC for the handlers would need a NAT gateway "
    "or interface endpoints only to reach those same APIs"
)
ROLE_BOUND_POLICY_REASON = (
    "each policy belongs to the one role it was written for and is created and deleted with it (its least-privilege "
    "statements name this stack's jobs, roles, queue and log groups); a customer-managed policy could be attached "
    "to other principals, which these statements must not reach"
)
HANDLERS_UNTRACED_REASON = (
    "the handlers and the Provider framework's functions make a few control-plane calls per CloudFormation request "
    "or schedule tick, each logged in their own log group with the request and the job's name; X-Ray tracing would "
    "add a wildcard xray:PutTraceSegments grant to every role without showing anything those logs do not"
)
NO_TRACING_REASON = (
    "the CDK Provider framework offers no X-Ray tracing for its waiter state machine; it only calls the "
    "is-complete handler once a minute, and each call is in the waiter's execution log (level ALL) and the "
    "handler's own log group"
)


JobInitParameters = ParamSpec("JobInitParameters")


@dataclass(frozen=True)
class FineTuningJobProps:
    """The props every fine-tuning job takes, whichever method trains it, as one object.

    Deprecated since 0.2.0 as a positional argument: ``AutoMLFineTuningJob(scope, id, props, base_model=...)``
    still works, with a ``DeprecationWarning``, until 0.3.0. Pass the same props as keywords instead:
    ``AutoMLFineTuningJob(scope, id, base_model=..., accept_eula=True, training_data=..., output_path=...)``.

    :param training_data: ``s3://bucket/prefix`` of the training data.
    :param output_path: ``s3://bucket/prefix`` where the job writes the fine-tuned model.
    :param accept_eula: True accepts the model's EULA; required for EULA-gated models by the EULA gate.
        Default: not set (no acceptance).
    :param validation_data: ``s3://bucket/prefix`` of validation data. Default: none.
    :param hyperparameters: checked against the method's ranges and sent as strings. Default: the method's.
    :param job_name: letters, digits and hyphens, starting with the stack's job-name prefix (``job_name_prefix``).
        Default: the prefix and a name derived from the construct path (stable).
    :param role: the role the job runs with; it is granted what the job needs. Default: a new least-privilege role.
    :param max_runtime: the job's maximum runtime. Default: the method's (45 minutes with ``wait_for_completion``).
    :param wait_for_completion: the deployment waits for the job (at most 50 minutes) and fails if the job fails;
        enables the job's model outputs. Default: False: the job's failure reaches ``failure_topic`` instead.
    :param kms_key_arn: a customer-managed KMS key for the job's output and storage volume, the handlers' log
        groups and queues, and the failure topic. Its key policy must let the roles use it (they get the grants
        in their own policies). Default: AWS-managed encryption.
    :param vpc: the subnets and security groups the job's containers run in (``VpcConfig``). Default: none.
    :param network_isolation: no network access for the job's containers (training: ``EnableNetworkIsolation``,
        always on, since code and model arrive as channels), and encrypted traffic between them
        (``EnableInterContainerTrafficEncryption``). Default: False.
    :param failure_topic: where a job that is not waited for reports failing or being stopped. Default: the topic
        of its Provider, one per stack, job kind and key (``FineTuningJobBase.failure_topic``).
    :param catalog: the model catalog. Default: ``Catalog.default()``.
    """

    training_data: str
    output_path: str
    accept_eula: bool | None = None
    validation_data: str | None = None
    hyperparameters: Mapping[str, int | float | str] | None = None
    job_name: str | None = None
    role: iam.IRole | None = None
    max_runtime: cdk.Duration | int | None = None
    wait_for_completion: bool = False
    kms_key_arn: str | None = None
    vpc: VpcPlacement | None = None
    network_isolation: bool = False
    failure_topic: sns.ITopic | None = None
    catalog: Catalog | None = None


def accepts_deprecated_props(
    init: Callable[JobInitParameters, None],
) -> Callable[JobInitParameters, None]:
    """Let a job's keyword-only ``__init__`` take the 0.1 spelling too: a ``FineTuningJobProps`` after
    ``scope, id`` (or as ``props=``), with a ``DeprecationWarning`` that says what to write instead.

    The signature users see (``inspect.signature``, IDEs, the API snapshot) stays the keyword-only one.
    """

    @functools.wraps(init)
    def init_accepting_props(self: Construct, scope: Construct, id: str, *args: Any, **kwargs: Any) -> None:
        if args or "props" in kwargs:
            kwargs = _props_as_keywords(type(self).__name__, args, kwargs)
        untyped_init: Callable[..., None] = init
        untyped_init(self, scope, id, **kwargs)

    return cast(Callable[JobInitParameters, None], init_accepting_props)


def _props_as_keywords(construct: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    if len(args) > 1 or (args and "props" in kwargs):
        raise TypeError(f"{construct}() takes scope, id and keyword arguments only")
    props = args[0] if args else kwargs.pop("props")
    if not isinstance(props, FineTuningJobProps):
        raise TypeError(
            f"{construct}() takes scope, id and keyword arguments only; got {type(props).__name__} after id"
        )
    warn_deprecated(
        f"{construct}(scope, id, FineTuningJobProps(...), ...)",
        f"pass the props as keywords, {construct}(scope, id, training_data=..., output_path=..., accept_eula=..., ...)",
        since="0.2.0",
    )
    given_twice = sorted(name for name in kwargs if name in {field.name for field in fields(props)})
    if given_twice:
        raise TypeError(f"{construct}() got {', '.join(given_twice)} both in FineTuningJobProps and as a keyword")
    return {**{field.name: getattr(props, field.name) for field in fields(props)}, **kwargs}


@dataclass(frozen=True)
class S3Location:
    """An ``s3://bucket/prefix`` URI as given (the prefix may be empty: the whole bucket)."""

    uri: str
    bucket: str
    prefix: str

    @property
    def objects_arn(self) -> str:
        return f"{bucket_arn(self.bucket)}/{self.prefix}*"


def bucket_arn(bucket: str) -> str:
    return f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}"


def parse_s3_uri(owner: Construct, what: str, uri: Any) -> S3Location:
    """Raise early unless ``uri`` is a literal ``s3://bucket/prefix``: the job role is scoped to it."""
    if not isinstance(uri, str) or is_token(uri):
        raise ConstructValidationError(
            owner.node.path, f"{what} must be a literal S3 URI such as s3://my-bucket/path/ (the job role "
            f"is scoped to its bucket and prefix), not {uri!r}"
        )
    try:
        bucket, prefix = split_s3_uri(uri, what=what)
    except ValueError as error:
        raise ConstructValidationError(owner.node.path, str(error)) from error
    return S3Location(uri=uri, bucket=bucket, prefix=prefix)


def data_channels(owner: Construct, training_data: str, validation_data: str | None) -> list[tuple[str, S3Location]]:
    """``[("training", ...), ("validation", ...)]``, the second only when given."""
    channels = [("training", parse_s3_uri(owner, "training_data", training_data))]
    if validation_data is not None:
        channels.append(("validation", parse_s3_uri(owner, "validation_data", validation_data)))
    return channels


def job_name_prefix(stack: cdk.Stack) -> str:
    """The prefix of every job name of the stack, e.g. ``eg1a2b3c-``: the handlers may manage exactly these jobs."""
    identity = stack.node.path if is_token(stack.stack_name) else stack.stack_name
    return f"eg{hashlib.sha256(identity.encode()).hexdigest()[: JOB_NAME_PREFIX_LENGTH - 3]}-"


def checked_job_name(owner: Construct, explicit: str | None, kind: JobResourceKind) -> str:
    """The given job name, checked, or one derived from the construct path (stable across synths); both start
    with the stack's job-name prefix."""
    limit = kind.max_name_length
    prefix = job_name_prefix(cdk.Stack.of(owner))
    if explicit is None:
        # the construct path below the stack, e.g. "llama2-7b-s" for llama2-7b-support/Job
        below_stack = owner.node.path.removeprefix(cdk.Stack.of(owner).node.path).lstrip("/")
        slug = re.sub(r"[^a-z0-9]+", "-", below_stack.lower()).strip("-") or "job"
        slug = slug[: limit - len(prefix) - REPLACEMENT_SUFFIX_LENGTH].rstrip("-") or "job"
        digest = hashlib.sha256(owner.node.path.encode()).hexdigest()[: REPLACEMENT_SUFFIX_LENGTH - 1]
        return f"{prefix}{slug}-{digest}"
    if not isinstance(explicit, str) or len(explicit) > limit or not JOB_NAME_PATTERN.fullmatch(explicit):
        raise ConstructValidationError(
            owner.node.path, f"job_name {explicit!r} is invalid; use 1 to {limit} letters, digits and hyphens, "
            "starting and ending with a letter or digit (pattern [a-zA-Z0-9](-*[a-zA-Z0-9])*)"
        )
    if not explicit.lower().startswith(prefix) or len(explicit) == len(prefix):
        raise ConstructValidationError(
            owner.node.path, f"job_name {explicit!r} must start with this stack's job-name prefix {prefix!r} (the "
            "job handlers may manage only the stack's jobs, by that prefix, so a removed job can still be stopped); "
            f"name it {prefix + explicit[: limit - len(prefix)]!r}, or leave job_name out"
        )
    return explicit


def runtime_seconds(owner: Construct, max_runtime: cdk.Duration | int | None, *, wait: bool) -> int | None:
    """The job's maximum runtime in seconds; a waited job must fit inside the Provider's total timeout."""
    if max_runtime is None:
        return MAX_WAITED_RUNTIME_SECONDS if wait else None
    seconds = max_runtime.to_seconds() if isinstance(max_runtime, cdk.Duration) else max_runtime
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 1 or seconds != int(seconds):
        raise ConstructValidationError(
            owner.node.path, f"max_runtime must be a whole number of seconds >= 1, not {max_runtime!r}"
        )
    if wait and seconds > MAX_WAITED_RUNTIME_SECONDS:
        raise ConstructValidationError(
            owner.node.path, f"max_runtime {int(seconds)} s is longer than a deployment can wait for a job "
            f"({MAX_WAITED_RUNTIME_SECONDS} s; CloudFormation waits at most 1 hour for a custom resource); use "
            "wait_for_completion=False, or a max_runtime of at most "
            f"{MAX_WAITED_RUNTIME_SECONDS} s"
        )
    return int(seconds)


def decimal_text(value: float) -> str:
    """``1e-05`` -> ``"0.00001"``: numbers sent as strings stay positional."""
    return format(Decimal(repr(float(value))), "f")


class JobProvider(Construct):
    """The handler functions, their role and the Provider: one per stack, job kind and waiting mode."""

    @classmethod
    def of(cls, scope: Construct, kind: JobResourceKind, *, wait: bool, kms_key_arn: str | None) -> JobProvider:
        """The stack's Provider of that kind, waiting mode and KMS key (jobs with a key get an encrypted one)."""
        stack = cdk.Stack.of(scope)
        key_id = "" if kms_key_arn is None else "Key" + hashlib.sha256(
            json.dumps(stack.resolve(kms_key_arn), sort_keys=True).encode()).hexdigest()[:8]
        provider_id = f"EulaGate{kind.title}Job{'Waiter' if wait else ''}{key_id}Provider"
        existing = stack.node.try_find_child(provider_id)
        if isinstance(existing, JobProvider):
            return existing
        return cls(stack, provider_id, kind=kind, wait=wait, kms_key_arn=kms_key_arn)

    def __init__(self, scope: Construct, id: str, *, kind: JobResourceKind, wait: bool,
                 kms_key_arn: str | None) -> None:
        super().__init__(scope, id)
        self.kind = kind
        self.kms_key_arn = kms_key_arn
        self.key = kms.Key.from_key_arn(self, "Key", kms_key_arn) if kms_key_arn is not None else None
        self._failure_topic: sns.Topic | None = None
        stack = cdk.Stack.of(self)
        self.job_name_prefix = job_name_prefix(stack)
        self.handler_role = iam.Role(
            self, "HandlerRole", assumed_by=iam.ServicePrincipal(LAMBDA_PRINCIPAL),
            description=f"Starts, replaces and stops the stack's {kind.title} fine-tuning jobs",
        )
        # Lambda sends an event it could not deliver to a function here: CloudFormation's requests to the
        # framework, which Lambda retries twice before giving up.
        self.dead_letters = sqs.Queue(
            self, "DeadLetters", enforce_ssl=True, retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.KMS if self.key else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=self.key,
        )
        acknowledge(self.dead_letters, "AwsSolutions-SQS3", DEAD_LETTER_QUEUE_REASON)
        acknowledge(self.dead_letters, "Serverless-SQSRedrivePolicy", DEAD_LETTER_QUEUE_REASON)
        code = lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["__pycache__", "*.pyc"])
        on_event = self._function("OnEvent", code, "on_event")
        is_complete = self._function("IsComplete", code, "is_complete") if wait else None
        # The framework's own functions get roles of ours, which write only to one log group with a retention,
        # instead of the AWSLambdaBasicExecutionRole managed policy (logs anywhere, kept forever). The
        # is-complete/on-timeout role must differ from the on-event one (the framework's dependency order).
        framework_logs = self._log_group("FrameworkLogs")
        framework_roles = [self._framework_role("FrameworkOnEventRole", framework_logs)]
        if wait:
            framework_roles.append(self._framework_role("FrameworkWaiterRole", framework_logs))
        self.provider = cr.Provider(
            self, "Provider", on_event_handler=on_event, is_complete_handler=is_complete,
            query_interval=POLL_INTERVAL if wait else None, total_timeout=WAIT_TIMEOUT if wait else None,
            framework_on_event_role=framework_roles[0],
            framework_complete_and_timeout_role=framework_roles[1] if wait else None,
            log_group=framework_logs,
            disable_waiter_state_machine_logging=False if wait else None,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=self._log_group("WaiterLogs"), level=sfn.LogLevel.ALL,
                include_execution_data=False,  # the events carry CloudFormation's pre-signed response URL
            ) if wait else None,
        )
        self._harden_framework_functions(wait)
        if not wait:
            self._watch_failures(code)
        handlers = [function for function in (on_event, is_complete) if function is not None]
        for role in framework_roles:
            acknowledge_wildcards(role, ((f"{handler.function_arn}:*", INVOKE_VERSIONS_REASON) for handler in handlers))
        if wait:
            self._acknowledge_waiter()
        self._allow_dead_letters(self.handler_role)
        acknowledge_in_compliance_packs(self, "LambdaInsideVPC", HANDLERS_OUTSIDE_VPC_REASON)
        acknowledge(self, "Serverless-LambdaTracing", HANDLERS_UNTRACED_REASON)
        acknowledge_in_compliance_packs(self, "IAMNoInlinePolicy", ROLE_BOUND_POLICY_REASON)
        # One statement for every job of the stack, present as long as the Provider: a removed job's Delete
        # (after CloudFormation has already updated this policy) may still stop it.
        jobs_arn = stack.format_arn(
            service="sagemaker", resource=kind.arn_resource, resource_name=f"{self.job_name_prefix}*",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        self.handler_role.add_to_policy(iam.PolicyStatement(actions=list(kind.handler_actions), resources=[jobs_arn]))
        # A Delete whose resource never learned its job's name (the Create's response was lost) and the failure
        # watcher look the stack's jobs up by listing them.
        self.handler_role.add_to_policy(iam.PolicyStatement(actions=list(kind.list_actions), resources=["*"]))
        acknowledge_wildcards(self.handler_role, [(jobs_arn, (
            f"every job name of the stack starts with its job-name prefix {self.job_name_prefix!r} (and an Update "
            "starts a replacement job named after the old one plus '-<8 hex digits>'); the handler manages the "
            f"stack's {kind.title} jobs by that prefix, and only those, so it can still stop a job whose row was "
            "removed after CloudFormation updated this policy"
        )), ("*", (
            f"{', '.join(kind.list_actions)} take no resource narrower than *; the handlers keep only the stack's "
            "jobs (names with its job-name prefix)"
        ))])

    def _watch_failures(self, code: lambda_.Code) -> None:
        """A function on a schedule stops the stack's running jobs that no resource records (a Create whose response
        was lost), and, for a kind SageMaker sends no status-change event for, publishes the jobs that failed or were
        stopped to the topic their tag names. (A waited job's lost response reaches the handler as a Delete.)"""
        watcher = self._function("FailureWatch", code, "watch_failures")
        publishes = self.kind.state_change_event is None
        events.Rule(
            self, "FailureWatchSchedule", schedule=events.Schedule.rate(WATCH_INTERVAL),
            description=(
                f"Looks for failed or stopped {self.kind.title} jobs of the stack (not waited for)" if publishes
                else f"Stops {self.kind.title} jobs of the stack that no resource records"
            ),
            targets=[targets.LambdaFunction(watcher, dead_letter_queue=self.dead_letters)],
        )
        # The sweep asks CloudFormation whether a running job is still its resource's (handlers/job_common.py,
        # sweep_unrecorded_jobs): the stacks of this name, the current one and deleted ones.
        stacks_arn = cdk.Stack.of(self).format_arn(
            service="cloudformation", resource="stack", resource_name=f"{cdk.Stack.of(self).stack_name}/*",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        self.handler_role.add_to_policy(iam.PolicyStatement(
            actions=["cloudformation:DescribeStacks", "cloudformation:DescribeStackResource"], resources=[stacks_arn]))
        acknowledge_wildcards(self.handler_role, [(stacks_arn, (
            "a stack's ARN ends in an id CloudFormation picks at creation; the sweep reads the stack of this name "
            "that started a job, which may be a deleted one"
        ))])

    def _log_group(self, id: str) -> logs.LogGroup:
        return logs.LogGroup(
            self, id, retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY,
            encryption_key=self.key or log_group_key(self),  # the stack's own key when no key was given
        )

    def _framework_role(self, id: str, log_group: logs.LogGroup) -> iam.Role:
        role = iam.Role(
            self, id, assumed_by=iam.ServicePrincipal(LAMBDA_PRINCIPAL),
            description=f"Runs the CDK Provider framework of the stack's {self.kind.title} fine-tuning jobs",
        )
        log_group.grant_write(role)
        return role

    def _harden_framework_functions(self, wait: bool) -> None:
        """The framework's functions get the dead-letter queue and reserved concurrency ours have (the Provider
        offers neither option)."""
        for name in ("onEvent", *(("isComplete", "onTimeout") if wait else ())):
            function = cast(lambda_.Function, self.provider.node.find_child(f"framework-{name}"))
            cfn_function = cast(lambda_.CfnFunction, function.node.default_child)
            cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
                target_arn=self.dead_letters.queue_arn)
            cfn_function.reserved_concurrent_executions = HANDLER_CONCURRENCY
            cfn_function.memory_size = HANDLER_MEMORY_MB
            if function.role is not None:
                self._allow_dead_letters(function.role)

    def _allow_dead_letters(self, role: iam.IRole) -> None:
        """What Lambda needs of a function's role to send it the events it could not deliver (and no more than
        ``grant_send_messages``, whose key grant holds wildcard actions)."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn]))
        if self.key is not None:
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn]))

    def _acknowledge_waiter(self) -> None:
        """The waiter state machine's findings, on it only: its role invokes the framework's functions and
        delivers its log; the framework has no tracing option."""
        state_machine = self.provider.node.find_child("waiter-state-machine")  # the framework's construct ids
        framework_functions = [
            cast(lambda_.IFunction, self.provider.node.find_child(f"framework-{name}"))
            for name in ("isComplete", "onTimeout")
        ]
        acknowledge_wildcards(state_machine, [
            *((f"{function.function_arn}:*", INVOKE_VERSIONS_REASON) for function in framework_functions),
            ("*", LOG_DELIVERY_REASON),
        ])
        acknowledge(state_machine, "AwsSolutions-SF2", NO_TRACING_REASON)
        acknowledge(state_machine, "Serverless-StepFunctionStateMachineXray", NO_TRACING_REASON)

    def _function(self, id: str, code: lambda_.Code, entry: str) -> lambda_.Function:
        log_group = self._log_group(f"{id}Logs")
        log_group.grant_write(self.handler_role)
        return lambda_.Function(
            self, id, runtime=HANDLER_RUNTIME, code=code, handler=f"{self.kind.handler_module}.{entry}",
            role=self.handler_role, timeout=HANDLER_TIMEOUT, memory_size=HANDLER_MEMORY_MB, log_group=log_group,
            environment={JOB_NAME_PREFIX_VARIABLE: self.job_name_prefix},
            dead_letter_queue=self.dead_letters, reserved_concurrent_executions=HANDLER_CONCURRENCY,
        )

    def allow_job(self, job_role: iam.IRole) -> None:
        """Let the handler pass this job's role, to SageMaker only (the jobs themselves are allowed by prefix)."""
        self.handler_role.add_to_policy(pass_role_statement(job_role.role_arn))

    def allow_publishing(self, topic: sns.ITopic) -> None:
        """Let the failure watcher publish to ``topic`` (and use its key; ``grant_publish`` would allow wildcard
        KMS actions)."""
        self.handler_role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn]))
        if topic.master_key is not None:
            self.handler_role.add_to_policy(iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[topic.master_key.key_arn]))

    def failure_topic(self) -> sns.Topic:
        """The stack's default topic for the failures of jobs not waited for (created on first use)."""
        if self._failure_topic is None:
            self._failure_topic = sns.Topic(
                self, "JobFailures", enforce_ssl=True, master_key=self.key or event_topic_key(self),
                display_name=f"Failed or stopped {self.kind.title} fine-tuning jobs",
            )
        return self._failure_topic


class FineTuningJobBase(Construct):
    """What both fine-tuning job constructs share: the job role, the custom resource and its attributes."""

    job_name: str
    """The job's name (a token: an Update of the job's properties starts a new job under a new name)."""
    job_arn: str
    """The job's ARN (a token)."""
    role: iam.IRole
    """The role the job runs with."""
    custom_resource: cdk.CfnResource
    """The custom resource; its properties are the SageMaker create request."""
    wait_for_completion: bool
    provider: JobProvider
    """The Provider (handlers, their role and the framework) the job shares with the stack's jobs of its kind."""
    failure_topic: sns.ITopic | None
    """Where the job's failure (``Failed`` or ``Stopped``) is published when it is not waited for; None when the
    deployment waits for the job (its failure fails the deployment)."""

    def _job_role(
        self, role: iam.IRole | None, *, reads: Sequence[S3Location], writes: Sequence[S3Location],
        read_writes: Sequence[S3Location] = (), image_uris: Sequence[str], passes_itself: bool = False,
        kms_key_arn: str | None = None, vpc: VpcPlacement | None = None,
    ) -> iam.IRole:
        """The given role, granted what the job needs (a no-op for immutable roles), or a new least-privilege one."""
        reasoned_statements = _job_statements(
            cdk.Stack.of(self), reads=[*reads, *read_writes], writes=[*writes, *read_writes], image_uris=image_uris,
            kms_key_arn=kms_key_arn, vpc=vpc,
        )
        statements = [statement for statement, _ in reasoned_statements]
        job_role: iam.IRole
        if role is None:
            # inline: a single resource, whose access exists as soon as the role does
            job_role = iam.Role(
                self, "JobRole", assumed_by=iam.ServicePrincipal(SAGEMAKER_PRINCIPAL),
                description=f"Runs the SageMaker job of {self.node.path}",
                inline_policies={"JobAccess": iam.PolicyDocument(statements=statements)},
            )
        else:
            job_role = role
            for statement in statements:
                job_role.add_to_principal_policy(statement)
        acknowledge_in_compliance_packs(job_role, "IAMNoInlinePolicy", ROLE_BOUND_POLICY_REASON)
        if passes_itself:
            # Autopilot runs its processing and training jobs with the same role; a policy apart from the
            # role's inline one, which cannot name the role itself
            job_role.add_to_principal_policy(pass_role_statement(job_role.role_arn))
        acknowledge_wildcards(job_role, (
            (resource, why) for statement, why in reasoned_statements for resource in statement.resources
        ))
        self.role = job_role
        return job_role

    def _create_job(self, kind: JobResourceKind, request: dict[str, Any], props: FineTuningJobProps) -> None:
        wait = props.wait_for_completion
        provider = JobProvider.of(self, kind, wait=wait, kms_key_arn=props.kms_key_arn)
        provider.allow_job(self.role)
        resource = cdk.CustomResource(
            self, "Resource", service_token=provider.provider.service_token, resource_type=kind.resource_type,
            properties=request, service_timeout=WAITED_SERVICE_TIMEOUT if wait else UNWAITED_SERVICE_TIMEOUT,
        )
        self.provider = provider
        self.failure_topic = None
        if not wait:
            self.failure_topic = props.failure_topic or provider.failure_topic()
            self._failure_rule(kind, request[kind.name_key], self.failure_topic)
            if kind.state_change_event is None:  # the Provider's watcher reads the topic from the job's tag
                provider.allow_publishing(self.failure_topic)
        if isinstance(self.role, iam.Role):
            # the job reads its data with the role's policy from its first second
            resource.node.add_dependency(self.role)
        self._resource = resource
        self.custom_resource = resource.node.default_child  # type: ignore[assignment]
        self.job_name = resource.get_att_string("JobName")
        self.job_arn = resource.get_att_string("JobArn")
        self.wait_for_completion = wait

    def _failure_rule(self, kind: JobResourceKind, name: str, topic: sns.ITopic) -> None:
        """Publish the job's failure (and its replacements', whose names extend its own) to ``topic``."""
        if kind.state_change_event is None:
            return
        events.Rule(
            self, "FailureRule", description=f"Failure of the {kind.title} job {name} (not waited for)",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"], detail_type=[kind.state_change_event],
                detail={
                    kind.name_key: [{"prefix": name[: kind.max_name_length - REPLACEMENT_SUFFIX_LENGTH]}],
                    kind.status_key: list(JOB_FAILURE_STATUSES),
                },
            ),
            # an event EventBridge cannot deliver to the topic lands in the Provider's dead-letter queue
            targets=[targets.SnsTopic(topic, dead_letter_queue=self.provider.dead_letters)],
        )

    def _require_completion(self, attribute: str) -> None:
        if not self.wait_for_completion:
            raise JobNotAwaitedError(
                self.node.path, f"{attribute} is known only once the job has finished; pass "
                "wait_for_completion=True so the deployment waits for the job (or deploy what uses it in a "
                "later deployment, from the job's output path)"
            )

    def _awaited_attribute(self, attribute: str, key: str) -> str:
        """A value the handler reports when the job has completed."""
        self._require_completion(attribute)
        return self._resource.get_att_string(key)


def pass_role_statement(role_arn: str) -> iam.PolicyStatement:
    """Pass the role to SageMaker, and to nothing else."""
    return iam.PolicyStatement(
        actions=["iam:PassRole"], resources=[role_arn],
        conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_PRINCIPAL}},
    )


def checked_kms_key_arn(owner: Construct, kms_key_arn: Any) -> str | None:
    """A KMS key ARN in the stack's region (a token passes as it is), or None."""
    if kms_key_arn is None or is_token(kms_key_arn):
        return kms_key_arn
    region = cdk.Stack.of(owner).region
    match = KMS_KEY_ARN_PATTERN.fullmatch(kms_key_arn) if isinstance(kms_key_arn, str) else None
    if match is None or (not is_token(region) and match["region"] != region):
        raise ConstructValidationError(
            owner.node.path, f"kms_key_arn {kms_key_arn!r} is not the ARN of a KMS key in {region} (such as "
            f"arn:aws:kms:{region}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab): the roles are granted "
            "the key itself, and SageMaker uses keys of the job's region"
        )
    return kms_key_arn


def security_config(props: FineTuningJobProps) -> dict[str, Any]:
    """The job's encryption, network and traffic settings as the APIs name them (AutoML's ``SecurityConfig``)."""
    config: dict[str, Any] = {}
    if props.kms_key_arn is not None:
        config["VolumeKmsKeyId"] = props.kms_key_arn
    if props.network_isolation:
        config["EnableInterContainerTrafficEncryption"] = True
    if props.vpc is not None:
        config["VpcConfig"] = props.vpc.vpc_config()
    return config


def output_config(output: S3Location, props: FineTuningJobProps) -> dict[str, Any]:
    config: dict[str, Any] = {"S3OutputPath": output.uri}
    if props.kms_key_arn is not None:
        config["KmsKeyId"] = props.kms_key_arn
    return config


def _job_statements(
    stack: cdk.Stack, *, reads: Sequence[S3Location], writes: Sequence[S3Location], image_uris: Sequence[str],
    kms_key_arn: str | None, vpc: VpcPlacement | None,
) -> list[tuple[iam.PolicyStatement, str]]:
    """The job role's statements, each with why its resources are as wide as they are (for cdk-nag)."""
    statements: list[tuple[iam.PolicyStatement, str]] = []
    if reads:
        statements.append((
            iam.PolicyStatement(actions=["s3:GetObject"], resources=sorted({loc.objects_arn for loc in reads})),
            "the job reads every object under its input prefixes (its data, JumpStart's script and model, and "
            "for Autopilot what it wrote to its output), under names known only at run time",
        ))
        for bucket in sorted({location.bucket for location in reads}):
            prefixes = sorted({f"{loc.prefix}*" for loc in reads if loc.bucket == bucket})
            statements.append((iam.PolicyStatement(
                actions=["s3:ListBucket"], resources=[bucket_arn(bucket)],
                conditions=None if "*" in prefixes else {"StringLike": {"s3:prefix": prefixes}},
            ), ""))
    if writes:
        statements.append((
            iam.PolicyStatement(actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                                resources=sorted({location.objects_arn for location in writes})),
            "the job writes its artifacts under its output prefix, under names SageMaker picks at run time",
        ))
    statements.append((
        iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[stack.format_arn(service="logs", resource="log-group", resource_name="/aws/sagemaker/*",
                                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)],
        ),
        "SageMaker logs each job (and each processing and training job Autopilot starts) to a log group per "
        "job kind under /aws/sagemaker/, with streams named at run time",
    ))
    statements.append((
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        ),
        "cloudwatch:PutMetricData supports no resource narrower than *; the namespaces are limited to "
        "/aws/sagemaker/* by condition",
    ))
    statements.append((
        iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        "ecr:GetAuthorizationToken supports no resource narrower than *",
    ))
    statements.append((
        iam.PolicyStatement(
            actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            resources=sorted({_image_repository_arn(image_uri) for image_uri in image_uris}),
        ),
        "",
    ))
    if kms_key_arn is not None:
        statements.append((iam.PolicyStatement(
            actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], resources=[kms_key_arn],
        ), ""))
        statements.append((iam.PolicyStatement(
            actions=["kms:CreateGrant"], resources=[kms_key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},  # SageMaker's grant for the job's volume
        ), ""))
    if vpc is not None:
        statements.extend(
            (iam.PolicyStatement(actions=list(grant.actions), resources=list(grant.resources),
                                 conditions=grant.condition), grant.why)
            for grant in network_interface_grants(
                vpc.subnet_ids, vpc.security_group_ids, partition=partition_of(stack.region), region=stack.region)
        )
    return statements


def _image_repository_arn(image_uri: str) -> str:
    """The ECR repository of an image URI, in the image's own account and region."""
    image = parse_ecr_image(image_uri)
    if image is None:
        raise ValueError(f"{image_uri!r} is not an ECR image URI")
    return image.repository_arn()

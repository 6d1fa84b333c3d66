"""Plumbing shared by the fine-tuning job constructs (``AutoMLFineTuningJob``, ``JumpStartFineTuningJob``).

CloudFormation has no resource for AutoML or training jobs, so each job is a custom resource whose
``Properties`` are the SageMaker create request itself (beside ``ServiceToken``), which is what the EULA
rule engine reads. One CDK Provider per stack, job kind and waiting mode serves every job of that kind;
its Python handlers (``handlers/``) are bundled as plain files, without Docker, and use the Lambda
runtime's boto3.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_lib.aws_names import is_token, parse_ecr_image, split_s3_uri
from constructs_lib.catalog import ModelSpec
from constructs_lib.constructs.acknowledgments import acknowledge, acknowledge_wildcards
from constructs_lib.errors import ConstructValidationError

HANDLERS_DIR = Path(__file__).with_name("handlers")
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14  # the newest Python Lambda runtime in aws-cdk-lib 2.275
HANDLER_TIMEOUT = cdk.Duration.minutes(2)  # covers the handlers' bounded throttling backoff (about 16 s)
JOB_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
# An Update replaces the job under "<name cut to fit>-<8 hex digits>" (handlers/job_common.py); the
# handler's IAM resource pattern keeps that much of the name as its prefix.
REPLACEMENT_SUFFIX_LENGTH = 9
WAIT_TIMEOUT = cdk.Duration.hours(1)  # the Provider framework's maximum total timeout
MAX_WAITED_RUNTIME_SECONDS = 55 * 60  # a waited job must end inside WAIT_TIMEOUT, start-up included
POLL_INTERVAL = cdk.Duration.minutes(1)
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
NO_TRACING_REASON = (
    "the CDK Provider framework offers no X-Ray tracing for its waiter state machine; it only calls the "
    "is-complete handler once a minute, and each call is in the waiter's execution log (level ALL) and the "
    "handler's own log group"
)


class JobNotAwaitedError(RuntimeError):
    """A job output was asked for, but the stack does not wait for the job to finish."""


@dataclass(frozen=True)
class JobResourceKind:
    """One kind of job custom resource: its type, handler module and what its handler may do."""

    title: str
    resource_type: str
    handler_module: str
    name_key: str
    arn_resource: str
    handler_actions: tuple[str, ...]
    max_name_length: int


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


def concrete_region(owner: Construct) -> str:
    region = cdk.Stack.of(owner).region
    if is_token(region):
        raise ConstructValidationError(
            owner.node.path, f"{type(owner).__name__} needs a concrete region to pick the model's images and "
            "artifacts, but its stack is environment-agnostic; create the stack with "
            "env=Environment(region=\"us-east-1\") (or another region)"
        )
    return region


def checked_job_name(owner: Construct, explicit: str | None, kind: JobResourceKind) -> str:
    """The given job name, checked, or one derived from the construct path (stable across synths)."""
    limit = kind.max_name_length
    if explicit is None:
        # the construct path below the stack, e.g. "llama2-7b-support-job" for llama2-7b-support/Job
        below_stack = owner.node.path.removeprefix(cdk.Stack.of(owner).node.path).lstrip("/")
        slug = re.sub(r"[^a-z0-9]+", "-", below_stack.lower()).strip("-") or "job"
        digest = hashlib.sha256(owner.node.path.encode()).hexdigest()[: REPLACEMENT_SUFFIX_LENGTH - 1]
        return f"{slug[: limit - REPLACEMENT_SUFFIX_LENGTH].rstrip('-')}-{digest}"
    if not isinstance(explicit, str) or len(explicit) > limit or not JOB_NAME_PATTERN.fullmatch(explicit):
        raise ConstructValidationError(
            owner.node.path, f"job_name {explicit!r} is invalid; use 1 to {limit} letters, digits and hyphens, "
            "starting and ending with a letter or digit (pattern [a-zA-Z0-9](-*[a-zA-Z0-9])*)"
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
            f"({MAX_WAITED_RUNTIME_SECONDS} s; the CDK Provider framework times out after 1 hour); use "
            "wait_for_completion=False, or a max_runtime of at most "
            f"{MAX_WAITED_RUNTIME_SECONDS} s"
        )
    return int(seconds)


def check_accept_eula(owner: Construct, accept_eula: Any, spec: ModelSpec) -> None:
    """Acceptance is True, False or not set; accepting a model without a EULA only earns a warning."""
    if accept_eula is not None and not isinstance(accept_eula, bool):
        raise ConstructValidationError(
            owner.node.path, f"accept_eula must be True, False or None (not set), not {accept_eula!r}; "
            "acceptance must be explicit at synth time"
        )
    if accept_eula and not spec.gated:
        cdk.Annotations.of(owner).add_warning_v2(
            "eulagate:accept-eula-not-needed", f"{spec.display_name} has no EULA to accept; accept_eula has no effect",
        )


def decimal_text(value: float) -> str:
    """``1e-05`` -> ``"0.00001"``: numbers sent as strings stay positional."""
    return format(Decimal(repr(float(value))), "f")


class JobProvider(Construct):
    """The handler functions, their role and the Provider: one per stack, job kind and waiting mode."""

    @classmethod
    def of(cls, scope: Construct, kind: JobResourceKind, *, wait: bool) -> JobProvider:
        stack = cdk.Stack.of(scope)
        provider_id = f"EulaGate{kind.title}Job{'Waiter' if wait else ''}Provider"
        existing = stack.node.try_find_child(provider_id)
        if isinstance(existing, JobProvider):
            return existing
        return cls(stack, provider_id, kind=kind, wait=wait)

    def __init__(self, scope: Construct, id: str, *, kind: JobResourceKind, wait: bool) -> None:
        super().__init__(scope, id)
        self.kind = kind
        self.handler_role = iam.Role(
            self, "HandlerRole", assumed_by=iam.ServicePrincipal(LAMBDA_PRINCIPAL),
            description=f"Starts, replaces and stops the stack's {kind.title} fine-tuning jobs",
        )
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
        handlers = [function for function in (on_event, is_complete) if function is not None]
        for role in framework_roles:
            acknowledge_wildcards(role, ((f"{handler.function_arn}:*", INVOKE_VERSIONS_REASON) for handler in handlers))
        if wait:
            self._acknowledge_waiter()

    def _log_group(self, id: str) -> logs.LogGroup:
        return logs.LogGroup(
            self, id, retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY,
        )

    def _framework_role(self, id: str, log_group: logs.LogGroup) -> iam.Role:
        role = iam.Role(
            self, id, assumed_by=iam.ServicePrincipal(LAMBDA_PRINCIPAL),
            description=f"Runs the CDK Provider framework of the stack's {self.kind.title} fine-tuning jobs",
        )
        log_group.grant_write(role)
        return role

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

    def _function(self, id: str, code: lambda_.Code, entry: str) -> lambda_.Function:
        log_group = self._log_group(f"{id}Logs")
        log_group.grant_write(self.handler_role)
        return lambda_.Function(
            self, id, runtime=HANDLER_RUNTIME, code=code, handler=f"{self.kind.handler_module}.{entry}",
            role=self.handler_role, timeout=HANDLER_TIMEOUT, log_group=log_group,
        )

    def allow_job(self, name: str, job_role: iam.IRole) -> None:
        """Let the handler manage this job (and its replacements) and pass its role to SageMaker only."""
        prefix = name[: self.kind.max_name_length - REPLACEMENT_SUFFIX_LENGTH]
        stack = cdk.Stack.of(self)
        # SageMaker ARNs carry job names in lower case
        job_arns = [
            stack.format_arn(service="sagemaker", resource=self.kind.arn_resource, resource_name=f"{p}*",
                             arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME)
            for p in sorted({prefix, prefix.lower()})
        ]
        self.handler_role.add_to_policy(
            iam.PolicyStatement(actions=list(self.kind.handler_actions), resources=job_arns))
        self.handler_role.add_to_policy(pass_role_statement(job_role.role_arn))
        acknowledge_wildcards(self.handler_role, (
            (arn, f"an Update starts a replacement job named {prefix!r} plus '-<8 hex digits>', so the handler "
                  f"manages the {self.kind.title} jobs with this job's name prefix, and only those")
            for arn in job_arns
        ))


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

    def _job_role(
        self, role: iam.IRole | None, *, reads: Sequence[S3Location], writes: Sequence[S3Location],
        read_writes: Sequence[S3Location] = (), image_uri: str | None, passes_itself: bool = False,
    ) -> iam.IRole:
        """The given role, granted what the job needs (a no-op for immutable roles), or a new least-privilege one."""
        reasoned_statements = _job_statements(
            cdk.Stack.of(self), reads=[*reads, *read_writes], writes=[*writes, *read_writes], image_uri=image_uri,
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
        if passes_itself:
            # Autopilot runs its processing and training jobs with the same role; a policy apart from the
            # role's inline one, which cannot name the role itself
            job_role.add_to_principal_policy(pass_role_statement(job_role.role_arn))
        acknowledge_wildcards(job_role, (
            (resource, why) for statement, why in reasoned_statements for resource in statement.resources
        ))
        self.role = job_role
        return job_role

    def _create_job(self, kind: JobResourceKind, request: dict[str, Any], *, wait: bool) -> None:
        provider = JobProvider.of(self, kind, wait=wait)
        provider.allow_job(request[kind.name_key], self.role)
        resource = cdk.CustomResource(
            self, "Resource", service_token=provider.provider.service_token, resource_type=kind.resource_type,
            properties=request,
        )
        if isinstance(self.role, iam.Role):
            # the job reads its data with the role's policy from its first second
            resource.node.add_dependency(self.role)
        self._resource = resource
        self.custom_resource = resource.node.default_child  # type: ignore[assignment]
        self.job_name = resource.get_att_string("JobName")
        self.job_arn = resource.get_att_string("JobArn")
        self.wait_for_completion = wait

    def _require_completion(self, attribute: str) -> None:
        if not self.wait_for_completion:
            raise JobNotAwaitedError(
                f"{self.node.path}: {attribute} is known only once the job has finished; pass "
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


def _job_statements(
    stack: cdk.Stack, *, reads: Sequence[S3Location], writes: Sequence[S3Location], image_uri: str | None,
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
            resources=[_image_repository_arn(image_uri)],
        ),
        "Autopilot picks its own processing, training and inference images, from SageMaker's repositories that "
        "differ by region and model, so no single repository can be named",
    ))
    return statements


def _image_repository_arn(image_uri: str | None) -> str:
    """The ECR repository of an image URI; any repository when the service picks the images (Autopilot)."""
    image = parse_ecr_image(image_uri or "")
    return image.repository_arn() if image is not None else "*"

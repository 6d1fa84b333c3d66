"""``PipelineStack``: delivers the model table with CDK Pipelines (CodePipeline and CodeBuild), wave by wave.

Enabled with ``-c pipeline=true`` (``app.py``). The pipeline runs: the source (a CodeStar connection or a
CodeCommit repository, from context), a synth step (the README's setup, then ``cdk synth``, in which the EULA gate
runs), the self-mutation CDK Pipelines adds, then one wave per environment of the table, in the order the table
lists them. Each wave first runs ``eulagate check`` over the cloud assemblies it is about to deploy, then, when the
environment's ``approval`` is set (default: for ``prod``), waits for a manual approval, then deploys one Stage per
account/region target of the environment.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from constructs_lib.aws_names import ACCOUNT_PATTERN, REGION_PATTERN
from constructs_lib.constructs.acknowledgments import (
    WILDCARD_RULE,
    acknowledge,
    acknowledge_in_compliance_packs,
    nag_resource_id,
)
from constructs_lib.errors import InputError
from constructs_lib.table import ModelTable, TableError, Target
from stacks.context import context_flag
from stacks.table_stack import ModelTableStack
from stacks.table_stacks import add_table_stacks

PIPELINE_STACK_ID = "EulaGatePipeline"
# Why the compliance packs' findings on CDK Pipelines' own resources stand (acknowledged on those resources).
PIPELINE_ROLE_POLICY_REASON = (
    "CDK Pipelines writes each pipeline, action and CodeBuild role's grants as that role's own policy, created and "
    "deleted with it and naming only this pipeline's bucket, key, projects and deploy roles; a customer managed "
    "policy could be attached to other principals, which these grants must not reach"
)
CODEPIPELINE_SOURCE_REASON = (
    "the CodeBuild projects' source type is CODEPIPELINE: they have no repository URL and hold no credentials; "
    "CodePipeline hands them the source artifact it fetched with the CodeStar connection or CodeCommit role"
)
ARTIFACT_BUCKET_FINDINGS = {
    "S3BucketVersioningEnabled": "pipeline artifacts are written once under a key per execution and never "
                                 "overwritten; each is rebuilt from the repository's commit, which git versions",
    "S3BucketReplicationEnabled": "pipeline artifacts are intermediate build output, rebuilt from the repository "
                                  "on every run: a replica would be a second copy with no recovery value",
    "S3BucketLoggingEnabled": "only the pipeline's own roles read and write the bucket (its policy denies non-TLS "
                              "access and CDK grants no one else); CloudTrail records those calls, and an "
                              "access-log bucket would itself need logging",
}
# Why each wildcard CDK Pipelines writes into its roles' policies is needed (cdk-nag IAM5, acknowledged per finding on
# the policy that has it), by the action or resource it is found in; the first match wins.
PIPELINE_WILDCARD_REASONS = (
    ("iam::", "the self-mutation step assumes only the CDK bootstrap roles of the account (the condition on the "
              "aws-cdk:bootstrap-role tag), whose names carry the bootstrap qualifier"),
    ("kms:", "CDK Pipelines lets its roles encrypt and decrypt pipeline artifacts with the artifact key and the "
             "cross-region replication keys (kms:GenerateDataKey* and kms:ReEncrypt* are its grant's action groups; "
             "the replication keys live in the support stacks of other regions, so CDK names them by *)"),
    ("codebuild:", "CodeBuild names each report group after its project when a build runs; the grant is limited to "
                   "this project's report groups"),
    ("logs:", "CodeBuild writes each build's log streams, named at run time, in its project's log group"),
    ("cloudformation:", "the self-mutation step (cdk deploy of the pipeline stack) reads the CDK bootstrap stack's "
                        "version, a stack not named in this app"),
    ("s3:", "CDK Pipelines moves artifacts between stages in the pipeline's own artifact and replication buckets "
            "(s3:GetObject*, s3:List* and the like are its grant's action groups; objects are named per execution), "
            "and self-mutation lists the bootstrap asset buckets"),
)
SOURCE_EVENT_REASON = (
    "the rule only starts the pipeline on a push to the branch; an undelivered start is recovered by the next push "
    "or a manual release, and a dead-letter queue would hold a start signal without data"
)
SOURCE_KINDS = ("codestar", "codecommit")
DEFAULT_BRANCH = "main"

# The README's setup and the CLIs it installs. The synth step and every check step run the same setup.
SETUP_COMMANDS = ("bash scripts/setup.sh",)
CDK_CLI = "node_modules/.bin/cdk"
EULAGATE_CLI = ".venv/bin/eulagate"
ASSEMBLY_DIR = "cdk.out"
# CodeBuild's standard 7.0 image offers both; scripts/setup.sh needs Python 3.11+ and Node 20 (npm).
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "20"}
PACKAGE_JSON = Path(__file__).resolve().parent.parent / "package.json"

CONNECTION_ARN_EXAMPLE = "arn:aws:codestar-connections:us-east-1:123456789012:connection/EXAMPLE-ID"
SOURCE_EXAMPLES = {
    "codestar": f"-c pipeline_source=codestar -c connection_arn={CONNECTION_ARN_EXAMPLE} "
                "-c repository=owner/name -c branch=main",
    "codecommit": "-c pipeline_source=codecommit -c repository=name -c branch=main",
}
CONNECTION_ARN_PATTERN = re.compile(
    r"arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[A-Za-z0-9-]+\Z"
)
# A CodeStar connection names `owner/name` (GitLab: `group/subgroup/name`); CodeCommit a bare name.
CONNECTION_REPOSITORY_PATTERN = re.compile(r"[\w.-]+(/[\w.-]+)+\Z")
CODECOMMIT_REPOSITORY_PATTERN = re.compile(r"[\w.-]{1,100}\Z")
# Git's ref-name rules (git check-ref-format), the parts a branch name typed on a command line can break.
BRANCH_PATTERN = re.compile(r"(?![-/])(?!.*(\.\.|//|@\{))[^\s~^:?*\[\\]+(?<![/.])\Z")


class PipelineSettingsError(InputError, ValueError):
    """A missing or invalid pipeline setting: one line naming the context key and an example."""


@dataclass(frozen=True)
class PipelineSettings:
    """The pipeline's settings; each field is the context key that sets it (``-c key=value`` or cdk.json).

    :param pipeline_source: ``codestar`` (a CodeStar/CodeConnections connection to GitHub, GitLab or Bitbucket)
        or ``codecommit``.
    :param repository: ``owner/name`` for ``codestar``; the repository name for ``codecommit``.
    :param branch: the branch the pipeline follows. Default: ``main``.
    :param connection_arn: the connection's ARN; required for ``codestar``, refused for ``codecommit``.
    :param pipeline_account: the account of the pipeline stack. Default: the table's ``defaults.account``.
    :param pipeline_region: the region of the pipeline stack. Default: the first of the table's
        ``defaults.regions``.
    """

    pipeline_source: str
    repository: str
    branch: str = DEFAULT_BRANCH
    connection_arn: str | None = None
    pipeline_account: str | None = None
    pipeline_region: str | None = None

    def __post_init__(self) -> None:
        _check_source_kind(self.pipeline_source)
        if self.pipeline_source == "codestar":
            if self.connection_arn is None:
                _missing({"connection_arn": "pipeline_source=codestar needs a CodeStar connection's ARN"}, "codestar")
            if not CONNECTION_ARN_PATTERN.match(self.connection_arn):
                _fail("connection_arn", self.connection_arn, f"expected a connection ARN like {CONNECTION_ARN_EXAMPLE}")
            if not CONNECTION_REPOSITORY_PATTERN.match(self.repository):
                _fail("repository", self.repository, "pipeline_source=codestar expects owner/name, "
                                                     f"e.g. `{SOURCE_EXAMPLES['codestar']}`")
        else:
            if self.connection_arn is not None:
                _fail("connection_arn", self.connection_arn, "only pipeline_source=codestar uses a connection; "
                                                             f"for CodeCommit use `{SOURCE_EXAMPLES['codecommit']}`")
            if not CODECOMMIT_REPOSITORY_PATTERN.match(self.repository):
                _fail("repository", self.repository, "pipeline_source=codecommit expects a repository name "
                                                     "(letters, digits, '.', '_', '-'; at most 100), "
                                                     f"e.g. `{SOURCE_EXAMPLES['codecommit']}`")
        if not BRANCH_PATTERN.match(self.branch):
            _fail("branch", self.branch, "expected a git branch name, e.g. -c branch=main")
        if self.pipeline_account is not None and not ACCOUNT_PATTERN.match(self.pipeline_account):
            _fail("pipeline_account", self.pipeline_account,
                  "expected a 12-digit AWS account id, e.g. -c pipeline_account=123456789012")
        if self.pipeline_region is not None and not REGION_PATTERN.match(self.pipeline_region):
            _fail("pipeline_region", self.pipeline_region, "expected an AWS region, e.g. -c pipeline_region=us-east-1")

    @classmethod
    def from_context(cls, get_context: Callable[[str], Any], table: ModelTable | None = None) -> PipelineSettings:
        """Read the settings with ``get_context`` (``node.try_get_context``); one-line errors name the keys.

        Every missing setting is named at once; with ``table``, so are ``pipeline_account`` and
        ``pipeline_region`` when its ``defaults`` cannot stand in for them.
        """
        values = {field.name: _context_string(get_context, field.name) for field in dataclasses.fields(cls)}
        source = values["pipeline_source"]
        if source is not None:
            _check_source_kind(source)
        missing = {key: why for key, why in (
            ("pipeline_source", "-c pipeline=true needs a source (codestar or codecommit)"),
            ("repository", f"pipeline_source={source or '...'} needs the repository to build from"),
        ) if values[key] is None}
        if source == "codestar" and values["connection_arn"] is None:
            missing["connection_arn"] = "pipeline_source=codestar needs a CodeStar connection's ARN"
        if table is not None:
            missing.update(_missing_placement(table, *_placement(table, values["pipeline_account"],
                                                                   values["pipeline_region"])))
        if missing:
            _missing(missing, source or "codestar")
        return cls(**{name: value for name, value in values.items() if value is not None})

    def context_arguments(self) -> list[str]:
        """``cdk synth`` arguments that give the app these settings again (the pipeline's own synth)."""
        arguments = ["-c", "pipeline=true"]
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                arguments += ["-c", f"{field.name}={value}"]
        return arguments


def _check_source_kind(source: str) -> None:
    if source not in SOURCE_KINDS:
        _fail("pipeline_source", source, f"expected {' or '.join(SOURCE_KINDS)}, e.g. "
                                         f"`{SOURCE_EXAMPLES['codestar']}` or `{SOURCE_EXAMPLES['codecommit']}`")


def _fail(key: str, value: object, expected: str) -> NoReturn:
    raise PipelineSettingsError(f"context {key}={value!r}: {expected}")


def _missing(missing: Mapping[str, str], example_kind: str) -> NoReturn:
    """One error naming every missing setting, why each is needed, and (for the source) an example."""
    keys = ", ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    example = (f"; e.g. `{SOURCE_EXAMPLES[example_kind]}`"
               if {"pipeline_source", "repository", "connection_arn"} & set(missing) else "")
    raise PipelineSettingsError(f"context {keys} {verb} missing: {'; '.join(missing.values())}{example}")


def _context_string(get_context: Callable[[str], Any], key: str) -> str | None:
    value = get_context(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise PipelineSettingsError(f"context {key}={value!r}: expected a non-empty string")
    return value


def pipeline_requested(get_context: Callable[[str], Any]) -> bool:
    """Whether ``-c pipeline=true`` (or ``"pipeline": true`` in cdk.json) asks for the pipeline."""
    return context_flag(get_context, "pipeline", PipelineSettingsError)


class ModelTableStage(cdk.Stage):
    """One account/region target of one environment: the table's stacks there, deployed by one pipeline stage."""

    def __init__(
        self, scope: Construct, construct_id: str, *, table: ModelTable, environment: str, target: Target
    ) -> None:
        super().__init__(scope, construct_id, env=cdk.Environment(account=target.account, region=target.region))
        self.environment = environment
        self.target = target
        self.stacks: list[ModelTableStack] = add_table_stacks(
            self, _with_only_target(table, environment, target), environment=environment
        )


def _with_only_target(table: ModelTable, environment: str, target: Target) -> ModelTable:
    """The table with ``environment`` narrowed to ``target`` (the layout then places its rows there only)."""
    narrowed = dataclasses.replace(table.environments[environment], targets=(target,))
    return dataclasses.replace(table, environments={**table.environments, environment: narrowed})


@dataclass(frozen=True)
class PipelineWave:
    """What the pipeline built for one environment: its stages, its check step and its approval (if any)."""

    name: str
    stages: tuple[ModelTableStage, ...]
    check: pipelines.ShellStep
    approval: pipelines.ManualApprovalStep | None


class PipelineStack(cdk.Stack):
    """A CDK Pipelines ``CodePipeline`` that synthesizes the app (EULA gate included) and deploys the table's
    environments as waves, each behind an ``eulagate check`` of its cloud assemblies.

    :param table: the model table; every row must target ``environments`` (a row with ``regions`` has no wave).
    :param settings: source and placement of the pipeline (``PipelineSettings``).
    :param setup_commands: commands that install the project; run by the synth step and by every check step.
        Default: ``SETUP_COMMANDS`` (the README's ``bash scripts/setup.sh``).
    :param cli_version: the CDK CLI version the self-mutation step installs. Default: the version pinned in
        ``package.json`` (the one ``node_modules/.bin/cdk`` is).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: ModelTable,
        settings: PipelineSettings,
        setup_commands: Sequence[str] = SETUP_COMMANDS,
        cli_version: str | None = None,
        **kwargs: Any,
    ) -> None:
        account, region = _pipeline_environment(table, settings)
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=account, region=region),
            description=f"EulaGate: delivery pipeline of model table {table.source}",
            **kwargs,
        )
        _check_rows_target_environments(table)
        self.settings = settings
        self.source = _source(self, settings)
        self.synth = pipelines.ShellStep(
            "Synth",
            input=self.source,
            install_commands=list(setup_commands),
            commands=[synth_command(settings, table)],
            primary_output_directory=ASSEMBLY_DIR,
        )
        targets = _resolved_targets(table, account)
        cross_account = any(target.account != account for _, target in targets)
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=self.synth,
            cross_account_keys=cross_account,
            cli_version=cli_version or _pinned_cdk_cli_version(),
            # Chosen, not implied: V2 is CodePipeline's current type (V1 is the legacy default CDK warns about).
            pipeline_type=codepipeline.PipelineType.V2,
            enable_key_rotation=cross_account or None,  # its artifact keys rotate yearly (else S3-managed)
            code_build_defaults=pipelines.CodeBuildOptions(
                # app.py silences jsii's Node 20 end-of-life banner itself.
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
                partial_build_spec=codebuild.BuildSpec.from_object(
                    {"phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}}
                ),
            ),
        )
        self.waves: list[PipelineWave] = []
        for name, environment in table.environments.items():
            environment_targets = [target for env, target in targets if env == name]
            if not table.placements(name):
                cdk.Annotations.of(self).add_warning_v2(
                    "eulagate:pipeline-empty-environment",
                    f"{table.source}: no row targets environment {name!r}; the pipeline has no wave for it",
                )
                continue
            stages = tuple(
                ModelTableStage(self, _stage_id(name, target), table=table, environment=name, target=target)
                for target in environment_targets
            )
            self.waves.append(self._add_wave(name, stages, approval=environment.approval, table=table,
                                             setup_commands=setup_commands))
        self.pipeline.build_pipeline()  # the CodePipeline exists now, so its findings can be acknowledged
        self._acknowledge_pipeline_findings()

    def _acknowledge_pipeline_findings(self) -> None:
        """The compliance and Serverless packs' findings on what CDK Pipelines declares, each with its reason, on
        the construct that has it (never on the stages: the table's stacks answer for themselves)."""
        pipeline = self.pipeline.pipeline
        acknowledge_in_compliance_packs(self.pipeline, "IAMNoInlinePolicy", PIPELINE_ROLE_POLICY_REASON)
        acknowledge_in_compliance_packs(self.pipeline, "CodeBuildProjectSourceRepoUrl", CODEPIPELINE_SOURCE_REASON)
        buckets = [pipeline.artifact_bucket, *(
            support.replication_bucket for support in pipeline.cross_region_support.values())]
        for bucket in buckets:
            for rule, reason in ARTIFACT_BUCKET_FINDINGS.items():
                acknowledge_in_compliance_packs(bucket, rule, reason)
            acknowledge(bucket, "AwsSolutions-S1", ARTIFACT_BUCKET_FINDINGS["S3BucketLoggingEnabled"])
        self._acknowledge_wildcards()
        repository = self.node.try_find_child("Repository")
        if repository is not None:  # CodeCommit: the source action's rule starts the pipeline on a push
            acknowledge(repository, "Serverless-EventBusDLQ", SOURCE_EVENT_REASON)

    def _add_wave(
        self, name: str, stages: tuple[ModelTableStage, ...], *, approval: bool, table: ModelTable,
        setup_commands: Sequence[str],
    ) -> PipelineWave:
        assemblies = [f"{ASSEMBLY_DIR}/{stage.artifact_id}" for stage in stages]
        check = pipelines.ShellStep(
            f"EulaCheck-{name}",
            input=self.source,
            additional_inputs={ASSEMBLY_DIR: self.synth},
            install_commands=list(setup_commands),
            commands=[shlex.join([EULAGATE_CLI, "check", *assemblies])],
        )
        pre: list[pipelines.Step] = [check]
        approval_step = None
        if approval:
            where = ", ".join(f"{stage.target.account}/{stage.target.region}" for stage in stages)
            approval_step = pipelines.ManualApprovalStep(
                f"Approve-{name}",
                comment=f"Deploy model table {table.source} to {name} ({where}); its EULA check passed.",
            )
            approval_step.add_step_dependency(check)  # pre-steps run in parallel unless ordered
            pre.append(approval_step)
        wave = self.pipeline.add_wave(name, pre=pre)
        for stage in stages:
            wave.add_stage(stage)
        return PipelineWave(name, stages, check, approval_step)


    def _acknowledge_wildcards(self) -> None:
        """Each IAM5 finding of CDK Pipelines' role policies, by its exact id, on the policy that has it."""
        for policy in self.pipeline.node.find_all():
            if not isinstance(policy, iam.CfnPolicy):
                continue
            for statement in self.resolve(policy.policy_document)["Statement"]:
                actions, resources = _as_list(statement["Action"]), _as_list(statement["Resource"])
                for finding in [*(f"Action::{action}" for action in actions if "*" in action), *(
                        f"Resource::{nag_resource_id(resource)}" for resource in resources
                        if "*" in nag_resource_id(resource))]:
                    reason = _wildcard_reason(actions, finding)
                    if reason is not None:  # a wildcard of no known kind stays reported
                        acknowledge(policy, f"{WILDCARD_RULE}[{finding}]", reason)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard_reason(actions: Sequence[str], finding: str) -> str | None:
    text = " ".join([finding, *actions])
    return next((reason for marker, reason in PIPELINE_WILDCARD_REASONS if marker in text), None)


def synth_command(settings: PipelineSettings, table: ModelTable) -> str:
    """The pipeline's ``cdk synth``: the same app with the same settings and table, so the pipeline it
    synthesizes (and self-mutates into) is this one."""
    return shlex.join([CDK_CLI, "synth", *settings.context_arguments(), "-c", f"table={_table_path(table)}"])


def _pipeline_environment(table: ModelTable, settings: PipelineSettings) -> tuple[str, str]:
    account, region = _placement(table, settings.pipeline_account, settings.pipeline_region)
    missing = _missing_placement(table, account, region)
    if missing or account is None or region is None:
        _missing(missing, settings.pipeline_source)
    return account, region


def _placement(table: ModelTable, account: str | None, region: str | None) -> tuple[str | None, str | None]:
    """The pipeline stack's account and region: from context, else from the table's defaults."""
    return account or table.default_account, region or next(iter(table.default_regions), None)


def _missing_placement(table: ModelTable, account: str | None, region: str | None) -> dict[str, str]:
    missing = {}
    if account is None:
        missing["pipeline_account"] = ("the pipeline stack needs a concrete account; set -c pipeline_account="
                                       f"123456789012 or `defaults: {{account: \"123456789012\"}}` in {table.source}")
    if region is None:
        missing["pipeline_region"] = ("the pipeline stack needs a concrete region; set -c pipeline_region=us-east-1 "
                                      f"or `defaults: {{regions: [us-east-1]}}` in {table.source}")
    return missing


def _check_rows_target_environments(table: ModelTable) -> None:
    if not table.environments:
        raise TableError(
            f"{table.source}: the pipeline deploys the table's environments, and it defines none; add "
            "`environments:` (e.g. dev and prod, each a list of account/region targets) and give rows "
            "`environments: [dev, prod]`",
            source=table.source,
        )
    for row in table.rows:
        if not row.environments:
            raise TableError(
                f"{table.source}:{row.line}: {row.kind} '{row.name}': the pipeline deploys environments only; "
                f"give the row `environments: [...]` (the table defines: {', '.join(table.environments)}) "
                "instead of `regions`, or synthesize without -c pipeline=true",
                source=table.source, line=row.line,
            )


def _resolved_targets(table: ModelTable, pipeline_account: str) -> list[tuple[str, Target]]:
    """(environment, target) pairs; a target without an account deploys to the pipeline's account."""
    return [
        (name, target if target.account else Target(target.region, pipeline_account))
        for name, environment in table.environments.items()
        for target in environment.targets
    ]


def _stage_id(environment: str, target: Target) -> str:
    return f"{environment}-{target.region}-{target.account}"


def _source(scope: Construct, settings: PipelineSettings) -> pipelines.CodePipelineSource:
    if settings.pipeline_source == "codestar":
        assert settings.connection_arn is not None  # PipelineSettings checked it
        return pipelines.CodePipelineSource.connection(
            settings.repository, settings.branch, connection_arn=settings.connection_arn
        )
    repository = codecommit.Repository.from_repository_name(scope, "Repository", settings.repository)
    return pipelines.CodePipelineSource.code_commit(repository, settings.branch)


def _table_path(table: ModelTable) -> str:
    """The table as the pipeline's checkout sees it: relative to the repository (the directory synthesized in)."""
    path = Path(table.source)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        raise InputError(
            f"{table.source}: the pipeline builds from the repository, so the table must be a file inside it "
            f"(under {Path.cwd()}); pass it as a relative path, e.g. -c table=models.yaml"
        ) from None


def _pinned_cdk_cli_version() -> str:
    """The aws-cdk version package.json pins (what scripts/setup.sh installs), so all steps use one CLI."""
    try:
        dependencies: Mapping[str, str] = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["devDependencies"]
        return dependencies["aws-cdk"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{PACKAGE_JSON}: cannot read the pinned aws-cdk version ({error})") from None


def add_pipeline_stack(app: cdk.App, table: ModelTable) -> PipelineStack:
    """What ``app.py`` declares for ``-c pipeline=true``: the pipeline stack, its settings read from context."""
    get_context = app.node.try_get_context
    synthesizer, account = get_context("synthesizer"), get_context("account")
    if synthesizer not in (None, "default"):
        raise PipelineSettingsError(
            f"context synthesizer={synthesizer!r}: the pipeline deploys with CDK's default synthesizer (target "
            "accounts bootstrapped with `cdk bootstrap --trust`); drop -c synthesizer or -c pipeline=true"
        )
    if account is not None:
        raise PipelineSettingsError(
            f"context account={account!r} sets the account of the plain table stacks; the pipeline deploys to its "
            "environments' accounts and lives in pipeline_account, e.g. -c pipeline_account=123456789012"
        )
    settings = PipelineSettings.from_context(get_context, table)
    return PipelineStack(app, PIPELINE_STACK_ID, table=table, settings=settings)

"""Fault injection: the fine-tuning job handlers behind the real CDK Provider framework, against a moto server.

Each scenario drives a job's custom resource as CloudFormation does: ``tests/support/provider_framework.py`` runs
the framework's own Lambda code (``onEvent``, the waiter's ``isComplete`` and ``onTimeout``) from the asset the
synthesized stack deploys, and a failed Create is rolled back with a Delete of the physical id the failure
reported. The handler's SageMaker client talks to moto, with faults injected through botocore's event hooks and
every call checked against the handler role's policy in the synthesized template
(``tests/support/sagemaker_faults.py``). Sleeps are recorded, never slept.

Each scenario asserts the CloudFormation response, the job's final state, and that no job is left running.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.events.models import EventPattern
from moto.sagemaker.models import sagemaker_backends

from constructs_lib.constructs.jobs.automl import AutoMLFineTuningJob
from constructs_lib.constructs.jobs.base import HANDLERS_DIR, JobProvider
from constructs_lib.constructs.jobs.training import JumpStartFineTuningJob
from constructs_lib.table import parse_table
from stacks import add_table_stacks
from tests.support.iam_policy import RolePolicy
from tests.support.moto_server import MotoServer
from tests.support.provider_framework import (
    CloudFormation,
    CloudFormationResponse,
    LambdaContext,
    ProviderFramework,
    as_cloudformation_sends,
    with_topic_tags,
)
from tests.support.sagemaker_faults import (
    FOREVER,
    SageMakerFaults,
    connection_refused,
    denied,
    read_timeout,
    rejected,
    serve_stop_training_job,
    server_error,
    throttled,
    unavailable,
)

sys.path.insert(0, str(HANDLERS_DIR))  # the handlers are top-level modules in Lambda
import automl_job
import job_common
import job_contract
import training_job

pytestmark = pytest.mark.synth

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID
KINDS = ("automl", "training")
HANDLERS = {"automl": automl_job, "training": training_job}
JOB_KINDS = {"automl": job_contract.AUTOML_JOB, "training": job_contract.TRAINING_JOB}
OPERATIONS = {
    "automl": {"create": "CreateAutoMLJobV2", "describe": "DescribeAutoMLJobV2", "stop": "StopAutoMLJob"},
    "training": {"create": "CreateTrainingJob", "describe": "DescribeTrainingJob", "stop": "StopTrainingJob"},
}
NAME_KEYS = {"automl": "AutoMLJobName", "training": "TrainingJobName"}
MAX_REASON_BYTES = 1024
FAILURE_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:job-failures"


@dataclass
class Synthesized:
    """The synthesized stack: the framework's code asset, each job's declared request and the handler policies."""

    framework_dir: Path
    template: dict[str, Any]
    handler_environment: dict[str, str]
    properties: dict[str, dict[str, Any]]
    policies: dict[str, RolePolicy]


def framework_code(assembly_dir: Path, template: Mapping[str, Any]) -> Path:
    """The directory of the framework's onEvent function: the code the stack deploys, as it deploys it."""
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
                 and r["Properties"]["Handler"] == "framework.onEvent"]
    code = assembly_dir / f"asset.{functions[0]['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    assert (code / "framework.js").is_file()
    return code


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("assembly")))
    stack = cdk.Stack(app, "Jobs", env=cdk.Environment(account=ACCOUNT, region=REGION))
    def props(output: str, *, waited: bool = False) -> dict[str, Any]:
        return dict(training_data="s3://tuning-data/train/", output_path=f"s3://tuning-output/{output}/",
                    accept_eula=True, wait_for_completion=waited)

    jobs: dict[str, Any] = {
        "automl": AutoMLFineTuningJob(stack, "Chat", base_model="Llama2-7BChat", **props("chat")),
        "automl-waited": AutoMLFineTuningJob(stack, "ChatWaited", base_model="Llama2-7BChat",
                                             **props("waited", waited=True)),
        "training": JumpStartFineTuningJob(stack, "Tune", model="meta-textgeneration-llama-2-7b-f", **props("tune")),
        "training-waited": JumpStartFineTuningJob(stack, "TuneWaited", model="meta-textgeneration-llama-2-7b-f",
                                                  **props("tune-waited", waited=True)),
    }
    assembly = app.synth()
    template = json.loads((Path(assembly.directory) / stack.template_file).read_text())
    role_arns = {
        (stack.get_logical_id(job.role.node.default_child), "Arn"):
            f"arn:aws:iam::{ACCOUNT}:role/{stack.get_logical_id(job.role.node.default_child)}"
        for job in jobs.values()
    }
    properties, policies = {}, {}
    for key, job in jobs.items():
        declared = dict(template["Resources"][stack.get_logical_id(job.custom_resource)]["Properties"])
        declared.pop("ServiceToken")
        declared.pop("ServiceTimeout", None)
        declared["RoleArn"] = role_arns[tuple(declared["RoleArn"]["Fn::GetAtt"])]
        properties[key] = with_topic_tags(declared, FAILURE_TOPIC_ARN)
        handler_role = stack.get_logical_id(job.provider.handler_role.node.default_child)
        policies[key] = RolePolicy.of(template, handler_role, account=ACCOUNT, region=REGION, attributes=role_arns)
    environments = [r["Properties"]["Environment"]["Variables"] for r in template["Resources"].values()
                    if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"].endswith("_job.on_event")]
    assert len(environments) == 4 and all(e == environments[0] for e in environments)  # one prefix per stack
    return Synthesized(framework_code(Path(assembly.directory), template), template, environments[0], properties,
                       policies)


class FakeClock:
    """The handlers' clock and sleep: time passes only when they sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(job_common, "sleep", fake.sleep)
    monkeypatch.setattr(job_common, "clock", lambda: fake.now)
    return fake


@pytest.fixture
def sagemaker(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    moto_server.reset()
    serve_stop_training_job(monkeypatch)
    yield moto_server.client("sagemaker")


@dataclass
class Deployment:
    """One job resource of the synthesized stack, deployed through the framework against faulty SageMaker."""

    kind: str
    properties: dict[str, Any]
    faults: SageMakerFaults
    cloudformation: CloudFormation
    durations: list[float]
    """How long each handler invocation took, on the handlers' clock."""

    @property
    def name(self) -> str:
        return str(self.properties[NAME_KEYS[self.kind]])

    def operation(self, step: str) -> str:
        return OPERATIONS[self.kind][step]

    def status(self, name: str | None = None) -> str | None:
        return self.faults.statuses().get(name or self.name)


@pytest.fixture
def deploy(synthesized: Synthesized, sagemaker: Any, clock: FakeClock,
           monkeypatch: pytest.MonkeyPatch) -> Callable[..., Deployment]:
    """``deploy(kind, waited=False, before_poll=None)``: a resource of that kind, not yet created."""
    for variable, value in synthesized.handler_environment.items():  # as the handler functions run
        monkeypatch.setenv(variable, value)

    def deployment(kind: str, *, waited: bool = False, before_poll: Callable[[int], None] | None = None,
                   properties: Mapping[str, Any] | None = None, failing_puts: int = 0) -> Deployment:
        key = f"{kind}-waited" if waited else kind
        faults = SageMakerFaults(sagemaker, sagemaker_backends[ACCOUNT][REGION], ACCOUNT, REGION,
                                 policy=synthesized.policies[key], advance=clock.advance)
        handlers = HANDLERS[kind]
        durations: list[float] = []

        def timed(handler: Callable[..., Mapping[str, Any]]) -> Callable[[Mapping[str, Any], Any], Mapping[str, Any]]:
            def invoke(event: Mapping[str, Any], context: Any) -> Mapping[str, Any]:
                start = clock.now
                try:
                    return handler(event, context, client=sagemaker)
                finally:
                    durations.append(clock.now - start)

            return invoke

        framework = ProviderFramework(synthesized.framework_dir, timed(handlers.on_event),
                                      timed(handlers.is_complete) if waited else None, before_poll=before_poll,
                                      failing_puts=failing_puts)
        declared = as_cloudformation_sends(dict(properties or synthesized.properties[key]))
        return Deployment(kind, declared, faults, CloudFormation(framework), durations)

    return deployment


def handler_message(response: CloudFormationResponse) -> str:
    """The handler's own error message inside the framework's reason (``Error: <message>\\n\\nLogs: ...``)."""
    match = re.match(r"Error: (.*?)\n\nLogs: /aws/lambda/", response.reason, re.DOTALL)
    assert match is not None, response.reason
    return match.group(1)


def assert_failed_without_leaving_a_job(deployment: Deployment, response: CloudFormationResponse) -> str:
    """A failed Create: FAILED with a reason that fits, rolled back, and no job runs."""
    assert response.status == "FAILED"
    message = handler_message(response)
    assert len(message.encode()) <= MAX_REASON_BYTES
    assert [request for request, _ in deployment.cloudformation.responses] == ["Create", "Delete"]
    assert deployment.faults.running() == []
    return message


def delete_stack(deployment: Deployment, physical_id: str) -> None:
    """The stack's deletion: succeeds and leaves nothing running."""
    response = deployment.cloudformation.delete(physical_id, deployment.properties)
    assert (response.status, response.physical_id) == ("SUCCESS", physical_id)
    assert deployment.faults.running() == []


def delete_stack_keeping(deployment: Deployment, physical_id: str, *others: str) -> None:
    """The stack's deletion: succeeds and leaves nothing of its own running (``others`` are someone else's)."""
    response = deployment.cloudformation.delete(physical_id, deployment.properties)
    assert (response.status, response.physical_id) == ("SUCCESS", physical_id)
    assert deployment.faults.running() == sorted(others)


# --- creates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_duplicate_create_returns_the_job_it_started(deploy: Callable[..., Deployment], kind: str) -> None:
    """Lambda's retry of an event sends the same Create (the same request id) twice."""
    deployment = deploy(kind)
    first = deployment.cloudformation.create(deployment.properties, request_id="retried-request")
    second = deployment.cloudformation.create(deployment.properties, request_id="retried-request")
    assert (first.status, second.status) == ("SUCCESS", "SUCCESS")
    assert first.physical_id == second.physical_id == deployment.name
    assert first.data == second.data and first.data["JobName"] == deployment.name
    assert deployment.faults.statuses() == {deployment.name: "InProgress"}
    delete_stack(deployment, deployment.name)
    assert deployment.status() == "Stopped"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lost_answer", [read_timeout, unavailable], ids=["read-timeout", "503"])
def test_ambiguous_create_finds_the_job_it_started(
    deploy: Callable[..., Deployment], clock: FakeClock, kind: str, lost_answer: Callable[[str], Exception],
) -> None:
    """The create succeeded in SageMaker, but its answer was lost: the handler finds the job by name."""
    deployment = deploy(kind)
    deployment.faults.inject(deployment.operation("create"), lost_answer, after_call=True)
    response = deployment.cloudformation.create(deployment.properties)
    assert (response.status, response.physical_id) == ("SUCCESS", deployment.name)
    assert deployment.faults.calls.count(deployment.operation("create")) == 1  # found, not created again
    assert deployment.faults.statuses() == {deployment.name: "InProgress"}
    delete_stack(deployment, deployment.name)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("error", [server_error, unavailable, throttled, connection_refused, read_timeout],
                         ids=["500", "503", "throttled", "refused", "read-timeout"])
def test_transient_create_failures_are_retried_with_backoff(
    deploy: Callable[..., Deployment], clock: FakeClock, kind: str, error: Callable[[str], Exception],
) -> None:
    deployment = deploy(kind)
    deployment.faults.inject(deployment.operation("create"), error, times=3)
    response = deployment.cloudformation.create(deployment.properties)
    assert (response.status, response.physical_id) == ("SUCCESS", deployment.name)
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert deployment.faults.statuses() == {deployment.name: "InProgress"}
    delete_stack(deployment, deployment.name)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("error", "api_message"), [
    (throttled, "Rate exceeded"), (server_error, "We encountered an internal error"),
], ids=["throttled", "500"])
def test_failures_that_last_fail_the_create_within_bounds(
    deploy: Callable[..., Deployment], clock: FakeClock, kind: str, error: Callable[[str], Exception],
    api_message: str,
) -> None:
    deployment = deploy(kind)
    deployment.faults.inject(deployment.operation("create"), error, times=FOREVER)
    response = deployment.cloudformation.create(deployment.properties)
    message = assert_failed_without_leaving_a_job(deployment, response)
    assert message.startswith(api_message)  # the API's own message first
    assert f"{deployment.operation('create')} of" in message
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert deployment.faults.statuses() == {}


@pytest.mark.parametrize("kind", KINDS)
def test_a_create_that_finally_fails_stops_the_job_it_started(
    deploy: Callable[..., Deployment], clock: FakeClock, kind: str,
) -> None:
    """The create started the job but its answer was lost, and SageMaker stayed unreachable for the handler's
    retries: the framework answers with its create-failed marker, whose Delete never reaches the handler, so the
    handler itself stops the job before it reports the failure."""
    deployment = deploy(kind)
    deployment.faults.inject(deployment.operation("create"), read_timeout, after_call=True)
    deployment.faults.inject(deployment.operation("create"), unavailable, times=FOREVER, passes=1)
    # after the first look-up (no job yet), every look-up during the create fails: one per create attempt
    deployment.faults.inject(deployment.operation("describe"), unavailable, times=job_common.MAX_ATTEMPTS, passes=1)
    response = deployment.cloudformation.create(deployment.properties)
    assert response.physical_id == "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
    message = assert_failed_without_leaving_a_job(deployment, response)
    assert message.startswith("Service is unavailable")
    assert message.endswith(f"the {'AutoML' if kind == 'automl' else 'training'} job {deployment.name!r} it started "
                            "is stopping")
    assert deployment.status() == "Stopped"


@pytest.mark.parametrize("kind", KINDS)
def test_a_name_taken_by_another_job_gets_a_fresh_name_and_leaves_that_job_alone(
    deploy: Callable[..., Deployment], sagemaker: Any, kind: str,
) -> None:
    """Someone else's job (no request tags) holds the name, running the very same request: it is not ours."""
    deployment = deploy(kind)
    other = job_common.job_request(JOB_KINDS[kind], sagemaker, deployment.properties)
    getattr(sagemaker, "create_auto_ml_job_v2" if kind == "automl" else "create_training_job")(**other)
    if kind == "training":
        deployment.faults.job(deployment.name).training_job_status = "InProgress"
    response = deployment.cloudformation.create(deployment.properties)
    assert response.status == "SUCCESS"
    fresh = response.physical_id
    assert fresh != deployment.name and fresh.startswith(deployment.name[: JOB_KINDS[kind].max_name_length - 9])
    assert deployment.faults.statuses() == {deployment.name: "InProgress", fresh: "InProgress"}
    delete_stack_keeping(deployment, fresh, deployment.name)
    assert deployment.status() == "InProgress"  # not ours: left alone


@pytest.mark.parametrize("kind", KINDS)
def test_oversize_api_message_is_cut_to_fit_keeping_its_start(deploy: Callable[..., Deployment], kind: str) -> None:
    deployment = deploy(kind)
    huge = "1 validation error detected: " + "Value at 'inputDataConfig' failed to satisfy constraint; " * 700
    deployment.faults.inject(deployment.operation("create"), rejected(huge))
    response = deployment.cloudformation.create(deployment.properties)
    message = assert_failed_without_leaving_a_job(deployment, response)
    assert len(huge) > 38_000
    assert message.startswith("1 validation error detected: Value at 'inputDataConfig'")
    assert "… (" in message and message.endswith(f"{deployment.operation('create')} of "
                                                 f"{'AutoML' if kind == 'automl' else 'training'} job "
                                                 f"{deployment.name!r})")


def test_a_request_the_api_rejects_fails_with_its_message_first(deploy: Callable[..., Deployment]) -> None:
    deployment = deploy("automl")
    deployment.faults.inject("CreateAutoMLJobV2", rejected("S3 path s3://tuning-data/train/ does not exist"))
    message = assert_failed_without_leaving_a_job(deployment, deployment.cloudformation.create(deployment.properties))
    assert message == f"S3 path s3://tuning-data/train/ does not exist (CreateAutoMLJobV2 of AutoML job " \
                      f"{deployment.name!r})"


# --- deletes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("physical_id", [
    "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED", "6a1d5e0c-2f4b-4a8e-9d7a-3b2c1f0e9d8c",
    "Jobs-ChatResource1A2B3C4D-0123ABCD", "not a job name", "{prefix}never-created", "x" * 300,
], ids=["framework-marker", "request-id", "cloudformation-id", "not-a-name", "never-created", "too-long"])
def test_delete_after_a_failed_create_succeeds_for_any_physical_id(
    deploy: Callable[..., Deployment], synthesized: Synthesized, kind: str, physical_id: str,
) -> None:
    """Junk physical ids, and names outside the stack's prefix: no job of the stack, nothing to stop."""
    physical_id = physical_id.format(prefix=synthesized.handler_environment["JOB_NAME_PREFIX"])
    deployment = deploy(kind)
    response = deployment.cloudformation.delete(physical_id, deployment.properties)
    assert (response.status, response.physical_id) == ("SUCCESS", physical_id)
    assert deployment.faults.statuses() == {}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("step", ["describe", "stop"])
def test_transient_failures_during_delete_are_retried(
    deploy: Callable[..., Deployment], clock: FakeClock, kind: str, step: str,
) -> None:
    deployment = deploy(kind)
    assert deployment.cloudformation.create(deployment.properties).status == "SUCCESS"
    deployment.faults.inject(deployment.operation(step), server_error, times=2)
    delete_stack(deployment, deployment.name)
    assert clock.sleeps == [0.5, 1.0]
    assert deployment.status() == "Stopped"


# --- updates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_tag_only_update_retags_the_job_in_place(deploy: Callable[..., Deployment], kind: str) -> None:
    deployment = deploy(kind)
    created = deployment.cloudformation.create(deployment.properties)
    old_tags = deployment.properties.get("Tags", [])
    retagged = {**deployment.properties, "Tags": [*old_tags[1:], {"Key": "team", "Value": "support"}]}
    response = deployment.cloudformation.update(deployment.name, deployment.properties, retagged)
    assert (response.status, response.physical_id, response.data) == ("SUCCESS", deployment.name, created.data)
    tags = deployment.faults.job(deployment.name).tags
    own = {t["Key"]: t["Value"] for t in tags if t["Key"] not in job_contract.REQUEST_TAGS}
    assert own == {t["Key"]: t["Value"] for t in retagged["Tags"]}
    assert {t["Key"] for t in tags} >= set(job_contract.REQUEST_TAGS)  # the request tags stay
    assert deployment.faults.statuses() == {deployment.name: "InProgress"}  # no replacement
    delete_stack(deployment, deployment.name)


# --- waiting -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_failure_after_create_with_waiting_fails_the_resource_under_the_job_name(
    deploy: Callable[..., Deployment], kind: str,
) -> None:
    reason = "AlgorithmError: " + "the training data has fewer than 500 rows; " * 200

    def fail_the_job(poll: int) -> None:
        if poll == 1:
            job = deployment.faults.job(deployment.name)
            setattr(job, "auto_ml_job_status" if kind == "automl" else "training_job_status", "Failed")
            job.failure_reason = reason

    deployment = deploy(kind, waited=True, before_poll=fail_the_job)
    response = deployment.cloudformation.create(deployment.properties)
    assert response.physical_id == deployment.name  # so the rollback's Delete reaches the handler
    message = assert_failed_without_leaving_a_job(deployment, response)
    assert message.startswith("AlgorithmError: the training data has fewer than 500 rows;")
    assert message.endswith(f"job {deployment.name!r} failed)")
    assert deployment.status() == "Failed"


@pytest.mark.parametrize("kind", KINDS)
def test_waiting_survives_transient_describe_failures(deploy: Callable[..., Deployment], kind: str) -> None:
    def complete_the_job(poll: int) -> None:
        if poll == 0:
            deployment.faults.inject(deployment.operation("describe"), server_error, times=FOREVER)
        if poll == 2:
            deployment.faults.clear()
            job = deployment.faults.job(deployment.name)
            setattr(job, "auto_ml_job_status" if kind == "automl" else "training_job_status", "Completed")

    deployment = deploy(kind, waited=True, before_poll=complete_the_job)
    response = deployment.cloudformation.create(deployment.properties)
    assert (response.status, response.physical_id) == ("SUCCESS", deployment.name)
    assert set(response.data) >= {"JobName", "JobArn"}
    assert deployment.faults.running() == []


def test_waiter_timeout_reports_the_job_name_so_the_rollback_stops_it(deploy: Callable[..., Deployment]) -> None:
    deployment = deploy("automl", waited=True)
    response = deployment.cloudformation.create(deployment.properties)
    assert (response.status, response.physical_id, response.reason) == ("FAILED", deployment.name,
                                                                         "Operation timed out")
    assert deployment.status() == "Stopped"
    assert deployment.faults.running() == []


def test_automl_failure_after_create_without_waiting_reaches_the_failure_topic(
    deploy: Callable[..., Deployment], moto_server: MotoServer, sagemaker: Any,
) -> None:
    """SageMaker sends no event for AutoML jobs: the Provider's watcher, on its schedule, publishes the failure to
    the topic the job's tag names."""
    sns, sqs = moto_server.client("sns"), moto_server.client("sqs")
    assert sns.create_topic(Name="job-failures")["TopicArn"] == FAILURE_TOPIC_ARN
    queue = sqs.create_queue(QueueName="job-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=FAILURE_TOPIC_ARN, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    deployment = deploy("automl")
    response = deployment.cloudformation.create(deployment.properties)
    assert response.status == "SUCCESS"
    deployment.faults.job(deployment.name).auto_ml_job_status = "Failed"
    modified = deployment.faults.job(deployment.name).last_modified_time
    scheduled = {"time": (modified + timedelta(minutes=2)).isoformat() + "Z"}
    assert automl_job.watch_failures(scheduled, client=sagemaker, sns=sns,
                                     cloudformation=deployment.cloudformation.api()) == {
        "Published": [deployment.name], "Stopped": []}
    message = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert (message["JobName"], message["Status"]) == (deployment.name, "Failed")
    delete_stack(deployment, deployment.name)
    assert deployment.status() == "Failed"


def test_failure_after_create_without_waiting_reaches_the_failure_topic(
    deploy: Callable[..., Deployment], synthesized: Synthesized,
) -> None:
    """The deployment succeeds; when the job fails later, SageMaker's state-change event matches the job's rule,
    whose target is the failure topic."""
    deployment = deploy("training")
    response = deployment.cloudformation.create(deployment.properties)
    assert response.status == "SUCCESS"
    deployment.faults.job(deployment.name).training_job_status = "Failed"

    rules = [r["Properties"] for r in synthesized.template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert sum("EventPattern" in rule for rule in rules) == 1  # the one training job not waited for
    topics = {k for k, r in synthesized.template["Resources"].items() if r["Type"] == "AWS::SNS::Topic"}

    def routed_to_a_topic(status: str, name: str) -> bool:
        event = {"version": "0", "id": "1", "detail-type": "SageMaker Training Job State Change",
                 "source": "aws.sagemaker", "account": ACCOUNT, "region": REGION, "time": "2026-12-02T09:00:00Z",
                 "resources": [f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}"],
                 "detail": {"TrainingJobName": name, "TrainingJobStatus": status, "FailureReason": "AlgorithmError"}}
        return any(
            "EventPattern" in rule and EventPattern.load(json.dumps(rule["EventPattern"])).matches_event(event)
            and any(target["Arn"].get("Ref") in topics for target in rule["Targets"])
            for rule in rules
        )

    assert routed_to_a_topic("Failed", deployment.name)
    assert routed_to_a_topic("Failed", f"{deployment.name[:54]}-0a1b2c3d")  # its replacement after an Update
    assert not routed_to_a_topic("Completed", deployment.name)
    assert not routed_to_a_topic("Failed", "someone-elses-job")
    delete_stack(deployment, deployment.name)
    assert deployment.status() == "Failed"


# --- removing a row ------------------------------------------------------------------------------------------


def fine_tuning_row(name: str) -> dict[str, Any]:
    return {"name": name, "method": "autopilot", "base_model": "Llama2-7B", "accept_eula": True,
            "training_data": f"s3://tuning-data/{name}/", "output_path": f"s3://tuning-output/{name}/"}


@dataclass
class TableDeployment:
    """One synthesized fine-tuning stack of a model table: its jobs' properties and its handler role's policy."""

    stack_name: str
    properties: dict[str, dict[str, Any]]
    policy: RolePolicy
    framework_dir: Path


def synthesize_table(rows: list[str], outdir: Path) -> TableDeployment:
    app = cdk.App(outdir=str(outdir))
    table = parse_table({"defaults": {"regions": [REGION]}, "fine_tuning": [fine_tuning_row(r) for r in rows]})
    stack = next(s for s in add_table_stacks(app, table, account=ACCOUNT) if s.plan.kind == "fine-tuning")
    assembly = app.synth()
    template = json.loads((Path(assembly.directory) / stack.template_file).read_text())
    jobs = {row: stack.node.find_child(row).node.find_child("Job") for row in rows}
    role_arns = {(stack.get_logical_id(job.role.node.default_child), "Arn"): f"arn:aws:iam::{ACCOUNT}:role/{row}"
                 for row, job in jobs.items()}
    properties = {}
    for row, job in jobs.items():
        declared = dict(template["Resources"][stack.get_logical_id(job.custom_resource)]["Properties"])
        for key in ("ServiceToken", "ServiceTimeout"):
            declared.pop(key)
        declared["RoleArn"] = role_arns[tuple(declared["RoleArn"]["Fn::GetAtt"])]
        properties[row] = with_topic_tags(declared, FAILURE_TOPIC_ARN)
    (provider,) = [c for c in stack.node.children if isinstance(c, JobProvider)]
    policy = RolePolicy.of(template, stack.get_logical_id(provider.handler_role.node.default_child),
                           account=ACCOUNT, region=REGION, attributes=role_arns)
    return TableDeployment(stack.stack_name, properties, policy, framework_code(Path(assembly.directory), template))


def test_removing_one_row_of_two_still_lets_its_delete_stop_the_job(
    tmp_path: Path, sagemaker: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CloudFormation updates the shared handler policy, then deletes the removed row's job resource: with the
    policy of the table without that row, the Delete must still be allowed to stop the job."""
    before = synthesize_table(["support-e", "support-f"], tmp_path / "before")  # rows of one shard: one stack
    after = synthesize_table(["support-e"], tmp_path / "after")
    assert before.stack_name == after.stack_name  # the same stack, updated
    assert after.properties["support-e"] == before.properties["support-e"]  # the remaining row is unchanged
    removed = before.properties["support-f"]["AutoMLJobName"]
    removed_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:automl-job/{removed.lower()}"
    assert after.policy.allows("sagemaker:StopAutoMLJob", removed_arn)
    assert after.policy.allows("sagemaker:DescribeAutoMLJobV2", removed_arn)
    assert not after.policy.allows("sagemaker:StopAutoMLJob", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:automl-job/x")

    prefix = removed[: len("eg123456-")]
    monkeypatch.setenv("JOB_NAME_PREFIX", prefix)
    faults = SageMakerFaults(sagemaker, sagemaker_backends[ACCOUNT][REGION], ACCOUNT, REGION, policy=before.policy)
    framework = ProviderFramework(
        before.framework_dir, lambda event, context: automl_job.on_event(event, context, client=sagemaker))
    cloudformation = CloudFormation(framework)
    created = {row: cloudformation.create(as_cloudformation_sends(properties))
               for row, properties in before.properties.items()}
    assert {row: response.status for row, response in created.items()} == {"support-e": "SUCCESS",
                                                                          "support-f": "SUCCESS"}
    faults.policy = after.policy  # the update replaced the handler policy first
    response = cloudformation.delete(removed, as_cloudformation_sends(before.properties["support-f"]))
    assert (response.status, response.physical_id) == ("SUCCESS", removed)
    assert faults.statuses() == {removed: "Stopped", after.properties["support-e"]["AutoMLJobName"]: "InProgress"}
    assert "StopAutoMLJob" in faults.calls


# --- issue 22: jobs never report what is not true --------------------------------------------------------------

LAMBDA_TIMEOUT_SECONDS = 300


def set_status(deployment: Deployment, name: str, status: str, reason: str | None = None) -> None:
    job = deployment.faults.job(name)
    setattr(job, "auto_ml_job_status" if deployment.kind == "automl" else "training_job_status", status)
    if reason is not None:
        job.failure_reason = reason


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("waited", [False, True], ids=["unwaited", "waited"])
def test_a_stack_created_again_under_its_name_does_not_adopt_the_stopped_job(
    deploy: Callable[..., Deployment], kind: str, waited: bool,
) -> None:
    """The stack is deleted (its job stopped) and created again under the same name: the job names are the same,
    but the stopped job is not this request's. The Create starts a fresh job instead of reporting success."""

    def complete(poll: int) -> None:
        for name in deployment.faults.running():
            set_status(deployment, name, "Completed")

    deployment = deploy(kind, waited=waited, before_poll=complete)
    first = deployment.cloudformation.create(deployment.properties)
    assert (first.status, first.physical_id) == ("SUCCESS", deployment.name)
    if waited:
        set_status(deployment, deployment.name, "InProgress")  # stopped by the stack's deletion below
    delete_stack(deployment, deployment.name)
    assert deployment.status() == "Stopped"

    deployment.cloudformation.recreate_stack()
    again = deployment.cloudformation.create(deployment.properties)
    assert again.status == "SUCCESS"
    assert again.physical_id != deployment.name  # a fresh name: the old job is not adopted
    assert again.data["JobName"] == again.physical_id
    assert deployment.status() == "Stopped"
    assert deployment.status(again.physical_id) == ("Completed" if waited else "InProgress")
    delete_stack(deployment, again.physical_id)
    assert deployment.faults.running() == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_retried_create_whose_job_was_stopped_fails_in_one_line(
    deploy: Callable[..., Deployment], kind: str,
) -> None:
    """Lambda retries the same Create, but the job this request started has been stopped meanwhile."""
    deployment = deploy(kind)
    assert deployment.cloudformation.create(deployment.properties, request_id="request-1").status == "SUCCESS"
    set_status(deployment, deployment.name, "Stopped")
    retried = deployment.cloudformation._send("Create", deployment.properties, request_id="request-1")
    assert retried.status == "FAILED"
    message = handler_message(retried)
    assert "\n" not in message and f"{deployment.name!r} this request started is Stopped" in message
    assert deployment.faults.running() == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_failure_reason_of_10_kb_of_control_characters_fits_the_response(
    deploy: Callable[..., Deployment], kind: str,
) -> None:
    """Control characters take 6 bytes each once JSON-encoded: the reason is measured after encoding."""
    reason = "AlgorithmError:" + "".join(chr(code) for code in range(32)) * 320 + '"\\' * 500

    def fail(poll: int) -> None:
        set_status(deployment, deployment.name, "Failed", reason)

    deployment = deploy(kind, waited=True, before_poll=fail)
    response = deployment.cloudformation.create(deployment.properties)  # _send asserts the 4,096-byte limit
    message = assert_failed_without_leaving_a_job(deployment, response)
    assert len(reason.encode()) > 10_000
    assert message.startswith("AlgorithmError:") and "\n" not in message and "\x01" not in message
    assert len(json.dumps(message, ensure_ascii=False).encode()) - 2 <= MAX_REASON_BYTES
    assert len(response.body.encode()) <= 4096


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("hanging", ["describe", "create"])
@pytest.mark.parametrize("remaining", [300, 150, 40, 10])
def test_first_attempts_run_inside_the_deadline(
    deploy: Callable[..., Deployment], sagemaker: Any, clock: FakeClock, kind: str, hanging: str, remaining: int,
) -> None:
    """Every attempt of a call hangs until its read timeout, and the invocation has ``remaining`` seconds: the
    handler starts no attempt, the first included, that could end past its deadline, stops what it may have
    started, and answers FAILED in time."""
    deployment = deploy(kind)
    seconds = job_common.ATTEMPT_SECONDS
    deployment.faults.inject(deployment.operation(hanging), read_timeout, times=FOREVER, seconds=seconds,
                             after_call=hanging == "create")
    deployment.faults.inject("ListTags", read_timeout, times=FOREVER, seconds=seconds)
    create = deployment.cloudformation.event("Create", deployment.properties)
    with pytest.raises(job_common.JobError) as raised:
        HANDLERS[kind].on_event(create, LambdaContext("OnEvent", remaining * 1000), client=sagemaker)
    assert clock.now <= remaining - job_common.FINAL_RESERVE_SECONDS
    if "could not make sure" not in str(raised.value):
        assert deployment.faults.running() == []  # a job the create started was stopped
    else:  # too little time to stop it: the reason says so
        assert remaining < 2 * seconds + job_common.FINAL_RESERVE_SECONDS


def random_schedule(deployment: Deployment, rng: random.Random) -> None:
    """Faults of every kind on every call the handler makes, each taking the time it would."""
    hang = (read_timeout, job_common.ATTEMPT_SECONDS)  # the longest an attempt takes: weighted to reach the limit
    errors = [hang, hang, hang, (connection_refused, 0.01), (server_error, 3.0), (unavailable, 0.2),
              (throttled, 0.1), (denied, 0.1)]
    for operation in (*(deployment.operation(step) for step in ("create", "describe", "stop")), "ListTags"):
        for _ in range(rng.randint(0, 3)):
            error, seconds = rng.choice(errors)
            deployment.faults.inject(operation, error, times=rng.choice([1, 2, 5, FOREVER, FOREVER]),
                                     after_call=operation.startswith("Create") and rng.random() < 0.5,
                                     passes=rng.randint(0, 3), seconds=seconds)


@pytest.mark.parametrize("kind", KINDS)
def test_random_fault_schedules_never_run_past_the_lambda_limit(
    deploy: Callable[..., Deployment], moto_server: MotoServer, sagemaker: Any, clock: FakeClock, kind: str,
) -> None:
    """Seeded random fault schedules against the handler (called as Lambda calls it, on the fake clock): every
    invocation returns before the Lambda timeout with a reason that fits; a job reported created runs, and a failed
    Create leaves no job running unless its reason says it could not make sure."""
    rng = random.Random(22)
    handlers = HANDLERS[kind]
    deployment = deploy(kind)
    out_of_time = 0  # runs that the deadline ended
    for run in range(40):
        moto_server.reset()
        deployment.faults.backend = sagemaker_backends[ACCOUNT][REGION]  # the reset's new backend
        deployment.faults.clear()
        random_schedule(deployment, rng)
        create = deployment.cloudformation.event("Create", deployment.properties)
        start = clock.now
        remaining = rng.choice([300, 300, 200, 120, 60])  # seconds left when called
        limit = remaining - job_common.FINAL_RESERVE_SECONDS
        try:
            response = handlers.on_event(create, LambdaContext("OnEvent", remaining * 1000), client=sagemaker)
        except job_common.JobError as error:
            assert clock.now - start <= limit, run
            assert len(json.dumps(str(error), ensure_ascii=False).encode()) - 2 <= MAX_REASON_BYTES, run
            out_of_time += "no time left" in str(error)
            if "could not make sure" not in str(error):
                assert deployment.faults.running() == [], (run, str(error))
        else:
            assert clock.now - start <= limit, run
            assert deployment.status(response["PhysicalResourceId"]) == "InProgress", run
    assert out_of_time > 0  # the schedules do reach the deadline


@pytest.mark.parametrize("kind", KINDS)
def test_a_lost_create_response_is_stopped_by_the_next_delete(deploy: Callable[..., Deployment], kind: str) -> None:
    """Every response PUT fails: CloudFormation never learns the job's name, times out and deletes the resource
    under an id of its own. That Delete stops the job this resource started."""
    deployment = deploy(kind, failing_puts=FOREVER)
    with pytest.raises(AssertionError, match="sent 0 responses"):
        deployment.cloudformation.create(deployment.properties)
    assert deployment.faults.running() == [deployment.name]
    deployment.cloudformation.framework.failing_puts = 0
    delete = deployment.cloudformation.delete("Jobs-JobResource-1A2B3C4D5E6F", deployment.properties)
    assert delete.status == "SUCCESS"
    assert deployment.status() == "Stopped"


@pytest.mark.parametrize("kind", KINDS)
def test_a_lost_success_response_is_stopped_by_the_watchers_sweep(
    deploy: Callable[..., Deployment], moto_server: MotoServer, sagemaker: Any, kind: str,
) -> None:
    """The framework's PUT of SUCCESS fails six times (its retries): it reports FAILED under its marker, so
    CloudFormation rolls back and the framework ignores the Delete. The watcher's sweep stops the job, and leaves
    a job its resource records alone."""
    deployment = deploy(kind, failing_puts=6)
    watch = HANDLERS[kind].watch_failures
    response = deployment.cloudformation.create(deployment.properties)
    assert (response.status, response.physical_id) == ("FAILED", "AWSCDK::CustomResourceProviderFramework::"
                                                                  "CREATE_FAILED")
    assert len(deployment.cloudformation.framework.lost_responses) == 6
    assert deployment.faults.running() == [deployment.name]  # the ignored Delete left it
    scheduled = {"time": "2026-12-06T23:00:00Z"}
    swept = watch(scheduled, client=sagemaker, sns=moto_server.client("sns"),
                  cloudformation=deployment.cloudformation.api())
    assert swept == {"Published": [], "Stopped": [deployment.name]}
    assert deployment.status() == "Stopped"

    deployment.cloudformation.recreate_stack()
    recorded = deployment.cloudformation.create(deployment.properties)
    assert recorded.status == "SUCCESS"
    assert watch(scheduled, client=sagemaker, sns=moto_server.client("sns"),
                 cloudformation=deployment.cloudformation.api())["Stopped"] == []
    assert deployment.status(recorded.physical_id) == "InProgress"
    delete_stack(deployment, recorded.physical_id)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("describe_error", [denied, unavailable], ids=["denied", "down"])
def test_describe_denied_or_down_after_an_ambiguous_create_still_stops_the_job(
    deploy: Callable[..., Deployment], clock: FakeClock, kind: str, describe_error: Callable[[str], Exception],
) -> None:
    deployment = deploy(kind)
    deployment.faults.inject(deployment.operation("create"), read_timeout, after_call=True,
                             seconds=job_common.ATTEMPT_SECONDS)
    deployment.faults.inject(deployment.operation("describe"), describe_error, times=FOREVER, passes=1)
    response = deployment.cloudformation.create(deployment.properties)
    message = assert_failed_without_leaving_a_job(deployment, response)
    assert message.endswith(f"job {deployment.name!r} it started is stopping")
    assert deployment.status() == "Stopped"
    assert max(deployment.durations) <= LAMBDA_TIMEOUT_SECONDS - job_common.FINAL_RESERVE_SECONDS


class FailingTopics:
    """SNS that denies one topic and refuses another's ARN, around moto's client."""

    def __init__(self, sns: Any, denied_topic: str) -> None:
        self.sns, self.denied_topic = sns, denied_topic

    def publish(self, **request: Any) -> dict[str, Any]:
        if request["TopicArn"] == self.denied_topic:
            raise ClientError({"Error": {"Code": "AuthorizationError", "Message": "User is not authorized to "
                               "perform: SNS:Publish\non resource"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                              "Publish")
        return dict(self.sns.publish(**request))


def test_the_watcher_publishes_each_failure_despite_publish_errors(
    deploy: Callable[..., Deployment], moto_server: MotoServer, sagemaker: Any,
) -> None:
    """Three failed jobs: one topic denies publishing, one tag is not a topic ARN, one topic works. The working one
    is published; the watcher's error names the other two in one line."""
    sns, sqs = moto_server.client("sns"), moto_server.client("sqs")
    good = sns.create_topic(Name="job-failures")["TopicArn"]
    denied_topic = sns.create_topic(Name="denied")["TopicArn"]
    queue = sqs.create_queue(QueueName="job-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=good, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    names = []
    for suffix, topic in (("a", denied_topic), ("b", "not a topic"), ("c", good)):
        deployment = deploy("automl")
        name = f"{deployment.name}-{suffix}"
        properties = {**deployment.properties, "AutoMLJobName": name,
                      "Tags": [{"Key": job_contract.FAILURE_TOPIC_TAG, "Value": topic}]}
        assert deployment.cloudformation.create(properties).status == "SUCCESS"
        set_status(deployment, name, "Failed", "ClientError: no 'input' column")
        names.append(name)
    modified = deployment.faults.job(names[-1]).last_modified_time
    scheduled = {"time": (modified + timedelta(minutes=1)).isoformat() + "Z"}
    with pytest.raises(job_common.JobError) as raised:
        automl_job.watch_failures(scheduled, client=sagemaker, sns=FailingTopics(sns, denied_topic),
                                  cloudformation=deployment.cloudformation.api())
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("2 of the stack's AutoML jobs could not be handled")
    assert f"{names[0]}: AuthorizationError" in message and f"{names[1]}:" in message
    assert message.endswith(f"published: {names[2]}; stopped: none")
    body = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert (body["JobName"], body["Status"]) == (names[2], "Failed")

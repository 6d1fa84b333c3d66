"""The fine-tuning job handlers, called as the CDK Provider framework calls them, against a moto server over HTTP.

The events carry the properties a synthesized ``AutoMLFineTuningJob`` / ``JumpStartFineTuningJob`` declares, with
every scalar turned into a string as CloudFormation delivers them. moto keeps AutoML jobs ``InProgress`` until
stopped and finishes training jobs at once; the tests set other statuses in moto's in-process backend, and add
the StopTrainingJob action moto 5.2 lacks (see ``stop_training_jobs``).
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import timedelta
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from botocore import xform_name
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from constructs_lib.constructs.jobs.automl import AutoMLFineTuningJob
from constructs_lib.constructs.jobs.base import HANDLERS_DIR
from constructs_lib.constructs.jobs.training import JumpStartFineTuningJob
from tests.support.moto_server import MotoServer
from tests.support.provider_framework import as_cloudformation_sends, with_topic_tags
from tests.support.sagemaker_faults import serve_stop_training_job

sys.path.insert(0, str(HANDLERS_DIR))  # the handlers are top-level modules in Lambda, and import each other so
import automl_job
import job_common
import job_contract
import training_job

pytestmark = pytest.mark.synth

REGION = "us-east-1"
JOB_ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/FineTuningJobRole"
FAILURE_TOPIC_ARN = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:job-failures"
SERVICE_TOKEN = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:provider-framework-onEvent"


@pytest.fixture(scope="module")
def declared_properties() -> dict[str, dict[str, Any]]:
    """The properties of one job of each kind, from a synthesized stack (role ARN made literal)."""
    stack = cdk.Stack(cdk.App(), "Jobs", env=cdk.Environment(account=DEFAULT_ACCOUNT_ID, region=REGION))
    jobs: dict[str, Any] = {
        "automl": AutoMLFineTuningJob(
            stack, "Chat", base_model="Llama2-7BChat", accept_eula=True, training_data="s3://tuning-data/train/",
            validation_data="s3://tuning-data/validation/", output_path="s3://tuning-output/chat/",
            hyperparameters={"epochCount": 2, "learningRate": 0.0001}, max_runtime=cdk.Duration.hours(8),
        ),
        "training": JumpStartFineTuningJob(
            stack, "Tune", model="meta-textgeneration-llama-2-7b-f", accept_eula=True,
            training_data="s3://tuning-data/train/", output_path="s3://tuning-output/tune/",
            hyperparameters={"epoch": 2},
        ),
    }
    template = assertions.Template.from_stack(stack).to_json()
    properties = {}
    for kind, job in jobs.items():
        declared = dict(template["Resources"][stack.get_logical_id(job.custom_resource)]["Properties"])
        declared.pop("ServiceToken")
        declared.pop("ServiceTimeout")
        declared["RoleArn"] = JOB_ROLE_ARN
        properties[kind] = with_topic_tags(declared, FAILURE_TOPIC_ARN)
    return properties


@pytest.fixture
def automl_properties(declared_properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return as_cloudformation_sends(declared_properties["automl"])


@pytest.fixture
def training_properties(declared_properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return as_cloudformation_sends(declared_properties["training"])


STACK_ID = f"arn:aws:cloudformation:{REGION}:{DEFAULT_ACCOUNT_ID}:stack/Jobs/{uuid.uuid4()}"


def event(request_type: str, properties: dict[str, Any] | None = None, *, physical_id: str | None = None,
          old: dict[str, Any] | None = None, request_id: str | None = None) -> dict[str, Any]:
    """A CloudFormation custom-resource event, as the Provider framework passes it on."""
    message: dict[str, Any] = {
        "RequestType": request_type,
        "RequestId": request_id or str(uuid.uuid4()),
        "StackId": STACK_ID,
        "LogicalResourceId": "Job",
        "ResourceType": "Custom::Job",
        "ServiceToken": SERVICE_TOKEN,
        "ResourceProperties": {"ServiceToken": SERVICE_TOKEN, **(properties or {})},
    }
    if physical_id is not None:
        message["PhysicalResourceId"] = physical_id
    if old is not None:
        message["OldResourceProperties"] = {"ServiceToken": SERVICE_TOKEN, **old}
    return message


@pytest.fixture
def sagemaker(moto_server: MotoServer) -> Any:
    moto_server.reset()
    return moto_server.client("sagemaker")


@pytest.fixture
def backend(sagemaker: Any) -> Any:
    """moto's in-process state behind the server, to move jobs to statuses moto never reaches itself."""
    return sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff delays the handlers ask for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(job_common, "sleep", recorded.append)
    return recorded


@pytest.fixture
def stop_training_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    serve_stop_training_job(monkeypatch)


class Throttled:
    """A client whose first ``failures`` calls of ``operation`` fail with a throttling error, then pass through."""

    def __init__(self, client: Any, operation: str, failures: int, code: str = "ThrottlingException") -> None:
        self.client = client
        self.operation = operation
        self.failures_left = failures
        self.code = code
        self.throttled_calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if name != xform_name(self.operation):
            return attribute

        def maybe_throttled(**params: Any) -> Any:
            if self.failures_left > 0:
                self.failures_left -= 1
                self.throttled_calls += 1
                raise ClientError({"Error": {"Code": self.code, "Message": "Rate exceeded"}}, self.operation)
            return attribute(**params)

        return maybe_throttled


class NoCalls:
    """A client that must not be used."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected SageMaker call: {name}")


# --- AutoML jobs ------------------------------------------------------------------------------------------


def test_create_starts_the_job_with_the_api_types_restored(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    name = automl_properties["AutoMLJobName"]
    response = automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    description = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
    assert response == {"PhysicalResourceId": name, "Data": {"JobName": name, "JobArn": description["AutoMLJobArn"]}}
    assert description["AutoMLJobStatus"] == "InProgress"
    assert description["RoleArn"] == JOB_ROLE_ARN
    config = description["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]
    assert config == {
        "BaseModelName": "Llama2-7BChat",
        "CompletionCriteria": {"MaxCandidates": 1, "MaxAutoMLJobRuntimeInSeconds": 8 * 3600},
        "TextGenerationHyperParameters": {"epochCount": "2", "learningRate": "0.0001"},
        "ModelAccessConfig": {"AcceptEula": True},
    }
    assert [c["ChannelType"] for c in description["AutoMLJobInputDataConfig"]] == ["training", "validation"]


def test_handler_creates_its_client_from_the_environment(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, automl_properties: dict[str, Any],
) -> None:
    """As in Lambda: no client is passed; boto3 reads the region and AWS_ENDPOINT_URL when first used."""
    moto_server.reset()
    for name, value in moto_server.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(job_common, "_clients", {})
    name = automl_job.on_event(event("Create", automl_properties))["PhysicalResourceId"]
    status = moto_server.client("sagemaker").describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"]
    assert status == "InProgress"


def test_retried_create_returns_the_job_it_started(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    create = event("Create", automl_properties)
    first = automl_job.on_event(create, client=sagemaker)
    assert automl_job.on_event(create, client=sagemaker) == first
    assert len(sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"]) == 1


def test_create_leaves_a_name_taken_by_another_job_to_it(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    other = job_common.job_request(job_contract.AUTOML_JOB, sagemaker, automl_properties)
    other["OutputDataConfig"] = {"S3OutputPath": "s3://someone-else/output/"}
    sagemaker.create_auto_ml_job_v2(**other)
    name = automl_properties["AutoMLJobName"]
    started = automl_job.on_event(event("Create", automl_properties), client=sagemaker)["PhysicalResourceId"]
    assert started != name and started.startswith(name[:23])
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=started)["OutputDataConfig"]["S3OutputPath"] == \
        automl_properties["OutputDataConfig"]["S3OutputPath"]


def test_update_starts_a_new_job_and_cleanup_of_the_old_one_stops_it(
    sagemaker: Any, automl_properties: dict[str, Any],
) -> None:
    name = automl_properties["AutoMLJobName"]
    automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    changed = {**automl_properties, "OutputDataConfig": {"S3OutputPath": "s3://tuning-output/chat-v2/"}}
    update = event("Update", changed, physical_id=name, old=automl_properties)
    response = automl_job.on_event(update, client=sagemaker)
    new_name = response["PhysicalResourceId"]
    assert new_name != name
    assert len(new_name) <= 32 and new_name.startswith(name[:23])
    assert automl_job.on_event(update, client=sagemaker) == response  # a retried Update: no third job
    assert len(sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"]) == 2
    new = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=new_name)
    assert new["AutoMLJobStatus"] == "InProgress"
    assert new["OutputDataConfig"]["S3OutputPath"] == "s3://tuning-output/chat-v2/"
    assert response["Data"] == {"JobName": new_name, "JobArn": new["AutoMLJobArn"]}

    # CloudFormation then deletes the old physical id
    assert automl_job.on_event(event("Delete", automl_properties, physical_id=name), client=sagemaker) == {
        "PhysicalResourceId": name}
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"] == "Stopped"
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=new_name)["AutoMLJobStatus"] == "InProgress"


def test_update_of_the_job_name_uses_the_new_name(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    name = automl_properties["AutoMLJobName"]
    automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    renamed = {**automl_properties, "AutoMLJobName": "renamed-chat"}
    response = automl_job.on_event(event("Update", renamed, physical_id=name, old=automl_properties),
                                   client=sagemaker)
    assert response["PhysicalResourceId"] == "renamed-chat"


def test_update_to_the_request_the_job_runs_keeps_the_job(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    """A rollback after a failed Update asks for the request the current job already runs."""
    name = automl_properties["AutoMLJobName"]
    created = automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    failed_update = {**automl_properties, "OutputDataConfig": {"S3OutputPath": "s3://tuning-output/bad/"}}
    rollback = event("Update", automl_properties, physical_id=name, old=failed_update)
    assert automl_job.on_event(rollback, client=sagemaker) == created
    assert len(sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"]) == 1


def test_rollback_of_a_replacement_returns_to_the_running_job(
    sagemaker: Any, automl_properties: dict[str, Any],
) -> None:
    name = automl_properties["AutoMLJobName"]
    automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    changed = {**automl_properties, "OutputDataConfig": {"S3OutputPath": "s3://tuning-output/chat-v2/"}}
    replacement = automl_job.on_event(event("Update", changed, physical_id=name, old=automl_properties),
                                      client=sagemaker)["PhysicalResourceId"]
    # another resource failed: CloudFormation rolls the job back to the old properties
    rollback = event("Update", automl_properties, physical_id=replacement, old=changed)
    assert automl_job.on_event(rollback, client=sagemaker)["PhysicalResourceId"] == name
    assert len(sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"]) == 2  # and the cleanup stops the replacement


def test_update_back_to_a_stopped_jobs_request_starts_a_new_job(
    sagemaker: Any, automl_properties: dict[str, Any],
) -> None:
    name = automl_properties["AutoMLJobName"]
    automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    changed = {**automl_properties, "OutputDataConfig": {"S3OutputPath": "s3://tuning-output/chat-v2/"}}
    second = automl_job.on_event(event("Update", changed, physical_id=name, old=automl_properties),
                                 client=sagemaker)["PhysicalResourceId"]
    automl_job.on_event(event("Delete", automl_properties, physical_id=name), client=sagemaker)  # cleanup
    third = automl_job.on_event(event("Update", automl_properties, physical_id=second, old=changed),
                                client=sagemaker)["PhysicalResourceId"]
    assert third not in {name, second}
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=third)["AutoMLJobStatus"] == "InProgress"


def test_delete_stops_a_running_job(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    name = automl_properties["AutoMLJobName"]
    automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    automl_job.on_event(event("Delete", automl_properties, physical_id=name), client=sagemaker)
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"] == "Stopped"


@pytest.mark.parametrize("status", ["Completed", "Failed", "Stopped", "Stopping"])
def test_delete_leaves_a_finished_job_as_it_is(
    sagemaker: Any, backend: Any, automl_properties: dict[str, Any], status: str,
) -> None:
    name = automl_properties["AutoMLJobName"]
    automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    backend.auto_ml_jobs[name].auto_ml_job_status = status
    automl_job.on_event(event("Delete", automl_properties, physical_id=name), client=sagemaker)
    # moto's StopAutoMLJob would have made it "Stopped": the handler did not call it
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"] == status


@pytest.mark.parametrize("physical_id", ["never-created-job", str(uuid.uuid4()), "not a job name"])
def test_delete_of_a_missing_job_succeeds(sagemaker: Any, automl_properties: dict[str, Any], physical_id: str) -> None:
    """e.g. the Delete of a rollback after a failed Create, whose physical id is the request id."""
    assert automl_job.on_event(event("Delete", automl_properties, physical_id=physical_id), client=sagemaker) == {
        "PhysicalResourceId": physical_id}


def test_api_validation_error_fails_with_the_api_message(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    rejected = {**automl_properties, "ModelDeployConfig": {"AutoGenerateEndpointName": "true", "EndpointName": "x"}}
    with pytest.raises(job_common.JobError,
                       match=r"^Validation Error: An EndpointName cannot be provided.* \(CreateAutoMLJobV2 of "):
        automl_job.on_event(event("Create", rejected), client=sagemaker)


def test_request_the_api_does_not_know_fails_before_the_call(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    with pytest.raises(job_common.JobError, match=r'invalid CreateAutoMLJobV2 request: .*Unknown parameter.*"Foo"'):
        automl_job.on_event(event("Create", {**automl_properties, "Foo": "bar"}), client=sagemaker)
    assert sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"] == []


@pytest.mark.parametrize("value", ["yes", "True ", "{\"Ref\": \"AcceptParameter\"}", ""])
def test_acceptance_that_is_not_true_or_false_fails(
    sagemaker: Any, automl_properties: dict[str, Any], value: str,
) -> None:
    properties = as_cloudformation_sends(automl_properties)
    properties["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]["ModelAccessConfig"]["AcceptEula"] = value
    if value.strip().lower() == "true":
        automl_job.on_event(event("Create", properties), client=sagemaker)  # surrounding blanks do no harm
        return
    with pytest.raises(job_common.JobError, match="AcceptEula must be true or false"):
        automl_job.on_event(event("Create", properties), client=sagemaker)
    assert sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"] == []


@pytest.mark.parametrize("code", ["ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"])
def test_throttling_is_retried_with_exponential_backoff(
    sagemaker: Any, automl_properties: dict[str, Any], delays: list[float], code: str,
) -> None:
    throttled = Throttled(sagemaker, "CreateAutoMLJobV2", failures=3, code=code)
    response = automl_job.on_event(event("Create", automl_properties), client=throttled)
    assert throttled.throttled_calls == 3
    assert delays == [0.5, 1.0, 2.0]
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=response["PhysicalResourceId"])["AutoMLJobStatus"] == (
        "InProgress")


def test_throttling_that_does_not_end_fails_after_a_bounded_wait(
    sagemaker: Any, automl_properties: dict[str, Any], delays: list[float],
) -> None:
    throttled = Throttled(sagemaker, "CreateAutoMLJobV2", failures=100)
    with pytest.raises(job_common.JobError, match=r"^Rate exceeded \(CreateAutoMLJobV2 of AutoML job .*, 6 attempts; "
                                                  r"retry the deployment later\)"):
        automl_job.on_event(event("Create", automl_properties), client=throttled)
    assert throttled.throttled_calls == job_common.MAX_ATTEMPTS
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"] == []


def test_throttled_describe_during_delete_still_stops_the_job(
    sagemaker: Any, automl_properties: dict[str, Any], delays: list[float],
) -> None:
    name = automl_properties["AutoMLJobName"]
    automl_job.on_event(event("Create", automl_properties), client=sagemaker)
    throttled = Throttled(sagemaker, "DescribeAutoMLJobV2", failures=2)
    automl_job.on_event(event("Delete", automl_properties, physical_id=name), client=throttled)
    assert delays == [0.5, 1.0]
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobStatus"] == "Stopped"


def test_is_complete_follows_the_job_to_its_best_candidate(
    sagemaker: Any, backend: Any, automl_properties: dict[str, Any],
) -> None:
    name = automl_job.on_event(event("Create", automl_properties), client=sagemaker)["PhysicalResourceId"]
    waiting = event("Create", automl_properties, physical_id=name)
    assert automl_job.is_complete(waiting, client=sagemaker) == {"IsComplete": False}
    backend.auto_ml_jobs[name].auto_ml_job_status = "Completed"
    container = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)["BestCandidate"]["InferenceContainers"][0]
    assert automl_job.is_complete(waiting, client=sagemaker) == {"IsComplete": True, "Data": {
        "BestCandidateModelData": container["ModelDataUrl"], "BestCandidateImage": container["Image"]}}


def test_is_complete_fails_when_the_job_was_stopped(sagemaker: Any, automl_properties: dict[str, Any]) -> None:
    name = automl_job.on_event(event("Create", automl_properties), client=sagemaker)["PhysicalResourceId"]
    sagemaker.stop_auto_ml_job(AutoMLJobName=name)
    with pytest.raises(job_common.JobError, match="was stopped before it completed"):
        automl_job.is_complete(event("Update", automl_properties, physical_id=name), client=sagemaker)


def test_is_complete_of_a_delete_is_immediate(automl_properties: dict[str, Any]) -> None:
    assert automl_job.is_complete(event("Delete", automl_properties, physical_id="x"), client=NoCalls()) == {
        "IsComplete": True}


# --- training jobs ----------------------------------------------------------------------------------------


def test_training_create_sends_the_declared_request(sagemaker: Any, training_properties: dict[str, Any]) -> None:
    name = training_properties["TrainingJobName"]
    response = training_job.on_event(event("Create", training_properties), client=sagemaker)
    description = sagemaker.describe_training_job(TrainingJobName=name)
    assert response == {"PhysicalResourceId": name,
                        "Data": {"JobName": name, "JobArn": description["TrainingJobArn"]}}
    channels = {c["ChannelName"]: c for c in description["InputDataConfig"]}
    assert set(channels) == {"training", "code", "model"}
    assert channels["model"]["DataSource"]["S3DataSource"]["ModelAccessConfig"] == {"AcceptEula": True}
    assert description["ResourceConfig"]["InstanceCount"] == 1
    assert description["EnableNetworkIsolation"] is True
    assert description["HyperParameters"]["epoch"] == "2"
    assert description["StoppingCondition"] == {"MaxRuntimeInSeconds": 24 * 3600}


def test_training_retried_create_and_update(sagemaker: Any, training_properties: dict[str, Any]) -> None:
    name = training_properties["TrainingJobName"]
    create = event("Create", training_properties)
    first = training_job.on_event(create, client=sagemaker)
    assert training_job.on_event(create, client=sagemaker) == first
    assert len(sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 1

    changed = {**training_properties, "HyperParameters": {**training_properties["HyperParameters"], "epoch": "4"}}
    updated = training_job.on_event(event("Update", changed, physical_id=name, old=training_properties),
                                    client=sagemaker)
    new_name = updated["PhysicalResourceId"]
    assert new_name != name and len(new_name) <= 63
    assert sagemaker.describe_training_job(TrainingJobName=new_name)["HyperParameters"]["epoch"] == "4"
    # moto finished the old job at once: its cleanup has nothing to stop
    training_job.on_event(event("Delete", training_properties, physical_id=name), client=sagemaker)
    assert sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] == "Completed"


@pytest.mark.usefixtures("stop_training_jobs")
def test_training_delete_stops_a_running_job(sagemaker: Any, backend: Any, training_properties: dict[str, Any]) -> None:
    name = training_job.on_event(event("Create", training_properties), client=sagemaker)["PhysicalResourceId"]
    backend.training_jobs[name].training_job_status = "InProgress"
    training_job.on_event(event("Delete", training_properties, physical_id=name), client=sagemaker)
    assert sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] == "Stopped"
    # and a Delete of a job that does not exist succeeds
    assert training_job.on_event(event("Delete", training_properties, physical_id="gone"), client=sagemaker) == {
        "PhysicalResourceId": "gone"}


def test_training_is_complete_reports_the_model_artifact(
    sagemaker: Any, backend: Any, training_properties: dict[str, Any], delays: list[float],
) -> None:
    name = training_job.on_event(event("Create", training_properties), client=sagemaker)["PhysicalResourceId"]
    backend.training_jobs[name].training_job_status = "InProgress"
    waiting = event("Create", training_properties, physical_id=name)
    assert training_job.is_complete(waiting, client=sagemaker) == {"IsComplete": False}
    backend.training_jobs[name].training_job_status = "Completed"
    throttled = Throttled(sagemaker, "DescribeTrainingJob", failures=1, code="TooManyRequestsException")
    result = training_job.is_complete(waiting, client=throttled)
    assert delays == [0.5]
    assert result == {"IsComplete": True, "Data": {
        "ModelData": f"s3://tuning-output/tune/{name}/output/model.tar.gz"}}


# --- both kinds -------------------------------------------------------------------------------------------


def backend_job(backend: Any, kind: str, name: str) -> Any:
    return backend.auto_ml_jobs[name] if kind == "automl" else backend.training_jobs[name]


def set_status(job: Any, kind: str, status: str) -> None:
    setattr(job, "auto_ml_job_status" if kind == "automl" else "training_job_status", status)


@pytest.mark.parametrize(("kind", "handlers", "noun"), [
    ("automl", automl_job, "AutoML job"), ("training", training_job, "training job"),
])
def test_is_complete_fails_with_the_job_failure_reason(
    sagemaker: Any, backend: Any, declared_properties: dict[str, dict[str, Any]], kind: str, handlers: Any,
    noun: str,
) -> None:
    properties = as_cloudformation_sends(declared_properties[kind])
    name = handlers.on_event(event("Create", properties), client=sagemaker)["PhysicalResourceId"]
    job = backend_job(backend, kind, name)
    set_status(job, kind, "Failed")
    job.failure_reason = "AlgorithmError: the training data has fewer than 500 rows"
    with pytest.raises(job_common.JobError) as raised:
        handlers.is_complete(event("Create", properties, physical_id=name), client=sagemaker)
    assert str(raised.value) == f"AlgorithmError: the training data has fewer than 500 rows ({noun} {name!r} failed)"


# --- the handlers' own limits -------------------------------------------------------------------------------


class Context:
    """A Lambda context with this much time left."""

    def __init__(self, remaining_seconds: float) -> None:
        self.remaining_seconds = remaining_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_seconds * 1000)


def test_retries_stop_while_the_invocation_can_still_clean_up(
    sagemaker: Any, automl_properties: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With 170 s left, retries stop once one more wait and attempt (and the look-up after it) would eat into
    the reserve kept for stopping a job the create may have started."""
    now = [0.0]
    delays: list[float] = []

    def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(job_common, "sleep", fake_sleep)
    monkeypatch.setattr(job_common, "clock", lambda: now[0])
    throttled = Throttled(sagemaker, "CreateAutoMLJobV2", failures=100)
    with pytest.raises(job_common.JobError, match=", 4 attempts"):
        automl_job.on_event(event("Create", automl_properties), Context(170), client=throttled)
    # 170 s - 5 s final reserve - 110 s cleanup reserve = 55 s: after 3.5 s of waits, 4 s more and a create and
    # a look-up of up to 25 s each would end past it
    assert 170 - job_common.FINAL_RESERVE_SECONDS - job_common.CLEANUP_RESERVE_SECONDS == 55
    assert delays == [0.5, 1.0, 2.0]
    assert sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"] == []


def test_an_unforeseen_error_still_fails_with_a_bounded_reason(automl_properties: dict[str, Any]) -> None:
    class Broken:
        def __getattr__(self, name: str) -> Any:
            raise KeyError("x" * 5000)

    with pytest.raises(job_common.JobError) as raised:
        automl_job.on_event(event("Create", automl_properties), client=Broken())
    message = str(raised.value)
    assert message.startswith("KeyError: 'xxx")
    assert len(message.encode()) <= job_common.MAX_REASON_BYTES and message.endswith("…")


def test_tag_update_removes_and_sets_tags_without_a_new_job(
    sagemaker: Any, training_properties: dict[str, Any],
) -> None:
    name = training_job.on_event(event("Create", training_properties), client=sagemaker)["PhysicalResourceId"]
    kept, _removed = training_properties["Tags"]
    retagged = {**training_properties, "Tags": [kept, {"Key": "team", "Value": "support"}]}
    response = training_job.on_event(event("Update", retagged, physical_id=name, old=training_properties),
                                     client=sagemaker)
    assert response["PhysicalResourceId"] == name
    arn = sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobArn"]
    tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
    assert [tag for tag in tags if tag["Key"] not in job_contract.REQUEST_TAGS] == [kept, {"Key": "team",
                                                                                          "Value": "support"}]
    assert len(sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 1


# --- failures of AutoML jobs not waited for ----------------------------------------------------------------


def test_failure_watch_publishes_the_stacks_jobs_that_failed_in_its_interval(
    moto_server: MotoServer, sagemaker: Any, backend: Any, automl_properties: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sns, sqs = moto_server.client("sns"), moto_server.client("sqs")
    topic = sns.create_topic(Name="job-failures")["TopicArn"]
    assert topic == FAILURE_TOPIC_ARN
    queue = sqs.create_queue(QueueName="job-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    name = automl_properties["AutoMLJobName"]
    monkeypatch.setenv("JOB_NAME_PREFIX", name[: len("eg123456-")])
    watched = automl_properties  # as declared: its tag names the failure topic
    assert watched["Tags"] == [{"Key": "eulagate:failure-topic", "Value": topic}]
    automl_job.on_event(event("Create", watched), client=sagemaker)
    outside = {**watched, "AutoMLJobName": "another-stacks-job"}
    automl_job.on_event(event("Create", outside), client=sagemaker)
    for job_name in (name, "another-stacks-job"):
        job = backend.auto_ml_jobs[job_name]
        job.auto_ml_job_status = "Failed"
        job.failure_reason = "ClientError: the training data has no 'input' column"
    modified = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)["LastModifiedTime"]

    def watch(minutes_later: float) -> dict[str, Any]:
        time = (modified + timedelta(minutes=minutes_later)).isoformat()
        return automl_job.watch_failures({"time": time}, client=sagemaker, sns=sns)

    assert watch(1) == {"Published": [name], "Stopped": []}
    body = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body == {"JobName": name, "JobArn": sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)["AutoMLJobArn"],
                    "Status": "Failed", "FailureReason": "ClientError: the training data has no 'input' column"}
    assert watch(6) == {"Published": [], "Stopped": []}  # the next interval: already published

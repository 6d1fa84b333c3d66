"""What the fine-tuning job constructs and their Lambda handlers agree on, written once.

The construct imports this module as ``constructs_lib.constructs.jobs.handlers.job_contract``; the handlers, bundled
as top-level modules of the handlers folder (the Lambda code asset), import it as ``job_contract``. It is plain
Python (no aws_cdk, no boto3), so both sides can load it.

The job kinds' operation and field names come from the SageMaker API reference (CreateAutoMLJobV2,
DescribeAutoMLJobV2, StopAutoMLJob, ListAutoMLJobs; CreateTrainingJob, DescribeTrainingJob, StopTrainingJob,
ListTrainingJobs). Neither create operation takes a client token, so the handler tags each job with the
CloudFormation request that started it (``STACK_ID_TAG``, ``LOGICAL_ID_TAG``, ``REQUEST_ID_TAG``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# SageMaker's job-name pattern (both kinds).
JOB_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
# The handlers' environment variable holding the stack's job-name prefix: they manage exactly the jobs with it.
JOB_NAME_PREFIX_VARIABLE = "JOB_NAME_PREFIX"
# A job started under another name than the requested one (an Update's replacement, or a fresh name when the
# requested one is taken) is named "<requested name cut to fit>-<NAME_HASH_LENGTH hex digits>".
NAME_HASH_LENGTH = 8
REPLACEMENT_SUFFIX_LENGTH = NAME_HASH_LENGTH + 1
# The statuses a job not waited for reports to its failure topic.
JOB_FAILURE_STATUSES = ("Failed", "Stopped")
# How often the failure watcher of a kind without status-change events runs (the construct's schedule), and the
# interval of last modification times each run looks at.
WATCH_INTERVAL_SECONDS = 300
# On jobs not waited for: the ARN of the topic their failure is published to.
FAILURE_TOPIC_TAG = "eulagate:failure-topic"
# On every job the handler starts: the CloudFormation request that started it.
STACK_ID_TAG = "eulagate:stack-id"
LOGICAL_ID_TAG = "eulagate:logical-id"
REQUEST_ID_TAG = "eulagate:request-id"
REQUEST_TAGS = (STACK_ID_TAG, LOGICAL_ID_TAG, REQUEST_ID_TAG)


@dataclass(frozen=True)
class JobKind:
    """One kind of SageMaker job: the custom resource that declares it and the API operations that manage it."""

    title: str
    """The kind in construct ids and descriptions (``AutoML``, ``Training``)."""
    noun: str
    """The kind in messages (``AutoML job``)."""
    resource_type: str
    handler_module: str
    """The handlers' module in the code asset (the Lambda handler is ``<module>.on_event``)."""
    create_operation: str
    describe_operation: str
    stop_operation: str
    list_operation: str
    summaries_key: str
    name_key: str
    arn_key: str
    status_key: str
    arn_resource: str
    """The resource type in the job's ARN (``arn:...:sagemaker:<region>:<account>:<arn_resource>/<name>``)."""
    max_name_length: int
    state_change_event: str | None
    """The EventBridge detail-type of the job's status changes (None: SageMaker sends none for this kind, so the
    handlers' watcher looks for failures on a schedule)."""

    @property
    def handler_actions(self) -> tuple[str, ...]:
        """The IAM actions the handlers call on the stack's jobs (the create carries tags: AddTags)."""
        return tuple(f"sagemaker:{operation}" for operation in (
            self.create_operation, self.describe_operation, self.stop_operation, "AddTags", "DeleteTags", "ListTags",
        ))

    @property
    def list_actions(self) -> tuple[str, ...]:
        """The IAM actions the failure watcher calls on * (listing takes no resource)."""
        return (f"sagemaker:{self.list_operation}",)


AUTOML_JOB = JobKind(
    title="AutoML",
    noun="AutoML job",
    resource_type="Custom::AutoMLJobV2",
    handler_module="automl_job",
    create_operation="CreateAutoMLJobV2",
    describe_operation="DescribeAutoMLJobV2",
    stop_operation="StopAutoMLJob",
    list_operation="ListAutoMLJobs",
    summaries_key="AutoMLJobSummaries",
    name_key="AutoMLJobName",
    arn_key="AutoMLJobArn",
    status_key="AutoMLJobStatus",
    arn_resource="automl-job",
    max_name_length=32,
    state_change_event=None,  # SageMaker sends no EventBridge event for AutoML jobs: they are watched
)

TRAINING_JOB = JobKind(
    title="Training",
    noun="training job",
    resource_type="Custom::TrainingJob",
    handler_module="training_job",
    create_operation="CreateTrainingJob",
    describe_operation="DescribeTrainingJob",
    stop_operation="StopTrainingJob",
    list_operation="ListTrainingJobs",
    summaries_key="TrainingJobSummaries",
    name_key="TrainingJobName",
    arn_key="TrainingJobArn",
    status_key="TrainingJobStatus",
    arn_resource="training-job",
    max_name_length=63,
    state_change_event="SageMaker Training Job State Change",
)

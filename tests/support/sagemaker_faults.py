"""Faults and permissions injected into a SageMaker client of moto's server, through botocore's event hooks.

``SageMakerFaults`` makes the client behave as the handler's client would in AWS, and then worse:
- it refuses calls that the handler role's synthesized policy does not allow (``AccessDeniedException``);
- a create of a job name that exists fails with ``ResourceInUse`` (moto would silently overwrite the job);
- training jobs run until stopped (moto completes them at once);
- injected faults fail chosen calls a number of times (or forever), either before the call reaches SageMaker
  or after SageMaker has done it (the answer is lost: an ambiguous call), each taking the time it would take
  (``seconds``, added to the handlers' fake clock through ``advance``: a read timeout takes the whole attempt).
Deterministic: no randomness and no waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto.core.responses import EmptyResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

from tests.support.iam_policy import RolePolicy

FOREVER = 10**9
JOB_COLLECTIONS = {"automl-job": "auto_ml_jobs", "training-job": "training_jobs"}
NAME_KEYS = {"AutoMLJobName": "automl-job", "TrainingJobName": "training-job"}


def api_error(operation: str, code: str, message: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def server_error(operation: str) -> ClientError:
    return api_error(operation, "InternalFailure", "We encountered an internal error. Please try again.", 500)


def unavailable(operation: str) -> ClientError:
    return api_error(operation, "ServiceUnavailable", "Service is unavailable. Please try again.", 503)


def throttled(operation: str) -> ClientError:
    return api_error(operation, "ThrottlingException", "Rate exceeded", 400)


def read_timeout(operation: str) -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url=f"https://api.sagemaker.us-east-1.amazonaws.com/ ({operation})")


def connection_refused(operation: str) -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url=f"https://api.sagemaker.us-east-1.amazonaws.com/ ({operation})")


def denied(operation: str) -> ClientError:
    return api_error(operation, "AccessDeniedException", f"not authorized to perform: sagemaker:{operation}", 400)


def rejected(message: str) -> Callable[[str], ClientError]:
    return lambda operation: api_error(operation, "ValidationException", message, 400)


@dataclass
class Fault:
    operation: str
    error: Callable[[str], Exception]
    times: int
    after_call: bool
    passes: int
    seconds: float


@dataclass
class SageMakerFaults:
    """Hooks on one client; ``calls`` records every operation it was asked for, in order."""

    client: Any
    backend: Any
    account: str
    region: str
    policy: RolePolicy | None = None
    faults: list[Fault] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    advance: Callable[[float], None] = lambda seconds: None
    """Moves the handlers' clock on by the time a failing call took."""
    _created: str | None = None

    def __post_init__(self) -> None:
        self.client.meta.events.register("before-parameter-build.sagemaker", self._before)
        self.client.meta.events.register("after-call.sagemaker", self._after)

    def inject(self, operation: str, error: Callable[[str], Exception], *, times: int = 1,
               after_call: bool = False, passes: int = 0, seconds: float = 0.0) -> None:
        """``operation`` fails ``times`` times with ``error`` once ``passes`` calls of it went through, each after
        ``seconds``; ``after_call``: after SageMaker has done it (the answer is lost)."""
        self.faults.append(Fault(operation, error, times, after_call, passes, seconds))

    def clear(self) -> None:
        self.faults.clear()

    def job(self, name: str) -> Any:
        """moto's job of that name (AutoML or training), or None."""
        for collection in JOB_COLLECTIONS.values():
            job = getattr(self.backend, collection).get(name)
            if job is not None:
                return job
        return None

    def statuses(self) -> dict[str, str]:
        return {
            name: getattr(job, "auto_ml_job_status", None) or job.training_job_status
            for collection in JOB_COLLECTIONS.values() for name, job in getattr(self.backend, collection).items()
        }

    def running(self) -> list[str]:
        return sorted(name for name, status in self.statuses().items() if status == "InProgress")

    def _job_arn(self, params: dict[str, Any]) -> str | None:
        if "ResourceArn" in params:
            return str(params["ResourceArn"])
        for key, resource in NAME_KEYS.items():
            if key in params:
                # SageMaker ARNs carry job names in lower case
                return f"arn:aws:sagemaker:{self.region}:{self.account}:{resource}/{str(params[key]).lower()}"
        return None

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        self.calls.append(operation)
        if self.policy is not None:
            arn = self._job_arn(params)
            if arn is not None and not self.policy.allows(f"sagemaker:{operation}", arn):
                raise api_error(operation, "AccessDeniedException",
                                f"not authorized to perform: sagemaker:{operation} on resource: {arn}", 400)
            if arn is None and operation.startswith("List") and not self.policy.allows(f"sagemaker:{operation}", "*"):
                raise api_error(operation, "AccessDeniedException",
                                f"not authorized to perform: sagemaker:{operation} on resource: *", 400)
            if "RoleArn" in params and not self.policy.allows("iam:PassRole", params["RoleArn"]):
                raise api_error(operation, "AccessDeniedException",
                                f"not authorized to perform: iam:PassRole on resource: {params['RoleArn']}", 400)
        self._fail(operation, after_call=False)
        if operation.startswith("Create"):
            name = next((params[key] for key in NAME_KEYS if key in params), None)
            self._created = name
            if name is not None and self.job(name) is not None:
                raise api_error(operation, "ResourceInUse", f"Job name must be unique within an AWS account and "
                                f"region, and a job with this name already exists ({self._job_arn(params)})", 400)

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if "Error" in parsed:
            return
        if model.name == "CreateTrainingJob" and self._created is not None:
            # a real training job runs until it ends or is stopped; moto's completes at once
            self.backend.training_jobs[self._created].training_job_status = "InProgress"
        self._fail(model.name, after_call=True)

    def _fail(self, operation: str, *, after_call: bool) -> None:
        for fault in self.faults:
            if fault.operation != operation or fault.after_call != after_call or fault.times == 0:
                continue
            if fault.passes > 0:
                fault.passes -= 1
                continue
            fault.times -= 1
            self.advance(fault.seconds)
            raise fault.error(operation)


def serve_stop_training_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2 answers StopTrainingJob with a server error; serve it like moto's StopAutoMLJob (-> Stopped)."""

    def stop_training_job(self: SageMakerResponse) -> EmptyResult:
        name = self._get_param("TrainingJobName")
        job = self.sagemaker_backend.training_jobs.get(name)
        if job is None:
            raise ValidationError(message=f"Could not find training job '{name}'.")
        job.training_job_status = "Stopped"
        return EmptyResult()

    monkeypatch.setattr(SageMakerResponse, "stop_training_job", stop_training_job, raising=False)

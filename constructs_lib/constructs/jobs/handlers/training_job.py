"""Lambda handlers of the ``Custom::TrainingJob`` resource: a SageMaker training job fine-tuning a JumpStart model.

The resource properties are a CreateTrainingJob request; see ``job_common`` for the protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import job_common
import job_contract


def model_artifacts(description: Mapping[str, Any]) -> dict[str, str]:
    """The fine-tuned model of the finished job: the ``model.tar.gz`` in its output path."""
    artifact = (description.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if not artifact:
        raise job_common.JobError(
            f"training job {description.get('TrainingJobName')!r} completed without model artifacts"
        )
    return {"ModelData": artifact}


on_event, is_complete, watch_failures = job_common.lambda_handlers(job_contract.TRAINING_JOB, model_artifacts)

"""Lambda handlers of the ``Custom::AutoMLJobV2`` resource: an Autopilot (AutoML V2) LLM fine-tuning job.

The resource properties are a CreateAutoMLJobV2 request; see ``job_common`` for the protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import job_common
import job_contract


def best_candidate(description: Mapping[str, Any]) -> dict[str, str]:
    """The fine-tuned model of the finished job: its artifact and inference image."""
    candidate = description.get("BestCandidate") or {}
    containers = list(candidate.get("InferenceContainers") or [])
    for definitions in (candidate.get("InferenceContainerDefinitions") or {}).values():
        containers.extend(definitions)
    if not containers:
        raise job_common.JobError(
            f"AutoML job {description.get('AutoMLJobName')!r} completed without an inference container "
            "for its best candidate"
        )
    return {"BestCandidateModelData": containers[0]["ModelDataUrl"], "BestCandidateImage": containers[0]["Image"]}


on_event, is_complete, watch_failures = job_common.lambda_handlers(job_contract.AUTOML_JOB, best_candidate)

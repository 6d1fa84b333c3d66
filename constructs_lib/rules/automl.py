"""EULA003: an Autopilot (AutoML V2) job that fine-tunes an EULA-gated model without accepting its EULA."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.rules.base import Check, Problem, Rule
from constructs_lib.rules.intrinsics import ABSENT
from constructs_lib.rules.requests import CREATE_AUTOML_JOB_V2

# Autopilot's default when TextGenerationJobConfig names no BaseModelName (not EULA-gated).
DEFAULT_BASE_MODEL_NAME = "Falcon7BInstruct"


class GatedAutoMLJobWithoutAcceptance(Rule):
    id = "EULA003"
    short_description = "Autopilot fine-tunes an EULA-gated model without accepting its EULA"
    description = (
        "A CreateAutoMLJobV2 request (in a custom resource's properties, such as AutoMLFineTuningJob's; in an "
        "AwsCustomResource SDK call; or in a Step Functions task aws-sdk:sagemaker:createAutoMLJobV2) fine-tunes a "
        "text-generation model whose AutoMLProblemTypeConfig.TextGenerationJobConfig.BaseModelName the catalog "
        "marks EULA-gated (the Llama 2 models), but TextGenerationJobConfig.ModelAccessConfig.AcceptEula is not "
        "provably true. Without a BaseModelName Autopilot uses Falcon7BInstruct, which is not gated."
    )
    kinds = frozenset({CREATE_AUTOML_JOB_V2})
    construct = "AutoMLFineTuningJob"

    def check(self, check: Check) -> Iterator[Problem]:
        reader = check.reader
        location = f"{check.path}.AutoMLProblemTypeConfig.TextGenerationJobConfig"
        config = reader.path(check.request, "AutoMLProblemTypeConfig", "TextGenerationJobConfig")
        if config is ABSENT or isinstance(config, str):  # another problem type, or a config unknown until run time
            return
        name = reader.render(reader.field(config, "BaseModelName")) or DEFAULT_BASE_MODEL_NAME
        models = [check.index.model_named(candidate) for candidate in reader.context.expand(name)]
        model = next((spec for spec in models if spec is not None and spec.gated), None)
        if model is None:
            return
        reason = reader.acceptance_problem(config, location, ("ModelAccessConfig", "AcceptEula"))
        if reason is not None:
            yield Problem(location, f"but {reason}", f"set {location}.ModelAccessConfig.AcceptEula to true", model)

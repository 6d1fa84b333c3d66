"""EULA003: an Autopilot (AutoML V2) job that fine-tunes an EULA-gated model without accepting its EULA."""

from __future__ import annotations

from collections.abc import Iterator

from constructs_lib.catalog import ModelSpec
from constructs_lib.rules.artifacts import REFRESH_ADVICE, UNKNOWN_GATING, CatalogIndex
from constructs_lib.rules.base import Check, Problem, Rule
from constructs_lib.rules.detection.requests import CREATE_AUTOML_JOB_V2
from constructs_lib.rules.evaluation.values import ABSENT, TemplateContext, has_tokens
from constructs_lib.rules.finding import Severity

# Autopilot's default when TextGenerationJobConfig names no BaseModelName (not EULA-gated).
DEFAULT_BASE_MODEL_NAME = "Falcon7BInstruct"

NONCOMPLIANT_EXAMPLE = """\
Resources:
  TuneLlama:
    Type: Custom::AutoMLJobV2
    Properties:
      ServiceToken: arn:aws:lambda:us-east-1:123456789012:function:automl-job-provider
      AutoMLJobInputDataConfig:
        - ChannelType: training
          ContentType: text/csv;header=present
          DataSource: {S3DataSource: {S3DataType: S3Prefix, S3Uri: "s3://my-data/train/"}}
      OutputDataConfig: {S3OutputPath: "s3://my-data/output/"}
      RoleArn: arn:aws:iam::123456789012:role/automl-job
      AutoMLProblemTypeConfig:
        TextGenerationJobConfig:
          BaseModelName: Llama2-7B
"""


class GatedAutoMLJobWithoutAcceptance(Rule):
    id = "EULA003"
    short_description = "Autopilot fine-tunes an EULA-gated model without accepting its EULA"
    description = (
        "A CreateAutoMLJobV2 request (in a custom resource's properties, such as AutoMLFineTuningJob's; in an "
        "AwsCustomResource SDK call; or in a Step Functions task aws-sdk:sagemaker:createAutoMLJobV2) fine-tunes a "
        "text-generation model whose AutoMLProblemTypeConfig.TextGenerationJobConfig.BaseModelName the catalog "
        "marks EULA-gated (the Llama 2 models), but TextGenerationJobConfig.ModelAccessConfig.AcceptEula is not "
        "provably true. Without a BaseModelName Autopilot uses Falcon7BInstruct, which is not gated. A "
        "BaseModelName the catalog does not list is an error when every Autopilot model of its family (Llama) is "
        "gated, and a warning otherwise. A BaseModelName unknown before deployment (a parameter without "
        "AllowedValues) may name a gated model: a warning that acceptance cannot be proven."
    )
    kinds = frozenset({CREATE_AUTOML_JOB_V2})
    construct = "AutoMLFineTuningJob"
    surfaces = ("CreateAutoMLJobV2 in custom resources (AutoMLFineTuningJob), AwsCustomResource SDK calls and "
                "Step Functions tasks",)
    noncompliant_example = NONCOMPLIANT_EXAMPLE
    compliant_example = NONCOMPLIANT_EXAMPLE + "          ModelAccessConfig: {AcceptEula: true}\n"

    def check(self, check: Check) -> Iterator[Problem]:
        reader = check.reader
        config = reader.path(check.request, "AutoMLProblemTypeConfig", "TextGenerationJobConfig")
        if config is ABSENT or isinstance(config, str):  # another problem type, or a config unknown until run time
            return
        name = reader.render(reader.field(config, "BaseModelName")) or DEFAULT_BASE_MODEL_NAME
        judged = None  # the first name that is an error, else the first that needs acceptance
        for candidate in reader.context.expand(name):
            judgement = _judge(check.index, candidate, reader.context)
            if judgement is not None and (judged is None or (judged[2] != "error" and judgement[2] == "error")):
                judged = judgement
        if judged is None:
            return
        model, lead, severity = judged
        location = f"{check.path}.AutoMLProblemTypeConfig.TextGenerationJobConfig"
        reason = reader.acceptance_problem(config, location, ("ModelAccessConfig", "AcceptEula"))
        if reason is not None:
            yield Problem(location, f"but {reason}", f"set {location}.ModelAccessConfig.AcceptEula to true", model,
                          severity=severity, lead=lead)


def _judge(index: CatalogIndex, name: str, context: TemplateContext
           ) -> tuple[ModelSpec | None, str | None, Severity] | None:
    """``(model, lead, severity)`` when a BaseModelName needs acceptance: a gated model, one the catalog does not
    list (an error when every Autopilot model of its family is gated), or one not known before deployment (a
    warning: it may name a gated model); ``None`` when it does not."""
    model = index.model_named(name)
    if model is not None:
        return (model, None, "error") if model.gated else None
    if has_tokens(name):  # shown as a person reads it, each unknown part as ${...}
        return None, (f"The BaseModelName {context.display(name)} is not known before deployment, so it may name an "
                      "EULA-gated model and acceptance cannot be proven"), "warning"
    family = index.autopilot_families.gated_family(name)
    why = (f"every {family}* model Autopilot fine-tunes that the catalog knows is EULA-gated, so it is treated "
           "as gated" if family else UNKNOWN_GATING)
    lead = (f"The BaseModelName {name!r} is not an Autopilot model that {index.catalog_note} lists "
            f"({REFRESH_ADVICE}); {why}")
    return None, lead, "error" if family else "warning"

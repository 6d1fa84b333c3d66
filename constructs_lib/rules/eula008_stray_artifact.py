"""EULA008 (warning): an EULA-gated JumpStart artifact named by a resource no rule reads for SageMaker requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.base import Check, Problem, Rule
from constructs_lib.rules.detection.requests import STRAY_ARTIFACTS
from constructs_lib.rules.evaluation.reader import Reader
from constructs_lib.rules.evaluation.values import ABSENT, is_intrinsic

_MAX_DEPTH = 40
_EMBEDDED_S3_URI = compile_on_use(r"s3://[^\s'\"`,;)}\]]+")



GATED_EXAMPLE_URI = ("s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/"
                     "meta-textgeneration-llama-2-7b-f/artifacts/inference-prepack/v1.0.0/")
NONCOMPLIANT_EXAMPLE = """\
Resources:
  Loader:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/loader
      Code: {{ZipFile: "def handler(event, context): pass"}}
      Environment:
        Variables:
          MODEL_URI: {model_uri}
"""


class GatedArtifactElsewhere(Rule):
    id = "EULA008"
    short_description = "A resource EulaGate cannot read for SageMaker requests names an EULA-gated artifact"
    description = (
        "A resource of a type that no rule reads (a Lambda function's environment, a parameter store value, a "
        "resource type EulaGate does not know, a custom resource holding no recognisable SageMaker request) "
        "names an EULA-gated JumpStart artifact, or one the catalog does not know that is likely gated. Nothing "
        "in the template shows that whatever deploys or fine-tunes it accepts the EULA. Make sure it does "
        "(ModelAccessConfig.AcceptEula: true in the request it sends), then acknowledge the warning."
    )
    severity = "warning"
    kinds = frozenset({STRAY_ARTIFACTS})
    surfaces = ("resources no other rule reads for requests: Lambda functions' environments, unknown resource "
                "types, custom resources without a recognisable request, script steps of SSM documents that are "
                "not Automations (locations inside command lines too)",)
    noncompliant_example = NONCOMPLIANT_EXAMPLE.format(model_uri=GATED_EXAMPLE_URI)
    compliant_example = NONCOMPLIANT_EXAMPLE.format(model_uri="s3://my-models/support/")

    def check(self, check: Check) -> Iterator[Problem]:
        for location, value in _values(check.reader, check.request, check.path, 0):
            artifact = check.index.artifact(check.reader, value)
            if artifact is None or not artifact.gated:
                continue
            yield Problem(
                location,
                f"and {location} names it in a resource EulaGate does not read for SageMaker requests, so "
                "nothing shows it is used with EULA acceptance",
                "make sure whatever deploys or fine-tunes it accepts the EULA (ModelAccessConfig.AcceptEula: "
                "true in its request)",
                artifact.model, artifact.uri, artifact.region, lead=artifact.lead,
            )


def _values(reader: Reader, value: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    """Each text or intrinsic value under ``value`` (through ``Fn::If``), with its property path."""
    value = reader.pick(value)
    if value is ABSENT or depth > _MAX_DEPTH:
        return
    if isinstance(value, str) or is_intrinsic(value):
        if type(value) is dict and "Fn::Base64" in value:  # user data, a lifecycle script: what runs is the text
            yield from _values(reader, value["Fn::Base64"], path, depth + 1)
            return
        yield path, value
        # Locations inside a script or a command line, written out or built by Fn::Sub/Fn::Join.
        text = value if isinstance(value, str) else reader.render(value)
        if text is not None and "s3://" in text[1:]:
            yield from ((path, match.group()) for match in _EMBEDDED_S3_URI.finditer(text) if match.start())
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _values(reader, child, f"{path}.{key}", depth + 1)
            if isinstance(key, str) and key.replace("_", "").lower() == "copysource":
                copied = _copy_source_location(reader.pick(child))
                if copied is not None:
                    yield f"{path}.{key}", copied
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _values(reader, child, f"{path}[{index}]", depth + 1)


def _copy_source_location(value: Any) -> Any:
    """An S3 copy's ``CopySource`` (``bucket/key`` or ``/bucket/key``, S3 CopyObject and UploadPartCopy) as the
    ``s3://`` location it copies; ``None`` when it is not text or already has a scheme."""
    if isinstance(value, str):
        return None if "://" in value else "s3://" + value.lstrip("/")
    argument = value.get("Fn::Sub") if type(value) is dict and len(value) == 1 else None
    if isinstance(argument, str):
        return None if "://" in argument else {"Fn::Sub": "s3://" + argument.lstrip("/")}
    if isinstance(argument, list) and argument and isinstance(argument[0], str) and "://" not in argument[0]:
        return {"Fn::Sub": ["s3://" + argument[0].lstrip("/"), *argument[1:]]}
    return None

"""Locations only partly known before deployment: may they be a JumpStart artifact the catalog would gate?

A location whose literal parts already place it in a JumpStart bucket is classified like any other (the bucket
prefix decides). This module answers for the rest, a text with unknowns (tokens) in its bucket or its key:

- a bucket that could still turn out to be JumpStart's (``s3://${Bucket}/...``, a location that is one unknown):
  it *may* be a gated artifact; acceptance cannot be proven;
- JumpStart's public bucket with an unknown in the key: the key may name a gated model;
- any other literal bucket: the user's own, never gated.
"""

from __future__ import annotations

import re
from typing import Any

from constructs_lib.catalog import GATED_BUCKET_PREFIX, PUBLIC_BUCKET_PREFIX
from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.detection.requests import (
    CREATE_AUTOML_JOB_V2,
    CREATE_TRAINING_JOB,
    CUSTOM_RESOURCE_TYPE,
    request_kinds,
)
from constructs_lib.rules.evaluation.values import TemplateContext, has_tokens

_TOKEN_RUN = compile_on_use("[\ue000\U000f0000-\U000ffffd]+")
_TOKEN_PIECES = compile_on_use("([\ue000\U000f0000-\U000ffffd]+)")
_REGION_NAME = compile_on_use(r"[a-z]{2}(?:-[a-z]+)+-\d")
_SCHEMES = ("s3://", "https://")


def unknown_location_doubt(context: TemplateContext, text: str, classified: Any) -> str | None:
    """Why a location with unknowns may be a gated JumpStart artifact, or ``None`` when it cannot be.

    ``classified`` is what the catalog made of the text (an ``Artifact`` or ``None``). Values the stack makes
    itself (a bucket it creates, the output of a job it runs) are the user's own, never JumpStart's.
    """
    if not has_tokens(text) or (classified is not None and classified.gated):
        return None
    text = _TOKEN_RUN.sub(lambda run: _own_or_unknown(context, run.group()), text)
    if not has_tokens(text):
        return None
    if classified is not None:  # JumpStart's public bucket: the key decides
        key = text.partition("://")[2].partition("/")[2]
        return "its key is not known before deployment" if classified.model is None and has_tokens(key) else None
    lowered = text[:8].lower()
    scheme = next((scheme for scheme in _SCHEMES if lowered.startswith(scheme)), None)
    if scheme is None:
        # Not an S3 location unless it starts with an unknown (which may hold the whole location).
        return "it is not known before deployment" if _TOKEN_RUN.match(text) else None
    host = text[len(scheme):].partition("/")[0]
    if not has_tokens(host):
        return None
    if scheme == "https://":  # the bucket hides somewhere in an unknown host name
        return "its host is not known before deployment"
    bucket = host.lower()
    regions = {"us-east-1", *_REGION_NAME.findall(bucket)}
    names = [prefix + region for prefix in (GATED_BUCKET_PREFIX, PUBLIC_BUCKET_PREFIX) for region in regions]
    pattern = re.compile("".join(".*" if _TOKEN_RUN.fullmatch(part) else re.escape(part)
                                 for part in _TOKEN_PIECES.split(bucket) if part))
    if any(pattern.fullmatch(name) for name in names):
        return "its bucket is not known before deployment"
    return None


def _own_or_unknown(context: TemplateContext, tokens: str) -> str:
    """A run of tokens, with those standing for the stack's own values replaced by a neutral literal."""
    return "".join("own" if _owned(context, context.token_at(char).resource) else char for char in tokens)


def _owned(context: TemplateContext, logical_id: str | None) -> bool:
    resource = context.resources.get(logical_id) if logical_id is not None else None
    if not isinstance(resource, dict):
        return False
    if resource.get("Type") == "AWS::S3::Bucket":
        return True
    properties = resource.get("Properties")
    if not isinstance(properties, dict):
        return False
    resource_type = resource.get("Type")
    # A custom resource's handler may take its job request under any key (`Job: {...}`), as the rules find it.
    custom = isinstance(resource_type, str) and (resource_type.startswith("Custom::")
                                                 or resource_type == CUSTOM_RESOURCE_TYPE)
    return _holds_job_request(properties, _JOB_REQUEST_DEPTH if custom else 0)


_JOB_REQUEST_DEPTH = 8  # how deep in a custom resource's properties a job request is looked for


def _holds_job_request(value: Any, depth: int) -> bool:
    """Whether a mapping is a training or AutoML request, or holds one within ``depth`` levels of its structure."""
    if isinstance(value, dict):
        if any(kind in (CREATE_TRAINING_JOB, CREATE_AUTOML_JOB_V2) for kind in request_kinds(value)):
            return True
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    return depth > 0 and any(_holds_job_request(child, depth - 1) for child in children)

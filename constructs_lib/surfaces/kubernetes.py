"""Kubernetes manifests of the SageMaker HyperPod inference operator (``inference.sagemaker.aws.amazon.com``).

A ``JumpStartModel`` (the operator's CRD ``jumpstartmodels.inference.sagemaker.aws.amazon.com``) deploys the
JumpStart model ``spec.model.modelId`` (from ``spec.model.modelHubName``, ``SageMakerPublicHub`` by default) and
accepts its EULA with ``spec.model.acceptEula``, a boolean the schema defaults to ``false``. Any other kind of the
API group is read the same way wherever its spec names a ``modelId`` (the older samples' ``ModelDeployment``); an
``InferenceEndpointConfig`` serves the user's own weights from S3 or FSx and names no JumpStart model.

Only the boolean ``true`` accepts: the API server rejects a string for a boolean field, so ``acceptEula: "true"``
never deploys. A ``modelId`` that is not a literal (a Helm or Kustomize placeholder) is unknown: a warning that
acceptance cannot be proven.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from constructs_lib.surfaces.requests import (
    MODEL_ACCEPTANCE_PATH,
    SurfaceRequest,
    SurfaceScan,
    Unknown,
    acceptance_spellings,
    model_request,
    scan_requests,
    unreadable_finding,
)

SURFACE = "kubernetes"
API_GROUP = "inference.sagemaker.aws.amazon.com"
_LINE = "__line__"
_COLUMN = "__column__"
_MAX_DEPTH = 30
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PositionLoader(_SafeLoader):
    """A safe loader that records where each mapping starts."""


def _mapping_with_position(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[_LINE] = node.start_mark.line + 1
    mapping[_COLUMN] = node.start_mark.column + 1
    return mapping


_PositionLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_position)


def mentions_operator(text: str) -> bool:
    return API_GROUP in text


def is_manifest(document: Any) -> bool:
    return (isinstance(document, dict) and isinstance(document.get("apiVersion"), str)
            and isinstance(document.get("kind"), str))


def read_manifests(path: str, text: str, *, strict: bool) -> SurfaceScan:
    """The JumpStart models a multi-document YAML file deploys through the HyperPod operator, judged."""
    if not mentions_operator(text):
        return scan_requests(path, (), strict=strict)
    try:
        documents = list(yaml.load_all(text, Loader=_PositionLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        why = f"it is not valid YAML ({getattr(error, 'problem', None) or error})"
        unreadable = unreadable_finding(SURFACE, path, line, why, strict=strict)
        return scan_requests(path, (), strict=strict, extra=(unreadable,))
    requests = []
    for document in documents:
        if not is_manifest(document) or not str(document["apiVersion"]).startswith(f"{API_GROUP}/"):
            continue
        kind = str(document["kind"])
        metadata = document.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        label = f"{kind}/{name}" if isinstance(name, str) else kind
        spec = document.get("spec")
        stored = _stored_weights(spec)
        if stored is not None:  # an InferenceEndpointConfig serving weights from S3
            location, where = stored
            requests.append(SurfaceRequest(
                SURFACE, label, f"{API_GROUP} {kind}", {"PrimaryContainer": {"ModelDataSource": {"S3DataSource": {
                    "S3Uri": location, "S3DataType": "S3Prefix", "CompressionType": "None"}}}},
                int(where.get(_LINE, document.get(_LINE, 1))), int(where.get(_COLUMN, 1)),
                ((f"{MODEL_ACCEPTANCE_PATH} is absent", f"{_article(kind)} {kind} cannot accept an EULA (it has no "
                                                          "acceptEula)"),
                 *acceptance_spellings(MODEL_ACCEPTANCE_PATH, "acceptEula")),
                "serve a JumpStart model with a JumpStartModel (spec.model.modelId, spec.model.acceptEula: true), "
                "or serve your own copy of the weights from your own bucket",
            ))
        for model in _models(spec, 0):
            model_id = model.get("modelId")
            if not isinstance(model_id, str) or not model_id or "{{" in model_id or "$" in model_id:
                model_id = Unknown("spec.model.modelId")
            accept = model.get("acceptEula", False)
            if isinstance(accept, str):  # never deploys, whatever it says: the schema's type is boolean
                accept = f"the string {accept!r}, where the CRD's acceptEula is a boolean"
            requests.append(SurfaceRequest(
                SURFACE, label, f"{API_GROUP} {kind}", model_request(model_id, accept),
                int(model.get(_LINE, document.get(_LINE, 1))), int(model.get(_COLUMN, 1)),
                acceptance_spellings(MODEL_ACCEPTANCE_PATH, "spec.model.acceptEula"),
                "set spec.model.acceptEula to true (a boolean)",
            ))
    return scan_requests(path, requests, strict=strict)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _stored_weights(spec: Any) -> tuple[str | Unknown, dict[str, Any]] | None:
    """The S3 location an ``InferenceEndpointConfig`` serves (``modelSourceConfig`` of type ``s3``: ``s3Storage
    .bucketName`` and ``modelLocation``), with the mapping that names it; ``None`` for other sources."""
    source = spec.get("modelSourceConfig") if isinstance(spec, dict) else None
    if not isinstance(source, dict) or source.get("modelSourceType") != "s3":
        return None
    storage = source.get("s3Storage")
    bucket = storage.get("bucketName") if isinstance(storage, dict) else None
    key = source.get("modelLocation", "")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or "{{" in bucket + key:
        return Unknown("spec.modelSourceConfig"), source
    return f"s3://{bucket}/{key.lstrip('/')}", source


def _models(spec: Any, depth: int) -> Iterator[dict[str, Any]]:
    """Every mapping under ``spec`` that names a JumpStart ``modelId``: not a Hugging Face Hub id
    (``huggingFaceModel.modelId``, ``org/model``), which is no JumpStart model."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(spec, dict):
        model_id = spec.get("modelId")
        if model_id is not None and not (isinstance(model_id, str) and "/" in model_id):
            yield spec
            return
        for key, value in spec.items():
            if key != "huggingFaceModel":
                yield from _models(value, depth + 1)
    elif isinstance(spec, list):
        for value in spec:
            yield from _models(value, depth + 1)

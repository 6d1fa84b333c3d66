"""Readers of the places besides CloudFormation where a gated model is deployed: Python scripts and notebooks
(SageMaker SDK, boto3, Bedrock Marketplace), Terraform (``.tf`` and plan JSON) and HyperPod manifests.

Each reader turns a file into the SageMaker requests it sends (``requests.py``) and the rule engine judges them
as it judges a template's: the rules are per request kind, never per file type. ``discovery.py`` decides which
files are read, and as what.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs_lib.errors import InputError
from constructs_lib.files import read_text_file
from constructs_lib.surfaces.discovery import (
    MANIFESTS,
    MAX_FILE_BYTES,
    NOTEBOOK,
    PYTHON_SOURCE,
    SURFACES,
    TERRAFORM_PLAN,
    TERRAFORM_SOURCE,
    SourceFile,
)

if TYPE_CHECKING:
    from constructs_lib.surfaces.requests import SurfaceLocation, SurfaceScan

__all__ = ["SURFACES", "SourceFile", "SurfaceLocation", "SurfaceScan", "read_text", "scan_source"]


def __getattr__(name: str) -> Any:
    # The requests' classes load with the first file of these surfaces: a check of templates alone never pays.
    if name in ("SurfaceLocation", "SurfaceScan"):
        from constructs_lib.surfaces import requests

        return getattr(requests, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def read_text(path: Path) -> str:
    """A source file's text: a regular file of at most ``MAX_FILE_BYTES``; one ``InputError`` line otherwise."""
    return read_text_file(path, limit=MAX_FILE_BYTES, reads="EulaGate reads only source files")


def scan_source(source: SourceFile, *, strict: bool) -> SurfaceScan:
    """The findings of one source file that is not CloudFormation."""
    path = str(source.path)
    text = read_text(source.path)
    if source.kind == PYTHON_SOURCE:
        from constructs_lib.surfaces.python_source import read_python

        return read_python(path, text, strict=strict)
    if source.kind == NOTEBOOK:
        from constructs_lib.surfaces.python_source import read_notebook

        return read_notebook(path, text, strict=strict)
    if source.kind == TERRAFORM_SOURCE:
        from constructs_lib.surfaces.terraform import read_tf

        return read_tf(path, text, strict=strict)
    if source.kind == TERRAFORM_PLAN:
        from constructs_lib.surfaces.terraform import is_plan, read_plan

        try:
            document = json.loads(text)
        except ValueError as error:
            raise InputError(f"{path}: a Terraform plan that is not JSON ({error})") from None
        if not is_plan(document):
            raise InputError(f"{path}: not a Terraform plan or state (`terraform show -json` output): it has no "
                             "format_version and planned_values, resource_changes or values")
        return read_plan(path, text, document, strict=strict)
    if source.kind == MANIFESTS:
        from constructs_lib.surfaces.kubernetes import read_manifests

        return read_manifests(path, text, strict=strict)
    raise ValueError(f"{source.kind} is not a surface file kind")

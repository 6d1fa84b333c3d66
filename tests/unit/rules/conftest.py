"""Fixtures for the rule engine's tests: a catalog with what the rules need, and template builders."""

from __future__ import annotations

import dataclasses

import pytest

from constructs_lib.catalog import Catalog

# From JumpStart's public spec of meta-textgeneration-llama-2-7b-f 2.0.4 (hosting_model_package_arns), as
# copied in /work/shared/jumpstart/raw-spec-samples/: the Marketplace package of Llama 2 7B Chat.
_PACKAGE = "model-package/llama2-7b-f-v4-71eeccf76ddf33f2a18d2e16b9c7f302"
LLAMA_CHAT_PACKAGE_ARNS = {
    "us-east-1": f"arn:aws:sagemaker:us-east-1:865070037744:{_PACKAGE}",
    "eu-west-1": f"arn:aws:sagemaker:eu-west-1:985815980388:{_PACKAGE}",
}


@pytest.fixture(scope="session")
def rules_catalog(catalog: Catalog) -> Catalog:
    """The built-in catalog, with Llama 2 7B Chat's Marketplace package ARNs whether or not it ships them."""
    specs = []
    for spec in catalog:
        if spec.model_id == "meta-textgeneration-llama-2-7b-f":
            spec = dataclasses.replace(spec, model_package_arns={**LLAMA_CHAT_PACKAGE_ARNS, **spec.model_package_arns})
        specs.append(spec)
    return Catalog(specs, source="tests")

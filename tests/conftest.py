"""Shared fixtures. Synthesizing fixtures live next to the tests that use them, module- or session-scoped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from constructs_lib.catalog import Catalog
from tests.support.moto_server import MotoServer, running_moto_server

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.default()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the session (SageMaker accepts every instance type); call ``reset()`` as needed."""
    with running_moto_server(relax_instance_types=True) as server:
        yield server


@pytest.fixture(scope="module")
def scratch_app() -> Any:
    """An app that is never synthesized, for constructions that must fail (aws_cdk loads only when asked)."""
    import aws_cdk as cdk

    return cdk.App()


@pytest.fixture()
def scratch(scratch_app: Any) -> Any:
    """A fresh stack in us-east-1 of the module's scratch app."""
    import aws_cdk as cdk

    return cdk.Stack(scratch_app, f"Scratch{len(scratch_app.node.children)}", env=cdk.Environment(region="us-east-1"))

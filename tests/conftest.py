"""Shared fixtures. Synthesizing fixtures live next to the tests that use them, module- or session-scoped."""

from __future__ import annotations

import os
from collections.abc import Iterator

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

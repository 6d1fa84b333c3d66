"""A real moto server on 127.0.0.1, started and stopped by the tests themselves.

boto3 clients and the CDK CLI reach it over HTTP (``AWS_ENDPOINT_URL``) with dummy credentials; nothing
leaves the machine. ``relax_instance_types`` lets SageMaker accept ml.g5.* and newer instance types, which
moto's built-in allow-list rejects.
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """Handle of a running server: its URL, clients bound to it, and a state reset."""

    def __init__(self, url: str, region: str = "us-east-1") -> None:
        self.url = url
        self.region = region

    def client(self, service: str, region: str | None = None, **config: Any) -> Any:
        return boto3.client(
            service,
            region_name=region or self.region,
            endpoint_url=self.url,
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def environment(self) -> dict[str, str]:
        """Variables that point a child process (the CDK CLI, a handler) at this server."""
        return {**DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": self.url, "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region}

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


@contextmanager
def running_moto_server(*, relax_instance_types: bool = False) -> Iterator[MotoServer]:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.sagemaker import models as sagemaker_models

    saved_validator = sagemaker_models.FakeEndpointConfig.validate_instance_type
    if relax_instance_types:
        sagemaker_models.FakeEndpointConfig.validate_instance_type = lambda self, instance_type: None  # type: ignore[method-assign]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    previous = {name: os.environ.get(name) for name in DUMMY_CREDENTIALS}
    os.environ.update(DUMMY_CREDENTIALS)  # botocore refuses to sign without credentials, even for moto
    try:
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
        sagemaker_models.FakeEndpointConfig.validate_instance_type = saved_validator  # type: ignore[method-assign]
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

"""A local HTTPS server that plays Amazon S3 for the hook's payload download, and the connector that reaches it.

The server listens on 127.0.0.1 with a certificate signed by a CA made for the test run (``cryptography``), valid
for the S3 host names the tests use. ``PayloadServer.connector`` is the hook's explicit test seam
(``constructs_lib.hook.payload.Connector``): it trusts that CA only and opens every host's connection to this
server, so URLs keep their real S3 host names (``https://bucket.s3.us-east-1.amazonaws.com/...``) and the
allowlist, TLS host-name checks, redirects and deadlines all run as in production. No test reaches the internet.

Routes: ``serve`` (a body, a status, headers), ``redirect`` (a Location), ``drip_body`` / ``drip_headers`` (bytes
trickled slowly) and ``stream`` (a body of a given size without Content-Length).
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from constructs_lib.hook.payload import Connector

REGION = "us-east-1"
BUCKET_HOST = f"cf-templates-payloads.s3.{REGION}.amazonaws.com"
# The names the server's certificate is valid for: virtual-hosted and path style, dual-stack and FIPS.
CERTIFICATE_NAMES = (f"*.s3.{REGION}.amazonaws.com", f"s3.{REGION}.amazonaws.com",
                     f"*.s3.dualstack.{REGION}.amazonaws.com", f"*.s3-fips.{REGION}.amazonaws.com",
                     "*.s3.amazonaws.com", "evil.example.com")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) in ``directory``: a CA made now, for this run only."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("EulaGate test CA")).issuer_name(_name("EulaGate test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in CERTIFICATE_NAMES]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    server = (x509.CertificateBuilder().subject_name(_name(BUCKET_HOST)).issuer_name(ca.subject)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName(names), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip_body: float = 0.0  # seconds between 64-byte pieces of the body
    drip_headers: float = 0.0  # seconds between bytes of a long header
    stream: int = 0  # bytes to send without Content-Length


class PayloadServer:
    """An HTTPS server on 127.0.0.1 serving ``routes[path]``; every request's host and path are recorded."""

    def __init__(self, directory: Path) -> None:
        self.ca, certificate, key = write_certificates(directory)
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.requests.append((self.headers.get("Host", ""), path))
                route = server.routes.get(path, Route(404, b"<Error><Code>NoSuchKey</Code></Error>"))
                with contextlib.suppress(OSError):  # the client stopped reading: what the limits are for
                    self._answer(route)

            def _answer(self, route: Route) -> None:
                if route.drip_headers:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    for _ in range(200):
                        self.wfile.write(b"a")
                        self.wfile.flush()
                        time.sleep(route.drip_headers)
                    return
                self.send_response(route.status)
                headers = dict(route.headers)
                if not route.stream:
                    headers.setdefault("Content-Length", str(len(route.body)))
                headers.setdefault("Connection", "close")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if route.stream:
                    piece = b" " * 65536
                    for _ in range(route.stream // len(piece) + 1):
                        self.wfile.write(piece)
                elif route.drip_body:
                    for start in range(0, len(route.body), 64):
                        self.wfile.write(route.body[start:start + 64])
                        self.wfile.flush()
                        time.sleep(route.drip_body)
                else:
                    self.wfile.write(route.body)

            def log_message(self, *args: Any) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def connector(self) -> Connector:
        """Trusts only the test CA, and opens every host's connection to this server."""
        port = self.port

        def create_connection(_address: tuple[str, int], timeout: float, source: Any = None) -> socket.socket:
            return socket.create_connection(("127.0.0.1", port), timeout)

        return Connector(ssl_context=ssl.create_default_context(cafile=str(self.ca)),
                         create_connection=create_connection)

    def url(self, path: str, host: str = BUCKET_HOST) -> str:
        return f"https://{host}{path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=secret"

    def serve(self, path: str, body: bytes | dict[str, Any], *, status: int = 200,
              headers: dict[str, str] | None = None, drip_body: float = 0.0) -> str:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        self.routes[path] = Route(status, data, headers or {}, drip_body=drip_body)
        return self.url(path)

    def redirect(self, path: str, location: str, *, status: int = 307) -> str:
        self.routes[path] = Route(status, b"", {"Location": location})
        return self.url(path)

    def drip_headers(self, path: str, seconds: float) -> str:
        self.routes[path] = Route(drip_headers=seconds)
        return self.url(path)

    def stream(self, path: str, size: int) -> str:
        self.routes[path] = Route(stream=size)
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def payload_server(directory: Path) -> Iterator[PayloadServer]:
    server = PayloadServer(directory)
    try:
        yield server
    finally:
        server.close()

"""A stand-in identity provider: RSA keys published as a JWKS over real HTTP."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from deploy.local.engines import free_port


class KeySet:
    """The identity provider's published keys; tests rotate them."""

    def __init__(self):
        self.keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.fetches = 0

    def add(self, kid: str) -> rsa.RSAPrivateKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys.append((kid, key))
        return key

    def document(self) -> bytes:
        entries = []
        for kid, key in self.keys:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            entries.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return json.dumps({"keys": entries}).encode()


@contextmanager
def serving(key_set: KeySet) -> Iterator[str]:
    """The JWKS URL of `key_set`, served until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            key_set.fetches += 1
            body = key_set.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            """Quiet: the test output is not the place for access logs."""

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/realms/engage/certs"
    finally:
        server.shutdown()
        server.server_close()

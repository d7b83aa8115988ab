"""A real OIDC issuer for tests: an HTTP server on 127.0.0.1 (a thread) serving the discovery
document and the JWKS of keys made here with `cryptography`, tokens signed by PyJWT.

    with local_issuer() as issuer:
        kid = issuer.add_key("rsa")            # published at once
        token = issuer.sign(issuer.claims("erin"), kid)
        issuer.hits["jwks"]                    # how often the keys were fetched

    with serving(repo, issuer, state, caplog) as world:   # the app, OIDC on, its clock moved
        world.get(PATH, token); world.clock.advance()      # by the test; no token leaks at the end
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi.testclient import TestClient
from httpx2 import Response
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from cfgctl.server.app import create_app
from cfgctl.server.auditlog import verify
from cfgctl.server.settings import ServerSettings
from tests.support.gitrepo import ConfigRepo

AUDIENCE = "cfgctl"
Kind = Literal["rsa", "ec", "ed25519"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_ALG: dict[Kind, str] = {"rsa": "RS256", "ec": "ES256", "ed25519": "EdDSA"}


@dataclass
class LocalIssuer:
    url: str  # http://127.0.0.1:PORT
    issuer: str  # URL/realms/test: a path, as Keycloak's issuers have
    keys: dict[str, tuple[PrivateKey, str]] = field(default_factory=dict)  # kid -> (key, alg)
    published: list[str] = field(default_factory=list)  # the kids the JWKS holds
    named_issuer: str | None = None  # what discovery says the issuer is (None: the right one)
    hits: Counter[str] = field(default_factory=Counter)  # discovery, jwks
    signed: list[str] = field(default_factory=list)  # every token made: none may leak
    stop: Callable[[], None] = lambda: None  # the issuer goes down: connections refused

    def add_key(self, kind: Kind = "rsa", *, kid: str | None = None, publish: bool = True) -> str:
        made: PrivateKey
        if kind == "rsa":
            made = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif kind == "ec":
            made = ec.generate_private_key(ec.SECP256R1())
        else:
            made = ed25519.Ed25519PrivateKey.generate()
        kid = kid or f"{kind}-{len(self.keys) + 1}"
        self.keys[kid] = (made, _ALG[kind])
        if publish:
            self.published.append(kid)
        return kid

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid in self.published:
            key, alg = self.keys[kid]
            public = key.public_key()
            if isinstance(public, rsa.RSAPublicKey):
                jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
            elif isinstance(public, ec.EllipticCurvePublicKey):
                jwk = ECAlgorithm.to_jwk(public, as_dict=True)
            else:
                jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
            out.append({**jwk, "kid": kid, "use": "sig", "alg": alg})
        return {"keys": out}

    def claims(self, sub: str = "erin@example.com", **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            **extra,
        }

    def sign(self, claims: dict[str, Any], kid: str, *, header_kid: str | None = None) -> str:
        key, alg = self.keys[kid]
        token = jwt.encode(claims, key, algorithm=alg, headers={"kid": header_kid or kid})
        self.signed.append(token)
        return token

    def unsigned(self, header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
        """A token put together by hand (alg none, HS256 with a public key...)."""
        token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        token += "." + b64(signature)
        self.signed.append(token)
        return token

    def public_pem(self, kid: str) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return (
            self.keys[kid][0]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _handler(issuer: LocalIssuer) -> type[BaseHTTPRequestHandler]:
    base = "/realms/test"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == f"{base}/.well-known/openid-configuration":
                issuer.hits["discovery"] += 1
                body: dict[str, Any] = {
                    "issuer": issuer.named_issuer or issuer.issuer,
                    "jwks_uri": f"{issuer.url}{base}/certs",
                    "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                }
            elif self.path == f"{base}/certs":
                issuer.hits["jwks"] += 1
                body = issuer.jwks()
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def local_issuer() -> Iterator[LocalIssuer]:
    """A LocalIssuer serving until the block ends (or its `stop()`)."""
    issuer = LocalIssuer("", "")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(issuer))
    server.daemon_threads = True
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    issuer.issuer = f"{issuer.url}/realms/test"
    thread = threading.Thread(target=server.serve_forever, name="oidc-issuer", daemon=True)
    thread.start()

    def stop() -> None:
        if thread.is_alive():
            server.shutdown()
            server.server_close()
            thread.join(5)

    issuer.stop = stop
    try:
        yield issuer
    finally:
        stop()


REFETCH = 30.0  # seconds between two fetches of the issuer's keys, at most (the default)


class Clock:
    """The clock the issuer's keys are fetched by (monotonic seconds), moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = REFETCH) -> None:
        self.now += seconds


@dataclass
class World:
    client: TestClient
    issuer: LocalIssuer
    state: Path
    clock: Clock
    answers: list[Response] = field(default_factory=list)

    def get(self, path: str, token: str | None = None) -> Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        answer = self.client.get(path, headers=headers)
        self.answers.append(answer)
        return answer

    def audit(self) -> list[dict[str, Any]]:
        path = self.state / "audit.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


@contextmanager
def serving(
    repo: ConfigRepo,
    issuer: LocalIssuer,
    state: Path,
    caplog: pytest.LogCaptureFixture,
    issuer_url: str | None = None,
    **settings: Any,
) -> Iterator[World]:
    """The app with API tokens and OIDC logins of `issuer` (or of `issuer_url`); at the end, no
    token it signed is in any answer, the audit log or a log line."""
    caplog.set_level(logging.DEBUG)
    app = create_app(
        ServerSettings(
            repo=repo.workdir,
            state_dir=state,
            oidc_issuer=issuer_url or issuer.issuer,
            oidc_audience=AUDIENCE,
            **settings,
        )
    )
    clock = Clock()
    app.state.security.authenticator.oidc.keys.clock = clock
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as client:
        world = World(client, issuer, state, clock)
        yield world
    audit = (state / "audit.jsonl").read_text() if (state / "audit.jsonl").is_file() else ""
    for token in issuer.signed:
        signature = token.rpartition(".")[2]
        for answer in world.answers:
            assert token not in answer.text and token not in str(answer.headers)
        assert token not in audit and token not in caplog.text
        assert len(signature) < 16 or signature not in audit
    assert "eyJ" not in audit, "a JWT in the audit log"
    if audit:
        assert verify(state / "audit.jsonl").ok

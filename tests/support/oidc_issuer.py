"""A real OIDC issuer for tests: an HTTP server on 127.0.0.1 (a thread) serving the discovery
document and the JWKS of keys made here with `cryptography`, tokens signed by PyJWT.

    with local_issuer() as issuer:
        kid = issuer.add_key("rsa")            # published at once
        token = issuer.sign(issuer.claims("erin"), kid)
        issuer.hits["jwks"]                    # how often the keys were fetched
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

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

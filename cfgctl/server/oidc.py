"""OIDC bearer tokens of `cfgctl serve`: JWTs verified against one issuer's published keys.

    verifier = OidcVerifier(OidcConfig("https://id.example.com/realms/acme", "cfgctl"))
    login = await verifier.verify(jwt)     # Login("oidc:alice", groups=("sre",))
    # OidcRefused(reason): a 401; IssuerUnavailable: a 503 (no key held can decide)

- **Keys.** `ISSUER/.well-known/openid-configuration` names the issuer (it must be the
  configured one, exactly) and its `jwks_uri` (https, or http on loopback); the JWKS is kept in
  memory and fetched again when it is older than `keys_max_age` or a token names a key id it
  lacks (a rotation), but never more than once per `refetch_interval`: tokens with made-up key
  ids cost the issuer nothing. While the issuer cannot be reached the keys held go on verifying;
  a token no held key can verify is then a 503, not a 401. The network is read on a worker
  thread (`asyncio.to_thread`) with a timeout, never on the event loop; a redirect must stay on
  https (or loopback http); a document above 1 MiB is refused.
- **Algorithms.** Asymmetric only (`ALGORITHMS`): `none` and HS* are refused before any key is
  looked at (an HS256 token "signed" with the issuer's public key is the classic confusion),
  and a key verifies only the algorithms of its type and curve (and its `alg`, when it has one).
- **Claims.** `iss` (the configured issuer), `aud` (the configured audience among them) and
  `exp` are required; `nbf` and `iat` are checked when present; `leeway` seconds of clock skew.
- **Names.** The subject claim (default `sub`) becomes `oidc:VALUE`: an API token's subject has
  no colon, so no login can act as a token's subject, and rbac.yaml grants to `oidc:VALUE`.
  The groups claim (default `groups`; a name with dots reaches a nested claim, as
  `realm_access.roles`) gives `group:NAME` identities, a leading `/` dropped (Keycloak's full
  group paths).

Framework-independent: the caller (access.TokenAuthenticator) turns a refusal into a problem.
No message holds the token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException, HTTPMessage
from typing import IO, Any, Literal

import jwt

from cfgctl._version import __version__
from cfgctl.server.settings import secure_url_problem

__all__ = [
    "ALGORITHMS",
    "SUBJECT_CHARS",
    "SUBJECT_PREFIX",
    "IssuerKeys",
    "IssuerUnavailable",
    "Login",
    "OidcConfig",
    "OidcRefused",
    "OidcVerifier",
    "fetch_json",
]

log = logging.getLogger("cfgctl.server")

# alg -> (kty, curve): the asymmetric algorithms accepted, and the keys that verify them.
ALGORITHMS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    **{f"{family}{bits}": ("RSA", None) for family in ("RS", "PS") for bits in (256, 384, 512)},
    "ES256": ("EC", ("P-256",)),
    "ES384": ("EC", ("P-384",)),
    "ES512": ("EC", ("P-521",)),
    "EdDSA": ("OKP", ("Ed25519", "Ed448")),
}
SUBJECT_PREFIX = "oidc:"
DISCOVERY = "/.well-known/openid-configuration"
MAX_DOCUMENT = 1 << 20
MAX_TOKEN = 16 * 1024
MAX_GROUPS = 256
# What rbac.yaml can write after oidc: (rbac.schema.json), and after group:.
SUBJECT_CHARS = r"[A-Za-z0-9._@+/:|=~-]"
_NAME = re.compile(SUBJECT_CHARS + "{1,255}")
_GROUP = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+/-]{0,254}")

Reason = Literal[
    "malformed",
    "algorithm",
    "wrong-issuer",
    "wrong-audience",
    "unknown-key",
    "forged",
    "expired",
    "not-yet-valid",
    "missing-claim",
    "bad-subject",
]
_NEW_TOKEN = "get a new token from the issuer"


class OidcRefused(Exception):
    """A JWT that does not let its bearer in; `reason` says why, the message never holds it."""

    def __init__(self, reason: Reason, message: str, *, hint: str = _NEW_TOKEN) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message, self.hint = message, hint


class IssuerUnavailable(Exception):
    """The issuer's keys cannot be had (unreachable, a wrong document): nothing can be decided."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or "check that --oidc-issuer is reachable from the server; retry"


@dataclass(frozen=True)
class OidcConfig:
    issuer: str  # exactly as the issuer's tokens and discovery document name it
    audience: str
    subject_claim: str = "sub"
    groups_claim: str = "groups"  # "": the login has no groups
    leeway: float = 30.0  # seconds of clock skew allowed on exp, nbf, iat
    timeout: float = 5.0  # seconds, per connection and read
    refetch_interval: float = 30.0  # the keys are fetched at most once per this many seconds
    keys_max_age: float = 3600.0  # keys older than this are fetched again (kept if that fails)


@dataclass(frozen=True)
class Login:
    """Who a verified JWT speaks for."""

    subject: str  # oidc:VALUE of the subject claim
    groups: tuple[str, ...] = ()


class _SecureRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to https (or http on loopback)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        problem = secure_url_problem(newurl)
        if problem is not None:
            raise IssuerUnavailable(f"{req.full_url} redirects to {newurl}: {problem}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SecureRedirects)


def fetch_json(url: str, timeout: float) -> Any:
    """The JSON document at `url` (blocking: call it on a worker thread); IssuerUnavailable when
    it cannot be had."""
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": f"cfgctl/{__version__}"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            body = answer.read(MAX_DOCUMENT + 1)
    except urllib.error.HTTPError as exc:
        raise IssuerUnavailable(f"{url} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise IssuerUnavailable(f"{url} cannot be reached: {exc.reason}") from None
    except (OSError, HTTPException, ValueError) as exc:  # a timeout, a reset, a broken answer
        raise IssuerUnavailable(f"{url} cannot be read: {exc or type(exc).__name__}") from None
    if len(body) > MAX_DOCUMENT:
        raise IssuerUnavailable(f"{url} answered more than {MAX_DOCUMENT} bytes")
    try:
        return json.loads(body)
    except ValueError:
        raise IssuerUnavailable(f"{url} did not answer JSON") from None


class IssuerKeys:
    """The issuer's signing keys (its JWKS), found through discovery; see the module."""

    def __init__(
        self,
        config: OidcConfig,
        *,
        fetch: Callable[[str, float], Any] = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config, self._fetch, self.clock = config, fetch, clock
        # The keys and those built for an algorithm, swapped as one (find runs meanwhile).
        self._held: tuple[tuple[dict[str, Any], ...], dict[tuple[int, str], jwt.PyJWK]] = ((), {})
        self.jwks_uri: str | None = None
        self.fetched_at: float | None = None  # the last fetch that succeeded
        self.attempted_at: float | None = None  # the last fetch tried
        self.error: str | None = None  # why the last fetch failed; None when it did not
        self._lock = threading.Lock()

    def may_fetch(self, now: float) -> bool:
        last = self.attempted_at
        return last is None or now - last >= self.config.refetch_interval

    def stale(self, now: float) -> bool:
        return self.fetched_at is None or now - self.fetched_at >= self.config.keys_max_age

    def refresh(self, seen: float | None) -> None:
        """Fetch the keys (blocking: on a worker thread), unless another fetch was tried since
        `seen` (the `attempted_at` the caller saw): one fetch for a crowd of requests."""
        with self._lock:
            if self.attempted_at != seen:
                return
            self.attempted_at = self.clock()
            try:
                jwks = self._download()
            except IssuerUnavailable as exc:
                self.error, self.jwks_uri = exc.message, None  # discover again next time
                log.warning("OIDC keys not fetched: %s", exc.message)
                return
            self._held = (jwks, {})
            self.fetched_at, self.error = self.attempted_at, None

    def _download(self) -> tuple[dict[str, Any], ...]:
        uri = self.jwks_uri or self._discover()
        doc = self._fetch(uri, self.config.timeout)
        keys = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(keys, list):
            raise IssuerUnavailable(f"{uri} is no JWKS (no list of keys)")
        self.jwks_uri = uri
        return tuple(k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig")

    def _discover(self) -> str:
        issuer = self.config.issuer
        url = issuer.removesuffix("/") + DISCOVERY
        doc = self._fetch(url, self.config.timeout)
        if not isinstance(doc, dict):
            raise IssuerUnavailable(f"{url} is no discovery document (not a JSON object)")
        if doc.get("issuer") != issuer:
            named = str(doc.get("issuer"))[:200]
            raise IssuerUnavailable(
                f"{url} names the issuer {named!r}, not {issuer!r}",
                hint="pass --oidc-issuer exactly as the issuer names itself (trailing / included)",
            )
        uri = doc.get("jwks_uri")
        problem = "missing" if not isinstance(uri, str) else secure_url_problem(uri)
        if problem is not None:
            raise IssuerUnavailable(f"the jwks_uri of {url} is not usable: {problem}")
        return str(uri)

    def find(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        """The key that verifies `alg` under `kid`; without a kid, the only key that can."""
        kty, curves = ALGORITHMS[alg]
        jwks, built_keys = self._held
        fits = [
            (i, jwk)
            for i, jwk in enumerate(jwks)
            if (kid is None or jwk.get("kid") == kid)
            and jwk.get("kty") == kty
            and (curves is None or jwk.get("crv") in curves)
            and jwk.get("alg", alg) == alg
        ]
        if len(fits) != 1:
            return None
        index, jwk = fits[0]
        built = built_keys.get((index, alg))
        if built is None:
            try:
                built = jwt.PyJWK(jwk, alg)  # bound to alg: it verifies nothing else
            except jwt.PyJWTError:
                return None  # a key the issuer publishes but nobody can use
            built_keys[(index, alg)] = built
        return built


# PyJWT's refusals, most specific first: (error, reason, message).
_REFUSALS: tuple[tuple[type[jwt.PyJWTError], Reason, str], ...] = (
    (jwt.ExpiredSignatureError, "expired", "the token expired"),
    (jwt.ImmatureSignatureError, "not-yet-valid", "the token is not valid yet (nbf or iat)"),
    (jwt.InvalidIssuerError, "wrong-issuer", "the token is from another issuer"),
    (jwt.InvalidAudienceError, "wrong-audience", "the token is not for this server's audience"),
    (jwt.InvalidSignatureError, "forged", "the token's signature is not the issuer's"),
    (jwt.InvalidAlgorithmError, "algorithm", "the token's algorithm does not fit its key"),
)


class OidcVerifier:
    """JWTs of one issuer as logins; see the module."""

    def __init__(self, config: OidcConfig, keys: IssuerKeys | None = None) -> None:
        self.config = config
        self.keys = keys if keys is not None else IssuerKeys(config)

    async def verify(self, token: str) -> Login:
        """The login a JWT proves; OidcRefused (401) or IssuerUnavailable (503) otherwise."""
        alg, kid = self._peek(token)
        key = await self._key(kid, alg)
        return self._login(self._decode(token, key, alg))

    def _peek(self, token: str) -> tuple[str, str | None]:
        """The algorithm and key id a token names, refused early when it cannot be ours."""
        if len(token) > MAX_TOKEN or token.count(".") != 2:
            raise OidcRefused("malformed", "not a JWT (three base64url parts)")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            unreadable = "not a JWT: its header or claims cannot be read"
            raise OidcRefused("malformed", unreadable) from None
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            accepted = ", ".join(ALGORITHMS)
            raise OidcRefused(
                "algorithm",
                f"the token's algorithm {str(alg)[:16]!r} is not accepted (only {accepted})",
                hint="configure the issuer to sign with an asymmetric key",
            )
        if kid is not None and not isinstance(kid, str):
            raise OidcRefused("malformed", "the token's key id (kid) is not a string")
        if claims.get("iss") != self.config.issuer:
            raise OidcRefused(
                "wrong-issuer", f"the token is not from the issuer {self.config.issuer}"
            )
        return alg, kid

    async def _key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        keys = self.keys
        now = keys.clock()
        if (keys.stale(now) or keys.find(kid, alg) is None) and keys.may_fetch(now):
            await asyncio.to_thread(keys.refresh, keys.attempted_at)
        found = keys.find(kid, alg)
        if found is not None:
            return found
        if keys.error is not None:
            raise IssuerUnavailable(f"the OIDC issuer's keys cannot be fetched: {keys.error}")
        named = "no key id (kid)" if kid is None else f"the key id {kid[:64]!r}"
        raise OidcRefused(
            "unknown-key",
            f"the token names {named}, which the issuer publishes no {alg} key for",
        )

    def _decode(self, token: str, key: jwt.PyJWK, alg: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise OidcRefused("missing-claim", f"the token has no {exc.claim} claim") from None
        except jwt.PyJWTError as exc:
            for error, reason, message in _REFUSALS:
                if isinstance(exc, error):
                    raise OidcRefused(reason, message) from None
            raise OidcRefused("malformed", "the token's claims cannot be read") from None
        return claims

    def _login(self, claims: dict[str, Any]) -> Login:
        name = self.config.subject_claim
        value = _claim(claims, name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or _NAME.fullmatch(value) is None:
            raise OidcRefused(
                "bad-subject",
                f"the token's {name} claim is not a name rbac.yaml can grant to",
                hint="choose --oidc-subject-claim of up to 255 letters, digits and ._@+/:|=~-",
            )
        return Login(SUBJECT_PREFIX + value, self._groups(claims))

    def _groups(self, claims: dict[str, Any]) -> tuple[str, ...]:
        if not self.config.groups_claim:
            return ()
        value = _claim(claims, self.config.groups_claim)
        listed = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        names = (g.removeprefix("/") for g in listed[:MAX_GROUPS] if isinstance(g, str))
        return tuple(dict.fromkeys(g for g in names if _GROUP.fullmatch(g)))


def _claim(claims: dict[str, Any], name: str) -> Any:
    """The claim `name`; when there is none, the nested one its dots name (`realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value

"""OIDC bearer tokens in `cfgctl serve`: JWTs of a real local issuer (tests/support/
oidc_issuer.py: discovery and JWKS over HTTP on 127.0.0.1, keys made with `cryptography`,
tokens signed by PyJWT), beside API tokens, against rbac.yaml and the audit log."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx2 import Response

from cfgctl.errors import InputError
from cfgctl.server.settings import ServerSettings
from cfgctl.server.tokens import TokenStore
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.oidc_issuer import (
    AUDIENCE,
    REFETCH,
    LocalIssuer,
    World,
    local_issuer,
    serving,
)
from tests.support.rbac import RULES

PROD = "/api/v1/config/payments/prod"
STAGING = "/api/v1/config/payments/staging"
# The shared rules, with an OIDC user in a group of rbac.yaml and grants to OIDC logins.
OIDC_RULES = RULES.replace(
    "payments-team: [alice, bob]", 'payments-team: [alice, bob, "oidc:frank"]'
) + (
    '  - subjects: ["oidc:erin@example.com"]\n'
    "    role: viewer\n"
    "    scope: [payments@staging]\n"
    "  - subjects: [group:sre]\n"
    "    role: viewer\n"
    '    scope: ["*@prod"]\n'
)


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with local_issuer() as made:
        yield made


@pytest.fixture
def repo(example_repo: ConfigRepo) -> ConfigRepo:
    example_repo.commit({"rbac.yaml": OIDC_RULES}, "rbac with OIDC logins", add_all=True)
    return example_repo


@pytest.fixture
def world(
    repo: ConfigRepo, issuer: LocalIssuer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[World]:
    issuer.add_key("rsa")
    with serving(repo, issuer, tmp_path / "state", caplog) as made:
        yield made


def _problem(answer: Response, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    doc: dict[str, Any] = answer.json()
    assert doc["type"] == f"urn:cfgctl:problem:{kind}"
    return doc


def test_a_valid_token_reads_what_rbac_yaml_grants_its_login(world: World) -> None:
    issuer = world.issuer
    token = issuer.sign(issuer.claims("erin@example.com"), "rsa-1")
    answer = world.get(STAGING, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["service"] == "payments"
    assert world.get("/api/v1/services", token).status_code == 200
    doc = _problem(world.get(PROD, token), 403, "forbidden")
    assert "no grant in rbac.yaml allows oidc:erin@example.com to read payments@prod" in str(
        doc["reason"]
    )
    (line,) = world.audit()  # the denial, as a login's
    assert line["subject"] == "oidc:erin@example.com" and line["outcome"] == "denied"
    assert line["detail"]["via"] == "oidc"
    # An EC key (ES256) and an Ed25519 one (EdDSA) of the same issuer verify too.
    for kind in ("ec", "ed25519"):
        kid = issuer.add_key(kind)
        world.clock.advance()  # the new key is fetched when a token names it
        assert world.get(STAGING, issuer.sign(issuer.claims(), kid)).status_code == 200
    warm: int = world.client.app.state.warm.answered  # type: ignore[attr-defined]
    assert warm >= 2  # logins take the warm reads' fast path too


def test_the_groups_claim_and_rbac_groups_grant(world: World) -> None:
    issuer = world.issuer
    sre = issuer.sign(issuer.claims("zed", groups=["sre", "other"]), "rsa-1")
    assert world.get(PROD, sre).status_code == 200
    keycloak = issuer.sign(issuer.claims("zed", groups=["/sre"]), "rsa-1")  # a full group path
    assert world.get(PROD, keycloak).status_code == 200
    alone = issuer.sign(issuer.claims("zed"), "rsa-1")
    _problem(world.get(PROD, alone), 403, "forbidden")
    # frank is in payments-team by rbac.yaml (as oidc:frank): an editor of payments@staging
    frank = issuer.sign(issuer.claims("frank"), "rsa-1")
    assert world.get(STAGING, frank).status_code == 200
    _problem(world.get(PROD, frank), 403, "forbidden")


def test_a_login_never_acts_as_an_api_tokens_subject(world: World) -> None:
    store = TokenStore.open(world.state)
    _, api_token = store.create("root", "admin", ["*"], timedelta(days=1))
    assert world.get(PROD, api_token).status_code == 200  # both kinds of bearer at once
    issuer = world.issuer
    root = issuer.sign(issuer.claims("root", groups=["payments-team"]), "rsa-1")
    doc = _problem(world.get(PROD, root), 403, "forbidden")
    assert "oidc:root" in str(doc["reason"])
    # A group of the issuer's name meets rbac.yaml's group of that name: the issuer says who is
    # in it (payments-team edits payments@staging).
    assert world.get(STAGING, root).status_code == 200
    assert "cfgctl_" not in (world.state / "audit.jsonl").read_text()


def _hs256_with_public_key(issuer: LocalIssuer) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    claims = issuer.claims("root")
    from tests.support.oidc_issuer import b64

    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(issuer.public_pem("rsa-1"), signing.encode(), hashlib.sha256).digest()
    return issuer.unsigned(header, claims, mac)


def test_every_bad_token_is_a_401_with_its_reason_and_audited(world: World) -> None:
    issuer = world.issuer
    now = int(time.time())
    stranger = issuer.add_key("rsa", kid="stranger", publish=False)
    cases = {
        "expired": issuer.sign(issuer.claims(exp=now - 120, iat=now - 600), "rsa-1"),
        "not-yet-valid": issuer.sign(issuer.claims(nbf=now + 600), "rsa-1"),
        "wrong-issuer": issuer.sign(issuer.claims(iss="https://evil.example.com"), "rsa-1"),
        "wrong-audience": issuer.sign(issuer.claims(aud="another-app"), "rsa-1"),
        "missing-claim": issuer.sign(
            {k: v for k, v in issuer.claims().items() if k != "exp"}, "rsa-1"
        ),
        "forged": issuer.sign(issuer.claims("root"), stranger, header_kid="rsa-1"),
        "algorithm": issuer.unsigned({"alg": "none", "typ": "JWT"}, issuer.claims("root"), b""),
        "malformed": "not-a-jwt",
        "bad-subject": issuer.sign(issuer.claims("has space"), "rsa-1"),
    }
    issuer.signed.append(cases["malformed"])
    for reason, token in cases.items():
        answer = world.get(STAGING, token)
        doc = _problem(answer, 401, "unauthenticated")
        assert doc["reason"] == reason, (reason, doc)
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    # HS256 "signed" with the issuer's public key as the secret: the classic confusion
    doc = _problem(world.get(STAGING, _hs256_with_public_key(issuer)), 401, "unauthenticated")
    assert doc["reason"] == "algorithm" and "HS256" in doc["detail"]
    lines = world.audit()
    assert [line["detail"]["reason"] for line in lines] == [*cases, "algorithm"]
    assert all(line["action"] == "authenticate" for line in lines)
    assert all(line["detail"]["via"] == "oidc" for line in lines)
    assert issuer.hits["jwks"] == 1  # refusals before any key asked for no fetch


def test_a_rotated_key_is_fetched_at_most_once_per_interval(world: World) -> None:
    issuer = world.issuer
    assert world.get(STAGING, issuer.sign(issuer.claims(), "rsa-1")).status_code == 200
    assert issuer.hits["jwks"] == 1
    new = issuer.add_key("rsa", kid="rsa-2")  # the issuer rotates
    token = issuer.sign(issuer.claims(), new)
    # fetched a moment ago: the unknown kid waits for the interval (no fetch meanwhile)
    doc = _problem(world.get(STAGING, token), 401, "unauthenticated")
    assert doc["reason"] == "unknown-key" and issuer.hits["jwks"] == 1
    world.clock.advance(REFETCH - 1)
    assert _problem(world.get(STAGING, token), 401, "unauthenticated")["reason"] == "unknown-key"
    assert issuer.hits["jwks"] == 1
    world.clock.advance(1)
    assert world.get(STAGING, token).status_code == 200
    assert issuer.hits["jwks"] == 2
    # made-up kids do not make the server hammer the issuer
    for n in range(5):
        made_up = issuer.sign(issuer.claims(), "rsa-1", header_kid=f"made-up-{n}")
        assert _problem(world.get(STAGING, made_up), 401, "unauthenticated")["reason"] == (
            "unknown-key"
        )
    assert issuer.hits["jwks"] == 2
    # the old key retired: it verifies until the keys are fetched again (their max age, or a
    # token naming a kid the server does not hold), then never
    issuer.published.remove("rsa-1")
    old = issuer.sign(issuer.claims(), "rsa-1")
    assert world.get(STAGING, old).status_code == 200
    world.clock.advance()
    fresh = issuer.sign(issuer.claims(), "rsa-1", header_kid="made-up-6")
    assert _problem(world.get(STAGING, fresh), 401, "unauthenticated")["reason"] == "unknown-key"
    assert issuer.hits["jwks"] == 3
    assert _problem(world.get(STAGING, old), 401, "unauthenticated")["reason"] == "unknown-key"
    assert issuer.hits["jwks"] == 3 and issuer.hits["discovery"] == 1


def test_an_issuer_down_is_a_503_unless_a_held_key_decides(
    repo: ConfigRepo, issuer: LocalIssuer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.add_key("rsa")
    # oidc_keys_max_age 0: every request wants fresh keys
    with serving(repo, issuer, tmp_path / "state", caplog, oidc_keys_max_age=0.0) as world:
        token = issuer.sign(issuer.claims(), "rsa-1")
        assert world.get(STAGING, token).status_code == 200
        issuer.stop()
        world.clock.advance()
        assert world.get(STAGING, token).status_code == 200  # the held key still verifies
        other = issuer.sign(issuer.claims(), "rsa-1", header_kid="rsa-9")
        doc = _problem(world.get(STAGING, other), 503, "environment")
        assert doc["reason"] == "issuer-unavailable"
        assert "cannot be fetched" in doc["detail"] and issuer.url in doc["detail"]
        (line,) = world.audit()
        assert line["action"] == "authenticate" and line["outcome"] == "denied"
        assert line["detail"]["reason"] == "issuer-unavailable"


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_no_key_held_and_the_issuer_unreachable_is_a_503(
    repo: ConfigRepo, issuer: LocalIssuer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{_dead_port()}/realms/test"
    issuer.add_key("rsa")
    issuer.issuer = dead  # tokens name the dead issuer
    with serving(repo, issuer, tmp_path / "state", caplog, issuer_url=dead) as world:
        token = issuer.sign(issuer.claims(), "rsa-1")
        doc = _problem(world.get(STAGING, token), 503, "environment")
        assert doc["reason"] == "issuer-unavailable" and "cannot be reached" in doc["detail"]
        assert "--oidc-issuer" in doc["hint"]
        # an API token is not held up by the issuer
        _, api_token = TokenStore.open(world.state).create("root", "admin", ["*"], None)
        assert world.get(PROD, api_token).status_code == 200


def test_an_issuer_that_does_not_answer_times_out(
    repo: ConfigRepo, issuer: LocalIssuer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/realms/test"
        issuer.add_key("rsa")
        issuer.issuer = url
        with serving(
            repo, issuer, tmp_path / "state", caplog, issuer_url=url, oidc_timeout=0.3
        ) as world:
            started = time.monotonic()
            doc = _problem(world.get(STAGING, issuer.sign(issuer.claims(), "rsa-1")), 503,
                           "environment")  # fmt: skip
            assert time.monotonic() - started < 3
            assert "timed out" in doc["detail"]


def test_a_discovery_document_naming_another_issuer_is_refused(
    repo: ConfigRepo, issuer: LocalIssuer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.add_key("rsa")
    issuer.named_issuer = "https://evil.example.com"
    with serving(repo, issuer, tmp_path / "state", caplog) as world:
        doc = _problem(world.get(STAGING, issuer.sign(issuer.claims(), "rsa-1")), 503,
                       "environment")  # fmt: skip
        assert "names the issuer 'https://evil.example.com'" in doc["detail"]
        assert issuer.hits["jwks"] == 0


def test_oidc_settings_are_checked(repo: ConfigRepo, run_cli: RunCli, tmp_path: Path) -> None:
    base = {"repo": repo.workdir, "state_dir": tmp_path / "state"}
    with pytest.raises(InputError, match="plain http is accepted on loopback only"):
        ServerSettings(**base, oidc_issuer="http://id.example.com", oidc_audience="a")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="go together"):
        ServerSettings(**base, oidc_issuer="https://id.example.com")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="--insecure-local"):
        ServerSettings(
            repo=repo.workdir,
            insecure_local=True,
            oidc_issuer="https://id.example.com",
            oidc_audience="a",
        )
    settings = ServerSettings(**base, oidc_issuer="https://id.example.com", oidc_audience="a")  # type: ignore[arg-type]
    assert ServerSettings.from_env(settings.to_env()) == settings  # into the workers
    result = run_cli(
        "serve", "--state-dir", str(tmp_path / "state"), "--listen", "127.0.0.1:0",
        "--oidc-issuer", "ftp://id.example.com", "--oidc-audience", "cfgctl",
        cwd=repo.workdir,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "--oidc-issuer 'ftp://id.example.com': not an http(s) URL" in result.stderr


def test_the_access_log_never_shows_a_jwt_in_a_url(issuer: LocalIssuer) -> None:
    from cfgctl.server.runner import _redact

    issuer.add_key("rsa")
    token = issuer.sign(issuer.claims(), "rsa-1")
    line = _redact(f"GET /api/v1/services?id_token={token}&limit=5")
    assert token not in line and line == "GET /api/v1/services?id_token=***&limit=5"


@pytest.mark.slow
def test_serve_with_oidc_flags_as_a_real_process(
    repo: ConfigRepo, issuer: LocalIssuer, tmp_path: Path
) -> None:
    """The flags reach uvicorn's worker (the settings cross in an environment variable)."""
    import httpx2

    from tests.support.server import server_process

    issuer.add_key("ec")
    token = issuer.sign(issuer.claims("zed", groups=["sre"]), "ec-1")
    args = ("--state-dir", str(tmp_path / "state"), "--oidc-issuer", issuer.issuer,
            "--oidc-audience", AUDIENCE)  # fmt: skip
    with server_process(repo.workdir, *args, log_dir=tmp_path, insecure=False) as server:
        auth = {"Authorization": f"Bearer {token}"}
        prod = httpx2.get(server.api("/config/payments/prod"), headers=auth, timeout=10)
        staging = httpx2.get(server.api("/config/payments/staging"), headers=auth, timeout=10)
    assert prod.status_code == 200, prod.text
    assert staging.status_code == 403 and "oidc:zed" in staging.json()["detail"]
    assert token not in (tmp_path / "server.log").read_text()
    assert token not in (tmp_path / "state" / "audit.jsonl").read_text()


def test_the_oidc_example_of_the_docs_holds() -> None:
    from cfgctl.server.rbac import Authorizer, Principal

    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    section = text.split("## OIDC bearer tokens\n", 1)[1]
    authz = Authorizer.from_text(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    assert authz.enforce("oidc:erin@example.com", "edit", "payments@staging").allowed
    assert authz.enforce(Principal("oidc:zed", ("sre",)), "approve", "search@prod-eu").allowed
    assert not authz.enforce("oidc:zed", "approve", "search@prod-eu").allowed
    github = "oidc:repo:acme/config:ref:refs/heads/main"
    assert authz.enforce(github, "read", "payments@prod").allowed
    assert not authz.enforce(
        "oidc:repo:acme/config:ref:refs/heads/dev", "read", "payments@prod"
    ).allowed

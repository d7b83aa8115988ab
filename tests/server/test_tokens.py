"""API tokens: shown once, stored hashed, refused for distinct reasons."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cfgctl.cli.commands.serve_tokens import token_app
from cfgctl.errors import EnvError, InputError
from cfgctl.server.auditlog import AUDIT_FILE, verify
from cfgctl.server.tokens import SCHEMA_VERSION, TOKENS_DB, TokenRefused, TokenStore, parse_token
from tests.support.subapp import run_app

T0 = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> TokenStore:
    return TokenStore.open(tmp_path / "state")


def test_a_token_is_shown_once_and_stored_only_as_a_salted_hash(store: TokenStore) -> None:
    token_id, token = store.create("ci-bot", "editor", ["payments@staging"], timedelta(days=30))
    assert token.startswith(f"cfgctl_{token_id}_")
    secret = token[len(f"cfgctl_{token_id}_") :]
    assert parse_token(token) == (token_id, secret)
    assert len(secret) == 43  # 32 random bytes, base64url
    info = store.verify(token)
    assert (info.id, info.subject, info.role, info.scopes) == (
        token_id,
        "ci-bot",
        "editor",
        ("payments@staging",),
    )
    # Neither the secret nor the whole token is anywhere in the database's files.
    for path in store.path.parent.iterdir():
        data = path.read_bytes()
        assert secret.encode() not in data and token.encode() not in data, path
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    # Two tokens of the same secret would still hash apart: every row has its own salt.
    con = sqlite3.connect(store.path)
    salts = [row[0] for row in con.execute("SELECT salt FROM tokens")]
    store.create("ci-bot", "editor", ["payments@staging"], None)
    salts = [row[0] for row in con.execute("SELECT salt FROM tokens")]
    con.close()
    assert len(set(salts)) == 2 and all(len(s) == 16 for s in salts)


def test_refusals_have_distinct_reasons_and_never_echo_the_secret(store: TokenStore) -> None:
    token_id, token = store.create("ci-bot", "viewer", ["*"], timedelta(hours=1), now=T0)
    secret = parse_token(token)[1]  # it may hold "_" itself

    def reason(candidate: str, now: datetime = T0) -> str:
        with pytest.raises(TokenRefused) as caught:
            store.verify(candidate, now=now)
        assert secret not in str(caught.value) and secret not in (caught.value.hint or "")
        return caught.value.reason

    assert store.verify(token, now=T0 + timedelta(minutes=59)).id == token_id
    assert reason("Bearer nonsense") == "malformed"
    assert store.verify_header(f"Bearer {token}", now=T0).id == token_id
    assert store.verify_header(f"bearer  {token} ", now=T0).id == token_id
    for header in (None, "", "Bearer", "Basic dXNlcjpwdw==", token):
        with pytest.raises(TokenRefused) as missing:
            store.verify_header(header, now=T0)
        assert missing.value.reason == "missing" and secret not in str(missing.value)
    assert reason(f"cfgctl_{token_id}_short") == "malformed"
    assert reason(f"cfgctl_000000000000_{secret}") == "unknown"
    forged = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert reason(f"cfgctl_{token_id}_{forged}") == "forged"
    assert reason(token, T0 + timedelta(hours=1)) == "expired"
    store.revoke(token_id, now=T0 + timedelta(minutes=5))
    assert reason(token, T0 + timedelta(minutes=6)) == "revoked"
    assert reason(f"cfgctl_{token_id}_{forged}") == "forged"  # a revoked id is no oracle


def test_revocation_is_seen_by_every_store_of_the_database(tmp_path: Path) -> None:
    one, two = TokenStore.open(tmp_path), TokenStore.open(tmp_path)
    token_id, token = one.create("ci-bot", "editor", ["payments@staging"], timedelta(days=1))
    assert two.verify(token).id == token_id  # remembered as checked in `two`
    one.revoke(token_id)
    with pytest.raises(TokenRefused, match="revoked"):
        two.verify(token)


def test_last_used_and_list(store: TokenStore) -> None:
    a, token = store.create("ci-bot", "editor", ["payments@staging"], timedelta(days=1), now=T0)
    b, _ = store.create("alice", "admin", ["*"], None, now=T0 + timedelta(seconds=1))
    store.verify(token, now=T0 + timedelta(minutes=1))
    listed = store.list()
    assert [t.id for t in listed] == [a, b]
    assert listed[0].last_used == T0 + timedelta(minutes=1) and listed[1].last_used is None
    assert listed[1].expires is None
    assert store.revoke(b).revoked is not None
    with pytest.raises(InputError, match="no token nope"):
        store.revoke("nope")


def test_bad_arguments_and_a_newer_schema(store: TokenStore, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no role 'owner'"):
        store.create("x", "owner", ["*"], None)
    with pytest.raises(InputError, match="needs a scope"):
        store.create("x", "viewer", [], None)
    with pytest.raises(InputError, match="not a scope: 'payments'"):
        store.create("x", "viewer", ["payments"], None)
    with pytest.raises(InputError, match="not a subject name: 'group:sre'"):
        store.create("group:sre", "viewer", ["*"], None)
    with pytest.raises(InputError, match="future"):
        store.create("x", "viewer", ["*"], timedelta(0))
    con = sqlite3.connect(store.path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(EnvError, match="has schema 2; this cfgctl knows 1") as caught:
        TokenStore(store.path).list()
    assert caught.value.hint == "upgrade cfgctl"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder\n")  # root may write anywhere: a file stands in the way
    with pytest.raises(EnvError, match="cannot make the state directory"):
        TokenStore.open(blocked)


def test_cli_create_prints_the_token_once_on_stdout(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    made = run_app(
        token_app,
        "create",
        "--name",
        "ci-bot",
        "--role",
        "editor",
        "--scope",
        "payments@staging",
        "--scope",
        "search@staging",
        "--expires",
        "30d",
        "--state-dir",
        state,
    )
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip()
    token_id, secret = parse_token(token)
    assert secret not in made.stderr and f"token {token_id} for ci-bot" in made.stderr
    assert TokenStore.open(Path(state)).verify(token).scopes == (
        "payments@staging",
        "search@staging",
    )
    listed = run_app(token_app, "list", "--state-dir", state, "--format", "json")
    assert listed.exit_code == 0 and secret not in listed.output
    [row] = json.loads(listed.stdout)["tokens"]
    assert row["id"] == token_id and row["revoked"] is None and row["expires"] is not None
    revoked = run_app(token_app, "revoke", token_id, "--state-dir", state)
    assert revoked.exit_code == 0 and f"token {token_id} (ci-bot) revoked" in revoked.stdout
    text = run_app(token_app, "list", "--state-dir", state)
    assert f"{token_id}  ci-bot  editor  payments@staging,search@staging  revoked" in text.stdout
    bad = run_app(
        token_app, "create", "--name", "x", "--role", "root", "--scope", "*", "--state-dir", state
    )
    assert bad.exit_code == 2 and "no role 'root'" in bad.stderr and bad.stdout == ""
    never = run_app(
        token_app,
        *("create", "--subject", "y", "--role", "viewer", "--scope", "*", "--expires", "never"),
        *("--state-dir", state),
    )
    assert never.exit_code == 0 and "expires never" in never.stderr


def test_cli_state_dir_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CFGCTL_STATE_DIR", str(tmp_path / "env-state"))
    made = run_app(token_app, "create", "--name", "a", "--role", "viewer", "--scope", "*")
    assert made.exit_code == 0
    assert (tmp_path / "env-state" / TOKENS_DB).is_file()


def test_subjects_and_scopes_are_the_ones_rbac_yaml_can_name() -> None:
    from cfgctl.repo.builtin import SCHEMAS
    from cfgctl.server import oidc, tokens

    defs = json.loads((SCHEMAS / "rbac.schema.json").read_text())["$defs"]
    assert defs["scope"]["pattern"] == f"^({tokens._SCOPE.pattern})$"
    # A token's subject, or an OIDC login's: oidc: and its subject claim (no token has a colon).
    login = f"{oidc.SUBJECT_PREFIX}{oidc.SUBJECT_CHARS}+"
    assert defs["member"]["pattern"] == f"^({tokens._SUBJECT.pattern}|{login})$"
    assert ":" not in tokens._SUBJECT.pattern


def test_token_events_are_audited_and_refused_without_the_log(tmp_path: Path) -> None:
    state = tmp_path / "state"
    made = run_app(
        token_app,
        "create",
        "--name",
        "ci-bot",
        "--role",
        "viewer",
        "--scope",
        "*",
        "--state-dir",
        str(state),
    )
    token_id, secret = parse_token(made.stdout.strip())
    run_app(token_app, "revoke", token_id, "--state-dir", str(state))
    log = (state / AUDIT_FILE).read_text()
    assert secret not in log
    created, revoked = (json.loads(line) for line in log.splitlines())
    assert (created["action"], created["object"], created["outcome"]) == (
        "token.create",
        f"token:{token_id}",
        "ok",
    )
    assert created["detail"]["name"] == "ci-bot" and created["subject"].startswith("local:")
    assert revoked["action"] == "token.revoke" and verify(state / AUDIT_FILE).ok
    # No audit log, no token: the one just made is revoked at once.
    (state / AUDIT_FILE).unlink()
    (state / AUDIT_FILE).mkdir()
    refused = run_app(
        token_app,
        "create",
        "--name",
        "x",
        "--role",
        "viewer",
        "--scope",
        "*",
        "--state-dir",
        str(state),
    )
    assert refused.exit_code == 3 and refused.stdout == ""
    assert "cannot write the audit log" in refused.stderr
    assert all(t.revoked is not None for t in TokenStore.open(state).list())

"""`cfgctl serve --remote URL --branch main`: a bare clone kept fetched (poll and signed
webhook), writes pushed to the remote, a remote that goes away or moves. Real bare remotes on
disk (pygit2), the app in-process and one real `cfgctl serve` process with two workers."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pygit2
import pytest
from fastapi.testclient import TestClient

from cfgctl.server.access import AuditLogSink
from cfgctl.server.app import create_app
from cfgctl.server.auditlog import AuditLog
from cfgctl.server.security import Security
from cfgctl.server.settings import ServerSettings
from cfgctl.server.upstream import clone_path
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.policies import FOUR_EYES
from tests.support.writeserver import HeaderUser, Writers, writers

CONFIG = "/api/v1/config/payments/prod"
PROD = "config/prod/payments.yaml"
SECRET = "s3cret-hook-key"


@pytest.fixture
def work(example_repo: ConfigRepo) -> ConfigRepo:
    example_repo.commit({"policy.yaml": FOUR_EYES}, "a simple policy")
    return example_repo


@pytest.fixture
def remote(work: ConfigRepo, tmp_path: Path) -> Path:
    """A bare remote on disk, cloned from `work`, which pushes to it as `origin`."""
    path = tmp_path / "remote.git"
    pygit2.clone_repository(str(work.workdir), str(path), bare=True)
    work.repo.remotes.create("origin", str(path))
    return path


def _push(work: ConfigRepo, files: dict[str, str | bytes | None], message: str) -> str:
    """Commit `files` in `work` and push main to its remote; the new commit."""
    work.commit(files, message)
    work.repo.remotes["origin"].push(["refs/heads/main:refs/heads/main"])
    return str(work.repo.references["refs/heads/main"].target)


def _tip(path: Path, ref: str = "refs/heads/main") -> str | None:
    found = pygit2.Repository(str(path)).references.get(ref)
    return None if found is None else str(found.target)


def _settings(remote: Path, state: Path, **more: Any) -> ServerSettings:
    values: dict[str, Any] = {"fetch_interval": 3600.0, "webhook_secret_env": "HOOK_SECRET"}
    values.update(more)
    return ServerSettings(
        repo=state, remote=str(remote), branch="main", state_dir=state, insecure_local=True,
        **values,
    )  # fmt: skip


@contextmanager
def _served(
    remote: Path, state: Path, security: Security | None = None, **more: Any
) -> Iterator[TestClient]:
    app = create_app(_settings(remote, state, **more), security=security or writers())
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as client:
        yield client


def _hook(client: TestClient, body: dict[str, Any], secret: str | None = SECRET, **h: str) -> Any:
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
    if secret is not None:
        digest = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    headers.update(h)
    return client.post("/api/v1/hooks/git", content=data, headers=headers)


def _until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _hook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)


def test_a_push_to_the_remote_is_served_after_a_poll(
    work: ConfigRepo, remote: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with _served(remote, state, fetch_interval=0.2) as client:
        first = client.get(CONFIG)
        status = client.get("/api/v1/status").json()
        pushed = _push(work, {PROD: work.read(PROD).replace("replicas: 6", "replicas: 9")}, "9")

        def served_new() -> bool:
            return client.get(CONFIG).headers["cfgctl-commit"] == pushed

        _until(served_new)
        after = client.get(CONFIG).json()
    assert first.status_code == 200 and first.json()["config"]["replicas"] == 6
    assert after["config"]["replicas"] == 9
    clone = clone_path(state, str(remote))
    assert clone.parent == state / "remotes" and pygit2.Repository(str(clone)).is_bare
    assert status["remote"]["url"] == str(remote) and status["remote"]["error"] is None
    assert status["remote"]["last_success"] is not None
    # A restart reuses the clone: same folder, the commits already there.
    with _served(remote, state) as client:
        assert client.get(CONFIG).headers["cfgctl-commit"] == pushed
    assert sorted(p.name for p in (state / "remotes").iterdir() if p.suffix == ".git") == [
        clone.name
    ]


def test_a_signed_webhook_fetches_at_once_and_wakes_long_polls(
    work: ConfigRepo, remote: Path, tmp_path: Path
) -> None:
    with _served(remote, tmp_path / "state") as client:  # polls once an hour
        head = client.get(CONFIG).headers["cfgctl-commit"]
        answers: list[Any] = []
        started = time.monotonic()
        waiter = threading.Thread(
            target=lambda: answers.append(client.get(CONFIG, params={"wait": "30s", "after": head}))
        )
        waiter.start()
        time.sleep(0.3)
        pushed = _push(work, {PROD: work.read(PROD).replace("replicas: 6", "replicas: 7")}, "7")
        ping = _hook(client, {"zen": "hi"}, **{"X-GitHub-Event": "ping"})
        other = _hook(client, {"ref": "refs/heads/feature"})
        hooked = _hook(client, {"ref": "refs/heads/main", "after": pushed})
        waiter.join(20)
        took = time.monotonic() - started
    assert ping.status_code == 200 and ping.json()["event"] == "ping"
    assert other.status_code == 202 and other.json()["fetched"] is None
    assert hooked.status_code == 200, hooked.text
    assert hooked.json() == {"event": "push", "fetched": pushed}
    (woken,) = answers
    assert woken.status_code == 200 and woken.headers["cfgctl-commit"] == pushed
    assert woken.json()["config"]["replicas"] == 7
    assert took < 10  # woken by the webhook, not at the end of its 30 s wait


def test_unsigned_and_forged_webhooks_are_refused_and_audited(
    work: ConfigRepo, remote: Path, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    security = Security(HeaderUser(), Writers(), AuditLogSink(AuditLog(audit)))
    with _served(remote, tmp_path / "state", security=security) as client:
        head = client.get(CONFIG).headers["cfgctl-commit"]
        _push(work, {PROD: work.read(PROD).replace("replicas: 6", "replicas: 7")}, "7")
        unsigned = _hook(client, {"ref": "refs/heads/main"}, secret=None)
        forged = _hook(client, {"ref": "refs/heads/main"}, secret="not-the-secret")
        garbled = _hook(client, {"ref": "refs/heads/main"}, **{"X-Hub-Signature-256": "sha256=zz"})
        still = client.get(CONFIG).headers["cfgctl-commit"]
    for answer, reason in ((unsigned, "missing"), (forged, "forged"), (garbled, "forged")):
        assert answer.status_code == 401, answer.text
        assert answer.json()["type"] == "urn:cfgctl:problem:unauthenticated"
        assert answer.json()["reason"] == reason
    assert still == head  # nothing fetched
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    refused = [(r["action"], r["object"], r["outcome"], r["detail"]["reason"]) for r in lines]
    assert refused == [
        ("fetch", "server", "denied", "missing"),
        ("fetch", "server", "denied", "forged"),
        ("fetch", "server", "denied", "forged"),
    ]
    assert SECRET not in audit.read_text()
    assert {r["subject"] for r in lines} == {"webhook"} and lines[0]["commit"] == head


def test_no_webhook_without_its_secret_option(remote: Path, tmp_path: Path) -> None:
    with _served(remote, tmp_path / "state", webhook_secret_env=None) as client:
        answer = _hook(client, {"ref": "refs/heads/main"})
    assert answer.status_code == 404


def test_a_remote_that_goes_away_is_still_served_and_status_says_so(
    work: ConfigRepo, remote: Path, tmp_path: Path
) -> None:
    with _served(remote, tmp_path / "state", fetch_interval=0.2) as client:
        head = client.get(CONFIG).headers["cfgctl-commit"]
        before = client.get("/api/v1/status").json()["remote"]
        shutil.move(remote, tmp_path / "gone.git")

        def failing() -> bool:
            return client.get("/api/v1/status").json()["remote"]["error"] is not None

        _until(failing)
        status = client.get("/api/v1/status").json()
        read = client.get(CONFIG)
        hooked = _hook(client, {"ref": "refs/heads/main"})
        shutil.move(tmp_path / "gone.git", remote)

        def healed() -> bool:
            return client.get("/api/v1/status").json()["remote"]["error"] is None

        _until(healed)
    assert read.status_code == 200 and read.headers["cfgctl-commit"] == head
    assert status["head"] == head
    assert status["remote"]["last_success"] >= before["last_success"]
    assert status["remote"]["last_attempt"] >= status["remote"]["last_success"]
    assert str(remote) in status["remote"]["error"]
    assert hooked.status_code == 503 and hooked.json()["exit_code"] == 3


def _open_and_approve(client: TestClient, replicas: int) -> int:
    etag = client.get(CONFIG).headers["etag"]
    headers = {"Content-Type": "application/merge-patch+json", "X-User": "alice", "If-Match": etag}
    opened = client.patch(CONFIG, content=json.dumps({"replicas": replicas}), headers=headers)
    assert opened.status_code == 202, opened.text
    number: int = opened.json()["id"]
    approved = client.post(f"/api/v1/changes/{number}/approve", headers={"X-User": "bob"})
    assert approved.status_code == 200, approved.text
    return number


def test_change_requests_and_merges_are_pushed_to_the_remote(
    work: ConfigRepo, remote: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    clone = clone_path(state, str(remote))
    with _served(remote, state) as client:
        number = _open_and_approve(client, 8)
        change = client.get(f"/api/v1/changes/{number}").json()
        pushed = {
            part: _tip(remote, f"refs/cfgctl/changes/{number}/{part}") for part in ("head", "meta")
        }
        merged = client.post(f"/api/v1/changes/{number}/merge", headers={"X-User": "bob"})
        after = client.get(CONFIG)
    assert pushed["head"] == change["head"]
    assert pushed["meta"] is not None  # the record of the change and its approval
    assert merged.status_code == 200, merged.text
    assert _tip(remote) == merged.json()["merged"] == change["head"]  # a fast-forward, pushed
    meta = _tip(remote, f"refs/cfgctl/changes/{number}/meta")
    assert meta == _tip(clone, f"refs/cfgctl/changes/{number}/meta")  # the record: merged
    assert after.json()["config"]["replicas"] == 8


def test_a_merge_when_the_remote_moved_is_a_conflict_and_loses_nothing(
    work: ConfigRepo, remote: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    with _served(remote, state) as client:  # no poll during the test: the remote moves unseen
        number = _open_and_approve(client, 8)
        theirs = _push(work, {"config/staging/payments.yaml": "replicas: 3\n"}, "theirs")
        refused = client.post(f"/api/v1/changes/{number}/merge", headers={"X-User": "bob"})
        still = client.get(f"/api/v1/changes/{number}").json()
        remote_after_refusal = _tip(remote)
        again = client.post(f"/api/v1/changes/{number}/merge", headers={"X-User": "bob"})
        config = client.get(CONFIG).json()["config"]
    assert refused.status_code == 409, refused.text
    doc = refused.json()
    assert doc["type"] == "urn:cfgctl:problem:conflict" and "merge again" in doc["hint"]
    assert remote_after_refusal == theirs  # nothing of theirs lost
    assert still["state"] == "open" and still["merged"] is None  # nor of ours
    assert again.status_code == 200, again.text
    tip = _tip(remote)
    assert tip is not None
    merge = pygit2.Repository(str(remote))[pygit2.Oid(hex=tip)].peel(pygit2.Commit)
    assert [str(p) for p in merge.parent_ids] == [theirs, still["head"]]
    assert config["replicas"] == 8


def test_bad_remote_options_and_an_unreachable_remote_at_start(
    run_cli: RunCli, tmp_path: Path
) -> None:
    state = ["--state-dir", str(tmp_path / "state"), "--listen", "127.0.0.1:0"]
    url = "https://alice:hunter2@127.0.0.1:1/ops/config.git"
    down = run_cli("serve", "--remote", url, "--branch", "main", "--insecure-local", *state)
    gone = run_cli("serve", "--remote", str(tmp_path / "nothing.git"), "--branch", "main", *state)
    both = run_cli("-C", str(tmp_path), "serve", "--remote", url, "--branch", "main", *state)
    branchless = run_cli("serve", "--remote", url, *state)
    hook_alone = run_cli("serve", "--webhook-secret-env", "HOOK_SECRET", *state)
    assert down.exit_code == 3, down.stderr
    assert "https://alice:***@127.0.0.1:1/ops/config.git" in down.stderr
    assert "hunter2" not in down.stderr + down.stdout
    assert gone.exit_code == 3 and "nothing.git" in gone.stderr
    assert both.exit_code == 2 and "--remote and -C exclude each other" in both.stderr
    assert branchless.exit_code == 2 and "--remote needs --branch" in branchless.stderr
    assert hook_alone.exit_code == 2 and "--webhook-secret-env needs --remote" in hook_alone.stderr


@pytest.mark.slow
def test_a_real_server_with_two_workers_follows_the_remote(
    work: ConfigRepo, remote: Path, tmp_path: Path
) -> None:
    import httpx2

    from tests.support.server import server_process

    state = tmp_path / "state"
    args = ["--remote", str(remote), "--branch", "main", "--poll", "1s", "--workers", "2"]
    args += ["--state-dir", str(state), "--webhook-secret-env", "HOOK_SECRET"]
    env_secret = os.environ["HOOK_SECRET"]
    with server_process(None, *args, log_dir=tmp_path) as server:
        pushed = _push(work, {PROD: work.read(PROD).replace("replicas: 6", "replicas: 5")}, "5")

        def everyone_sees_it() -> bool:
            commits = {
                httpx2.get(server.api(CONFIG.removeprefix("/api/v1"))).headers["cfgctl-commit"]
                for _ in range(6)
            }
            return commits == {pushed}

        _until(everyone_sees_it, 15)
        data = json.dumps({"ref": "refs/heads/main"}).encode()
        digest = hmac.new(env_secret.encode(), data, hashlib.sha256).hexdigest()
        hooked = httpx2.post(
            server.api("/hooks/git"),
            content=data,
            headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={digest}"},
        )
    assert hooked.status_code == 200 and hooked.json()["fetched"] == pushed
    assert "Traceback" not in server.log.read_text()


def test_a_write_the_remote_cannot_take_is_not_kept(
    work: ConfigRepo, remote: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    clone = clone_path(state, str(remote))
    with _served(remote, state) as client:
        etag = client.get(CONFIG).headers["etag"]
        headers = {"Content-Type": "application/merge-patch+json", "X-User": "alice"}
        headers["If-Match"] = etag
        shutil.move(remote, tmp_path / "gone.git")
        down = client.patch(CONFIG, content=json.dumps({"replicas": 8}), headers=headers)
        listed = client.get("/api/v1/changes").json()["items"]
        shutil.move(tmp_path / "gone.git", remote)
        up = client.patch(CONFIG, content=json.dumps({"replicas": 8}), headers=headers)
    assert down.status_code == 503 and down.json()["exit_code"] == 3, down.text
    assert "nothing was written" in down.json()["hint"]
    assert listed == []  # the change request was not kept in the clone either
    assert up.status_code == 202 and up.json()["id"] == 1
    refs = pygit2.Repository(str(clone)).references
    assert sorted(r for r in refs if r.startswith("refs/cfgctl/")) == [
        "refs/cfgctl/changes/1/head",
        "refs/cfgctl/changes/1/meta",
    ]
    assert _tip(remote, "refs/cfgctl/changes/1/head") == up.json()["head"]

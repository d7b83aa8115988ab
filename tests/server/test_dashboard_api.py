"""What the dashboard asks of the server: /whoami, /overview, and its own files at `/` and
/_dashboard/ (in-process; tests/e2e/ drives the built dashboard in Chromium)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from cfgctl.server.app import create_app
from cfgctl.server.settings import ServerSettings
from cfgctl.server.tokens import TokenStore
from cfgctl.server.webapp import Bundle
from tests.support.gitrepo import ConfigRepo
from tests.support.rbac import RULES
from tests.support.server import served


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _allowed(doc: dict[str, object]) -> dict[tuple[str, str], bool]:
    perms = doc["permissions"]
    assert isinstance(perms, list)
    return {(p["action"], p["object"]): p["allowed"] for p in perms}


def test_whoami_insecure_local_allows_reads_only(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        doc = client.get("/api/v1/whoami", params={"object": "payments@prod"}).json()
    assert doc["anonymous"] is True and doc["insecure_local"] is True and doc["via"] == "none"
    allowed = _allowed(doc)
    assert allowed[("read", "payments@prod")] is True
    assert allowed[("edit", "payments@prod")] is False
    edit = next(p for p in doc["permissions"] if p["action"] == "edit")
    assert "--insecure-local" in edit["reason"]


def test_whoami_per_object_unaudited_and_the_overview_of_open_changes(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    example_repo.commit({"rbac.yaml": RULES}, "access rules")
    state = tmp_path / "state"
    app = create_app(ServerSettings(repo=example_repo.workdir, state_dir=state))
    token = TokenStore.open(state).create("alice", "editor", ["payments@*"], timedelta(days=1))[1]
    store = TokenStore.open(state)
    root = store.create("root", "admin", ["*"], timedelta(days=1))[1]
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as client:
        objects = {"object": ["payments@staging", "payments@prod"]}
        doc = client.get("/api/v1/whoami", params=objects, headers=auth).json()
        read = client.get("/api/v1/config/payments/staging", headers=auth)
        patch = {**auth, "If-Match": read.headers["etag"]}
        opened = client.patch(
            "/api/v1/config/payments/staging", json={"replicas": 3}, headers=patch
        )
        denied = client.get("/api/v1/overview", headers=auth)
        carol = bearer(store.create("carol", "approver", ["*"], timedelta(days=1))[1])
        prod_only = client.get("/api/v1/overview", headers=carol).json()
        nobody = bearer(store.create("nobody", "viewer", ["*"], timedelta(days=1))[1])
        refused = client.get("/api/v1/overview", headers=nobody)
        overview = client.get("/api/v1/overview", headers={"Authorization": f"Bearer {root}"})
        bad = client.get("/api/v1/whoami", params={"object": "no at sign"}, headers=auth)
        anonymous = client.get("/api/v1/whoami")
    assert doc["subject"] == "alice" and doc["role"] == "editor" and doc["via"] == "token"
    assert doc["scopes"] == ["payments@*"] and doc["insecure_local"] is False
    allowed = _allowed(doc)
    assert allowed[("edit", "payments@staging")] is True
    assert allowed[("edit", "payments@prod")] is False
    assert allowed[("approve", "payments@staging")] is False
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert anonymous.status_code == 401
    assert opened.status_code == 202, opened.text
    # alice reads payments@staging only (rbac.yaml): payments, its other cells null; no search
    mine = denied.json()
    assert denied.status_code == 200, denied.text
    assert [s["name"] for s in mine["services"]] == ["payments"]
    assert mine["services"][0]["errors"] == [None, 0, None, None]
    assert mine["problems"] == []
    assert [c["pairs"] for c in mine["changes"]] == [["payments@staging"]]
    # carol reads *@prod*: every service, base and staging null
    envs = prod_only["environments"]
    assert [s["name"] for s in prod_only["services"]] == ["payments", "search"]
    for service in prod_only["services"]:
        seen = [env for env, n in zip(envs, service["errors"], strict=True) if n is not None]
        assert seen == ["prod", "prod-eu"]
    assert prod_only["changes"] == []  # the change edits payments@staging
    assert refused.status_code == 403
    changes = overview.json()["changes"]
    assert [(c["id"], c["author"], c["pairs"]) for c in changes] == [
        (opened.json()["id"], "alice", ["payments@staging"])
    ]
    audit = [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]
    # a question about oneself is no denied request: only the 401 of /whoami is audited
    assert [e["action"] for e in audit if e["detail"]["path"] == "/api/v1/whoami"] == [
        "authenticate"
    ]


def test_overview_counts_errors_per_pair(example_repo: ConfigRepo) -> None:
    example_repo.commit({"config/staging/payments.yaml": "replicas: many\n"}, "break staging")
    with served(example_repo.workdir) as client:
        first = client.get("/api/v1/overview")
        etag = first.headers["etag"]
        again = client.get("/api/v1/overview", headers={"If-None-Match": etag})
    doc = first.json()
    assert first.status_code == 200 and again.status_code == 304
    envs = doc["environments"]
    rows = {s["name"]: s for s in doc["services"]}
    assert set(rows) == {"payments", "search"} and rows["payments"]["owners"]
    assert rows["payments"]["errors"][envs.index("staging")] >= 1
    assert rows["search"]["errors"] == [0] * len(envs)
    assert doc["ok"] is False and doc["errors"] >= 1
    assert doc["changes"] == [] and doc["agents"] == []


def test_dashboard_not_built_answers_how_to_build_it(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    with served(example_repo.workdir) as client:
        client.app.state.dashboard = Bundle(tmp_path / "nothing")  # type: ignore[attr-defined]
        page = client.get("/", headers={"Accept": "text/html"})
        problem = client.get("/", headers={"Accept": "application/json"})
    assert page.status_code == 503 and "make install" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert problem.status_code == 503
    assert problem.headers["content-type"] == "application/problem+json"
    assert "build-web.sh" in problem.json()["hint"]


def test_dashboard_index_and_assets_without_shadowing_the_api(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    bundle = tmp_path / "dashboard"
    (bundle / "assets").mkdir(parents=True)
    (bundle / "index.html").write_text('<!doctype html><script src="/_dashboard/assets/i-1.js">')
    (bundle / "assets" / "i-1.js").write_text("console.log('x');" * 100)
    with served(example_repo.workdir) as client:
        client.app.state.dashboard = Bundle(bundle)  # type: ignore[attr-defined]
        index = client.get("/")
        js = client.get("/_dashboard/assets/i-1.js", headers={"Accept-Encoding": "gzip"})
        missing = client.get("/_dashboard/assets/..%2Findex.html")
        spring = client.get("/payments/prod")
        api = client.get("/api/v1/status")
    assert index.status_code == 200 and index.headers["cache-control"] == "no-cache"
    csp = index.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert js.status_code == 200 and js.headers["content-encoding"] == "gzip"
    assert "immutable" in js.headers["cache-control"] and js.text.startswith("console.log")
    assert js.headers["content-type"].endswith("javascript; charset=utf-8")
    assert missing.status_code == 404
    assert spring.status_code == 200 and spring.json()["name"] == "payments"
    assert api.status_code == 200

"""The repository and server the dashboard's end-to-end tests drive: `cfgctl init`'s example
with more services, rbac.yaml, a mistake in staging, API tokens made by `cfgctl serve token
create`, an open change request and an agent's report (tests/e2e/conftest.py starts it once).

    with dashboard_server(tmp) as dashboard:
        dashboard.url, dashboard.tokens["olivia"]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.gitrepo import ConfigRepo
from tests.support.repos import make_example_repo
from tests.support.server import ServerProcess, server_process

RBAC = """\
version: 1
grants:
  - subjects: [olivia]
    role: viewer
    scope: ["*"]
  - subjects: [sam]
    role: viewer
    scope: ["search@*"]
  - subjects: [erin]
    role: editor
    scope: ["payments@prod"]
  - subjects: [agent-web-1]
    role: agent
    scope: ["*"]
  - subjects: [dana]
    role: editor
    scope: ["notifications@*"]
  - subjects: [priya]
    role: approver
    scope: ["*"]
  - subjects: [pat]
    role: editor
    scope: ["payments@staging"]
  - subjects: [quinn]
    role: editor
    scope: ["payments@*"]
  - subjects: [tess]
    role: editor
    scope: ["*"]
groups:
  acme/platform: [priya]
"""
# Teams and services for a page worth looking at: each new service has a valid layer in base.
EXTRA = {
    "ledger": "@acme/payments",
    "checkout": "@acme/payments",
    "catalogue": "@acme/search",
    "recommendations": "@acme/search",
    "notifications": "@acme/platform",
    "gateway": "@acme/platform",
}


@dataclass
class Dashboard:
    server: ServerProcess
    tokens: dict[str, str]  # subject -> API token
    repo: ConfigRepo

    @property
    def url(self) -> str:
        return self.server.url + "/"


def _repo(path: Path) -> tuple[ConfigRepo, str]:
    """The repository, and the commit before its head (that an agent still runs)."""
    repo = make_example_repo(path)
    before = str(repo.repo.head.target)
    manifest = repo.read("cfgctl.yaml")
    lines = [
        f'  {name}: {{schema: web-service, owners: ["{team}"]}}' for name, team in EXTRA.items()
    ]
    files: dict[str, str | bytes | None] = {
        "cfgctl.yaml": manifest.rstrip("\n") + "\n" + "\n".join(lines) + "\n",
        "rbac.yaml": RBAC,
        # an error for the overview to show: replicas is an integer
        "config/staging/payments.yaml": "replicas: many\n",
    }
    for i, name in enumerate(EXTRA):
        files[f"config/base/{name}.yaml"] = f"server:\n  port: {8100 + i}\n"
    repo.commit(files, "more services, access rules, and a mistake in staging")
    return repo, before


def _analytics(repo: ConfigRepo, work: Path, before: str) -> Path:
    """analytics.yaml and a CSV of payments@prod's metrics (the Analytics page), committed; the
    agent's audit log (before -> the head of _repo at -30 h, a regression; -> this commit at
    -10 h), for `--agent-audit`."""
    import time

    from tests.support.analyticsdata import analytics_files, write_audit

    now = time.time()
    first = str(repo.repo.head.target)
    second = repo.commit(analytics_files(now), "analytics: payments' metrics as CSV")
    return write_audit(work / "agent", (before, first, second), now)


def _activity(server: ServerProcess, tokens: dict[str, str], head: str, before: str) -> None:
    """An open change request (erin raises payments' replicas in prod) and an agent's report
    (payments@prod at the head, checkout@prod behind, gateway@staging stuck)."""
    import httpx2

    erin = {"Authorization": f"Bearer {tokens['erin']}"}
    read = httpx2.get(server.api("/config/payments/prod"), headers=erin, timeout=10)
    patch = {**erin, "If-Match": read.headers["etag"], "X-Cfgctl-Title": "More payments replicas"}
    opened = httpx2.patch(server.api("/config/payments/prod"), json={"replicas": 12}, headers=patch,
                          timeout=30)  # fmt: skip
    assert opened.status_code == 202, opened.text
    targets = [
        ("payments-prod", "payments", "prod", head, "applied", None),
        ("checkout-prod", "checkout", "prod", before, "applied", None),
        ("gateway-staging", "gateway", "staging", before, "failed", "health check failed"),
    ]
    report = {
        "agent": "web-1",
        "time": "2026-01-01T00:00:00Z",
        "targets": [
            {"target": t, "service": s, "env": e, "commit": c, "state": st, "last_error": err}
            for t, s, e, c, st, err in targets
        ],
    }
    agent = {"Authorization": f"Bearer {tokens['agent-web-1']}"}
    sent = httpx2.post(server.api("/agents/web-1/report"), json=report, headers=agent, timeout=10)
    assert sent.status_code == 204, sent.text


TOKENS = (
    ("olivia", "viewer", "*"),
    ("sam", "viewer", "search@*"),
    ("erin", "editor", "payments@prod"),
    ("agent-web-1", "agent", "*"),
    ("dana", "editor", "notifications@*"),  # opens and reverts changes of notifications
    ("priya", "approver", "*"),  # in acme/platform: approves and merges them (owners-approve)
    ("pat", "editor", "payments@staging"),  # the Service page: fixes staging's mistake
    ("quinn", "editor", "payments@*"),  # the Compare page: reads and edits payments everywhere
    ("tess", "editor", "*"),  # makes services from templates (the Templates page)
)


@contextmanager
def dashboard_server(work: Path) -> Iterator[Dashboard]:
    """The repository under WORK/cfg, served with tokens (state in WORK/state) until the end."""
    repo, before = _repo(work / "cfg")
    audit = _analytics(repo, work, before)
    state = str(work / "state")
    tokens = {}
    for subject, role, scope in TOKENS:
        made = run_cli("serve", "token", "create", "--name", subject, "--role", role,
                       "--scope", scope, "--state-dir", state)  # fmt: skip
        assert made.exit_code == 0, made.stderr
        tokens[subject] = made.stdout.strip()
    args = ("--state-dir", state, "--agent-audit", str(audit))
    with server_process(repo.workdir, *args, log_dir=work, insecure=False) as server:
        _activity(server, tokens, str(repo.repo.head.target), before)
        yield Dashboard(server, tokens, repo)

"""Secrets over the API: masked in every answer, revealed only through a policy that allows it,
and only when the reveal can be audited."""

from __future__ import annotations

from fastapi import Request

from cfgctl.server.security import Anonymous, Decision, LocalReads, Security, Subject
from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import set_secret
from tests.support.server import served

VALUE = "s3cr3t-served-9f2c"
PATHS = (
    "/api/v1/config/payments/prod",
    "/api/v1/config/payments/prod?provenance=true",
    "/api/v1/config/payments/prod-eu",
    "/api/v1/config/payments/prod?reveal=true",
    "/api/v1/config/payments/prod?rev=HEAD&provenance=true",
    "/api/v1/services",
    "/api/v1/openapi.json",
)


class Recorder:
    """An audit sink that keeps its records (or fails, as a full disk would)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.records: list[Decision] = []
        self.fail = fail

    def record(self, decision: Decision) -> None:
        if self.fail:
            raise OSError(28, "No space left on device")
        self.records.append(decision)


class HeaderUser:
    """Authenticates the name in X-User (a stand-in for tokens: the seam, not a mock of it)."""

    async def __call__(self, request: Request) -> Subject:
        return Subject(request.headers.get("x-user", "nobody"), via="header")


class AuditorsReveal:
    """Reads for anyone; reveal for the subject named auditor."""

    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        return action == "read" or (action == "reveal" and subject.name == "auditor")


def _committed_secret(repo: ConfigRepo, run_cli: RunCli) -> None:
    SECRET_VALUES.add(VALUE)
    set_secret(run_cli, repo, VALUE)
    repo.commit({}, "a secret", add_all=True)


def test_no_answer_holds_a_secret_value(secret_repo: ConfigRepo, run_cli: RunCli) -> None:
    _committed_secret(secret_repo, run_cli)
    audit = Recorder()
    security = Security(Anonymous(), LocalReads(), audit)
    with served(secret_repo.workdir, security=security) as client:
        answers = [client.get(path) for path in PATHS]
    for path, answer in zip(PATHS, answers, strict=True):
        assert VALUE not in answer.text, path
    masked = answers[0].json()["config"]["db"]["password"]
    assert masked == "***"
    rows = {row["key"]: row for row in answers[1].json()["provenance"]}
    assert rows["db.password"]["file"] == "config/prod/payments.secrets.yaml"
    assert rows["db.password"]["layer"] == "secrets"
    refused = answers[3]
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:cfgctl:problem:forbidden"
    assert [(d.subject.name, d.action, d.object, d.allowed) for d in audit.records] == [
        ("anonymous", "reveal", "config:payments@prod", False)
    ]


def test_a_policy_that_allows_reveal_shows_the_value_and_audits_it(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    _committed_secret(secret_repo, run_cli)
    audit = Recorder()
    security = Security(HeaderUser(), AuditorsReveal(), audit)
    path = "/api/v1/config/payments/prod?reveal=true"
    with served(secret_repo.workdir, security=security) as client:
        other = client.get(path, headers={"X-User": "dev"})
        shown = client.get(path, headers={"X-User": "auditor"})
        masked = client.get("/api/v1/config/payments/prod", headers={"X-User": "auditor"})
    assert other.status_code == 403
    assert VALUE not in other.text
    assert shown.status_code == 200
    assert shown.json()["config"]["db"]["password"] == VALUE
    assert shown.headers["cache-control"] == "no-store"
    assert VALUE not in masked.text  # the revealed answer is never kept for masked reads
    assert [(d.subject.name, d.allowed) for d in audit.records] == [
        ("dev", False),
        ("auditor", True),
    ]


def test_a_reveal_that_cannot_be_audited_is_refused(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    _committed_secret(secret_repo, run_cli)
    security = Security(HeaderUser(), AuditorsReveal(), Recorder(fail=True))
    with served(secret_repo.workdir, security=security) as client:
        answer = client.get(
            "/api/v1/config/payments/prod?reveal=true", headers={"X-User": "auditor"}
        )
    assert answer.status_code == 503
    assert answer.json()["type"] == "urn:cfgctl:problem:environment"
    assert answer.json()["exit_code"] == 3
    assert VALUE not in answer.text


def test_a_secret_that_breaks_the_schema_is_not_in_the_diagnostics(
    example_repo: ConfigRepo,
) -> None:
    plain = "98765432109"  # a plaintext secrets layer (no sops rule for staging), wrong type
    SECRET_VALUES.add(plain)
    example_repo.commit(
        {"config/staging/payments.secrets.yaml": f"db:\n  password: {plain}\n"}, "plain secret"
    )
    with served(example_repo.workdir) as client:
        answer = client.get("/api/v1/config/payments/staging")
        listed = client.get("/api/v1/config/payments/staging", params={"provenance": "true"})
    assert answer.status_code == listed.status_code == 422
    assert [e["path"] for e in answer.json()["errors"]] == ["db.password"]
    assert plain not in answer.text
    assert plain not in listed.text

"""The CLI's reports over the API: each body is what `--format json` prints for the same
revisions; bad revisions and keys are problems; secret values never leave."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import set_secret
from tests.support.server import served

VALUE = "s3cr3t-report-77d1"


def _edit(repo: ConfigRepo) -> tuple[str, str]:
    """(before, after): one commit that changes prod-eu's public_url."""
    before = str(repo.repo.head.target)
    text = repo.read("config/prod-eu/payments.yaml")
    after = repo.commit(
        {"config/prod-eu/payments.yaml": text.replace("pay.example.eu", "pay.example.de")}, "de"
    )
    return before, str(after)


def _cli_json(run_cli: RunCli, repo: ConfigRepo, *args: str) -> object:
    result = run_cli(*args, "--format", "json", cwd=repo.workdir)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_diff_history_explain_validate_and_plan_are_the_clis(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    before, after = _edit(example_repo)
    cli = {
        "diff": _cli_json(run_cli, example_repo, "diff", before, after),
        "history": _cli_json(
            run_cli, example_repo, "history", "payments", "public_url", "--env", "prod-eu"
        ),
        "explain": _cli_json(
            run_cli, example_repo, "explain", "payments", "replicas", "--env", "prod-eu"
        ),
        "validate": _cli_json(run_cli, example_repo, "validate", "--rev", after),
        "plan": _cli_json(run_cli, example_repo, "pr", "plan", "--base", before, "--head", after),
    }
    with served(example_repo.workdir) as client:
        api = {
            "diff": client.get("/api/v1/diff", params={"base": before, "head": after}),
            "history": client.get("/api/v1/history/payments/prod-eu?key=public_url"),
            "explain": client.get("/api/v1/explain/payments/prod-eu?key=replicas"),
            "validate": client.get("/api/v1/validate", params={"rev": after}),
            "plan": client.get("/api/v1/plan", params={"base": before, "head": after}),
        }
        cached = client.get(
            "/api/v1/diff",
            params={"base": before},
            headers={"If-None-Match": api["diff"].headers["etag"]},
        )
    for name, answer in api.items():
        assert answer.status_code == 200, (name, answer.text)
        assert answer.json() == cli[name], name
        assert answer.headers["cfgctl-commit"] == after, name
    assert cached.status_code == 304  # head defaults to the branch head: the same diff
    (change,) = api["diff"].json()
    assert change["service"] == "payments" and change["env"] == "prod-eu"
    assert api["history"].json()[0]["commit"] == after
    assert api["validate"].json()["ok"] is True


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/diff?base=no-such-rev", 404),
        ("/api/v1/diff", 400),
        ("/api/v1/validate?rev=no-such-rev", 404),
        ("/api/v1/plan?base=HEAD&head=nope", 404),
        ("/api/v1/history/payments/prod?key=db..host", 400),
        ("/api/v1/history/paymnts/prod?key=db.host", 404),
        ("/api/v1/explain/payments/prdo?key=db.host", 404),
        ("/api/v1/explain/payments/prod?key=no.such.key", 400),
        ("/api/v1/history/payments/prod?key=db.host&rev=nope", 404),
    ],
)
def test_bad_revisions_names_and_keys_are_problems(
    example_repo: ConfigRepo, path: str, status: int
) -> None:
    with served(example_repo.workdir) as client:
        answer = client.get(path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"]


def test_secrets_are_masked_as_the_cli_masks_them(secret_repo: ConfigRepo, run_cli: RunCli) -> None:
    before = str(secret_repo.repo.head.target)
    SECRET_VALUES.add(VALUE)
    set_secret(run_cli, secret_repo, VALUE)
    after = str(secret_repo.commit({}, "a secret", add_all=True))
    with served(secret_repo.workdir) as client:
        answers = [
            client.get("/api/v1/diff", params={"base": before, "head": after}),
            client.get("/api/v1/history/payments/prod?key=db.password"),
            client.get("/api/v1/explain/payments/prod?key=db.password&blame=true"),
            client.get("/api/v1/validate"),
            client.get("/api/v1/plan", params={"base": before, "head": after}),
        ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert VALUE not in answer.text
    diff, history, explain = (a.json() for a in answers[:3])
    changes = [c for pair in diff if pair["env"] == "prod" for c in pair["changes"]]
    (change,) = [c for c in changes if c["path"] == "db.password"]
    assert change["secret"] is True and change["old"] is None and change["new"] is None
    assert history[0]["commit"] == after and history[0]["secret"] is True
    assert explain[-1]["value"] == "***"

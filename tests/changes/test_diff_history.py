"""diff, history, explain --blame and validate --changed-since on real Git histories."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo

MANIFEST = """\
version: 1
environments:
  base: {}
  staging: {inherits: base}
  prod: {inherits: base}
  prod-eu: {inherits: prod}
services:
  payments: {schema: svc}
  search: {schema: svc}
"""
SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "port": {"type": "integer"},
            "db": {
                "type": "object",
                "properties": {
                    "pool": {"type": "integer"},
                    "password": {"type": "string", "x-cfgctl-secret": True},
                },
            },
            "tags": {"type": "array"},
        },
    }
)


def _sig(name: str, when: int) -> pygit2.Signature:
    return pygit2.Signature(name, f"{name.lower()}@example.com", when, 0)


def commit_as(
    repo: ConfigRepo, files: dict[str, str | None], message: str, author: str, when: int
) -> str:
    return repo.commit(dict(files), message, author=_sig(author, when))


@pytest.fixture
def history_repo(tmp_path: Path) -> ConfigRepo:
    repo = ConfigRepo.init(tmp_path / "h")
    commit_as(
        repo,
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/svc.schema.json": SCHEMA,
            "config/base/_defaults.yaml": "port: 8080\ndb:\n  pool: 10\n",
            "config/staging/_defaults.yaml": "db:\n  pool: 5\n",
            "config/base/payments.yaml": "tags: [a, b]\n",
        },
        "initial",
        "Alice",
        1_700_000_000,
    )
    commit_as(
        repo,
        {"config/prod/payments.yaml": "db:\n  pool: 40\n"},
        "payments: pool 40 in prod",
        "Bob",
        1_700_000_100,
    )
    commit_as(
        repo,
        {"config/base/_defaults.yaml": "port: 8080\ndb:\n  pool: 20\n"},
        "defaults: pool 20",
        "Carol",
        1_700_000_200,
    )
    commit_as(
        repo, {"config/base/search.yaml": "port: 9200\n"}, "search port", "Dave", 1_700_000_300
    )
    return repo


def test_defaults_edit_reaches_every_inheriting_pair(
    history_repo: ConfigRepo, run_cli: RunCli
) -> None:
    result = run_cli("diff", "HEAD~2", "HEAD~1", "--format", "json", cwd=history_repo.workdir)
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.stdout)
    # base.pool 10 -> 20 reaches base, prod and prod-eu, but not staging (it sets its own pool)
    # and not payments in prod/prod-eu (payments sets pool 40 there).
    assert [(p["service"], p["env"]) for p in pairs] == [
        ("payments", "base"),
        ("search", "base"),
        ("search", "prod"),
        ("search", "prod-eu"),
    ]
    assert pairs[0]["changes"] == [{"path": "db.pool", "kind": "changed", "old": 10, "new": 20}]
    assert all(p["status"] == "changed" for p in pairs)


def test_text_markdown_and_exit_code(history_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = history_repo.workdir
    text = run_cli("diff", "HEAD~1", "HEAD", cwd=cwd)
    assert text.exit_code == 0
    assert "search\n  base\n    ~ port: 8080 -> 9200\n" in text.stdout
    assert "4 service/environment pairs changed" in text.stdout
    assert run_cli("diff", "HEAD~1", "HEAD", "--exit-code", cwd=cwd).exit_code == 1
    assert run_cli("diff", "HEAD", "HEAD", "--exit-code", cwd=cwd).exit_code == 0
    md = run_cli("diff", "HEAD~3", "HEAD", "--format", "markdown", cwd=cwd).stdout
    assert md.startswith("### Effective configuration changes")
    assert "| service | base | prod | prod-eu | staging |" in md
    assert "| payments | 1 | 1 | 1 | · |" in md
    assert "<details><summary><b>search</b>" in md
    assert "| `db.pool` | changed | `10` → `20` |" in md
    only_prod = json.loads(
        run_cli("diff", "HEAD~3", "HEAD", "-e", "prod*", "-s", "pay*", "-f", "json", cwd=cwd).stdout
    )
    assert [(p["service"], p["env"]) for p in only_prod] == [
        ("payments", "prod"),
        ("payments", "prod-eu"),
    ]


def test_markdown_is_cut_under_the_comment_limit(history_repo: ConfigRepo) -> None:
    from cfgctl.changes.diff import Change, DiffResult, PairDiff
    from cfgctl.changes.report import markdown

    result = DiffResult(
        "a",
        "b",
        [
            PairDiff(
                f"svc{i:04d}", "prod", "changed", [Change(("k",), "changed", "x" * 150, "y" * 150)]
            )
            for i in range(2000)
        ],
    )
    text = markdown(result)
    assert len(text) <= 65_536
    assert "more services not shown" in text
    shown = text.count("<details>")
    assert f"… {2000 - shown} more services not shown" in text


def test_merge_base_range_and_working_tree(history_repo: ConfigRepo, run_cli: RunCli) -> None:
    repo = history_repo.repo
    main_tip = repo.head.target
    # a feature branch from HEAD~1, and main moving on meanwhile
    feature_base = repo.revparse_single("HEAD~1")
    repo.branches.local.create("feature", feature_base.peel(pygit2.Commit))
    repo.checkout("refs/heads/feature")
    commit_as(
        history_repo,
        {"config/prod/payments.yaml": "db:\n  pool: 60\n"},
        "feature: pool 60",
        "Erin",
        1_700_000_400,
    )
    cwd = history_repo.workdir
    three = json.loads(run_cli("diff", f"{main_tip}...feature", "-f", "json", cwd=cwd).stdout)
    assert [(p["service"], p["env"], p["changes"][0]["new"]) for p in three] == [
        ("payments", "prod", 60),
        ("payments", "prod-eu", 60),
    ]
    two = json.loads(run_cli("diff", f"{main_tip}..feature", "-f", "json", cwd=cwd).stdout)
    assert {(p["service"], p["env"]) for p in two} > {
        (p["service"], p["env"]) for p in three
    }  # main's own change shows too
    history_repo.write({"config/prod-eu/payments.yaml": "db:\n  pool: 70\n"})
    work = json.loads(run_cli("diff", "-f", "json", cwd=cwd).stdout)
    assert work == [
        {
            "service": "payments",
            "env": "prod-eu",
            "status": "changed",
            "changes": [{"path": "db.pool", "kind": "changed", "old": 60, "new": 70}],
        }
    ]


def test_added_removed_services_and_schema_versions(
    history_repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = history_repo.workdir
    commit_as(
        history_repo,
        {
            "cfgctl.yaml": MANIFEST.replace(
                "  search: {schema: svc}\n", "  search: {schema: svc@2}\n  billing: {schema: svc}\n"
            ),
            "schemas/svc.v2.schema.json": SCHEMA,
            "config/base/billing.yaml": "port: 7000\n",
        },
        "billing; search on svc v2",
        "Frank",
        1_700_000_500,
    )
    pairs = json.loads(run_cli("diff", "HEAD~1", "HEAD", "-f", "json", cwd=cwd).stdout)
    billing = [p for p in pairs if p["service"] == "billing"]
    assert {p["env"] for p in billing} == {"base", "staging", "prod", "prod-eu"}
    assert all(p["status"] == "added" for p in billing)
    assert {"path": "port", "kind": "added", "old": None, "new": 7000} in billing[0]["changes"]
    search = [p for p in pairs if p["service"] == "search"]
    assert len(search) == 4
    assert all(
        p["schema"] == {"old": "svc@1", "new": "svc@2"} and p["changes"] == [] for p in search
    )
    # payments moved to svc@2 as well (newest version): reported
    assert all(
        p.get("schema") == {"old": "svc@1", "new": "svc@2"}
        for p in pairs
        if p["service"] == "payments"
    )


def test_secrets_are_never_shown(history_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = history_repo.workdir
    commit_as(
        history_repo,
        {"config/prod/payments.secrets.yaml": "db:\n  password: first-Secret-1111\n"},
        "secret",
        "Gus",
        1_700_000_600,
    )
    commit_as(
        history_repo,
        {"config/prod/payments.secrets.yaml": "db:\n  password: second-Secret-2222\n"},
        "rotate",
        "Gus",
        1_700_000_700,
    )
    outputs = []
    for fmt in ("text", "json", "markdown"):
        outputs.append(run_cli("diff", "HEAD~2", "HEAD", "-f", fmt, cwd=cwd))
    outputs.append(run_cli("history", "payments", "db.password", "--env", "prod", cwd=cwd))
    outputs.append(
        run_cli("history", "payments", "db.password", "--env", "prod", "-f", "json", cwd=cwd)
    )
    outputs.append(
        run_cli(
            "explain", "payments", "db.password", "--env", "prod", "--blame", "-f", "json", cwd=cwd
        )
    )
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert "first-Secret-1111" not in result.output
        assert "second-Secret-2222" not in result.output
    rotate = json.loads(run_cli("diff", "HEAD~1", "HEAD", "-f", "json", cwd=cwd).stdout)
    assert rotate[0]["changes"] == [
        {"path": "db.password", "kind": "changed", "old": None, "new": None, "secret": True}
    ]
    assert "+ db.password: secret added" in outputs[0].stdout
    history = json.loads(outputs[4].stdout)
    assert [h["subject"] for h in history] == ["rotate", "secret"]
    assert all(h["secret"] and h["old"] is None and h["new"] is None for h in history)


def test_history_of_an_effective_value(history_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = history_repo.workdir
    result = run_cli("history", "search", "db.pool", "--env", "prod-eu", "-f", "json", cwd=cwd)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["author"], r["subject"], r["old"], r["new"], r["old_set"]) for r in rows] == [
        ("Carol", "defaults: pool 20", 10, 20, True),
        ("Alice", "initial", None, 10, False),
    ]
    assert rows[0]["date"] == "2023-11-14T22:16:40+00:00"
    payments = json.loads(
        run_cli("history", "payments", "db.pool", "--env", "prod", "-f", "json", cwd=cwd).stdout
    )
    assert [(r["author"], r["old"], r["new"]) for r in payments] == [
        ("Bob", 10, 40),
        ("Alice", None, 10),
    ]
    limited = json.loads(
        run_cli(
            "history", "payments", "db.pool", "--env", "prod", "--max", "1", "-f", "json", cwd=cwd
        ).stdout
    )
    assert len(limited) == 1
    text = run_cli("history", "payments", "db.pool", "--env", "prod", cwd=cwd).stdout
    assert text.splitlines()[1] == "    db.pool: 10 -> 40"
    assert "Bob  payments: pool 40 in prod" in text.splitlines()[0]


def test_explain_blame(history_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = history_repo.workdir
    rows = json.loads(
        run_cli(
            "explain", "payments", "db.pool", "--env", "prod-eu", "--blame", "-f", "json", cwd=cwd
        ).stdout
    )
    assert [(r["file"], r["author"], r["value"]) for r in rows] == [
        ("config/base/_defaults.yaml", "Carol", 20),
        ("config/prod/payments.yaml", "Bob", 40),
    ]
    history_repo.write({"config/prod/payments.yaml": "db:\n  pool: 41\n"})
    text = run_cli("explain", "payments", "db.pool", "--env", "prod-eu", "--blame", cwd=cwd).stdout
    assert "config/prod/payments.yaml:2:9: [prod] 41  (wins)  (not committed yet)" in text
    assert "Carol" in text


def test_changed_since_validates_only_what_changed(
    history_repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = history_repo.workdir
    history_repo.write({"config/prod/payments.yaml": "db:\n  pool: many\n"})
    result = run_cli("validate", "--changed-since", "HEAD", "-f", "json", cwd=cwd)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["checked"]["pairs"] == 2  # payments in prod and prod-eu
    [diag] = report["diagnostics"]
    assert (diag["file"], diag["line"], diag["column"]) == ("config/prod/payments.yaml", 2, 9)
    history_repo.write({"config/prod/payments.yaml": "db:\n  pool: 40\n"})
    assert (
        json.loads(run_cli("validate", "--changed-since", "HEAD", "-f", "json", cwd=cwd).stdout)[
            "checked"
        ]["pairs"]
        == 0
    )
    # a schema change revalidates every service using it
    history_repo.write(
        {
            "schemas/svc.schema.json": SCHEMA.replace(
                '"port": {"type": "integer"}', '"port": {"type": "integer", "maximum": 9000}'
            )
        }
    )
    changed_schema = run_cli("validate", "--changed-since", "HEAD", cwd=cwd)
    assert changed_schema.exit_code == 1
    assert "8 service/environment pairs" in changed_schema.stdout
    assert (
        "config/base/search.yaml:1:7: error: port: expected a number at most 9000, got 9200"
        in changed_schema.stderr
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["diff", "nope"], "unknown revision 'nope'"),
        (["diff", "HEAD~1", "nope"], "unknown revision 'nope'"),
        (["diff", "HEAD~10", "HEAD"], "unknown revision 'HEAD~10'"),
        (["history", "payments", "db.pool", "--env", "qa"], "unknown environment 'qa'"),
        (["validate", "--changed-since", "nope"], "unknown revision 'nope'"),
        (["diff", "--env", "prod", "--against-env", "qa"], "unknown environment 'qa'"),
        (["diff", "--against-env", "prod"], "--against-env needs exactly one --env"),
    ],
)
def test_bad_revisions_and_names(
    history_repo: ConfigRepo, run_cli: RunCli, args: list[str], words: str
) -> None:
    result = run_cli(*args, cwd=history_repo.workdir)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert result.stdout == ""


def test_broken_side_and_missing_manifest(tmp_path: Path, run_cli: RunCli) -> None:
    repo = ConfigRepo.init(tmp_path / "b")
    commit_as(repo, {"README": "x\n"}, "no manifest yet", "A", 1_700_000_000)
    commit_as(
        repo,
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/svc.schema.json": SCHEMA,
            "config/prod/payments.yaml": "port: [\n",
        },
        "broken",
        "A",
        1_700_000_100,
    )
    commit_as(repo, {"config/prod/payments.yaml": "port: 1\n"}, "fixed", "A", 1_700_000_200)
    no_manifest = run_cli("diff", "HEAD~2", "HEAD", cwd=repo.workdir)
    assert no_manifest.exit_code == 2
    assert "revision 'HEAD~2'" in no_manifest.stderr and "has no cfgctl.yaml" in no_manifest.stderr
    broken = run_cli("diff", "HEAD~1", "HEAD", cwd=repo.workdir)
    assert broken.exit_code == 2
    assert "at HEAD~1" in broken.stderr and "config/prod/payments.yaml:2:1" in broken.stderr
    assert broken.stderr.count("\n") <= 2 and "Traceback" not in broken.stderr


def test_environment_comparison(history_repo: ConfigRepo, run_cli: RunCli) -> None:
    rows = json.loads(
        run_cli(
            "diff",
            "--env",
            "staging",
            "--against-env",
            "prod",
            "payments",
            "-f",
            "json",
            cwd=history_repo.workdir,
        ).stdout
    )
    assert rows == [
        {
            "service": "payments",
            "env": "staging..prod",
            "status": "changed",
            "changes": [{"path": "db.pool", "kind": "changed", "old": 5, "new": 40}],
        }
    ]

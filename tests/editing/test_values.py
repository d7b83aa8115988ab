"""`cfgctl set`: work follows the change. An edit validates the pairs it feeds (the service in that
environment and in the environments inheriting it) and the files they read, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgctl.repo.snapshot import Snapshot
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo

MANIFEST = """\
version: 1
environments:
  base: {}
  prod: {inherits: base}
  prod-eu: {inherits: prod}
services:
  payments: {schema: svc}
  orders: {schema: svc}
"""

SCHEMA = """\
{
  "type": "object",
  "required": ["port"],
  "additionalProperties": false,
  "properties": {
    "port": {"type": "integer", "minimum": 1},
    "limits": {"type": "object", "maxProperties": 2,
               "additionalProperties": {"type": "integer"}}
  }
}
"""

BROKEN = "config/prod/orders.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> ConfigRepo:
    repo = ConfigRepo.init(tmp_path / "cfg")
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/svc.schema.json": SCHEMA,
            "config/base/_defaults.yaml": "port: 8080\nlimits: {cpu: 1}\n",
            "config/prod/payments.yaml": "# prod\nport: 443\n",
            "config/prod-eu/payments.yaml": "limits: {mem: 2}\n",
            BROKEN: "port: [8080\n",  # broken YAML: another service's file
        },
        "init",
    )
    return repo


@pytest.fixture
def documents_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path a snapshot parses (or loads from the cache) during the test."""
    seen: list[str] = []
    original = Snapshot.document

    def document(self: Snapshot, path: str) -> object:
        seen.append(path)
        return original(self, path)

    monkeypatch.setattr(Snapshot, "document", document)
    return seen


def test_a_broken_file_elsewhere_neither_blocks_nor_is_read(
    repo: ConfigRepo, run_cli: RunCli, documents_read: list[str]
) -> None:
    assert run_cli("validate", cwd=repo.workdir).exit_code == 1  # the repository is broken
    documents_read.clear()
    result = run_cli("set", "payments", "port", "8443", "--env", "prod", cwd=repo.workdir)
    assert result.exit_code == 0, result.output
    assert "config/prod/payments.yaml: set port = 8443" in result.stdout
    assert repo.read("config/prod/payments.yaml") == "# prod\nport: 8443\n"
    assert documents_read, "the edit was validated"
    assert BROKEN not in documents_read
    assert not any(p.startswith("config/") and "orders" in p for p in documents_read)


def test_a_value_invalid_in_an_inheriting_environment_is_refused(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    before = repo.read("config/prod/payments.yaml")
    # prod-eu inherits prod and adds limits.mem: prod's {cpu, disk} is fine, prod-eu's three
    # limits break maxProperties
    result = run_cli("set", "payments", "limits.disk", "3", "--env", "prod", cwd=repo.workdir)
    assert result.exit_code == 1, result.output
    assert "refused: limits.disk = 3 would fail validation" in result.stderr
    assert "config/prod/payments.yaml is unchanged" in result.stderr
    assert "payments@prod-eu" in result.stderr and "maxProperties" not in result.stdout
    assert repo.read("config/prod/payments.yaml") == before


def test_an_invalid_value_is_refused_with_a_broken_file_elsewhere(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    result = run_cli("set", "payments", "port", "0", "--env", "prod", cwd=repo.workdir)
    assert result.exit_code == 1
    assert "port: expected a number at least 1, got 0" in result.stderr
    assert BROKEN not in result.stderr
    assert repo.read("config/prod/payments.yaml") == "# prod\nport: 443\n"


def test_a_broken_file_of_the_edited_service_is_still_reported(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    repo.write({"config/prod-eu/payments.yaml": "limits: [1\n"})
    result = run_cli("set", "payments", "port", "8443", "--env", "prod", cwd=repo.workdir)
    assert result.exit_code == 0, result.output  # broken before the edit: not the edit's fault
    ok = run_cli("set", "payments", "port", "x", "--env", "prod", cwd=repo.workdir)
    assert ok.exit_code == 1 and "expected integer" in ok.stderr


def test_set_commit_commits_that_file_only_with_a_trace_trailer(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    import pygit2

    from cfgctl.agent.windows import commit_trailers
    from cfgctl.telemetry import Traceparent

    root = example_repo.workdir
    repo = example_repo.repo
    before = repo.head.target
    (root / "config/prod/search.yaml").write_text("replicas: 2\n")  # an unrelated edit, staged
    repo.index.add("config/prod/search.yaml")
    repo.index.write()
    args = ["-C", str(root), "set", "payments", "replicas", "9", "--env", "prod"]
    done = run_cli(*args, "--commit", "-m", "More payments", "--format", "json")
    assert done.exit_code == 0, done.stderr
    head = repo.head.peel(pygit2.Commit)
    assert head.parents[0].id == before and head.message.startswith("More payments\n\n")
    assert Traceparent.parse(commit_trailers(head.message)["traceparent"]) is not None
    assert '"commit": "' + str(head.id) + '"' in done.stdout
    changed = {d.new_file.path for d in repo.diff(head.parents[0], head).deltas}
    assert changed == {"config/prod/payments.yaml"}  # the staged edit is still only staged
    assert repo.status()["config/prod/search.yaml"] != pygit2.enums.FileStatus.CURRENT
    assert "config/prod/payments.yaml" not in repo.status()  # committed and clean

    same = run_cli(*args, "--commit")  # nothing changes: no commit
    assert same.exit_code == 0 and repo.head.target == head.id
    alone = run_cli(*args[:-2], "--env", "prod", "-m", "x")
    assert alone.exit_code == 2 and "--message goes with --commit" in alone.stderr

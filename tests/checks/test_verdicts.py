"""Verdicts computed on worker processes are those one process computes, in the same order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfgctl.checks import verdicts
from cfgctl.checks.pairs import verdict_key
from cfgctl.checks.validate import validate_snapshot
from cfgctl.repo.snapshot import Snapshot
from tests.support.gitrepo import ConfigRepo

SCHEMA = {
    "type": "object",
    "required": ["port"],
    "properties": {
        "port": {"type": "integer", "maximum": 65535},
        "host": {"type": "string", "format": "hostname"},
        "mode": {"type": "string", "pattern": "^(fast|safe)$"},
    },
    "additionalProperties": False,
}


def _repo(root: Path, services: int) -> ConfigRepo:
    repo = ConfigRepo.init(root)
    files: dict[str, str | bytes | None] = {
        "cfgctl.yaml": "version: 1\nenvironments:\n  base: {}\n  prod: {inherits: base}\n"
        "services:\n" + "".join(f"  s{i}: {{schema: svc}}\n" for i in range(services)),
        "schemas/svc.schema.json": json.dumps(SCHEMA),
    }
    for i in range(services):
        port = 70000 + i if i % 7 == 0 else 8000 + i  # every 7th breaks its maximum
        mode = "slow" if i % 11 == 0 else "fast"
        files[f"config/base/s{i}.yaml"] = f"port: {port}\nmode: {mode}\nhost: h{i}.example\n"
        files[f"config/prod/s{i}.yaml"] = "extra: 1\n" if i % 13 == 0 else f"port: {9000 + i}\n"
    repo.commit(files, "init")
    return repo


def test_workers_give_the_verdicts_one_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path / "cfg", 40)
    snap = Snapshot.from_worktree(repo.workdir, use_cache=False)
    todo = [(s, e, verdict_key(snap, s, e)) for s, e in snap.pairs()]
    serial = [[d.to_dict() for d in v] for v in verdicts.compute_verdicts(snap, todo)]
    monkeypatch.setattr(verdicts, "PARALLEL_FROM", 10)  # the workers, on a small repository
    fresh = Snapshot.from_worktree(repo.workdir, use_cache=False)
    parallel = [[d.to_dict() for d in v] for v in verdicts.compute_verdicts(fresh, todo)]
    assert parallel == serial
    assert sum(map(len, serial)) >= 10  # broken pairs were found, not only clean ones


def test_a_parallel_validation_reports_and_caches_what_a_serial_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path / "cfg", 40)
    serial = validate_snapshot(Snapshot.from_worktree(repo.workdir, use_cache=False))
    monkeypatch.setattr(verdicts, "PARALLEL_FROM", 10)
    snap = Snapshot.from_worktree(repo.workdir)
    parallel = validate_snapshot(snap)
    assert [d.to_dict() for d in parallel.errors] == [d.to_dict() for d in serial.errors]
    again = Snapshot.from_worktree(repo.workdir)  # the verdicts came back to the parent's cache
    assert [d.to_dict() for d in validate_snapshot(again).errors] == [
        d.to_dict() for d in serial.errors
    ]
    assert again.cache.misses < 10 and again.cache.hits >= 80

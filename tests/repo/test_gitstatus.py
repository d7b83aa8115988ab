"""cfgctl.repo.gitstatus: the work tree's status computed by a forked child, as libgit2 gives it.

The probe forks only a single-threaded process, and a pytest-xdist worker runs threads, so each
probe here runs in a fresh interpreter (`_probe`), as the command line does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest
from pygit2.enums import FileStatus

from cfgctl.repo import gitstatus
from tests.support.gitrepo import ConfigRepo

pytestmark = pytest.mark.slow  # each test runs fresh interpreters (the probe forks only in one)

# Starts a probe at argv[1], asks it about the repository at argv[2], prints the answer (null:
# no probe, or no answer) and the child's pid.
_SCRIPT = """
import json, os, sys, threading
from cfgctl.repo.gitstatus import StatusProbe
if sys.argv[3] == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
probe = StatusProbe.start(__import__("pathlib").Path(sys.argv[1]))
if probe is None:
    print(json.dumps({"started": False}))
    sys.exit()
if sys.argv[3] == "close":
    probe.close()
    try:
        os.waitpid(probe.pid, os.WNOHANG)
        reaped = False
    except ChildProcessError:
        reaped = True
    print(json.dumps({"started": True, "reaped": reaped}))
    sys.exit()
answer = probe.changed(sys.argv[2])
print(json.dumps({"started": True, "answer": None if answer is None else sorted(answer)}))
"""


def _probe(start: Path, ask: Path | str, mode: str = "ask", **env: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(start), str(ask), mode],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert out.stderr == ""
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _libgit2(repo: pygit2.Repository) -> list[str]:
    status = repo.status(untracked_files="all", ignored=False)
    return sorted(path for path, flags in status.items() if flags != FileStatus.CURRENT)


@pytest.fixture
def busy(tmp_path: Path) -> ConfigRepo:
    """A work tree with every kind of change: staged, modified, both, deleted, untracked (in a
    new folder too), ignored, a type change, and names with spaces and non-ASCII letters."""
    repo = ConfigRepo.init(tmp_path / "top")
    repo.commit(
        {
            ".gitignore": "*.log\nbuild/\n",
            "cfg/cfgctl.yaml": "version: 1\n",
            "cfg/config/base/a.yaml": "a: 1\n",
            "cfg/config/base/b c.yaml": "b: 1\n",
            "cfg/config/base/gone.yaml": "g: 1\n",
            "cfg/config/base/staged.yaml": "s: 1\n",
            "cfg/config/base/both.yaml": "x: 1\n",
            "cfg/link.yaml": "l: 1\n",
            "outside.txt": "o\n",
        },
        "first",
    )
    repo.write(
        {
            "cfg/config/base/a.yaml": "a: 2\n",
            "cfg/config/base/gone.yaml": None,
            "cfg/config/staging/nëw sérvice.yaml": "n: 1\n",
            "cfg/config/prod/deep/er/file.yaml": "d: 1\n",
            "cfg/debug.log": "ignored\n",
            "build/out.yaml": "ignored\n",
            "outside.txt": "changed\n",
        }
    )
    repo.write({"cfg/config/base/staged.yaml": "s: 2\n", "cfg/config/base/both.yaml": "x: 2\n"})
    repo.repo.index.add("cfg/config/base/staged.yaml")
    repo.repo.index.add("cfg/config/base/both.yaml")
    repo.repo.index.write()
    repo.write({"cfg/config/base/both.yaml": "x: 3\n"})
    (repo.workdir / "cfg/link.yaml").unlink()
    (repo.workdir / "cfg/link.yaml").symlink_to("config/base/a.yaml")
    return repo


def test_the_probe_answers_what_libgit2_answers(busy: ConfigRepo) -> None:
    expected = _libgit2(busy.repo)
    assert "cfg/config/staging/nëw sérvice.yaml" in expected and "cfg/debug.log" not in expected
    assert len(expected) == 8
    # Started from the top or from the config folder below it, asked with the path as given.
    for start in (busy.workdir, busy.workdir / "cfg", busy.workdir / "cfg/config/base"):
        assert _probe(start, busy.repo.path) == {"started": True, "answer": expected}


def test_a_clean_work_tree_has_no_changed_path(tmp_path: Path) -> None:
    repo = ConfigRepo.init(tmp_path / "w")
    repo.commit({"cfgctl.yaml": "version: 1\n"}, "first")
    assert _probe(repo.workdir, repo.repo.path) == {"started": True, "answer": []}


def test_the_probe_does_not_answer_for_another_repository(busy: ConfigRepo, tmp_path: Path) -> None:
    other = ConfigRepo.init(tmp_path / "other")
    other.commit({"x.yaml": "x: 1\n"}, "first")
    assert _probe(busy.workdir, other.repo.path) == {"started": True, "answer": None}


def test_no_probe_with_threads_or_when_turned_off(busy: ConfigRepo) -> None:
    assert _probe(busy.workdir, busy.repo.path, "thread") == {"started": False}
    off = {"CFGCTL_STATUS_PROBE": "off"}
    assert _probe(busy.workdir, busy.repo.path, **off) == {"started": False}


def test_outside_a_repository_the_probe_has_no_answer(tmp_path: Path) -> None:
    """The child looks for the repository (the parent has not imported Git yet): finding none,
    it answers nothing, and the command's own opening says what is wrong."""
    (tmp_path / "plain").mkdir()
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    assert _probe(tmp_path / "plain", "x", **env) == {"started": True, "answer": None}


def _both_ways(start: Path) -> dict[str, list[str]]:
    """What each way the child can ask libgit2 finds, asked here (no fork): its git folder
    first, then the changed paths."""
    library = gitstatus.bundled_libgit2()
    assert library is not None, "pygit2's wheel ships its libgit2 in pygit2.libs/"
    found = {
        "ctypes": gitstatus.status_by_ctypes(library, str(start)),
        "pygit2": gitstatus.status_by_pygit2(str(start)),
    }
    return {way: [os.fsdecode(p) for p in paths] for way, paths in found.items()}


def test_both_ways_of_asking_find_the_repository_and_what_libgit2_answers(
    busy: ConfigRepo,
) -> None:
    expected = _libgit2(busy.repo)
    for start in (busy.workdir, busy.workdir / "cfg/config/base"):
        for way, (git_path, *paths) in _both_ways(start).items():
            assert os.path.realpath(git_path) == os.path.realpath(busy.repo.path), way
            assert sorted(paths) == expected, way


def test_a_conflicted_index_is_answered_as_libgit2_answers(tmp_path: Path) -> None:
    """A merge that stopped on a conflict: the conflicted file, the one the merge staged and
    one the user changed since."""
    repo = ConfigRepo.init(tmp_path / "merge")
    repo.commit({"a.yaml": "a: 1\n", "b.yaml": "b: 1\n", "c.yaml": "c: 1\n"}, "first")
    first = repo.repo.head.target
    repo.commit({"a.yaml": "a: 2\n"}, "ours")
    ours = repo.repo.head.target
    repo.repo.reset(first, pygit2.enums.ResetMode.HARD)
    theirs = repo.commit({"a.yaml": "a: 3\n", "b.yaml": "b: 3\n"}, "theirs")
    repo.repo.reset(ours, pygit2.enums.ResetMode.HARD)
    repo.repo.merge(pygit2.Oid(hex=theirs))
    assert repo.repo.index.conflicts is not None
    repo.write({"c.yaml": "c: 2\n"})
    expected = _libgit2(repo.repo)
    assert expected == ["a.yaml", "b.yaml", "c.yaml"]
    for way, (_, *paths) in _both_ways(repo.workdir).items():
        assert sorted(paths) == expected, way
    assert _probe(repo.workdir, repo.repo.path) == {"started": True, "answer": expected}


def test_a_child_that_fails_gives_no_answer(busy: ConfigRepo) -> None:
    (Path(busy.repo.path) / "index").write_bytes(b"DIRC garbage")
    assert _probe(busy.workdir, busy.repo.path) == {"started": True, "answer": None}


def test_a_probe_nobody_asks_is_ended_and_reaped(busy: ConfigRepo) -> None:
    assert _probe(busy.workdir, busy.repo.path, "close") == {"started": True, "reaped": True}


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cfgctl", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_validate_sees_uncommitted_changes_through_the_probe(example_repo: ConfigRepo) -> None:
    """The command line starts the probe for `validate` (tests/cli/test_startup.py checks
    which lines); with it and without it, the same work-tree change is found. (The second
    changed path, after the first run: the cache folder, which this repository does not ignore.)"""
    repo = example_repo
    service = next((repo.workdir / "config/base").glob("[!_]*.yaml"))
    service.write_text(service.read_text() + "\nport_typo: [\n")
    runs = {
        "from the early probe": [
            _cli(repo.workdir, "-vv", "validate"),
            _cli(repo.workdir.parent, "-C", str(repo.workdir), "-vv", "validate"),
            _cli(repo.workdir / "config", "--repo=..", "--no-cache", "-vv", "validate"),
        ],
        "from libgit2": [_cli(repo.workdir, "-vv", "validate", CFGCTL_STATUS_PROBE="off")],
    }
    errors = set()
    for source, done in runs.items():
        for run in done:
            assert run.returncode == 1, run.stderr
            assert re.search(rf"work tree status: [12] changed paths, {source}\n", run.stderr)
            assert "Traceback" not in run.stderr
            errors.add(next(line for line in run.stderr.splitlines() if service.name in line))
    assert len(errors) == 1 and f"config/base/{service.name}:" in errors.pop()


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["validate", "--changed-since", "HEAD"],
        ["render", "payments", "-e", "prod"],
        ["set", "payments", "replicas", "3", "-e", "base", "--dry-run"],
        ["set", "payments", "replicas", "3", "-e", "base"],
        ["diff"],
    ],
)
def test_a_damaged_index_is_a_clear_input_error(example_repo: ConfigRepo, args: list[str]) -> None:
    """The status is taken when a command first reads the work tree (and, for some, in a child
    started earlier): wherever that is, a damaged index is exit 2 with the way out."""
    (Path(example_repo.repo.path) / "index").write_bytes(b"DIRC garbage")
    before = example_repo.read("config/base/payments.yaml")
    # Without the probe, the same libgit2 call in every command: asked once, of validate.
    envs = ({}, {"CFGCTL_STATUS_PROBE": "off"}) if args == ["validate"] else ({},)
    for env in envs:
        run = _cli(example_repo.workdir, *args, **env)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "cannot read the work tree's Git status" in run.stderr
        assert "git reset" in run.stderr and "Traceback" not in run.stderr
    assert example_repo.read("config/base/payments.yaml") == before


def test_each_command_takes_the_status_once(example_repo: ConfigRepo) -> None:
    """`set` reads the work tree again under the repository lock, with a status of its own: the
    snapshot it opened first is handed on unread and costs none. `set --dry-run` reads once,
    from the status started with the process."""
    edit = ["-vv", "set", "payments", "replicas", "3", "-e", "base"]
    sources = {
        "dry run": (_cli(example_repo.workdir, *edit, "--dry-run"), "from the early probe"),
        "write": (_cli(example_repo.workdir, *edit), "from libgit2"),
    }
    for name, (run, source) in sources.items():
        assert run.returncode == 0, run.stderr
        lines = [line for line in run.stderr.splitlines() if "work tree status:" in line]
        assert len(lines) == 1 and lines[0].endswith(source), (name, lines)
    assert "replicas: 3" in example_repo.read("config/base/payments.yaml")

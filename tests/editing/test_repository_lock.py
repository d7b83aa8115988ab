"""Edits never lose a change, and never write outside the repository: real `cfgctl` processes
started at once, a real process holding the repository lock (killed with -9 too), hostile
template parameters and symbolic links."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgctl.errors import InputError
from cfgctl.repo.fsutil import confined
from cfgctl.repo.yamlio import parse
from tests.support.gitrepo import ConfigRepo
from tests.support.procs import LockHolder, run_at_once, run_one

pytestmark = pytest.mark.slow  # real processes

PROD = "config/prod/payments.yaml"


def _data(repo: ConfigRepo, rel: str) -> dict[str, object]:
    data = parse(repo.read_bytes(rel), rel).data
    assert isinstance(data, dict)
    return data


def test_eight_concurrent_sets_of_one_file_all_land(example_repo: ConfigRepo) -> None:
    before = example_repo.read(PROD)
    commands = [
        (("set", "payments", f"features.flag_{i}", "true", "--env", "prod"), None) for i in range(8)
    ]
    results = run_at_once(commands, cwd=example_repo.workdir)
    assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results]
    features = _data(example_repo, PROD)["features"]
    assert features == {f"flag_{i}": True for i in range(8)}
    # the edits kept the file's comments and the values it had
    after = example_repo.read(PROD)
    assert "# card traffic peaks at lunch time" in after
    assert after.startswith(before.rstrip("\n").split("\n")[0])


def test_concurrent_sets_of_one_key_land_one_after_the_other(example_repo: ConfigRepo) -> None:
    commands = [
        (("set", "payments", "db.pool_size", str(n), "--env", "prod"), None) for n in (11, 22, 33)
    ]
    results = run_at_once(commands, cwd=example_repo.workdir)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    db = _data(example_repo, PROD)["db"]
    assert isinstance(db, dict)
    assert db["pool_size"] in (11, 22, 33)
    assert db["host"] == "payments-db.prod.internal"


def test_a_held_lock_times_out_with_exit_3_and_nothing_written(example_repo: ConfigRepo) -> None:
    before = example_repo.read_bytes(PROD)
    holder = LockHolder(example_repo.workdir)
    try:
        result = run_one(
            "set",
            "payments",
            "replicas",
            "7",
            "--env",
            "prod",
            cwd=example_repo.workdir,
            env={"CFGCTL_LOCK_TIMEOUT": "0.5"},
        )
        assert result.returncode == 3, result.stderr
        assert "another cfgctl is writing this repository" in result.stderr
        assert "CFGCTL_LOCK_TIMEOUT" in result.stderr  # the hint
        assert "Traceback" not in result.stderr
        assert example_repo.read_bytes(PROD) == before
    finally:
        holder.release()
    again = run_one("set", "payments", "replicas", "7", "--env", "prod", cwd=example_repo.workdir)
    assert again.returncode == 0, again.stderr
    assert _data(example_repo, PROD)["replicas"] == 7


def test_a_writer_killed_with_9_does_not_leave_the_repository_locked(
    example_repo: ConfigRepo,
) -> None:
    holder = LockHolder(example_repo.workdir)
    holder.kill()
    result = run_one(
        "set",
        "payments",
        "replicas",
        "5",
        "--env",
        "prod",
        cwd=example_repo.workdir,
        env={"CFGCTL_LOCK_TIMEOUT": "5"},
    )
    assert result.returncode == 0, result.stderr


def test_concurrent_new_services_are_all_registered(example_repo: ConfigRepo) -> None:
    commands = [
        (("new", "service", f"svc{i}", "-t", "web-service", "--set", "owners=@acme/web"), None)
        for i in range(4)
    ]
    results = run_at_once(commands, cwd=example_repo.workdir)
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    services = _data(example_repo, "cfgctl.yaml")["services"]
    assert isinstance(services, dict)
    assert {f"svc{i}" for i in range(4)} <= set(services)
    assert {"payments", "search"} <= set(services)


def _files_under(folder: Path) -> set[str]:
    """Every path under `folder`, but Git's objects and cfgctl's own cache and lock."""
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if not {".git", ".cfgctl"} & set(p.parts)
    }


HOSTILE_TEMPLATE: dict[str, str | bytes | None] = {
    "templates/evil/template.yaml": (
        "schema: web-service\n"
        "parameters:\n"
        "  sub: {type: string, default: base}\n"
        "  owners: {type: string, default: '@acme/web'}\n"
    ),
    "templates/evil/files/config/{{ sub }}/{{ name }}.yaml": "replicas: 2\n",
}


@pytest.mark.parametrize(
    "sub",
    [
        "/../../../../outside",
        "../../outside",
        "base/../../../outside",
        "../.git/hooks",
    ],
)
def test_a_hostile_template_parameter_writes_nothing_anywhere(
    tmp_path: Path, example_repo: ConfigRepo, sub: str
) -> None:
    example_repo.commit(HOSTILE_TEMPLATE, "a template naming a file after a parameter")
    before = _files_under(tmp_path)
    manifest = example_repo.read_bytes("cfgctl.yaml")
    result = run_one(
        "new", "service", "x", "-t", "evil", "--set", f"sub={sub}", cwd=example_repo.workdir
    )
    assert result.returncode == 2, result.stderr
    assert "refused to write" in result.stderr
    assert "nothing written" in result.stderr
    assert "Traceback" not in result.stderr
    assert _files_under(tmp_path) == before
    assert example_repo.read_bytes("cfgctl.yaml") == manifest


def test_a_symbolic_link_out_of_the_repository_is_not_followed(
    tmp_path: Path, example_repo: ConfigRepo
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    example_repo.commit(HOSTILE_TEMPLATE, "a template naming a file after a parameter")
    (example_repo.workdir / "config" / "linked").symlink_to(outside, target_is_directory=True)
    result = run_one(
        "new", "service", "x", "-t", "evil", "--set", "sub=linked", cwd=example_repo.workdir
    )
    assert result.returncode == 2, result.stderr
    assert "leads outside the repository" in result.stderr
    assert list(outside.iterdir()) == []
    # the same for `set` through a linked environment folder
    target = example_repo.workdir / PROD
    moved = outside / "payments.yaml"
    moved.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(moved)
    before = moved.read_bytes()
    result = run_one("set", "payments", "replicas", "9", "--env", "prod", cwd=example_repo.workdir)
    assert result.returncode == 2, result.stderr
    assert "leads outside the repository" in result.stderr
    assert moved.read_bytes() == before


def test_a_template_parameter_inside_the_repository_still_works(example_repo: ConfigRepo) -> None:
    example_repo.commit(HOSTILE_TEMPLATE, "a template naming a file after a parameter")
    result = run_one(
        "new",
        "service",
        "x",
        "-t",
        "evil",
        "--set",
        "sub=staging/../base",
        cwd=example_repo.workdir,
    )
    assert result.returncode == 0, result.stderr
    assert "config/base/x.yaml" in result.stdout
    assert (example_repo.workdir / "config/base/x.yaml").is_file()


@pytest.mark.parametrize(
    ("rel", "why"),
    [
        ("/etc/passwd", "not a path relative"),
        ("", "not a path relative"),
        ("config/../../x.yaml", "leads outside"),
        (".", "leads outside"),
        (".git/hooks/post-commit", "inside Git's own .git"),
        ("config/linked/x.yaml", "leads outside"),
    ],
)
def test_confined_refuses_every_way_out(tmp_path: Path, rel: str, why: str) -> None:
    root = tmp_path / "repo"
    (root / "config").mkdir(parents=True)
    (root / "config" / "linked").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(InputError, match=why):
        confined(root, rel)
    assert confined(root, "config/base/../prod/x.yaml") == root.resolve() / "config/prod/x.yaml"

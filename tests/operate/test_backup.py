"""`cfgctl backup create|verify|restore|drill`: one checked file, every byte guarded, restored
all or nothing, a past state committed on top, and the drill that opens every secret."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfgctl.errors import CheckFailed
from cfgctl.operate.backupfile import encode_manifest, read_backup, write_backup
from tests.support.cli import RunCli, run_cli
from tests.support.gitrepo import ConfigRepo
from tests.support.repos import make_example_repo
from tests.support.secretrepo import Key, make_key, make_secret_repo, set_secret

SECRET = "backup-drill-s3cret-9f2b"
T0 = 1_700_000_000


def _sig(offset: int) -> pygit2.Signature:
    return pygit2.Signature("Test Author", "test@example.com", T0 + offset, 0)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pytest.MonkeyPatch]:
    """HOME, Git's configuration and no age key for the module's fixtures, as the autouse
    fixture sets them for each test."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("[user]\n\tname = Test\n\temail = test@example.com\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        mp.setenv("SOPS_AGE_KEY_FILE", str(home / "no-such-key.txt"))
        yield mp


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory, env: pytest.MonkeyPatch) -> ConfigRepo:
    """The example repository with three commits an hour apart, a tag and a second branch."""
    repo = make_example_repo(tmp_path_factory.mktemp("origin") / "cfg")
    pool = "config/prod/payments.yaml"
    text = repo.read(pool)
    repo.commit(
        {pool: text.replace("pool_size: 40", "pool_size: 41")}, "pool 41", author=_sig(3600)
    )
    repo.repo.references.create("refs/tags/v41", repo.repo.head.target)
    repo.repo.branches.local.create("feature", repo.repo.head.peel(pygit2.Commit))
    repo.commit(
        {pool: text.replace("pool_size: 40", "pool_size: 42")}, "pool 42", author=_sig(7200)
    )
    return repo


@pytest.fixture(scope="module")
def backup(origin: ConfigRepo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("backups") / "cfg.backup"
    result = run_cli("-C", str(origin.workdir), "backup", "create", str(out))
    assert result.exit_code == 0, result.output
    return out


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def _flip(src: Path, dest: Path, offset: int, xor: int = 0x01) -> Path:
    data = bytearray(src.read_bytes())
    data[offset] ^= xor
    dest.write_bytes(bytes(data))
    return dest


def _offset(path: Path, member: str) -> tuple[int, int]:
    """(offset of the member's data, its size) in the archive."""
    with tarfile.open(path) as tar:
        info = tar.getmember(member)
        return info.offset_data, info.size


def _changes(repo: pygit2.Repository) -> dict[str, int]:
    """What `git status` reports, untracked files aside (the repository lock is one)."""
    return {p: f for p, f in repo.status().items() if f != pygit2.enums.FileStatus.WT_NEW}


def _forge(src: Path, dest: Path, change: dict[str, object]) -> Path:
    """A backup whose manifest says something else, with every checksum made consistent: only
    rendering the bundle again can tell."""
    members = _members(src)
    manifest = json.loads(members["manifest.json"])
    manifest.update(change)
    bundle = dest.parent / "forged.bundle"
    bundle.write_bytes(members["repo.bundle"])
    write_backup(dest, encode_manifest(manifest), bundle, mtime=T0, force=True)
    return dest


# --- create -------------------------------------------------------------------------------------


def test_create_writes_what_tar_sha256sum_and_git_read(origin: ConfigRepo, backup: Path) -> None:
    members = _members(backup)
    assert list(members) == ["manifest.json", "repo.bundle", "SHA256SUMS"]
    sums = {
        name: hashlib.sha256(members[name]).hexdigest() for name in ("manifest.json", "repo.bundle")
    }
    assert members["SHA256SUMS"].decode() == "".join(f"{h}  {n}\n" for n, h in sums.items())
    manifest = json.loads(members["manifest.json"])
    assert manifest["bundle"]["sha256"] == sums["repo.bundle"]
    repo = origin.repo
    refs = {name: str(repo.references[name].target) for name in repo.references}
    assert manifest["refs"] == {**refs, "HEAD": str(repo.head.target)}
    assert manifest["head"] == {"ref": "refs/heads/main", "commit": str(repo.head.target)}
    pairs = {(s, e) for s, envs in manifest["pairs"].items() for e in envs}
    assert pairs == {
        (s, e) for s in ("payments", "search") for e in ("base", "staging", "prod", "prod-eu")
    }
    assert set(manifest["schemas"]["schemas"]) == {"common", "web-service"}
    assert manifest["schemas"]["services"] == {"payments": "web-service", "search": "web-service@1"}
    assert backup.stat().st_size % 10240 == 0


def test_a_digest_follows_the_effective_configuration_not_the_bytes(tmp_path: Path) -> None:
    from cfgctl.operate.backup import create_backup

    repo = make_example_repo(tmp_path / "cfg")

    def pairs(name: str) -> dict[str, dict[str, str]]:
        create_backup(repo.workdir, tmp_path / name)
        return json.loads(_members(tmp_path / name)["manifest.json"])["pairs"]  # type: ignore[no-any-return]

    before = pairs("a")
    prod = "config/prod/payments.yaml"
    repo.commit({prod: "# a comment only\n" + repo.read(prod)}, "comment")
    assert pairs("b") == before
    repo.commit({prod: repo.read(prod).replace("pool_size: 40", "pool_size: 39")}, "value")
    after = pairs("c")
    changed = {(s, e) for s in after for e in after[s] if after[s][e] != before[s][e]}
    assert changed == {("payments", "prod"), ("payments", "prod-eu")}  # prod-eu inherits prod


def test_create_refuses_an_existing_file_and_replaces_it_with_force(
    origin: ConfigRepo, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "cfg.backup"
    out.write_bytes(b"an older backup")
    result = run_cli("-C", str(origin.workdir), "backup", "create", str(out))
    assert result.exit_code == 2
    assert "exists already" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == b"an older backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.backup"]
    forced = run_cli(
        "-C", str(origin.workdir), "backup", "create", str(out), "--force", "-f", "json"
    )
    assert forced.exit_code == 0, forced.output
    created = json.loads(forced.stdout)
    assert created["pairs"] == 8 and len(created["refs"]) == 4
    assert read_backup(out).manifest["head"]["commit"] == str(origin.repo.head.target)


def test_create_without_a_commit_or_a_repository_is_bad_input(
    tmp_path: Path, run_cli: RunCli
) -> None:
    empty = ConfigRepo.init(tmp_path / "empty")
    (empty.workdir / "cfgctl.yaml").write_text("version: 1\n")
    result = run_cli("-C", str(empty.workdir), "backup", "create", str(tmp_path / "o.backup"))
    assert result.exit_code == 2
    assert "nothing to back up: the repository has no commit" in result.stderr
    (tmp_path / "plain").mkdir()
    result = run_cli("-C", str(tmp_path / "plain"), "backup", "create", str(tmp_path / "o.backup"))
    assert result.exit_code == 2 and "no cfgctl.yaml" in result.stderr
    assert not (tmp_path / "o.backup").exists()


def test_create_refuses_a_plaintext_secret_anywhere_in_the_history(
    tmp_path: Path, run_cli: RunCli
) -> None:
    repo = make_example_repo(tmp_path / "cfg")
    leaked = "config/prod/payments.secrets.yaml"
    repo.commit({leaked: "db:\n  password: hunter2-plain\n"}, "oops")
    repo.commit({leaked: None}, "removed again: still in the history")
    out = tmp_path / "o.backup"
    result = run_cli("-C", str(repo.workdir), "backup", "create", str(out))
    assert result.exit_code == 1
    assert f"{leaked} (blob " in result.stderr and "is not encrypted" in result.stderr
    assert "rotated" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [repo.workdir]


# --- verify -------------------------------------------------------------------------------------


def test_verify_renders_every_pair_again(backup: Path, run_cli: RunCli) -> None:
    result = run_cli("backup", "verify", str(backup))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {backup} (made ")
    assert "4 refs as recorded, HEAD main at" in result.stdout
    assert "8 digests match" in result.stdout
    data = json.loads(run_cli("backup", "verify", str(backup), "-f", "json").stdout)
    assert data["ok"] is True and data["pairs"] == 8
    assert set(data["seconds"]) == {"checksums", "unpack", "digests"}


@pytest.mark.parametrize(
    ("member", "where", "named"),
    [
        ("manifest.json", 40, "manifest.json"),
        ("repo.bundle", 0, "repo.bundle does not match"),  # the bundle's own header
        ("repo.bundle", -1, "repo.bundle does not match"),  # deep in its pack
        ("SHA256SUMS", 3, "SHA256SUMS does not match"),
    ],
)
def test_a_flipped_byte_is_found_and_named(
    backup: Path, tmp_path: Path, run_cli: RunCli, member: str, where: int, named: str
) -> None:
    start, size = _offset(backup, member)
    bad = _flip(backup, tmp_path / "bad.backup", start + (where % size))
    result = run_cli("backup", "verify", str(bad))
    assert result.exit_code == 1
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the error and its hint
    assert "Traceback" not in result.output


def test_headers_padding_and_end_are_guarded_too(backup: Path, tmp_path: Path) -> None:
    start, size = _offset(backup, "repo.bundle")
    cases = {
        155: "tar header of manifest.json",  # the checksum's terminator: tar itself ignores it
        start - 512 + 124: "tar header of repo.bundle",  # its size field
        start + size: "padding after repo.bundle",
        backup.stat().st_size - 1: "end of the archive",
    }
    for offset, named in cases.items():
        with pytest.raises(CheckFailed, match=named):
            read_backup(_flip(backup, tmp_path / "bad.backup", offset))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_flipped_byte_fails_the_check(
    backup: Path, tmp_path: Path, data: st.DataObject
) -> None:
    raw = backup.read_bytes()
    offset = data.draw(st.integers(0, len(raw) - 1))
    xor = data.draw(st.integers(1, 255))
    with pytest.raises(CheckFailed):
        read_backup(_flip(backup, tmp_path / "any.backup", offset, xor))


@pytest.mark.parametrize("keep", [0.01, 0.5, 0.99])
def test_a_truncated_backup_is_named_truncated(
    backup: Path, tmp_path: Path, run_cli: RunCli, keep: float
) -> None:
    raw = backup.read_bytes()
    cut = tmp_path / "cut.backup"
    cut.write_bytes(raw[: int(len(raw) * keep)])
    result = run_cli("backup", "verify", str(cut))
    assert result.exit_code == 1
    assert "truncated" in result.stderr and "incomplete" in result.stderr


def test_what_is_no_backup_is_bad_input(tmp_path: Path, run_cli: RunCli) -> None:
    other = io.BytesIO()
    with tarfile.open(fileobj=other, mode="w") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    files = {
        "missing.backup": None,
        "empty.backup": b"",
        "text.backup": b"hello, I am not a tar\n" * 40,
        "other.tar": other.getvalue(),
    }
    for name, content in files.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    said = {}
    for name in files:
        result = run_cli("backup", "verify", str(tmp_path / name))
        assert result.exit_code == 2, (name, result.output)
        said[name] = result.stderr.splitlines()[0]
    assert said["missing.backup"] == f"error: no such file: {tmp_path / 'missing.backup'}"
    assert "not a cfgctl backup: the file is empty" in said["empty.backup"]
    assert "not a cfgctl backup: it is not a tar archive" in said["text.backup"]
    assert "first member is 'notes.txt'" in said["other.tar"]


def test_a_forged_manifest_is_caught_by_rendering_the_bundle(
    backup: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    manifest = read_backup(backup).manifest
    pairs = json.loads(json.dumps(manifest["pairs"]))
    pairs["payments"]["prod"] = "0" * 64
    forged = _forge(backup, tmp_path / "forged.backup", {"pairs": pairs})
    result = run_cli("backup", "verify", str(forged))
    assert result.exit_code == 1
    assert "1 effective configuration(s) differ" in result.stderr
    assert "payments@prod: digest 000000000000 in the manifest" in result.stderr
    refs = {**manifest["refs"], "refs/heads/feature": manifest["head"]["commit"]}
    forged = _forge(backup, tmp_path / "forged.backup", {"refs": refs})
    result = run_cli("backup", "verify", str(forged))
    assert result.exit_code == 1 and "the bundle's refs are not the manifest's" in result.stderr
    changes: list[dict[str, object]] = [
        {"prefix": "../../elsewhere/"},
        {"head": {"ref": "HEAD", "commit": None}},
    ]
    for change in changes:
        forged = _forge(backup, tmp_path / "forged.backup", change)
        result = run_cli("backup", "restore", str(forged), str(tmp_path / "r"))
        assert result.exit_code == 1 and "lacks the fields of a cfgctl backup" in result.stderr
    assert not (tmp_path / "r").exists()


# --- restore ------------------------------------------------------------------------------------


def test_restore_into_a_new_folder_gives_the_repository_back(
    origin: ConfigRepo, backup: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    target = tmp_path / "restored"
    result = run_cli("backup", "restore", str(backup), str(target))
    assert result.exit_code == 0, result.output
    assert "8 effective configurations match their digests" in result.stdout
    restored = pygit2.Repository(str(target))
    want = {n: origin.repo.references[n].target for n in origin.repo.references}
    assert {n: restored.references[n].target for n in restored.references} == want
    assert restored.head.name == "refs/heads/main" and restored.status() == {}
    for rel in ("cfgctl.yaml", "config/prod/payments.yaml"):
        assert (target / rel).read_bytes() == origin.read_bytes(rel)
    assert "remote" not in (target / ".git/config").read_text()  # no origin left to a temp file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["restored"]  # no hidden folder left
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~umask
    assert run_cli("-C", str(target), "validate").exit_code == 0


def test_restore_into_an_empty_folder_keeps_the_folder(backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir(mode=0o750)
    inode = target.stat().st_ino
    result = run_cli("backup", "restore", str(backup), str(target), "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new"] is True
    assert target.stat().st_ino == inode and (target / "cfgctl.yaml").is_file()
    assert target.stat().st_mode & 0o777 == 0o750  # the user's folder, as it was


def test_restore_refuses_a_folder_that_is_not_empty(
    backup: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    target = tmp_path / "used"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    result = run_cli("backup", "restore", str(backup), str(target))
    assert result.exit_code == 2
    assert "is not empty: a backup is restored into a new or empty folder" in result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    result = run_cli("backup", "restore", str(backup), str(target), "--at", "main")
    assert result.exit_code == 2 and "is not empty and not a Git work tree" in result.stderr
    result = run_cli("backup", "restore", str(backup), str(tmp_path / "no" / "dir"))
    assert result.exit_code == 2 and f"folder {tmp_path / 'no'} does not exist" in result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used"]


def test_a_damaged_backup_restores_nothing(backup: Path, tmp_path: Path, run_cli: RunCli) -> None:
    start, size = _offset(backup, "repo.bundle")
    bad = _flip(backup, tmp_path / "bad.backup", start + size // 2)
    new = tmp_path / "new"
    result = run_cli("backup", "restore", str(bad), str(new))
    assert result.exit_code == 1 and "repo.bundle does not match" in result.stderr
    assert not new.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("backup", "restore", str(bad), str(empty)).exit_code == 1
    assert empty.is_dir() and not any(empty.iterdir())  # kept, and left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.backup", "empty"]


def test_restore_at_a_commit_adds_a_commit_on_top(
    backup: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    target = tmp_path / "live"
    assert run_cli("backup", "restore", str(backup), str(target)).exit_code == 0
    live = pygit2.Repository(str(target))
    before = live.head.target
    result = run_cli("backup", "restore", str(backup), str(target), "--at", "v41")
    assert result.exit_code == 0, result.output
    assert "restored the configuration as of" in result.stdout
    head = live.head.peel(pygit2.Commit)
    assert head.parents[0].id == before  # on top: nothing rewritten
    assert head.tree.id == live.revparse_single("v41").peel(pygit2.Commit).tree.id
    assert head.message.startswith("Restore the configuration as of ")
    assert "pool_size: 41" in (target / "config/prod/payments.yaml").read_text()
    assert _changes(live) == {}
    again = run_cli("backup", "restore", str(backup), str(target), "--at", "v41")
    assert again.exit_code == 0 and "nothing committed" in again.stdout
    assert live.head.target == head.id


def test_restore_at_a_time_takes_the_newest_commit_before_it(
    origin: ConfigRepo, backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "timed"
    at = "2023-11-14T23:43:20Z"  # T0 + 1 h + 20 min: after "pool 41", before "pool 42"
    result = run_cli("backup", "restore", str(backup), str(target), "--at", at, "-f", "json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)["at"]
    assert done["source"] == str(origin.repo.revparse_single("v41").peel(pygit2.Commit).id)
    assert "pool_size: 41" in (target / "config/prod/payments.yaml").read_text()
    early = run_cli(
        "backup", "restore", str(backup), str(tmp_path / "x"), "--at", "2001-01-01T00:00:00Z"
    )
    assert early.exit_code == 2 and "no commit at or before 2001-01-01T00:00:00Z" in early.stderr
    naive = run_cli(
        "backup", "restore", str(backup), str(tmp_path / "x"), "--at", "2023-11-14T23:00"
    )
    assert naive.exit_code == 2 and "not a time with a UTC offset" in naive.stderr
    assert not (tmp_path / "x").exists()


def test_restore_at_refuses_a_dirty_work_tree_and_an_unknown_commit(
    backup: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    target = tmp_path / "live"
    assert run_cli("backup", "restore", str(backup), str(target)).exit_code == 0
    live = pygit2.Repository(str(target))
    head = live.head.target
    prod = target / "config/prod/payments.yaml"
    prod.write_text(prod.read_text() + "replicas: 7\n")
    result = run_cli("backup", "restore", str(backup), str(target), "--at", "v41")
    assert result.exit_code == 2
    assert "uncommitted changes (config/prod/payments.yaml)" in result.stderr
    assert live.head.target == head and "replicas: 7" in prod.read_text()
    result = run_cli("backup", "restore", str(backup), str(target), "--at", "no-such-tag")
    assert result.exit_code == 2 and "the backup holds no commit 'no-such-tag'" in result.stderr
    result = run_cli("backup", "restore", str(backup), str(target / "config"), "--at", "v41")
    assert result.exit_code == 2 and "is not the top of a Git work tree" in result.stderr
    assert live.head.target == head


def test_a_config_repository_in_a_subfolder(tmp_path: Path, run_cli: RunCli) -> None:
    mono = ConfigRepo.init(tmp_path / "mono")
    manifest = "version: 1\nenvironments: {prod: {}}\nservices: {api: {schema: s}}\n"
    files: dict[str, str | bytes | None] = {
        "README.md": "the monorepo\n",
        "ops/cfg/cfgctl.yaml": manifest,
        "ops/cfg/schemas/s.schema.json": '{"type": "object"}',
        "ops/cfg/config/prod/api.yaml": "port: 1\n",
    }
    first = mono.commit(files, "init")
    mono.commit({"ops/cfg/config/prod/api.yaml": "port: 2\n", "README.md": "v2\n"}, "two")
    out = tmp_path / "mono.backup"
    assert run_cli("-C", str(mono.workdir / "ops/cfg"), "backup", "create", str(out)).exit_code == 0
    assert read_backup(out).manifest["prefix"] == "ops/cfg/"
    assert run_cli("backup", "verify", str(out)).exit_code == 0
    result = run_cli("backup", "restore", str(out), str(mono.workdir), "--at", first)
    assert result.exit_code == 0, result.output
    assert mono.read("ops/cfg/config/prod/api.yaml") == "port: 1\n"
    assert mono.read("README.md") == "v2\n"  # outside the config repository: untouched


# --- secrets and the drill ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def secret_world(
    tmp_path_factory: pytest.TempPathFactory, env: pytest.MonkeyPatch
) -> tuple[Key, Path]:
    """A repository whose prod secret is set with alice's key, and its backup."""
    folder = tmp_path_factory.mktemp("secret")
    alice = make_key(folder, "alice")
    env.setenv("SOPS_AGE_KEY_FILE", str(alice.file))
    env.setenv("HOME", str(folder))
    repo = make_secret_repo(folder / "cfg", alice)
    set_secret(run_cli, repo, SECRET)
    secrets = "config/prod/payments.secrets.yaml"
    repo.commit({secrets: repo.read_bytes(secrets)}, "the secret")
    out = folder / "secret.backup"
    result = run_cli("-C", str(repo.workdir), "backup", "create", str(out))
    assert result.exit_code == 0, result.output
    env.delenv("SOPS_AGE_KEY_FILE")
    return alice, out


def test_a_backup_holds_no_plaintext_secret(secret_world: tuple[Key, Path], tmp_path: Path) -> None:
    _, out = secret_world
    assert SECRET.encode() not in out.read_bytes()
    members = _members(out)
    bundle = tmp_path / "b.bundle"
    bundle.write_bytes(members["repo.bundle"])
    subprocess.run(["git", "clone", "-q", "--bare", str(bundle), "clone"], cwd=tmp_path, check=True)
    clone = pygit2.Repository(str(tmp_path / "clone"))
    blobs = [clone[oid] for oid in clone.odb]
    texts = [bytes(b.data) for b in blobs if isinstance(b, pygit2.Blob)]
    assert any(b"ENC[AES256_GCM" in t for t in texts)  # the encrypted file as committed
    assert not any(SECRET.encode() in t for t in texts)
    assert SECRET.encode() not in members["manifest.json"]


def test_the_drill_opens_every_secret_with_the_right_key(
    secret_world: tuple[Key, Path], monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    alice, out = secret_world
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(alice.file))
    result = run_cli("backup", "drill", str(out))
    assert result.exit_code == 0, result.output
    assert "secrets: 1 of 1 files opened with the keys at hand" in result.stdout
    assert "ok: restore rehearsed in" in result.stdout
    data = json.loads(run_cli("backup", "drill", str(out), "-f", "json").stdout)
    assert data["ok"] is True and data["secrets"][0]["opened"] is True
    assert {"checksums", "unpack", "digests", "secrets", "total"} == set(data["seconds"])


def test_the_drill_fails_without_the_key_and_names_its_recipient(
    secret_world: tuple[Key, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    alice, out = secret_world
    bob = make_key(tmp_path, "bob")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(bob.file))
    result = run_cli("backup", "drill", str(out))
    assert result.exit_code == 1
    assert "secrets: 0 of 1 files opened" in result.stdout
    assert (
        f"config/prod/payments.secrets.yaml: no key at hand opens it (recipients: {alice.recipient})"
        in result.stdout
    )
    assert "the drill failed: 1 of 1 secrets files cannot be opened" in result.stderr
    assert "SOPS_AGE_KEY_FILE" in result.stderr

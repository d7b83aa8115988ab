"""`cfgctl secrets decrypt|encrypt FILE` on any sops file, in a config repository or not, against
the real sops binary and real age keys: the same bytes as `sops -d`, the same rules as
`sops encrypt`, exit 3 without a key, a refusal for a tampered file, no plaintext left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfgctl.repo import sops
from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import Key, set_secret

pytestmark = pytest.mark.slow  # the real sops binary in every test

VALUE = "Any-file-secret-value-0003"
SECRET_VALUES.add(VALUE)

FILES = {
    "app.yaml": (
        "# the app's secrets\ndb:\n  password: " + VALUE + "  # inline\n"
        "  port: 5432\nlist: [1, 2.50, true, null]\nmulti: |\n  line one\n  line two\n"
        "unicode: 'héllo ✓'\n"
    ),
    "app.json": '{"db": {"password": "' + VALUE + '", "port": 5432}, "l": [1, 2.50, null]}\n',
    "app.env": f"PASSWORD={VALUE}\nPORT=5432\n",
    "app.ini": f"[db]\npassword = {VALUE}\nport = 5432\n",
}
CFGCTL = str(Path(sys.executable).parent / "cfgctl")


def sops_cli(*args: str, cwd: Path, key: Path | None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key or "/nonexistent")}
    return subprocess.run(
        [sops.sops_path(), "--disable-version-check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )


def cfgctl(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [CFGCTL, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        check=False,
    )


def files_holding(folder: Path, needle: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


@pytest.fixture
def outside(tmp_path: Path, alice: Key) -> Path:
    """A folder in no config repository, with one sops file of each format, for alice."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
        done = sops_cli(
            "encrypt", "--in-place", "--age", alice.recipient, name, cwd=folder, key=None
        )
        assert done.returncode == 0, done.stderr
    assert files_holding(folder, VALUE) == []
    return folder


@pytest.mark.parametrize("name", sorted(FILES))
def test_decrypt_prints_what_sops_prints(name: str, outside: Path, alice: Key) -> None:
    expected = sops_cli("-d", name, cwd=outside, key=alice.file)
    assert expected.returncode == 0 and VALUE.encode() in expected.stdout
    got = cfgctl("secrets", "decrypt", name, cwd=outside)
    assert got.returncode == 0, got.stderr
    assert got.stdout == expected.stdout and got.stderr == b""
    nested = cfgctl("secrets", "decrypt", f"elsewhere/{name}", cwd=outside.parent)
    assert nested.stdout == expected.stdout


def test_decrypt_in_a_repository_prints_what_sops_prints(
    secret_repo: ConfigRepo, alice: Key, run_cli: RunCli
) -> None:
    set_secret(run_cli, secret_repo, VALUE)
    rel = "config/prod/payments.secrets.yaml"
    expected = sops_cli("-d", rel, cwd=secret_repo.workdir, key=alice.file)
    got = cfgctl("secrets", "decrypt", rel, cwd=secret_repo.workdir)
    assert got.returncode == 0 and got.stdout == expected.stdout


def test_decrypt_without_a_key_is_exit_3_and_with_the_usual_key_sources_works(
    outside: Path, alice: Key, bob: Key, tmp_path: Path
) -> None:
    for env in ({"SOPS_AGE_KEY_FILE": str(bob.file)}, {"SOPS_AGE_KEY_FILE": "/nonexistent"}):
        refused = cfgctl("secrets", "decrypt", "app.yaml", cwd=outside, env=env)
        assert refused.returncode == 3, refused.stderr
        assert b"no key can decrypt" in refused.stderr and refused.stdout == b""
        assert VALUE.encode() not in refused.stderr
    home = tmp_path / "home-with-key"
    (home / ".config/sops/age").mkdir(parents=True)
    (home / ".config/sops/age/keys.txt").write_bytes(alice.file.read_bytes())
    no_file = {k: v for k, v in os.environ.items() if k != "SOPS_AGE_KEY_FILE"}
    sources = [
        {"SOPS_AGE_KEY": alice.file.read_text()},
        {"HOME": str(home)},  # ~/.config/sops/age/keys.txt
        {"XDG_CONFIG_HOME": str(home / ".config")},
    ]
    for extra in sources:
        proc = subprocess.run(
            [CFGCTL, "secrets", "decrypt", "app.json"],
            cwd=outside,
            env={**no_file, **extra},
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 0, (list(extra), proc.stderr)
        assert json.loads(proc.stdout)["db"]["password"] == VALUE


@pytest.mark.parametrize("part", ["mac", "value", "tag"])
def test_decrypt_refuses_a_tampered_file(part: str, outside: Path) -> None:
    path = outside / "app.yaml"
    text = path.read_text()
    marker = {
        "mac": "mac: ENC[AES256_GCM,data:",
        "value": "password: ENC[AES256_GCM,data:",
        "tag": ",tag:",
    }[part]
    at = text.index(marker, text.index("password: ENC[") if part == "tag" else 0) + len(marker)
    path.write_text(text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :])
    refused = cfgctl("secrets", "decrypt", "app.yaml", cwd=outside)
    assert refused.returncode == 2, refused.stderr
    assert b"app.yaml: error: the file was tampered with" in refused.stderr
    assert refused.stdout == b"" and VALUE.encode() not in refused.stderr


def test_decrypt_refuses_a_plain_file(tmp_path: Path) -> None:
    (tmp_path / "plain.yaml").write_text(f"password: {VALUE}\n")
    refused = cfgctl("secrets", "decrypt", "plain.yaml", cwd=tmp_path)
    assert refused.returncode == 2 and b"not encrypted" in refused.stderr
    assert VALUE.encode() not in refused.stdout + refused.stderr
    missing = cfgctl("secrets", "decrypt", "missing.yaml", cwd=tmp_path)
    assert missing.returncode == 2 and b"cannot read missing.yaml" in missing.stderr


def test_encrypt_outside_a_repository_uses_the_nearest_sops_yaml(
    tmp_path: Path, alice: Key, bob: Key
) -> None:
    top = tmp_path / "project"
    deep = top / "deploy" / "prod"
    deep.mkdir(parents=True)
    (top / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: \\.env$\n    age: {bob.recipient}\n"
        f"  - path_regex: .*\n    age: {alice.recipient}\n"
    )
    (deep / "app.env").write_text(FILES["app.env"])
    (deep / "app.yaml").write_text(FILES["app.yaml"])
    (deep / "app.yaml").chmod(0o600)
    for name in ("app.env", "app.yaml"):
        done = cfgctl("secrets", "encrypt", name, cwd=deep)
        assert done.returncode == 0, done.stderr
        assert VALUE.encode() not in done.stdout + done.stderr
    assert files_holding(tmp_path, VALUE) == []  # no plaintext anywhere: not beside, not in tmp
    assert sorted(p.name for p in deep.iterdir()) == ["app.env", "app.yaml"]
    assert (deep / "app.yaml").stat().st_mode & 0o777 == 0o600
    mine = sops_cli("-d", "app.yaml", cwd=deep, key=alice.file)
    assert mine.returncode == 0 and b"password: " + VALUE.encode() in mine.stdout
    assert sops_cli("-d", "app.env", cwd=deep, key=bob.file).stdout == FILES["app.env"].encode()
    again = cfgctl("secrets", "encrypt", "app.yaml", cwd=deep)
    assert again.returncode == 2 and b"encrypted already" in again.stderr


def test_encrypt_with_age_or_refused_without_a_rule(tmp_path: Path, bob: Key) -> None:
    (tmp_path / "app.json").write_text(FILES["app.json"])
    before = (tmp_path / "app.json").read_bytes()
    refused = cfgctl("secrets", "encrypt", "app.json", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert b"no creation rule of a .sops.yaml" in refused.stderr and b"--age" in refused.stderr
    assert (tmp_path / "app.json").read_bytes() == before
    bad = cfgctl("secrets", "encrypt", "--age", "age1nonsense", "app.json", cwd=tmp_path)
    assert bad.returncode == 2 and b"not an age recipient" in bad.stderr
    done = cfgctl("secrets", "encrypt", "--age", bob.recipient, "app.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert files_holding(tmp_path, VALUE) == []
    plain = sops_cli("-d", "app.json", cwd=tmp_path, key=bob.file)
    assert json.loads(plain.stdout) == json.loads(before)

"""The hash-chained audit log: appends, redaction, refusal when it cannot be written, and
verification that catches every kind of tampering."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgctl.cli.commands.audit import app as audit_cli
from cfgctl.errors import EnvError
from cfgctl.server.auditlog import (
    GENESIS,
    MASK,
    AuditLog,
    AuditUnavailable,
    line_hash,
    redact,
    verify,
)
from tests.support.subapp import run_app

TOKEN = "cfgctl_0123456789ab_" + "S" * 43


def _log(path: Path, count: int = 5) -> list[bytes]:
    log = AuditLog(path)
    for i in range(count):
        log.append(
            f"user{i}",
            "edit",
            "payments@staging",
            "allowed",
            request_id=f"r-{i}",
            commit="ab" * 20,
            time="2026-12-02T14:50:00.000Z",
        )
    return path.read_bytes().splitlines()


def _write(path: Path, lines: list[bytes], *, newline: bool = True) -> None:
    path.write_bytes(b"\n".join(lines) + (b"\n" if newline else b""))


def test_lines_chain_and_carry_the_fields(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _log(path)
    entries = [json.loads(line) for line in lines]
    assert entries[0]["prev"] == GENESIS
    for before, line, entry in zip(lines, lines[1:], entries[1:], strict=False):
        assert entry["prev"] == line_hash(before)
        assert line.isascii()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert set(entries[0]) == {
        *("action", "commit", "detail", "object", "outcome", "prev"),
        *("request_id", "seq", "subject", "time"),
    }
    result = verify(path)
    assert result.ok and result.lines == 5 and result.head == f"5:{line_hash(lines[-1])}"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # A second writer (another server process) continues the same chain.
    AuditLog(path).append("x", "read", "search@prod", "denied")
    assert verify(path).ok and verify(path).lines == 6


def test_values_and_tokens_never_reach_the_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append(
        f"Bearer {TOKEN}",
        "edit",
        "payments@prod",
        "allowed",
        detail={
            "keys": ["db.password", "port"],
            "value": "hunter2",
            "old_value": "hunter1",
            "patch": {"db": {"password": "s3cret"}, "port": 8080},
            "note": f"sent {TOKEN}",
            "Secret-Token": "x",
            "blob": b"raw",
        },
    )
    text = path.read_text()
    for leaked in ("hunter2", "hunter1", "s3cret", TOKEN, "raw"):
        assert leaked not in text
    detail = json.loads(text)["detail"]
    assert detail["keys"] == ["db.password", "port"]  # key names are no secret
    assert detail["value"] == MASK and detail["patch"] == {"db": {"password": MASK}, "port": 8080}
    assert json.loads(text)["subject"] == f"Bearer {MASK}"
    assert redact({"tokens": [TOKEN], "count": 2}) == {"tokens": MASK, "count": 2}
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJlcmluIn0.c2lnbmF0dXJl"  # an OIDC bearer token
    assert redact({"note": f"sent {jwt}!"}) == {"note": f"sent {MASK}!"}
    # The last word of a key says what its value is: an id of a token is no secret.
    assert redact({"token_id": "3f9a", "value_count": 3}) == {"token_id": "3f9a", "value_count": 3}


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    logs = [AuditLog(path), AuditLog(path)]  # two "processes", two threads each

    def work(log: AuditLog, n: int) -> None:
        for i in range(25):
            log.append(f"t{n}", "read", "payments@staging", "allowed", request_id=str(i))

    threads = [threading.Thread(target=work, args=(logs[n % 2], n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = verify(path)
    assert result.ok and result.lines == 100, result


@pytest.mark.parametrize(
    ("tamper", "bad_line", "why"),
    [
        ("edit a byte", 3, "its hash is not line 4's prev: it was changed"),
        ("edit the prev", 3, "its hash is not line 4's prev: it was changed (or that prev was)"),
        ("edit the json", 3, "changed by hand"),
        ("delete a line", 3, "seq 4 where 3 was due"),
        ("swap two lines", 2, "seq 3 where 2 was due"),
        ("insert a copy", 4, "seq 3 where 4 was due"),
        ("truncate", 5, "partial line"),
        ("break json", 2, "not a JSON line"),
        ("replace the first", 1, "does not start the chain"),
    ],
)
def test_verify_catches_tampering(tmp_path: Path, tamper: str, bad_line: int, why: str) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _log(path)
    newline = True
    if tamper == "edit a byte":
        lines[2] = lines[2].replace(b'"user2"', b'"user9"')
    elif tamper == "edit the prev":
        entry = json.loads(lines[3])
        entry["prev"] = "f" * 64
        lines[3] = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
    elif tamper == "edit the json":
        lines[2] = lines[2].replace(b'"outcome":"allowed"', b'"outcome": "allowed"')
    elif tamper == "delete a line":
        del lines[2]
    elif tamper == "swap two lines":
        lines[1], lines[2] = lines[2], lines[1]
    elif tamper == "insert a copy":
        lines.insert(3, lines[2])
    elif tamper == "truncate":
        lines[-1] = lines[-1][:-10]
        newline = False
    elif tamper == "break json":
        lines[1] = lines[1][:-1]
    elif tamper == "replace the first":
        entry = json.loads(lines[0])
        entry["prev"] = "1" * 64
        lines[0] = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
    _write(path, lines, newline=newline)
    result = verify(path)
    assert not result.ok
    assert (result.first_bad_line, result.lines) == (bad_line, bad_line - 1), result
    assert why in result.reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_get_a_verdict_and_nothing_else(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.jsonl"
        path.write_bytes(data)
        result = verify(path)
    assert result.ok is (result.first_bad_line is None)
    assert result.lines >= 0 and (result.ok or result.reason)


def test_an_anchor_catches_cut_tails_and_rewritten_chains(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _log(path)
    head = verify(path).head
    AuditLog(path).append("later", "read", "search@prod", "allowed")
    assert verify(path, anchor=head).ok  # the log grew past the anchor: fine
    _write(path, lines[:3])  # whole lines cut from the end: a chain alone cannot tell
    assert verify(path).ok
    cut = verify(path, anchor=head)
    assert not cut.ok and cut.first_bad_line == 4 and "lines were removed" in cut.reason
    # Rewriting every line after an edit makes a valid chain, but not the anchored one.
    path.unlink()
    log = AuditLog(path)
    for i in range(5):
        log.append("forger" if i == 1 else f"user{i}", "edit", "payments@staging", "allowed")
    rewritten = verify(path, anchor=head)
    assert not rewritten.ok and rewritten.first_bad_line == 5
    with pytest.raises(Exception, match="not an anchor"):
        verify(path, anchor="five:abc")


def test_append_refuses_when_it_cannot_write(tmp_path: Path) -> None:
    # root ignores file modes: a folder where the log should be makes the write fail for all.
    blocked = tmp_path / "audit.jsonl"
    blocked.mkdir()
    with pytest.raises(AuditUnavailable) as caught:
        AuditLog(blocked).append("alice", "reveal", "payments@prod", "allowed")
    assert isinstance(caught.value, EnvError) and caught.value.exit_code == 3
    assert "writes and reveals are refused" in (caught.value.hint or "")
    if os.geteuid() != 0:
        path = tmp_path / "ro.jsonl"
        _log(path, 1)
        path.chmod(0o400)
        with pytest.raises(AuditUnavailable):
            AuditLog(path).append("alice", "reveal", "payments@prod", "allowed")


def test_append_refuses_on_a_full_disk(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with pytest.raises(AuditUnavailable, match="No space left on device"):
        AuditLog(Path("/dev/full")).append("alice", "edit", "payments@prod", "allowed")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 16 KiB filesystem (tmpfs), where root may mount one; skipped elsewhere."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small filesystem needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def test_a_real_full_disk_and_a_read_only_one(small_disk: Path) -> None:
    path = small_disk / "audit.jsonl"
    log = AuditLog(path)
    with pytest.raises(AuditUnavailable, match="No space left on device"):  # noqa: PT012
        for i in range(10_000):
            log.append(
                "alice", "edit", "payments@prod", "allowed", detail={"n": "x" * 300 + str(i)}
            )
    # The line cut off by the full disk was taken back: the log is a chain of whole lines.
    result = verify(path)
    assert result.ok and result.lines > 10, result
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(AuditUnavailable, match="Read-only file system"):
        AuditLog(path).append("alice", "reveal", "payments@prod", "allowed")
    assert verify(path).ok


def test_append_refuses_after_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _log(path, 2)
    _write(path, [lines[0], lines[1][:20]], newline=False)
    with pytest.raises(AuditUnavailable, match="ends in a partial line"):
        AuditLog(path).append("alice", "edit", "payments@prod", "allowed")
    path.write_bytes(b"garbage\n")
    with pytest.raises(AuditUnavailable, match="not an audit entry"):
        AuditLog(path).append("alice", "edit", "payments@prod", "allowed")


def test_cli_verify(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _log(path)
    ok = run_app(audit_cli, "audit", "verify", str(path))
    assert ok.exit_code == 0 and f"{path}: ok, 5 lines, head 5:" in ok.stdout
    as_json = run_app(audit_cli, "audit", "verify", str(path), "--format", "json")
    assert json.loads(as_json.stdout)["ok"] is True
    del lines[1]
    _write(path, lines)
    bad = run_app(audit_cli, "audit", "verify", str(path))
    assert bad.exit_code == 1 and f"{path}:2: error: seq 3 where 2 was due" in bad.stderr
    missing = run_app(audit_cli, "audit", "verify", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "cannot read the audit log" in missing.stderr
    bad_anchor = run_app(audit_cli, "audit", "verify", str(path), "--anchor", "x")
    assert bad_anchor.exit_code == 2 and "not an anchor" in bad_anchor.stderr

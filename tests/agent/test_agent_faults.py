"""The agent never destroys or mis-delivers a file, under faults injected on real processes:
backups per target, lost state, kill -9 during a health check, colliding targets, secrets no
key opens, files edited by hand."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.agentworld import AgentWorld, config, wait_for

pytestmark = pytest.mark.slow  # agent processes against real Git remotes


def script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def target(world: AgentWorld, name: str) -> dict:  # type: ignore[type-arg]
    found = [t for t in world.status()["targets"] if t["path"].endswith(name)]
    assert len(found) == 1, found
    return found[0]  # type: ignore[no-any-return]


PROD = "  - {service: payments, env: prod, path: %s}\n"
PRIVATE = b"# written by hand, not by the agent\npassword: hunter2-private\n"


def test_two_targets_never_share_a_backup(world: AgentWorld) -> None:
    # `out/x/cfg.yaml` and `out/x_cfg.yaml` once mapped to the same backup name
    nested, flat = world.root / "out/x/cfg.yaml", world.root / "out/x_cfg.yaml"
    flat.parent.mkdir(parents=True)
    flat.write_bytes(PRIVATE)
    flat.chmod(0o600)
    if os.getuid() == 0:
        os.chown(flat, 1234, 5678)
    nested_health = script(world.root / "nested.sh", f"! grep -q 'replicas: 13' {nested}\n")
    flat_health = script(world.root / "flat.sh", "exit 1\n")  # never healthy
    config(
        world,
        f"  - {{service: payments, env: prod, path: {nested}, "
        f"health: {{command: [{nested_health}], timeout: 300ms}}}}\n"
        f"  - {{service: payments, env: prod, path: {flat}, "
        f"health: {{command: [{flat_health}], timeout: 300ms}}}}\n",
    )

    def flat_untouched() -> None:
        st = flat.stat()
        assert flat.read_bytes() == PRIVATE and oct(st.st_mode & 0o777) == "0o600"
        if os.getuid() == 0:
            assert (st.st_uid, st.st_gid) == (1234, 5678)

    first = json.loads(world.once("--format", "json").stdout)
    assert first["failed"] == [f"payments@prod:{flat}"]
    good = nested.read_bytes()
    assert b"replicas: 6" in good and oct(nested.stat().st_mode & 0o777) == "0o644"
    flat_untouched()  # its own backup, mode and owner came back

    world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 13")
    second = json.loads(world.once("--format", "json").stdout)
    assert sorted(second["failed"]) == sorted([f"payments@prod:{nested}", f"payments@prod:{flat}"])
    assert nested.read_bytes() == good  # its own previous content, not the other's
    flat_untouched()
    assert target(world, "x/cfg.yaml")["state"] == "rolled-back"
    assert len(list((world.state_dir / "backups").glob("*.bak"))) == 2


def test_a_rollback_with_the_state_lost_keeps_the_running_file(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    health = script(world.root / "health.sh", f"! grep -q 'replicas: 13' {out}\n")
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, "
        f"health: {{command: [{health}], timeout: 300ms}}}}\n",
    )
    assert world.once().returncode == 0
    running = out.read_bytes()
    (world.state_dir / "state.json").unlink()  # the backups stay

    world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 13")
    assert world.once().returncode == 1
    assert out.read_bytes() == running  # what ran is back, not "no file"
    status = target(world, "payments.yaml")
    assert status["state"] == "rolled-back"
    assert status["on_disk"]["digest"].startswith("sha256:")


def test_kill_9_during_the_health_check_is_checked_again_before_anything_else(
    world: AgentWorld,
) -> None:
    world.separate = True  # a reload or check kills its parent: each command a process
    out = world.root / "payments.yaml"
    root = world.root
    # The first health check of each new value kills the agent (its parent) with kill -9;
    # replicas 7 is healthy afterwards, replicas 13 never.
    health = script(
        root / "health.sh",
        f"for n in 7 13; do\n"
        f'  if grep -q "replicas: $n" {out} && [ ! -e {root}/killed-$n ]; then\n'
        f"    touch {root}/killed-$n; kill -9 $PPID; sleep 5\n"
        f"  fi\n"
        f"done\n"
        f"! grep -q 'replicas: 13' {out}\n",
    )
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, "
        f"health: {{command: [{health}], timeout: 300ms}}}}\n",
    )
    first = world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 9")
    assert world.once().returncode == 0
    good = out.read_bytes()

    seven = world.edit("config/prod/payments.yaml", "replicas: 9", "replicas: 7")
    assert world.once().returncode == -9  # killed during the health check
    cut = target(world, "payments.yaml")
    assert cut["state"] == "in-flight" and cut["on_disk"]["commit"] == seven
    assert cut["commit"] == first  # the last confirmed one, and the status says so
    assert world.once().returncode == 0  # checked again at start: healthy now
    status = target(world, "payments.yaml")
    assert status["state"] == "in-sync" and status["commit"] == seven
    assert status["on_disk"]["commit"] == seven
    good = out.read_bytes()

    bad = world.edit("config/prod/payments.yaml", "replicas: 7", "replicas: 13")
    assert world.once().returncode == -9
    assert b"replicas: 13" in out.read_bytes()  # never checked: on disk, unconfirmed
    assert world.once().returncode == 1  # the check fails at start: rolled back
    assert out.read_bytes() == good
    status = target(world, "payments.yaml")
    assert status["state"] == "rolled-back" and status["failed_commit"] == bad
    assert status["on_disk"]["commit"] == seven


def test_kill_9_during_a_rollback_is_finished_at_restart(world: AgentWorld) -> None:
    world.separate = True  # a reload or check kills its parent: each command a process
    out, root = world.root / "payments.yaml", world.root
    reloads, checks = root / "reloads.log", root / "checks.log"
    # the reload of the rollback (replicas 6 again, after the bad one was seen) kills the agent
    reload = script(
        root / "reload.sh",
        f"echo x >> {reloads}\n"
        f"if grep -q 'replicas: 6' {out} && [ -e {root}/bad-seen ] && [ ! -e {root}/killed ]; then\n"
        f"  touch {root}/killed; kill -9 $PPID; sleep 5\n"
        f"fi\n",
    )
    health = script(
        root / "health.sh",
        f"if grep -q 'replicas: 13' {out}; then echo x >> {checks}; touch {root}/bad-seen; "
        f"exit 1; fi\n",
    )
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, reload: {{command: [{reload}]}}, "
        f"health: {{command: [{health}], timeout: 300ms}}}}\n",
    )
    assert world.once().returncode == 0
    good = out.read_bytes()
    bad = world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 13")
    assert world.once().returncode == -9  # killed in the rollback's reload
    checked = checks.read_text()
    assert world.once().returncode == 1  # the rollback is finished first
    assert out.read_bytes() == good
    status = target(world, "payments.yaml")
    assert status["state"] == "rolled-back" and status["failed_commit"] == bad
    assert "rollback finished after a restart" in status["last_error"]
    assert reloads.read_text().count("x") == 4  # apply, bad apply, cut rollback, rollback
    assert checks.read_text() == checked  # the bad commit was not delivered again
    assert world.once().returncode == 1 and reloads.read_text().count("x") == 4


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("{root}/sub/../payments.yaml", "as the target at"),
        ("{root}/link/payments.yaml", "as the target at"),
        ("{state}/backups/x.yaml", "inside state_dir"),
        ("{state}/state.json", "inside state_dir"),
        ("{state}/audit.jsonl", "inside state_dir"),
        ("{root}/agent.yaml", "agent's configuration"),
    ],
)
def test_colliding_targets_are_refused_at_start(world: AgentWorld, path: str, why: str) -> None:
    (world.root / "sub").mkdir()
    (world.root / "link").symlink_to(world.root)
    second = path.format(root=world.root, state=world.state_dir)
    config(
        world,
        f"  - {{service: payments, env: prod, path: {world.root / 'payments.yaml'}}}\n"
        f"  - {{service: search, env: prod,\n      path: {second}}}\n",
    )
    before = world.config.read_bytes()
    for command in ("once", "run"):
        result = world.cli("agent", command, "--config", str(world.config))
        assert result.returncode == 2, result.stderr
        assert "agent.yaml:5" in result.stderr and why in result.stderr
        assert "Traceback" not in result.stderr
    assert not (world.root / "payments.yaml").exists()
    assert world.config.read_bytes() == before


def test_secrets_no_key_opens_are_never_delivered(world: AgentWorld) -> None:
    from tests.support.secretrepo import make_key

    key, other = make_key(world.root, "team"), make_key(world.root, "not-the-team")
    out = world.root / "payments.yaml"
    config(world, PROD % out)
    world.write_config(world.config.read_text() + f"age_key_file: {other.file}\n")
    assert world.once().returncode == 0
    running = out.read_bytes()
    world.push_secret(key.file, key.recipient, "Never-Delivered-Secret-7741")

    result = world.once("--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"] == [f"payments@prod:{out}"]
    assert out.read_bytes() == running  # the old file stays; no ciphertext delivered
    status = target(world, "payments.yaml")
    assert status["state"] == "failed"
    assert "no key opens config/prod/payments.secrets.yaml" in status["last_error"]

    world.write_config(world.config.read_text().replace(str(other.file), str(key.file)))
    assert world.once().returncode == 0  # the agent's key fixed: delivered at the next pass
    assert "Never-Delivered-Secret-7741" in out.read_text()


def test_a_file_edited_by_hand_is_written_back_and_counted(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    config(world, PROD % out)
    world.write_config(
        world.config.read_text().replace("poll_interval: 30s", "poll_interval: 1s")
        + "http: {listen: '127.0.0.1:0'}\n"
    )
    proc = world.start()
    wait_for(lambda: out.exists(), what="the first delivery")
    good = out.read_bytes()
    out.write_text("replicas: 1  # an edit by hand\n")
    wait_for(lambda: out.read_bytes() == good, what="the file written back")
    metrics = world.get("/metrics")[1]
    assert "cfgctl_agent_drifts_total 1" in metrics
    assert [e for e in _audit(world) if e["action"] == "drift"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_drift_report_only_reports(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    config(world, PROD % out, "drift: report\n")
    assert world.once().returncode == 0
    good = out.read_bytes()
    edited = b"replicas: 1  # an edit by hand\n"
    out.write_bytes(edited)
    status = target(world, "payments.yaml")  # seen at once, before any pass
    assert status["state"] == "drifted" and status["on_disk"]["commit"] == "unknown"

    result = world.once("--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["drifted"] == [f"payments@prod:{out}"]
    assert out.read_bytes() == edited  # reported, not written back
    status = target(world, "payments.yaml")
    assert status["state"] == "drifted" and "edited by hand" in status["last_error"]
    assert len([e for e in _audit(world) if e["action"] == "drift"]) == 1
    world.once()
    assert len([e for e in _audit(world) if e["action"] == "drift"]) == 1  # once per edit
    out.write_bytes(good)  # the edit undone
    assert world.once().returncode == 0
    assert target(world, "payments.yaml")["state"] == "in-sync"


def _audit(world: AgentWorld) -> list[dict]:  # type: ignore[type-arg]
    path = world.state_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


# Runs cfgctl with a SIGKILL of itself right before its Nth os.replace (every atomic step of a
# pass is one: the backup, the in-flight marker, the target's swap, the state): `python -c
# CRASH_AT N cfgctl-args...`; N = 0 counts them into $CFGCTL_TEST_RENAMES instead.
CRASH_AT = """
import atexit, os, runpy, signal, sys
n = int(sys.argv.pop(1))
calls = 0
real = os.replace
def replace(src, dst, *args, **kwargs):
    global calls
    calls += 1
    if calls == n:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *args, **kwargs)
os.replace = replace
if n == 0:
    atexit.register(lambda: open(os.environ["CFGCTL_TEST_RENAMES"], "w").write(str(calls)))
sys.argv[0] = "cfgctl"
runpy.run_module("cfgctl", run_name="__main__")
"""


@pytest.mark.parametrize("healthy", [True, False], ids=["healthy", "rolled-back"])
def test_kill_9_before_every_rename_of_a_pass_leaves_one_whole_file(
    world: AgentWorld, healthy: bool
) -> None:
    out, root = world.root / "out" / "payments.yaml", world.root
    out.parent.mkdir()
    health = script(root / "health.sh", f"! grep -q 'replicas: 13' {out}\n")
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, "
        f"health: {{command: [{health}], timeout: 300ms}}}}\n",
    )
    assert world.once().returncode == 0
    old = out.read_bytes()
    new_value = b"replicas: 7" if healthy else b"replicas: 13"
    commit = world.edit("config/prod/payments.yaml", "replicas: 6", new_value.decode())
    saved = root / "saved-state"
    shutil.copytree(world.state_dir, saved, symlinks=True)

    def crash_at(n: int) -> int:
        shutil.rmtree(world.state_dir)
        shutil.copytree(saved, world.state_dir, symlinks=True)
        out.write_bytes(old)
        args = [sys.executable, "-c", CRASH_AT, str(n), "agent", "once", "--config"]
        env = {**os.environ, "CFGCTL_TEST_RENAMES": str(root / "renames")}
        done = subprocess.run([*args, str(world.config)], env=env, capture_output=True, timeout=120)
        return done.returncode

    assert crash_at(0) == (0 if healthy else 1)
    renames = int((root / "renames").read_text())
    print(f"{renames} renames in a pass that {'applies' if healthy else 'rolls back'}")
    assert renames >= 4, renames  # backup, in-flight marker, swap, state at the least
    final = out.read_bytes()
    assert (new_value in final) if healthy else (final == old)
    seen = set()
    for n in range(1, renames + 1):
        assert crash_at(n) == -signal.SIGKILL, n
        seen.add(out.read_bytes())  # the old file or the new one, whole
        # beside the file: the trace context of its delivery (cfgctl.telemetry), nothing else
        side = {f".{out.name}.traceparent"}
        leftovers = {p.name for p in out.parent.iterdir()} - side - {out.name}
        assert world.once().returncode == (0 if healthy else 1), n  # finished or undone
        assert out.read_bytes() == final, n
        status = target(world, "payments.yaml")
        assert status["on_disk"]["digest"] == "sha256:" + hashlib.sha256(final).hexdigest(), n
        if healthy:
            assert status["state"] == "in-sync" and status["commit"] == commit, (n, status)
        else:
            assert status["state"] == "rolled-back" and status["failed_commit"] == commit, n
        # a temporary file of the cut-off write is gone too (it may hold secrets)
        assert {p.name for p in out.parent.iterdir()} - side == {out.name}, (n, leftovers)
    others = seen - {old}
    assert len(others) <= 1 and all(new_value in o for o in others), seen

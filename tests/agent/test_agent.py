"""The sync agent with real processes: a bare Git remote, `cfgctl agent once|run` as a process,
files written on disk, reload and health commands, HTTP endpoints and signed webhooks."""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.agentworld import AgentWorld, config, wait_for

pytestmark = pytest.mark.slow  # agent processes against real Git remotes

SECRET = "webhook-test-secret"


def read_yaml(path: Path) -> dict:  # type: ignore[type-arg]
    from cfgctl.repo.yamlio import parse

    data = parse(path.read_text(), str(path)).data
    assert isinstance(data, dict)
    return data


def audit(world: AgentWorld) -> list[dict]:  # type: ignore[type-arg]
    path = world.state_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


PROD = "  - {service: payments, env: prod, path: %s}\n"


def test_a_merged_change_reaches_the_file_and_another_env_does_not_touch_it(
    world: AgentWorld,
) -> None:
    out = world.root / "etc/payments.yaml"
    config(world, PROD % out)
    first = world.once()
    assert first.returncode == 0, first.stderr
    assert read_yaml(out)["replicas"] == 6
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    inode = out.stat().st_ino

    world.edit("config/staging/_defaults.yaml", "", "# staging only\nreplicas: 2\n")
    result = world.once("--format", "json")
    assert json.loads(result.stdout)["unchanged"] == [f"payments@prod:{out}"]
    assert out.stat().st_ino == inode  # not rewritten

    world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 7")
    result = world.once("--format", "json")
    assert json.loads(result.stdout)["applied"] == [f"payments@prod:{out}"]
    assert read_yaml(out)["replicas"] == 7
    entries = [e for e in audit(world) if e["action"] == "apply"]
    assert len(entries) == 2 and entries[-1]["outcome"] == "ok"


def test_mode_and_owner_are_kept(world: AgentWorld) -> None:
    out = world.root / "etc/payments.yaml"
    out.parent.mkdir()
    out.write_text("old: true\n")
    out.chmod(0o640)
    if os.getuid() == 0:
        os.chown(out, 1234, 5678)
    config(world, PROD % out)
    assert world.once().returncode == 0
    st = out.stat()
    assert oct(st.st_mode & 0o777) == "0o640"
    if os.getuid() == 0:
        assert (st.st_uid, st.st_gid) == (1234, 5678)


def test_broken_yaml_or_an_invalid_value_is_never_delivered(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    config(world, PROD % out)
    assert world.once().returncode == 0
    good = out.read_bytes()

    world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: [6")
    result = world.once("--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["failed"] == [f"payments@prod:{out}"]
    assert out.read_bytes() == good
    target = world.status()["targets"][0]
    assert target["state"] == "invalid" and "refused" in target["last_error"]

    world.edit("config/prod/payments.yaml", "replicas: [6", "replicas: 500")  # schema: <= 100
    result = world.once("--format", "json")
    assert result.returncode == 1 and out.read_bytes() == good
    assert [e["action"] for e in audit(world)][-2:] == ["refuse", "refuse"]

    world.edit("config/prod/payments.yaml", "replicas: 500", "replicas: 8")
    assert world.once().returncode == 0
    assert read_yaml(out)["replicas"] == 8


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_a_change_that_fails_health_is_rolled_back_and_not_retried(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    reloads = world.root / "reloads.log"
    reload = _script(world.root / "reload.sh", f'echo "$CFGCTL_SERVICE" >> {reloads}\n')
    # healthy unless the file says replicas: 13
    health = _script(world.root / "health.sh", f"! grep -q 'replicas: 13' {out}\n")
    later = world.root / "search.yaml"
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, reload: {{command: [{reload}]}}, "
        f"health: {{command: [{health}], timeout: 1s, interval: 100ms}}}}\n"
        f"  - {{service: search, env: prod, path: {later}, wave: 2}}\n",
    )
    assert world.once().returncode == 0
    good = out.read_bytes()
    assert later.exists()
    search_before = later.read_bytes()

    world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 13")
    result = world.once("--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["failed"] == [f"payments@prod:{out}"]
    assert out.read_bytes() == good  # the last good file is back
    assert reloads.read_text().count("payments") == 3  # first apply, bad apply, rollback
    assert later.read_bytes() == search_before
    rollback = audit(world)[-1]
    assert rollback["action"] == "rollback" and rollback["outcome"] == "rolled-back"

    again = world.once("--format", "json")  # the same commit is not tried again
    assert json.loads(again.stdout)["failed"] == [f"payments@prod:{out}"]
    assert reloads.read_text().count("payments") == 3

    world.edit("config/prod/payments.yaml", "replicas: 13", "replicas: 9")
    assert world.once().returncode == 0
    assert read_yaml(out)["replicas"] == 9


def test_a_failed_wave_stops_later_waves(world: AgentWorld) -> None:
    first, second = world.root / "payments.yaml", world.root / "search.yaml"
    health = _script(world.root / "health.sh", f"! grep -q 'timeout_seconds: 99' {first}\n")
    config(
        world,
        f"  - {{service: payments, env: prod, path: {first}, wave: 1, "
        f"health: {{command: [{health}], timeout: 500ms}}}}\n"
        f"  - {{service: search, env: prod, path: {second}, wave: 2}}\n",
    )
    assert world.once().returncode == 0
    before = second.read_bytes()
    world.edit("config/base/_defaults.yaml", "timeout_seconds: 30", "timeout_seconds: 99")
    result = json.loads(world.once("--format", "json").stdout)
    assert result["failed"] == [f"payments@prod:{first}"]
    assert result["blocked"] == [f"search@prod:{second}"]
    assert second.read_bytes() == before


def _window_around(now: datetime, open_now: bool) -> str:
    start = now + (timedelta(hours=-1) if open_now else timedelta(hours=2))
    end = start + timedelta(hours=2 if open_now else 1)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[start.weekday()]
    return f"{day} {start:%H:%M}-{end:%H:%M} UTC"


def test_windows_hold_a_change_until_they_open(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    now = datetime.now(UTC)
    closed = _window_around(now, open_now=False)
    config(world, PROD % out, f"windows: {{prod: ['{closed}']}}\n")
    assert world.once().returncode == 0  # the first delivery waits too
    assert not out.exists()
    st = world.status()
    assert st["targets"][0]["state"] == "waiting"
    assert "maintenance window of prod" in st["targets"][0]["last_error"]

    config(world, PROD % out, f"windows: {{prod: ['{_window_around(now, open_now=True)}']}}\n")
    assert world.once().returncode == 0
    assert read_yaml(out)["replicas"] == 6


def test_emergency_trailer_skips_windows_and_deploy_after_delays(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    closed = _window_around(datetime.now(UTC), open_now=False)
    config(world, PROD % out, f"windows: {{prod: ['{closed}']}}\n")
    world.edit(
        "config/prod/payments.yaml",
        "replicas: 6",
        "replicas: 12",
        "Scale up for the outage\n\nEmergency: true\n",
    )
    assert world.once().returncode == 0
    assert read_yaml(out)["replicas"] == 12

    config(world, PROD % out)  # no window
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    world.edit(
        "config/prod/payments.yaml",
        "replicas: 12",
        "replicas: 14",
        f"Later\n\nDeploy-After: {later}\n",
    )
    result = json.loads(world.once("--format", "json").stdout)
    assert result["held"] == [f"payments@prod:{out}"]
    assert read_yaml(out)["replicas"] == 12


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_daemon_serves_status_metrics_and_signed_webhooks(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    config(world, PROD % out, "webhook: {listen: '127.0.0.1:0', secret_env: HOOK_SECRET}\n")
    world.write_config(world.config.read_text().replace("poll_interval: 30s", "poll_interval: 1h"))
    proc = world.start(env={"HOOK_SECRET": SECRET})
    wait_for(lambda: out.exists(), what="the first delivery")
    assert world.get("/healthz") == (200, "ok\n")

    sha = world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 5")
    body = json.dumps({"ref": "refs/heads/main", "after": sha}).encode()
    headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
    assert (
        world.post("/webhook", body, {**headers, "X-Hub-Signature-256": _sign(body, "wrong")})
        == 401
    )
    assert world.post("/webhook", body, headers) == 401
    time.sleep(0.3)
    assert read_yaml(out)["replicas"] == 6  # a refused webhook triggers nothing (poll: 1 h)
    assert world.post("/webhook", body, {**headers, "X-Hub-Signature-256": _sign(body)}) == 202
    wait_for(lambda: read_yaml(out)["replicas"] == 5, what="the webhook's pass")

    def settled() -> bool:  # the file is written before the health check confirms it
        target = json.loads(world.get("/status")[1])["targets"][0]
        return bool(target["commit"] == sha and target["state"] == "in-sync")

    wait_for(settled, what="the delivery confirmed")
    _, text = world.get("/status")
    status = json.loads(text)
    assert status["remote"]["ok"] is True and status["tip"] == sha
    assert status["targets"][0]["commit"] == sha and status["targets"][0]["state"] == "in-sync"
    _, metrics = world.get("/metrics")
    assert "cfgctl_agent_applies_total 2" in metrics
    assert "cfgctl_agent_remote_up 1" in metrics
    assert "cfgctl_agent_delivery_latency_seconds_count 2" in metrics

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_an_unreachable_remote_keeps_the_files_and_is_reported(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    config(world, PROD % out, "http: {listen: '127.0.0.1:0'}\n")
    world.write_config(world.config.read_text().replace("poll_interval: 30s", "poll_interval: 1s"))
    world.start()
    wait_for(lambda: out.exists(), what="the first delivery")
    good = out.read_bytes()
    hidden = world.remote.with_name("moved.git")
    world.remote.rename(hidden)
    wait_for(lambda: not json.loads(world.get("/status")[1])["remote"]["ok"], what="remote failing")
    status = json.loads(world.get("/status")[1])
    assert "no Git repository at" in status["remote"]["error"]
    assert "cfgctl_agent_remote_up 0" in world.get("/metrics")[1]
    assert out.read_bytes() == good and world.get("/healthz")[0] == 200

    hidden.rename(world.remote)
    world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 4")
    wait_for(lambda: read_yaml(out)["replicas"] == 4, what="catching up")
    assert json.loads(world.get("/status")[1])["remote"]["ok"] is True


def test_kill_9_during_a_pass_then_restart_converges(world: AgentWorld) -> None:
    outs = [world.root / f"t{i}.yaml" for i in range(4)]
    slow = _script(world.root / "slow.sh", "sleep 0.4\n")
    targets = "".join(
        f"  - {{service: payments, env: prod, path: {o}, reload: {{command: [{slow}]}}}}\n"
        if i < 2
        else f"  - {{service: search, env: prod, path: {o}, reload: {{command: [{slow}]}}}}\n"
        for i, o in enumerate(outs)
    )
    config(world, targets)
    world.write_config(world.config.read_text().replace("poll_interval: 30s", "poll_interval: 1s"))
    proc = world.start()
    wait_for(lambda: outs[1].exists(), timeout=20, what="the second target written")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not outs[3].exists()  # killed in the middle of the pass
    applied_before = {e["target"] for e in audit(world) if e["action"] == "apply"}

    world.start()

    def converged() -> bool:
        targets = world.status()["targets"]
        return all(t["state"] == "in-sync" for t in targets)

    wait_for(converged, timeout=30, what="convergence after the restart")
    applies = [e["target"] for e in audit(world) if e["action"] == "apply"]
    for name in applied_before:  # what was in place is not delivered twice
        assert applies.count(name) == 1, applies
    assert sorted(set(applies)) == sorted(
        {
            f"payments@prod:{outs[0]}",
            f"payments@prod:{outs[1]}",
            f"search@prod:{outs[2]}",
            f"search@prod:{outs[3]}",
        }
    )
    assert read_yaml(outs[3])["replicas"] >= 1


def test_bad_agent_configs_are_reported_at_their_line(world: AgentWorld) -> None:
    world.write_config(
        "source: {url: x}\nstate_dir: s\ntargets:\n  - {service: a, env: b, path: c, format: xml}\n"
    )
    result = world.once()
    assert result.returncode == 2
    assert (
        "agent.yaml:4" in result.stderr
        and "xml" in result.stderr
        and "Traceback" not in result.stderr
    )
    world.write_config(
        "source: {url: x}\nstate_dir: s\ntargets: [{service: a, env: b, path: c}]\n"
        "windows: {prod: ['Someday 02:00-03:00 UTC']}\n"
    )
    result = world.once()
    assert result.returncode == 2 and "agent.yaml:4" in result.stderr
    result = world.cli("agent", "once", "-c", str(world.root / "missing.yaml"))
    assert result.returncode == 2 and "cannot read the agent configuration" in result.stderr


def test_secrets_are_decrypted_into_the_file_only(world: AgentWorld) -> None:
    from tests.support.secretrepo import make_key

    key = make_key(world.root, "agent-key")
    secret = "Agent-Delivered-Secret-5521"
    world.push_secret(key.file, key.recipient, secret)
    out = world.root / "payments.yaml"
    config(world, PROD % out, f"age_key_file: {key.file}\nhttp: {{listen: '127.0.0.1:0'}}\n")
    proc = world.start()  # no SOPS_AGE_KEY_FILE in its environment: agent.yaml names the key
    wait_for(lambda: out.exists(), what="the delivery")
    assert secret in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o600"  # it holds a secret
    shown = world.get("/status")[1] + world.get("/metrics")[1]
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    shown += (
        world.logs()
        + (world.state_dir / "audit.jsonl").read_text()
        + (world.state_dir / "state.json").read_text()
    )
    # the spans of the agent and of the CLI commands, and the trace context beside the file
    spans = [*(world.state_dir / "traces").glob("*.jsonl"), *Path.home().rglob("*.jsonl")]
    assert spans
    shown += "".join(p.read_text() for p in spans)
    side = out.parent / f".{out.name}.traceparent"
    assert oct(side.stat().st_mode & 0o777) == "0o600"  # as private as the file it describes
    shown += side.read_text()
    assert '"message"' in world.logs()  # the logs are JSON lines
    assert secret not in shown
    without_key = world.once()  # and without the key, nothing is delivered
    assert (
        without_key.returncode in (0, 1) and secret not in without_key.stdout + without_key.stderr
    )


def test_sigterm_finishes_the_current_target_and_exits_cleanly(world: AgentWorld) -> None:
    outs = [world.root / f"t{i}.yaml" for i in range(3)]
    slow = _script(world.root / "slow.sh", "sleep 0.6\n")
    config(
        world,
        "".join(
            f"  - {{service: payments, env: prod, path: {o}, reload: {{command: [{slow}]}}}}\n"
            for o in outs
        ),
    )
    proc = world.start()
    wait_for(lambda: outs[0].exists(), what="the first target written")
    proc.send_signal(signal.SIGTERM)  # during the first target's (slow) reload
    assert proc.wait(10) == 0
    targets = {t["path"]: t for t in world.status()["targets"]}
    assert targets[str(outs[0])]["state"] == "in-sync"  # finished, and recorded
    assert not outs[2].exists() and targets[str(outs[2])]["state"] == "pending"
    assert "finishing the current target" in world.logs()


def test_runtime_mistakes_of_agent_yaml_are_explained(world: AgentWorld) -> None:
    blocker = world.root / "a-file"
    blocker.write_text("not a folder\n")
    config(
        world,
        f"  - {{service: paymnets, env: prod, path: {world.root / 'x.yaml'}}}\n"
        f"  - {{service: search, env: production, path: {world.root / 'y.yaml'}}}\n"
        f"  - {{service: search, env: prod, path: {blocker / 'sub/z.yaml'}}}\n",
    )
    result = world.once("--format", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [t["last_error"] for t in world.status()["targets"]]
    assert "agent.yaml:4" in errors[0] and "unknown service 'paymnets'" in errors[0]
    assert "did you mean 'payments'" in errors[0]
    assert "agent.yaml:5" in errors[1] and "unknown environment 'production'" in errors[1]
    assert f"cannot write {blocker / 'sub/z.yaml'}" in errors[2]

    world.write_config(
        f"source: {{url: {world.root / 'nowhere.git'}}}\nstate_dir: {world.state_dir}\n"
        f"targets: [{{service: payments, env: prod, path: {world.root / 'x.yaml'}}}]\n"
    )
    result = world.once()
    assert result.returncode == 3 and "no Git repository at" in result.stdout + result.stderr


def test_a_webhook_without_its_secret_does_not_start(world: AgentWorld) -> None:
    config(
        world,
        PROD % (world.root / "p.yaml"),
        "webhook: {listen: '127.0.0.1:0', secret_env: UNSET_HOOK_SECRET}\n",
    )
    result = world.cli("agent", "run", "--config", str(world.config))
    assert result.returncode == 3
    assert "UNSET_HOOK_SECRET is not set" in result.stderr


def test_invalid_values_are_named_by_key_not_shown(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    config(world, PROD % out)
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: lots-of-connections")
    assert world.once().returncode == 1
    error = world.status()["targets"][0]["last_error"]
    assert "db.pool_size at config/prod/payments.yaml:5" in error
    everything = error + (world.state_dir / "audit.jsonl").read_text()
    assert "lots-of-connections" not in everything


def test_a_commit_without_the_config_repository_keeps_the_files(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    config(world, PROD % out)
    assert world.once().returncode == 0
    good = out.read_bytes()
    world.push({"cfgctl.yaml": None}, "oops: the manifest is gone")
    result = world.once()
    assert result.returncode == 3 and "has no cfgctl.yaml" in result.stdout
    assert out.read_bytes() == good
    assert world.status()["remote"]["ok"] is False


def test_an_https_remote_with_a_token(world: AgentWorld) -> None:
    from tests.support.git_http import GitHttpServer

    token = "ghs_test_token_77"
    out = world.root / "payments.yaml"
    with GitHttpServer(world.root, user="x-access-token", password=token) as server:
        world.write_config(
            f"source: {{url: {server.url('remote.git')}, token_env: CFG_TOKEN}}\n"
            f"state_dir: {world.state_dir}\ntargets:\n" + PROD % out
        )
        refused = world.once(env={"CFG_TOKEN": "wrong"})
        assert refused.returncode == 3 and not out.exists()
        assert "wrong" not in refused.stdout + refused.stderr
        missing = world.once()
        assert (
            missing.returncode == 3 and "CFG_TOKEN (source.token_env) is not set" in missing.stdout
        )
        result = world.once(env={"CFG_TOKEN": token})
        assert result.returncode == 0, result.stdout + result.stderr
        assert read_yaml(out)["replicas"] == 6
        assert any(authorized for _, _, authorized in server.requests)
        assert token not in (world.state_dir / "state.json").read_text()


def test_a_config_repository_in_a_folder_of_the_git_repository(tmp_path: Path) -> None:
    import shutil

    import pygit2

    from cfgctl.repo.builtin import TEMPLATES
    from tests.support.gitrepo import ConfigRepo

    repo = ConfigRepo.init(tmp_path / "mono")
    shutil.copytree(TEMPLATES / "default", tmp_path / "mono/ops/config")
    (tmp_path / "mono/README.md").write_text("a monorepo\n")
    repo.commit({}, "init", add_all=True)
    remote = tmp_path / "remote.git"
    pygit2.clone_repository(str(repo.workdir), str(remote), bare=True)
    out = tmp_path / "payments.yaml"
    world = AgentWorld(tmp_path, repo, remote, tmp_path / "agent.yaml", tmp_path / "state")
    world.write_config(
        f"source: {{url: {remote}, path: ops/config}}\nstate_dir: {world.state_dir}\n"
        "targets:\n" + PROD % out
    )
    assert world.once().returncode == 0
    assert read_yaml(out)["replicas"] == 6
    world.write_config(world.config.read_text().replace("path: ops/config", "path: ops/wrong"))
    result = world.once()
    assert result.returncode == 3 and "has no ops/wrong/cfgctl.yaml" in result.stdout


def test_a_delivery_cut_off_is_finished_even_when_the_next_commit_renders_the_same(
    world: AgentWorld,
) -> None:
    out = world.root / "payments.yaml"
    reloads = world.root / "reloads.log"
    # the first reload of the new value kills the agent (kill -9 of its parent) mid-delivery
    reload = _script(
        world.root / "reload.sh",
        f"echo x >> {reloads}\n"
        f"if grep -q 'replicas: 7' {out} && [ ! -e {world.root}/killed ]; then\n"
        f"  touch {world.root}/killed; kill -9 $PPID\nfi\n",
    )
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, reload: {{command: [{reload}]}}}}\n",
    )
    assert world.once().returncode == 0
    world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 7")
    killed = world.once(process=True)
    assert killed.returncode == -9  # killed with the file written, the reload not done
    assert read_yaml(out)["replicas"] == 7
    world.edit("config/staging/_defaults.yaml", "", "# staging only\nreplicas: 2\n")  # same render
    assert world.once().returncode == 0
    assert reloads.read_text().count("x") == 3  # the cut-off delivery was reloaded again
    target = world.status()["targets"][0]
    assert target["state"] == "in-sync"
    again = json.loads(world.once("--format", "json").stdout)
    assert again["unchanged"] == [f"payments@prod:{out}"]
    assert reloads.read_text().count("x") == 3


def test_a_reload_command_that_cannot_run_fails_its_target_only(world: AgentWorld) -> None:
    first, second = world.root / "a.yaml", world.root / "b.yaml"
    broken = world.root / "not-executable.sh"
    broken.write_text("#!/bin/sh\nexit 0\n")  # mode 0644: exec fails with EACCES
    config(
        world,
        f"  - {{service: payments, env: prod, path: {first}, reload: {{command: [{broken}]}}}}\n"
        f"  - {{service: search, env: prod, path: {second}}}\n",
    )
    result = json.loads(world.once("--format", "json").stdout)
    assert result["failed"] == [f"payments@prod:{first}"]
    assert result["applied"] == [f"search@prod:{second}"]
    error = world.status()["targets"][0]["last_error"]
    assert "reload command" in error and "Permission denied" in error
    assert not first.exists()  # rolled back to what was there: nothing


def test_a_reload_command_may_leave_a_daemon_running(world: AgentWorld) -> None:
    out = world.root / "payments.yaml"
    restart = _script(world.root / "restart.sh", "sleep 30 &\nexit 0\n")
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, "
        f"reload: {{command: [{restart}], timeout: 2s}}}}\n",
    )
    started = time.monotonic()
    assert world.once().returncode == 0
    assert time.monotonic() - started < 10


def test_a_held_wave_holds_the_later_waves(world: AgentWorld) -> None:
    staging, prod = world.root / "staging.yaml", world.root / "prod.yaml"
    closed = _window_around(datetime.now(UTC), open_now=False)
    config(
        world,
        f"  - {{service: payments, env: staging, path: {staging}, wave: 1}}\n"
        f"  - {{service: payments, env: prod, path: {prod}, wave: 2}}\n",
        f"windows: {{staging: ['{closed}']}}\n",
    )
    result = json.loads(world.once("--format", "json").stdout)
    assert sorted(result["held"]) == sorted(
        [f"payments@staging:{staging}", f"payments@prod:{prod}"]
    )
    assert not prod.exists()
    assert "waiting for wave 1" in world.status()["targets"][1]["last_error"]


def test_a_non_ascii_signature_is_refused_not_crashed(world: AgentWorld) -> None:
    config(
        world,
        PROD % (world.root / "p.yaml"),
        "webhook: {listen: '127.0.0.1:0', secret_env: HOOK}\n",
    )
    world.start(env={"HOOK": SECRET})
    body = b'{"ref": "refs/heads/main"}'
    import http.client

    host, port = world.address().split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.putrequest("POST", "/webhook")
    conn.putheader("X-Hub-Signature-256", "sha256=\xe9\xe9")
    conn.putheader("X-GitHub-Event", "push")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    assert conn.getresponse().status == 401
    assert "Traceback" not in world.logs()


def test_credentials_in_the_source_url_are_never_shown(world: AgentWorld) -> None:
    from cfgctl.agent.source import redact_url

    assert redact_url("https://x-access-token:ghs_secret@github.com/a/b.git") == (
        "https://x-access-token:***@github.com/a/b.git"
    )
    assert redact_url("https://ghs_secret@github.com/a.git") == "https://***@github.com/a.git"
    assert redact_url("ssh://git@github.com/a.git") == "ssh://git@github.com/a.git"
    world.write_config(
        "source: {url: 'https://user:ghs_secret@127.0.0.1:1/x.git'}\n"
        f"state_dir: {world.state_dir}\ntargets:\n" + PROD % (world.root / "p.yaml")
    )
    result = world.once()
    assert result.returncode == 3
    shown = result.stdout + result.stderr + json.dumps(world.status())
    assert "ghs_secret" not in shown and "user:***@127.0.0.1:1" in shown


def test_a_file_that_comes_to_hold_secrets_is_no_longer_world_readable(world: AgentWorld) -> None:
    from tests.support.secretrepo import make_key

    out = world.root / "payments.yaml"
    key = make_key(world.root, "k")
    config(world, PROD % out, f"age_key_file: {key.file}\n")
    assert world.once().returncode == 0
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    secret = "Later-Secret-9931"
    world.push_secret(key.file, key.recipient, secret)
    assert world.once().returncode == 0
    assert secret in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o640"


def test_an_agent_lets_go_of_its_state_folder_when_its_pass_is_over(world: AgentWorld) -> None:
    """`agent once` run in a process that goes on (these tests, an embedding program) does not
    keep the state folder's lock, whether the pass ran or the start was refused."""

    def free() -> bool:
        fd = os.open(world.state_dir / "agent.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True

    config(world, PROD % (world.root / "payments.yaml"))
    assert world.once().returncode == 0 and free()
    config(world, PROD % (world.root / "payments.yaml"), f"age_key_file: {world.root}/none\n")
    refused = world.once()
    assert refused.returncode == 3 and "none" in refused.stderr and free()

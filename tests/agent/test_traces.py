"""Traces from the editor to the running process, with real processes: `cfgctl set --commit`
leaves a Traceparent trailer, the agent's delivery continues that trace, the service's SDK
callback runs in a span of it, and `cfgctl trace` prints the timeline."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pygit2
import pytest

from cfgctl.agent.windows import commit_trailers
from cfgctl.telemetry import Traceparent
from tests.support.agentworld import CFGCTL, AgentWorld, config
from tests.support.spans import spans_in

AGENT_PROCESSES = True  # span files and trailers, written as a process ends

pytestmark = pytest.mark.slow  # agent, CLI and service processes against real Git remotes

# The service: watches the file, its callback records the trace context it runs in.
SERVICE = textwrap.dedent(
    """
    import sys
    from opentelemetry import trace
    from pydantic import BaseModel, ConfigDict
    from cfgctl.sdk import watch

    class Settings(BaseModel):
        model_config = ConfigDict(frozen=True)
        replicas: int

    seen = []

    def changed(old, new, keys):
        ctx = trace.get_current_span().get_span_context()
        seen.append(format(ctx.trace_id, "032x"))

    with watch(sys.argv[1], Settings, on_change=changed) as watcher:
        print("ready", flush=True)
        watcher.wait_for_reload(timeout=30)
    print(seen[0] if seen else "no-callback", flush=True)
    """
)


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _set(world: AgentWorld, value: str, env: dict[str, str]) -> tuple[str, Traceparent]:
    """`cfgctl set payments replicas VALUE --env prod --commit`, pushed: (sha, its trailer)."""
    args = ["-C", str(world.repo.workdir), "set", "payments", "replicas", value, "--env", "prod"]
    done = world.cli(*args, "--commit", env=env)
    assert done.returncode == 0, done.stderr
    world.repo.repo.remotes["origin"].push(["+refs/heads/main:refs/heads/main"])
    head = world.repo.repo.head.peel(pygit2.Commit)
    trailer = Traceparent.parse(commit_trailers(head.message).get("traceparent"))
    assert trailer is not None, head.message
    return str(head.id), trailer


def test_one_trace_from_the_commit_to_the_service(world: AgentWorld) -> None:
    hosts = world.root / "hosts"
    editor = {"CFGCTL_TRACE_DIR": str(hosts / "laptop")}
    out = world.root / "payments.yaml"
    reload = _script(world.root / "reload.sh", "true\n")
    health = _script(world.root / "health.sh", f"! grep -q 'replicas: 13' {out}\n")
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, reload: {{command: [{reload}]}}, "
        f"health: {{command: [{health}], timeout: 1s, interval: 100ms}}}}\n",
    )
    assert world.once().returncode == 0  # the file exists: the service can start

    sha, trailer = _set(world, "9", editor)
    service_env = {
        **os.environ,
        "CFGCTL_TRACE_DIR": str(hosts / "app"),
        "OTEL_SERVICE_NAME": "payments",
    }
    service = subprocess.Popen(
        [sys.executable, "-c", SERVICE, str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env=service_env,
    )
    try:
        assert service.stdout is not None and service.stdout.readline().strip() == "ready"
        assert world.once().returncode == 0
        seen, _ = service.communicate(timeout=30)
    finally:
        service.kill()
    assert seen.strip() == trailer.trace_id  # the callback ran inside the commit's trace

    spans = spans_in(world.state_dir / "traces", hosts)
    ours = {s["name"]: s for s in spans if s["trace_id"] == trailer.trace_id}
    assert {"cfgctl set", "agent.apply", "agent.write", "agent.reload", "agent.health"} <= set(ours)
    assert ours["cfgctl set"]["span_id"] == trailer.span_id
    assert ours["cfgctl set"]["attributes"]["cfgctl.commit"] == sha
    apply = ours["agent.apply"]
    assert apply["parent_id"] == trailer.span_id and apply["service"] == "cfgctl-agent"
    assert apply["attributes"]["cfgctl.commit"] == sha
    assert apply["attributes"]["cfgctl.outcome"] == "applied"
    for step in ("agent.write", "agent.reload", "agent.health"):
        assert ours[step]["parent_id"] == apply["span_id"], step
    reloaded = ours["sdk.reload"]
    # the service's reload is a child of the write it read
    assert reloaded["service"] == "payments"
    assert reloaded["parent_id"] == ours["agent.write"]["span_id"]
    assert reloaded["attributes"]["cfgctl.commit"] == sha
    assert reloaded["attributes"]["cfgctl.changed"] == ["replicas"]
    passes = [
        s for s in spans if s["name"] == "agent.pass" and s["attributes"]["cfgctl.tip"] == sha
    ]
    assert passes and apply["links"] == [
        {"trace_id": passes[0]["trace_id"], "span_id": passes[0]["span_id"]}
    ]

    # a change that fails its health check: rolled back, in the trace of its own commit
    bad, bad_trailer = _set(world, "13", editor)
    assert world.once().returncode == 1
    dirs = ["--dir", str(hosts), "--dir", str(world.state_dir / "traces")]
    shown = world.cli("trace", bad[:10], *dirs)
    assert shown.returncode == 0, shown.stderr
    assert f"commit {bad[:12]}  trace {bad_trailer.trace_id}" in shown.stdout
    assert "agent.rollback" in shown.stdout and "FAILED" in shown.stdout

    text = world.cli("trace", sha[:8], *dirs)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"commit {sha[:12]}  trace {trailer.trace_id}")
    order = [
        next(i for i, row in enumerate(lines) if name in row)
        for name in ("cfgctl set", "agent.apply", "agent.write", "agent.reload", "agent.health")
    ]
    assert order == sorted(order)
    assert any("/ payments" in row for row in lines) and any("sdk.reload" in row for row in lines)
    as_json = json.loads(world.cli("trace", sha, *dirs, "--format", "json").stdout)
    groups = {g["service"]: g for g in as_json["traces"][0]["groups"]}
    assert set(groups) == {"cfgctl-cli", "cfgctl-agent", "payments"}
    assert all(
        s["offset_s"] >= 0 and s["duration_s"] >= 0 for g in groups.values() for s in g["spans"]
    )


def test_trace_exit_codes_and_bad_files(world: AgentWorld, tmp_path: Path) -> None:
    folder = tmp_path / "spans"
    folder.mkdir()
    good = {
        "trace_id": "ab" * 16,
        "span_id": "cd" * 8,
        "parent_id": None,
        "name": "cfgctl set",
        "service": "cfgctl-cli",
        "host": "h1",
        "start_ns": 1,
        "end_ns": 2_000_001,
        "attributes": {"cfgctl.commit": "0123456789abcdef0123456789abcdef01234567"},
    }
    (folder / "a.jsonl").write_text(json.dumps(good) + '\nnot json\n{"trace_id": 3}\n')
    (folder / "b.jsonl").write_bytes(b"\xff\xfe\n")
    found = world.cli("trace", "01234567", "--dir", str(folder))
    assert found.returncode == 0, found.stderr
    assert "cfgctl set" in found.stdout and "+   0.000s    0.002s" in found.stdout
    assert "a.jsonl: 2 malformed lines skipped" in found.stderr
    assert "b.jsonl: 1 malformed line skipped" in found.stderr
    assert "Traceback" not in found.stderr

    missing = world.cli("trace", "fedcba98", "--dir", str(folder))
    assert missing.returncode == 1 and str(folder) in missing.stderr
    assert world.cli("trace", "not-a-sha", "--dir", str(folder)).returncode == 2
    assert world.cli("trace", "01234567", "--dir", str(tmp_path / "nowhere")).returncode == 2
    # the default folder (none yet in this home): nothing found, exit 1, saying where
    unset = world.cli("trace", "01234567", env={"CFGCTL_TRACE_DIR": str(tmp_path / "none")})
    assert unset.returncode == 1 and str(tmp_path / "none") in unset.stderr


def test_tracing_off_leaves_no_trailer_and_nospans_in(world: AgentWorld) -> None:
    off = {"CFGCTL_TRACE": "off", "CFGCTL_TRACE_DIR": str(world.root / "spans")}
    args = ["-C", str(world.repo.workdir), "set", "payments", "replicas", "7", "--env", "prod"]
    assert world.cli(*args, "--commit", env=off).returncode == 0
    assert "Traceparent" not in world.repo.repo.head.peel(pygit2.Commit).message
    assert not (world.root / "spans").exists()


def test_an_unwritable_trace_folder_is_one_warning(world: AgentWorld) -> None:
    blocker = world.root / "a-file"
    blocker.write_text("not a folder")
    env = {"CFGCTL_TRACE_DIR": str(blocker / "traces")}
    args = ["-C", str(world.repo.workdir), "set", "payments", "replicas", "7", "--env", "prod"]
    done = world.cli(*args, "--commit", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("traces: cannot write span files") == 1
    # the trailer is still there: the trace context does not depend on the files
    assert "Traceparent: 00-" in world.repo.repo.head.peel(pygit2.Commit).message
    assert (
        subprocess.run([*CFGCTL, "--version"], env={**os.environ, **env}, check=False).returncode
        == 0
    )


class _Receiver(ThreadingHTTPServer):
    """A loopback OTLP/HTTP receiver: every span of every export request, decoded."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OtlpHandler)
        self.spans: list[tuple[str, Any]] = []  # (service.name, the protobuf Span)
        self.paths: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _OtlpHandler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.paths.append(self.path)
        for resource_spans in request.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                self.server.spans += [(attrs["service.name"], s) for s in scope.spans]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_spans_are_exported_to_an_otlp_endpoint(world: AgentWorld) -> None:
    receiver = _Receiver()
    try:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
        out = world.root / "payments.yaml"
        config(world, f"  - {{service: payments, env: prod, path: {out}}}\n")
        sha, trailer = _set(world, "11", env)
        assert world.once(env=env).returncode == 0
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert set(receiver.paths) == {"/v1/traces"}
    got = {(service, s.name): s for service, s in receiver.spans}
    root = got["cfgctl-cli", "cfgctl set"]
    assert (root.trace_id.hex(), root.span_id.hex()) == (trailer.trace_id, trailer.span_id)
    apply = got["cfgctl-agent", "agent.apply"]
    assert (
        apply.trace_id.hex() == trailer.trace_id and apply.parent_span_id.hex() == trailer.span_id
    )
    attrs = {a.key: a.value.string_value for a in apply.attributes}
    assert attrs["cfgctl.commit"] == sha
    assert {"agent.write", "agent.pass"} <= {name for _, name in got}
    assert not (world.state_dir / "traces").exists()  # OTLP instead of files


def test_a_dead_otlp_endpoint_is_one_warning_and_no_hang(world: AgentWorld) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"}
    out = world.root / "payments.yaml"
    config(world, f"  - {{service: payments, env: prod, path: {out}}}\n")
    args = ["-C", str(world.repo.workdir), "set", "payments", "replicas", "12", "--env", "prod"]
    started = time.monotonic()
    done = world.cli(*args, "--commit", env=env)
    assert done.returncode == 0 and time.monotonic() - started < 10  # export bounded: 2 s
    assert done.stderr.count("traces: cannot export spans") == 1, done.stderr
    world.repo.repo.remotes["origin"].push(["+refs/heads/main:refs/heads/main"])
    agent = world.once(env=env)
    assert agent.returncode == 0 and "replicas: 12" in out.read_text()
    assert agent.stderr.count("traces: cannot export spans") <= 1

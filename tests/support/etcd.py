"""A real etcd cluster on loopback: Debian's etcd 3.4 (package etcd-server), each member with its
own ports and data folder, started by the tests themselves.

    cluster = EtcdCluster(tmp_path, members=3).start()     # waits for a leader
    cluster.endpoints            # ["http://127.0.0.1:P1", ...]
    cluster.kill(cluster.leader())  # SIGKILL; cluster.start_member(i) brings it back
    cluster.stop()

Short heartbeats and elections (50 ms / 500 ms) so a lost leader is replaced in about a second.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"


def etcd_available() -> bool:
    return os.access(ETCD, os.X_OK)


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Member:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class EtcdCluster:
    root: Path
    members_count: int = 3
    token: str = field(default_factory=lambda: f"cfgctl-{os.getpid()}-{time.monotonic_ns()}")
    members: list[Member] = field(default_factory=list)
    quota_bytes: int = 2 * 1024**3

    def __post_init__(self) -> None:
        ports = free_ports(2 * self.members_count)
        for i in range(self.members_count):
            name = f"m{i + 1}"
            self.members.append(
                Member(
                    name,
                    ports[2 * i],
                    ports[2 * i + 1],
                    self.root / name / "data",
                    self.root / name / "etcd.log",
                )
            )

    @property
    def endpoints(self) -> list[str]:
        return [m.endpoint for m in self.members]

    def _command(self, member: Member, state: str) -> list[str]:
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        return [
            ETCD,
            "--name", member.name,
            "--data-dir", str(member.data_dir),
            "--listen-client-urls", member.endpoint,
            "--advertise-client-urls", member.endpoint,
            "--listen-peer-urls", member.peer_url,
            "--initial-advertise-peer-urls", member.peer_url,
            "--initial-cluster", initial,
            "--initial-cluster-state", state,
            "--initial-cluster-token", self.token,
            "--heartbeat-interval", "50",
            "--election-timeout", "500",
            "--quota-backend-bytes", str(self.quota_bytes),
            "--logger", "zap",
            "--log-outputs", str(member.log),
            "--log-level", "warn",
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> EtcdCluster:
        for member in self.members:
            self.start_member(member, wait=False, state="new")
        self.wait_healthy(timeout)
        return self

    def start_member(self, member: Member, *, wait: bool = True, state: str = "new") -> None:
        member.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # An existing data folder is a restart: etcd ignores the initial-cluster flags then.
        member.process = subprocess.Popen(
            self._command(member, state),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if wait:
            self.wait_healthy()

    def kill(self, member: Member) -> None:
        if member.process is not None and member.process.poll() is None:
            member.process.send_signal(signal.SIGKILL)
            member.process.wait(10)

    def stop(self) -> None:
        """Every member killed: a test cluster's data is thrown away (a graceful stop of three
        members costs seconds of leader transfers)."""
        for member in self.members:
            if member.process is not None and member.process.poll() is None:
                member.process.kill()
        for member in self.members:
            if member.process is not None:
                member.process.wait(10)

    def status(self, member: Member) -> dict[str, object] | None:
        request = urllib.request.Request(
            member.endpoint + "/v3/maintenance/status", data=b"{}", method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as answer:
                data: dict[str, object] = json.loads(answer.read())
                return data
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def leader(self) -> Member:
        """The member that is the raft leader now (waits for one)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for member in self.members:
                if not member.running():
                    continue
                status = self.status(member)
                if status is None:
                    continue
                header = status.get("header")
                member_id = header.get("member_id") if isinstance(header, dict) else None
                if member_id is not None and status.get("leader") == member_id:
                    return member
            time.sleep(0.05)
        raise AssertionError(f"no etcd leader within 15 s; logs in {self.root}")

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Every running member answers and agrees on a leader."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [m for m in self.members if m.running()]
            statuses = [self.status(m) for m in running]
            leaders = {s.get("leader") for s in statuses if s is not None}
            agreed = running and None not in statuses and len(leaders) == 1 and leaders != {"0"}
            if agreed and self._writable(running[0]):
                return
            dead = [m.name for m in self.members if m.process is not None and not m.running()]
            if dead and len(dead) == len(self.members):
                raise AssertionError(f"every etcd member exited; logs in {self.root}")
            time.sleep(0.05)
        raise AssertionError(f"etcd cluster not healthy within {timeout} s; logs in {self.root}")

    def _writable(self, member: Member) -> bool:
        body = json.dumps({"key": "X2NmZ2N0bF9wcm9iZQ==", "value": "MQ=="}).encode()
        request = urllib.request.Request(member.endpoint + "/v3/kv/put", data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def etcdctl(self, *args: str, input: bytes | None = None) -> str:
        result = subprocess.run(
            [ETCDCTL, "--endpoints", ",".join(self.endpoints), *args],
            input=input,
            capture_output=True,
            env={**os.environ, "ETCDCTL_API": "3"},
            timeout=60,
            check=True,
        )
        return result.stdout.decode()

"""Hostile peers on real sockets (127.0.0.1) for the agent's tests: an HTTP server that answers
a byte at a time, and helpers that read /proc."""

from __future__ import annotations

import os
import socket
import ssl
import threading
from pathlib import Path


class DripServer:
    """Answers every request with a status line, headers and an endless body, one byte every
    `interval` seconds: each read gets a byte in time, the answer never completes."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: " + b"z" * 10_000

    def __init__(self, interval: float = 0.5, tls: ssl.SSLContext | None = None) -> None:
        self.interval = interval
        self.tls = tls
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.stopping = threading.Event()
        self.requests = 0
        self.connected = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.sock.getsockname()[1]}/drip"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, raw: socket.socket) -> None:
        with raw:
            try:
                if self.tls is None:
                    self._answer(raw)
                else:  # the handshake at full speed, then the drip
                    with self.tls.wrap_socket(raw, server_side=True) as conn:
                        self._answer(conn)
            except OSError:
                return  # the client hung up: what a deadline does

    def _answer(self, conn: socket.socket) -> None:
        conn.recv(65536)  # the request (small: one read holds it)
        self.requests += 1
        self.connected.set()
        for byte in self.ANSWER:
            conn.sendall(bytes([byte]))
            if self.stopping.wait(self.interval):
                return

    def close(self) -> None:
        self.stopping.set()
        self.sock.close()


def live_group_members(pgid: int) -> list[int]:
    """The processes of process group `pgid` still alive (zombies are dead: not counted)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def rss_mb(pid: int) -> float:
    """The resident memory of process `pid`, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"

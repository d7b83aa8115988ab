"""The configuration server for tests: in-process (Starlette's TestClient, the app's lifespan
run) or as a real `cfgctl serve` process on 127.0.0.1 with a free port."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from cfgctl.server.app import create_app
from cfgctl.server.security import Security
from cfgctl.server.settings import ServerSettings

CFGCTL = str(Path(sys.executable).parent / "cfgctl")


@contextmanager
def served(
    repo: Path, *, security: Security | None = None, **settings: object
) -> Iterator[TestClient]:
    """A TestClient of the app serving `repo` (anonymous reads unless `security`)."""
    app = create_app(
        ServerSettings(repo=repo, insecure_local=True, **settings),  # type: ignore[arg-type]
        security=security,
    )
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as client:
        yield client


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    url: str  # http://127.0.0.1:PORT
    log: Path  # its stderr

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1{path}"

    def threads(self) -> int:
        """The threads of the server process now (Linux)."""
        return sum(1 for _ in Path(f"/proc/{self.proc.pid}/task").iterdir())


@contextmanager
def server_process(
    repo: Path | None, *args: str, log_dir: Path, insecure: bool = True
) -> Iterator[ServerProcess]:
    """`cfgctl -C REPO serve --insecure-local --listen 127.0.0.1:0 ARGS` until the block ends
    (without --insecure-local when not `insecure`: pass --state-dir in ARGS; without -C when
    `repo` is None: pass --remote in ARGS); its base URL from the first line it prints.
    SIGTERM at the end, then it must exit 0."""
    log = log_dir / "server.log"
    mode = ["--insecure-local"] if insecure else []
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                CFGCTL,
                *(["-C", str(repo)] if repo is not None else []),
                "serve",
                *mode,
                "--listen",
                "127.0.0.1:0",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving http://"), (line, log.read_text())
        url = line.split()[1].removesuffix("/api/v1/")
        _wait_ready(url, proc)
        yield ServerProcess(proc, url, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        rest = ""
        if proc.stdout is not None:
            rest = proc.stdout.read()  # the server is gone: this cannot block
            proc.stdout.close()
    assert code == 0, log.read_text()
    # Logs go to stderr: stdout holds the address line only (a pipe nobody reads would fill).
    assert rest == "", rest[:500]


def _wait_ready(url: str, proc: subprocess.Popen[str]) -> None:
    import httpx2

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            # 401: up, and asking for a token
            if httpx2.get(url + "/api/v1/status", timeout=2).status_code in (200, 401):
                return
        except httpx2.TransportError:
            time.sleep(0.05)
    raise AssertionError("the server did not answer in 30 s")

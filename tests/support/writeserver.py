"""A server that accepts writes, for tests: subjects named by an `X-User` header, and a policy
that lets everyone read, edit, approve and merge (never reveal). In-process through `served`,
or as a real uvicorn process: `python -m tests.support.writeserver REPO` prints
`serving http://127.0.0.1:PORT` and serves until SIGTERM.

Today's `cfgctl serve` allows reads only (security.py's LocalReads): this is the seam's other
side, not a mock of it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request

from cfgctl.server.security import NoAudit, Security, Subject
from tests.support.server import _wait_ready

WRITES = frozenset({"read", "edit", "approve", "merge"})
TOP = Path(__file__).resolve().parents[2]  # where the tests package is importable from


class HeaderUser:
    """The subject named in X-User (anonymous without one)."""

    async def __call__(self, request: Request) -> Subject:
        name = request.headers.get("x-user")
        return Subject(name or "anonymous", anonymous=name is None, via="header")


class Writers:
    """Read, edit, approve and merge for everyone named; reveal for no one."""

    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        return action in WRITES and (action == "read" or not subject.anonymous)


def writers() -> Security:
    return Security(HeaderUser(), Writers(), NoAudit())


@contextmanager
def write_server(repo: Path, log_dir: Path) -> Iterator[str]:
    """The base URL of a uvicorn process serving `repo` with `writers()`, until the block ends
    (SIGTERM; it must exit 0)."""
    log = log_dir / "write-server.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.writeserver", str(repo)],
            cwd=TOP,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving http://"), (line, log.read_text())
        url = line.split()[1]
        _wait_ready(url, proc)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0, (code, log.read_text())


def main(repo: str) -> None:
    import uvicorn

    from cfgctl.server.app import create_app
    from cfgctl.server.runner import bind
    from cfgctl.server.settings import ServerSettings

    app = create_app(ServerSettings(repo=Path(repo), insecure_local=True), security=writers())
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    print(f"serving http://127.0.0.1:{port}", flush=True)
    # uvicorn re-raises SIGTERM for the handler it replaced after its shutdown: exit 0 then.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    server.run(sockets=[sock])


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    main(sys.argv[1])

"""A world for the sync agent's tests: the example config repository, a bare Git remote on disk
it pushes to, an agent.yaml, and the agent as a real process.

The daemon (`start`) is always a process of its own. One-shot commands (`once`, `status`, `cli`)
run the real command line in the test's process unless the world is made with `processes=True`
or the call asks for `process=True`: a process costs ~0.4 s of a core (interpreter, imports),
most of the agent tests' time. Tests of what only a process shows (traces written at exit,
signals, a command's environment) ask for one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2

from cfgctl.repo.builtin import TEMPLATES
from tests.support.cli import run_with_env
from tests.support.gitrepo import ConfigRepo

CFGCTL = [sys.executable, "-m", "cfgctl"]


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class AgentWorld:
    root: Path
    repo: ConfigRepo  # where changes are made
    remote: Path  # the bare repository the agent fetches
    config: Path  # agent.yaml
    state_dir: Path
    processes: list[subprocess.Popen[str]] = field(default_factory=list)
    separate: bool = False  # every command a process of its own

    @classmethod
    def create(cls, root: Path, *, processes: bool = False) -> AgentWorld:
        repo = ConfigRepo.from_template(root / "work", TEMPLATES / "default")
        remote = root / "remote.git"
        pygit2.clone_repository(str(repo.workdir), str(remote), bare=True)
        repo.repo.remotes.create("origin", str(remote))
        return cls(root, repo, remote, root / "agent.yaml", root / "state", separate=processes)

    def push(self, files: dict[str, str | bytes | None], message: str = "change") -> str:
        sha = self.repo.commit(files, message)
        self.repo.repo.remotes["origin"].push(["+refs/heads/main:refs/heads/main"])
        return sha

    def edit(self, rel: str, old: str, new: str, message: str = "change") -> str:
        text = self.repo.read(rel)
        assert old in text, f"{old!r} not in {rel}"
        return self.push({rel: text.replace(old, new, 1)}, message)

    def push_secret(self, key_file: Path, recipient: str, value: str) -> str:
        """Encrypt `value` as payments' db.password in prod (for the age `recipient`), commit
        and push; the value joins the session's leak check."""
        from tests.support.cli import SECRET_VALUES

        SECRET_VALUES.add(value)
        env = {"SOPS_AGE_KEY_FILE": str(key_file)}
        repo = ["-C", str(self.repo.workdir)]
        added = self.cli(*repo, "secrets", "recipients", "add", recipient, "--env", "prod", env=env)
        assert added.returncode == 0, added.stderr
        setting = subprocess.run(
            [*CFGCTL, *repo, "secrets", "set", "payments", "db.password", "--env", "prod"],
            input=value,
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=False,
        )
        assert setting.returncode == 0, setting.stderr
        sha = self.repo.commit({}, "a secret", add_all=True)
        self.repo.repo.remotes["origin"].push(["+refs/heads/main:refs/heads/main"])
        return sha

    def write_config(self, text: str) -> Path:
        self.config.write_text(text)
        return self.config

    def cli(
        self, *args: str, env: dict[str, str] | None = None, process: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """`cfgctl ARGS` with `env` added to the environment: in this process (see the module
        docstring), or as a process of its own."""
        if not (process or self.separate):
            return run_with_env(list(args), env or {})
        return subprocess.run(
            [*CFGCTL, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **(env or {})},
            check=False,
        )

    def once(
        self, *extra: str, env: dict[str, str] | None = None, process: bool = False
    ) -> subprocess.CompletedProcess[str]:
        args = ("agent", "once", "--config", str(self.config), *extra)
        return self.cli(*args, env=env, process=process)

    def status(self) -> dict[str, Any]:
        result = self.cli("agent", "status", "--config", str(self.config), "--format", "json")
        assert result.returncode == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def start(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        (self.state_dir / "agent.addr").unlink(missing_ok=True)
        with (self.root / f"agent-{len(self.processes)}.log").open("w") as log:
            proc = subprocess.Popen(
                [
                    *CFGCTL,
                    "-v",
                    "--log-format",
                    "json",
                    "agent",
                    "run",
                    "--config",
                    str(self.config),
                    *extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, **(env or {})},
            )
        self.processes.append(proc)
        return proc

    def address(self) -> str:
        path = self.state_dir / "agent.addr"
        return str(wait_for(lambda: path.is_file() and path.read_text().strip(), what="agent.addr"))

    def get(self, endpoint: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://{self.address()}{endpoint}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, endpoint: str, body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(
            f"http://{self.address()}{endpoint}", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    def logs(self) -> str:
        return "".join(p.read_text() for p in sorted(self.root.glob("agent-*.log")))

    def stop_all(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def config(world: AgentWorld, targets: str, extra: str = "") -> Path:
    return world.write_config(
        f"source: {{url: {world.remote}, branch: main, poll_interval: 30s}}\n"
        f"state_dir: {world.state_dir}\n"
        f"targets:\n{targets}{extra}"
    )

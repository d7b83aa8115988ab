"""Git itself, where Git is the tool: `git bundle create --all`, `git bundle verify`, a fetch
from a bundle, and the list of every object with its path (`git rev-list --objects --all`).

    job = BundleJob(git_dir, scratch / "repo.bundle")  # every ref, in the background
    job.wait()
    heads = bundle_heads(bundle)                        # {"refs/heads/main": "1a2b...", ...}
    verify_bundle(bundle, empty_repo)                   # CheckFailed unless complete and sound
    fetch_bundle(repo_dir, bundle)                      # every ref of the bundle, as it was

The `git` binary runs with argv lists (never a shell), a timeout, and without the GIT_*
variables that would steer it at another repository (pre-commit's `no_git_env`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cfgctl.errors import CheckFailed, EnvError, InputError

__all__ = [
    "BundleJob",
    "bundle_heads",
    "fetch_bundle",
    "git",
    "named_blobs",
    "verify_bundle",
]

TIMEOUT = 3600  # seconds: a bundle of a large repository takes a while, a hung git does not


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    # Where the user's Git configuration is (HOME, XDG) stays; what would steer git elsewhere goes.
    for name in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update({"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"})
    return env


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` in `cwd`; the completed process whatever its exit code. EnvError when there is
    no git binary or it hangs."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_env(),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise EnvError(
            "no git binary on PATH: backups are Git bundles",
            hint="install Git (https://git-scm.com)",
        ) from None
    except subprocess.TimeoutExpired:
        raise EnvError(f"git {args[0]} did not finish within {TIMEOUT} s") from None


def _last_line(stderr: bytes) -> str:
    lines = [t for t in stderr.decode("utf-8", errors="replace").splitlines() if t.strip()]
    return lines[-1].strip()[:300] if lines else "git failed"


class BundleJob:
    """`git bundle create OUT --all` running in the background while cfgctl renders the digests
    (the two take about as long on a large repository, and use different cores)."""

    def __init__(self, git_dir: Path, out: Path) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  closed by wait() or stop()
        try:
            self._proc = subprocess.Popen(
                ["git", "bundle", "create", "--quiet", str(out), "--all"],
                cwd=git_dir,
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
            )
        except FileNotFoundError:
            self._stderr.close()
            raise EnvError(
                "no git binary on PATH: backups are Git bundles",
                hint="install Git (https://git-scm.com)",
            ) from None

    def wait(self) -> None:
        """Until the bundle is written; InputError for a repository without a commit."""
        try:
            code = self._proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            raise EnvError(f"git bundle create did not finish within {TIMEOUT} s") from None
        finally:
            self._stderr.seek(0)
            stderr = self._stderr.read()
            self._stderr.close()
        if code != 0:
            message = _last_line(stderr)
            if "empty bundle" in message:
                raise InputError(
                    "nothing to back up: the repository has no commit",
                    hint="commit the configuration first (git commit)",
                )
            raise EnvError(f"git bundle create failed: {message}")

    def stop(self) -> None:
        """End the job early (the backup failed elsewhere)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if not self._stderr.closed:
            self._stderr.close()


def bundle_heads(bundle: Path) -> dict[str, str]:
    """The refs a bundle holds (`git bundle list-heads`), name -> object id."""
    proc = git("bundle", "list-heads", str(bundle), cwd=bundle.parent)
    if proc.returncode != 0:
        raise CheckFailed(f"the bundle cannot be read: {_last_line(proc.stderr)}")
    heads: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
        oid, _, name = line.partition(" ")
        if name:
            heads[name] = oid
    return heads


def verify_bundle(bundle: Path, empty_repo: Path) -> None:
    """`git bundle verify` in an empty repository: the bundle is sound and complete (it needs no
    commit that only another repository has). CheckFailed otherwise."""
    proc = git("bundle", "verify", str(bundle), cwd=empty_repo)
    said = proc.stdout.decode("utf-8", errors="replace") + proc.stderr.decode(
        "utf-8", errors="replace"
    )
    if proc.returncode != 0:
        raise CheckFailed(f"git bundle verify refused the bundle: {_last_line(proc.stderr)}")
    if "complete history" not in said:
        raise CheckFailed("the bundle is not complete: it needs commits it does not hold")


def fetch_bundle(repo_dir: Path, bundle: Path) -> None:
    """Every ref of `bundle` into the repository at `repo_dir`, as the bundle has it (HEAD
    aside: the caller points it)."""
    proc = git(
        "fetch",
        "--quiet",
        "--no-write-fetch-head",
        "--update-head-ok",
        str(bundle),
        "+refs/*:refs/*",
        cwd=repo_dir,
    )
    if proc.returncode != 0:
        raise CheckFailed(f"the bundle cannot be unpacked: {_last_line(proc.stderr)}")


def named_blobs(git_dir: Path, suffix: str) -> Iterator[tuple[str, str]]:
    """(path, blob id) of every object reachable from any ref whose path ends with `suffix`:
    each object once, under one of its names (`git rev-list --objects --all`)."""
    proc = git("rev-list", "--objects", "--all", cwd=git_dir)
    if proc.returncode != 0:
        raise EnvError(f"git rev-list failed: {_last_line(proc.stderr)}")
    for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
        oid, _, path = line.partition(" ")
        if path.endswith(suffix):
            yield path, oid

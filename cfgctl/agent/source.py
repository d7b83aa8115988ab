"""The agent's source: a bare mirror of the remote in the state folder, fetched with pygit2.

    mirror = Mirror(state_dir / "mirror.git", source)
    tip = mirror.fetch()                 # the branch's commit id; SourceError when unreachable
    snap = mirror.snapshot(tip)          # the config repository at that commit

The mirror outlives the remote: when the remote is down, the last fetched commits are still
there, and the services keep the files they have.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pygit2

from cfgctl.agent.config import Source, is_local_path
from cfgctl.errors import EnvError
from cfgctl.repo.cache import Cache
from cfgctl.repo.gitstore import GitStore
from cfgctl.repo.manifest import MANIFEST
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot

__all__ = ["Feed", "Mirror", "PushRejected", "SourceError", "redact_url"]


class SourceError(EnvError):
    """The remote could not be fetched, or has no such branch (exit 3)."""


class PushRejected(EnvError):
    """The remote refused a ref update: not a fast-forward (it moved since the last fetch), or
    a rule of its own (a protected branch). Nothing of that ref changed on the remote."""


class Feed(Protocol):
    """What a pass reads its commits from: a Git mirror, or etcd (cfgctl.agent.etcdfeed)."""

    def hold(self, outcome: str | SourceError) -> None: ...
    def fetch(self) -> str: ...
    def snapshot(self, sha: str) -> Snapshot: ...
    def message(self, sha: str) -> str: ...
    def commit_time(self, sha: str) -> datetime: ...


def redact_url(url: str) -> str:
    """The URL without a password or token written into it: `https://user:***@host/...`;
    over HTTP(S) a lone user name is often a token, so it goes too (`https://***@host/...`)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc or parts.scheme not in ("http", "https", "ssh", "git+ssh"):
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    if parts.password is not None:
        userinfo = f"{parts.username}:***"
    elif parts.scheme.startswith(("http",)):
        userinfo = "***"
    else:
        return url  # ssh://git@host: a user name, not a secret
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def _reason(exc: BaseException, source: Source) -> str:
    text = str(exc).strip() or type(exc).__name__
    if source.url != redact_url(source.url):
        text = text.replace(source.url, redact_url(source.url))
    token = os.environ.get(source.token_env or "", "")
    return text.replace(token, "***") if token else text  # never echo a credential


# A remote that accepts and stays silent fails the fetch after these (libgit2's own timeouts,
# for each connect and each read). The whole fetch has `source.timeout` (a remote that sends a
# byte now and then passes every read timeout): past it the pass goes on without the fetch,
# and a transfer still running is cancelled at its next progress report.
CONNECT_TIMEOUT_MS = 10_000
READ_TIMEOUT_MS = 10_000


class _Credentials(pygit2.RemoteCallbacks):
    """Credentials for the remote, when agent.yaml names them: a token for HTTPS (basic
    authentication), a key file for SSH. Asked once each: a refused one is not retried.
    The transfer is cancelled once past the source's timeout."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self.tries = 0
        self.deadline = time.monotonic() + source.timeout.total_seconds()

    def _in_time(self) -> None:
        if time.monotonic() > self.deadline:
            seconds = self.source.timeout.total_seconds()
            raise pygit2.GitError(f"the fetch did not finish within {seconds:g} s")

    def transfer_progress(self, stats: Any) -> None:
        self._in_time()

    def sideband_progress(self, string: str) -> None:
        self._in_time()

    def credentials(self, url: str, username_from_url: str | None, allowed_types: int) -> Any:
        self.tries += 1
        if self.tries > 1:
            raise pygit2.GitError("the remote refused the credentials")
        source = self.source
        if allowed_types & pygit2.enums.CredentialType.USERPASS_PLAINTEXT and source.token_env:
            token = os.environ.get(source.token_env)
            if not token:
                raise pygit2.GitError(f"{source.token_env} (source.token_env) is not set")
            return pygit2.UserPass(source.username, token)
        if allowed_types & pygit2.enums.CredentialType.SSH_KEY and source.ssh_key is not None:
            public = source.ssh_key.with_name(source.ssh_key.name + ".pub")
            passphrase = os.environ.get(source.ssh_passphrase_env or "", "")
            return pygit2.Keypair(
                username_from_url or "git",
                str(public) if public.is_file() else None,
                str(source.ssh_key),
                passphrase,
            )
        raise pygit2.GitError("the remote asks for credentials and agent.yaml names none")


class _Pushing(_Credentials):
    """`_Credentials`, and the remote's answer for each ref pushed (None: accepted)."""

    def __init__(self, source: Source) -> None:
        super().__init__(source)
        self.refused: dict[str, str] = {}

    def push_update_reference(self, refname: str, message: str | None) -> None:
        if message is not None:
            self.refused[refname] = message


class Mirror:
    """The bare mirror; `ref` is where the branch is fetched to (default
    `refs/remotes/origin/BRANCH`; the configuration server fetches to `refs/heads/BRANCH`)."""

    def __init__(
        self, path: Path, source: Source, session: Session | None = None, *, ref: str | None = None
    ) -> None:
        self.path = path
        self.source = source
        self._ref = ref or f"refs/remotes/origin/{source.branch}"
        # Shared by the snapshots of every pass: a blob decrypted once (bounded memo).
        self.session = session if session is not None else Session(use_cache=False)
        self._repo: pygit2.Repository | None = None
        # What the check at start fetched (a commit id or the error): the first pass uses it
        # instead of fetching again (a silent remote would cost its timeout twice).
        self._held: str | SourceError | None = None
        # A fetch given up at its deadline and still waiting on the remote: no second one
        # starts beside it.
        self._stuck: threading.Thread | None = None

    def hold(self, outcome: str | SourceError) -> None:
        """Keep a fetch's outcome for the next `fetch()` call."""
        self._held = outcome

    @property
    def repo(self) -> pygit2.Repository:
        if self._repo is None:
            if (self.path / "HEAD").is_file():
                self._repo = pygit2.Repository(str(self.path))
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._repo = pygit2.init_repository(str(self.path), bare=True)
            remotes = {r.name: r for r in self._repo.remotes}
            if "origin" not in remotes:
                self._repo.remotes.create("origin", self.source.url)
            elif remotes["origin"].url != self.source.url:
                self._repo.remotes.set_url("origin", self.source.url)
        return self._repo

    def fetch(self) -> str:
        """Fetch the branch; its commit id."""
        held, self._held = self._held, None
        if isinstance(held, SourceError):
            raise held
        if held is not None:
            return held
        branch = self.source.branch
        url = self.source.url
        if is_local_path(url) and not Path(url).exists():
            raise SourceError(
                f"no Git repository at {url}",
                hint="check source.url in agent.yaml (a path, a file://, https:// or ssh:// URL)",
            )
        try:
            self._fetch_within([f"+refs/heads/{branch}:{self._ref}"])
        except (pygit2.GitError, OSError, ValueError) as exc:
            raise SourceError(
                f"cannot fetch {redact_url(self.source.url)}: {_reason(exc, self.source)}",
                hint="the agent keeps the files in place and retries; check the URL and access "
                "(source.token_env for HTTPS, source.ssh_key for SSH)",
            ) from None
        tip = self.last_fetched()
        if tip is None:
            raise SourceError(
                f"the remote {redact_url(self.source.url)} has no branch {branch!r}",
                hint="check source.branch in agent.yaml",
            )
        return tip

    def _fetch_within(self, refspecs: list[str]) -> None:
        """Fetch in a thread of its own and wait for it `source.timeout` at most: libgit2 bounds
        each read, never the whole (a remote dripping its branch list would hold the pass)."""
        seconds = self.source.timeout.total_seconds()
        if self._stuck is not None and self._stuck.is_alive():
            raise pygit2.GitError(f"an earlier fetch still waits on the remote (>{seconds:g} s)")
        self.repo  # noqa: B018  the mirror and its remote exist before the thread opens them
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                repo = pygit2.Repository(str(self.path))  # its own handle: nothing shared
                repo.remotes["origin"].fetch(refspecs, callbacks=_Credentials(self.source))
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001  handed to the waiting thread
                outcome.append(exc)

        pygit2.option(pygit2.enums.Option.SET_SERVER_CONNECT_TIMEOUT, CONNECT_TIMEOUT_MS)
        pygit2.option(pygit2.enums.Option.SET_SERVER_TIMEOUT, READ_TIMEOUT_MS)
        thread = threading.Thread(target=run, name="cfgctl-fetch", daemon=True)
        thread.start()
        thread.join(seconds)
        if thread.is_alive():
            self._stuck = thread
            raise pygit2.GitError(f"no complete answer within {seconds:g} s (source.timeout)")
        if outcome and outcome[0] is not None:
            raise outcome[0]

    def push(self, refs: list[str]) -> None:
        """Push each of `refs` to the same name on the remote, never forced (a fast-forward or
        a new ref); `PushRejected` when the remote refuses one, `SourceError` when it cannot
        be reached."""
        callbacks = _Pushing(self.source)
        try:
            self.repo.remotes["origin"].push([f"{r}:{r}" for r in refs], callbacks=callbacks)
        except pygit2.GitError as exc:
            reason = _reason(exc, self.source)
            if "not present locally" in reason or "fastforward" in reason.replace("-", ""):
                callbacks.refused.setdefault(refs[0], reason)
            else:
                raise SourceError(
                    f"cannot push to {redact_url(self.source.url)}: {reason}",
                    hint="check that the remote is reachable and accepts pushes with these "
                    "credentials",
                ) from None
        if callbacks.refused:
            name, why = next(iter(callbacks.refused.items()))
            raise PushRejected(
                f"{redact_url(self.source.url)} refused {name}: {why}",
                hint="the remote moved since the last fetch: fetch, then try again",
            )

    def last_fetched(self) -> str | None:
        ref = self.repo.references.get(self._ref)
        return str(ref.target) if ref is not None else None

    def commit(self, sha: str) -> pygit2.Commit:
        commit: pygit2.Commit = self.repo[sha].peel(pygit2.Commit)
        return commit

    def message(self, sha: str) -> str:
        return str(self.commit(sha).message)

    def commit_time(self, sha: str) -> datetime:
        return datetime.fromtimestamp(self.commit(sha).commit_time, UTC)

    def snapshot(self, sha: str) -> Snapshot:
        store = GitStore(self.repo)
        files = store.files_of(self.commit(sha), self.source.path)
        if MANIFEST not in files:
            where = f"{self.source.path}/" if self.source.path else ""
            raise SourceError(
                f"commit {sha[:12]} has no {where}{MANIFEST}",
                hint="check source.path in agent.yaml (the config repository's folder)",
            )
        return Snapshot(
            self.path,
            files,
            rev=sha,
            commit=sha,
            store=store,
            cache=Cache(None),
            session=self.session,
        )

"""The agent's source when agent.yaml says `source: {etcd: {...}}`: the head `cfgctl fleet
publish` keeps in etcd, read whole and checked at each pass, watched between passes.

    feed = EtcdFeed(config.source.etcd, config.targets, session, state)
    tip = feed.fetch()            # the head's commit; SourceError when unreachable or incomplete
    snap = feed.snapshot(tip)     # the shared files and the targets' layers, as from Git
    feed.watch(wake)              # a thread: wake.set() when the head changes

Each pass reads the head and everything it needs at the head's own revision, and checks every
digest (cfgctl.fleet.view): a half-published commit or foreign data is an error of the pass, the
files stay. The watch only wakes passes early; it resumes from the last revision it saw after a
stream breaks (a member lost: the next one), and when that revision has been compacted away
the next pass reads the whole state anyway: no change is missed. A head older than one already
seen (a member answering from old data) is never applied.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from cfgctl.agent.config import EtcdSource, Target
from cfgctl.agent.source import SourceError
from cfgctl.agent.state import AgentState
from cfgctl.errors import CfgctlError
from cfgctl.fleet.etcd import Compacted, Etcd, put
from cfgctl.fleet.layout import Layout
from cfgctl.fleet.reader import FleetView
from cfgctl.fleet.view import read_view
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot

__all__ = ["EtcdFeed"]

log = logging.getLogger("cfgctl.agent")

_RETRY = 0.5  # seconds between two attempts to watch when no member takes it


class EtcdFeed:
    def __init__(
        self, spec: EtcdSource, targets: list[Target], session: Session, state: AgentState
    ) -> None:
        self.spec = spec
        self.layout = Layout(spec.prefix)
        self.etcd = Etcd(list(spec.endpoints), timeout=spec.timeout.total_seconds())
        self.pairs = sorted({(t.service, t.env) for t in targets})
        self.session = session
        self.state = state
        self._held: str | SourceError | None = None
        self._view: FleetView | None = None
        self._snap: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what a pass reads --------------------------------------------------------------------

    def hold(self, outcome: str | SourceError) -> None:
        self._held = outcome

    def fetch(self) -> str:
        held, self._held = self._held, None
        if isinstance(held, SourceError):
            raise held
        if held is not None and self._view is not None:
            return held
        try:
            if self._unchanged():
                assert self._view is not None
                return self._view.head.commit  # the files were read whole for this head
            found = read_view(self.etcd, self.layout, self.pairs, self.session)
        except CfgctlError as exc:
            raise SourceError(exc.message, hint=exc.hint) from None
        if found is None:
            raise SourceError(
                f"nothing is published under {self.layout.prefix} ({self.spec.describe()})",
                hint="publish a commit: `cfgctl fleet publish --etcd URL`",
            )
        view, snap = found
        seen = self.state.source_revision
        same_cluster = view.cluster == self.state.source_cluster or not view.cluster
        if seen and same_cluster and view.head_revision < seen:
            raise SourceError(
                f"etcd answered with a head of revision {view.head_revision}, older than "
                f"{seen} already seen: not applied",
                hint="a member answering from old data; a cluster restored from a snapshot is "
                "a new cluster (its id changes) and is followed from its own revisions",
            )
        if seen and not same_cluster:
            log.warning(
                "etcd cluster %s is not %s, whose revisions were followed: a restored or new "
                "cluster, followed from its own revisions",
                view.cluster,
                self.state.source_cluster,
            )
        self._view, self._snap = view, snap
        self.state.source_revision = view.head_revision
        self.state.source_cluster = view.cluster
        return view.head.commit

    def _unchanged(self) -> bool:
        """Whether the head is the one read last (its key not written since, same cluster): a
        pass woken by the poll then reads one key, not the shared files and pairs again."""
        if self._view is None:
            return False
        found = self.etcd.range(self.layout.head, keys_only=True)
        return bool(found.kvs) and (found.kvs[0].mod_revision, found.cluster) == (
            self._view.head_revision,
            self._view.cluster,
        )

    def _current(self, sha: str) -> FleetView:
        if self._view is None or self._view.head.commit != sha:
            raise SourceError(f"commit {sha[:12]} is not the head read from etcd")
        return self._view

    def snapshot(self, sha: str) -> Snapshot:
        self._current(sha)
        assert self._snap is not None
        return self._snap

    def message(self, sha: str) -> str:
        return self._current(sha).head.message

    def commit_time(self, sha: str) -> datetime:
        return datetime.fromtimestamp(self._current(sha).head.commit_time, UTC)

    def traceparent(self, sha: str) -> str:
        return self._current(sha).head.traceparent

    # --- reports ------------------------------------------------------------------------------

    def report(self, agent_id: str, document: dict[str, Any], ttl: float) -> None:
        """Keep this agent's report under `<prefix>/v1/agents/<env>/<id>` (fleet status), under
        a lease of `ttl` seconds: a dead agent's report expires. A failure is logged only."""
        try:
            lease = self.etcd.lease(max(5, int(ttl)))
            body = json.dumps(document, sort_keys=True).encode()
            self.etcd.txn([put(self.layout.agent(self.spec.env, agent_id), body, lease)])
        except CfgctlError as exc:
            log.warning("cannot report to etcd: %s", exc.message)

    # --- the watch ----------------------------------------------------------------------------

    def watch(self, wake: threading.Event) -> None:
        """Start a thread that sets `wake` whenever the head changes (or may have)."""
        self._thread = threading.Thread(
            target=self._watch, args=(wake,), name="cfgctl-etcd-watch", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.etcd.close()

    def _watch(self, wake: threading.Event) -> None:
        start = self.state.source_revision + 1 if self.state.source_revision else 0
        cluster = self.state.source_cluster
        while not self._stop.is_set():
            if self.state.source_cluster != cluster:  # a pass met a new (restored) cluster
                cluster = self.state.source_cluster
                start = self.state.source_revision + 1
            try:
                for event in self.etcd.watch(self.layout.commit, start_revision=start):
                    start = event.mod_revision + 1
                    log.info("etcd: the head changed (revision %d)", event.mod_revision)
                    wake.set()
            except Compacted as exc:
                # The revision to resume from is gone: the next pass reads the whole state,
                # and the watch goes on from the oldest revision etcd still has.
                start = exc.compact_revision
                wake.set()
            except CfgctlError as exc:
                log.warning("etcd watch: %s", exc.message)
            if not self._stop.is_set():
                time.sleep(_RETRY)  # the stream ended (a member lost): the next member

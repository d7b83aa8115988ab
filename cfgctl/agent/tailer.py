"""An agent on a Git source that also publishes each commit it fetches to etcd (agent.yaml
`publish: {etcd: {...}}`): the fleet's tailer, as Configerator's tailer feeds its Zeus tree.

    tailer = Tailer(config.publish)
    tailer.publish(mirror, tip)     # after each fetch; errors are logged, never stop delivery

Publishing is idempotent (the head published already writes nothing), so several tailers may
run for availability: the publish lock and the head's compare-and-swap keep them apart.
"""

from __future__ import annotations

import logging

from cfgctl.agent.fleetconfig import PublishSpec
from cfgctl.agent.source import Mirror
from cfgctl.errors import CfgctlError
from cfgctl.fleet.etcd import Etcd
from cfgctl.fleet.incremental import OpenedCommit
from cfgctl.fleet.layout import Layout
from cfgctl.fleet.publish import CommitInfo, publish_commit
from cfgctl.repo.gitstore import GitStore

__all__ = ["Tailer"]

log = logging.getLogger("cfgctl.agent")


class Tailer:
    def __init__(self, spec: PublishSpec) -> None:
        self.etcd = Etcd(list(spec.endpoints), timeout=spec.timeout.total_seconds())
        self.layout = Layout(spec.prefix)
        self.published: str | None = None  # the last commit this tailer published
        self.error: str | None = None

    def publish(self, mirror: Mirror, sha: str) -> None:
        if sha == self.published:
            return
        try:
            commit = mirror.commit(sha)
            info = CommitInfo(sha, int(commit.commit_time), str(commit.message))
            folder = mirror.source.path
            opened = OpenedCommit(
                GitStore(mirror.repo),
                f"{folder}/" if folder else "",
                commit,
                lambda: mirror.snapshot(sha),
            )
            result = publish_commit(opened, self.etcd, self.layout, info)
        except CfgctlError as exc:
            if exc.message != self.error:
                log.warning("publish of %s to etcd failed: %s", sha[:12], exc.message)
            self.error = exc.message
            return
        self.published, self.error = sha, None
        if not result.unchanged:
            log.info(
                "published %s to etcd %s: %d pairs written",
                sha[:12],
                self.layout.prefix,
                len(result.written),
                extra={"fields": result.to_dict()},
            )

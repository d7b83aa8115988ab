"""The published head as a Snapshot, for the agent: the shared files and the layers of the
pairs it delivers, read consistently at one revision and checked (cfgctl.fleet.reader), to
render and validate exactly as from Git.

    found = read_view(etcd, layout, [("payments", "prod")], session)   # None: nothing published
    view, snap = found
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cfgctl.fleet.etcd import Compacted, Etcd
from cfgctl.fleet.layout import Layout
from cfgctl.fleet.reader import FleetView
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot

__all__ = ["read_view", "snapshot_of"]

_ATTEMPTS = 3


def snapshot_of(view: FleetView, pairs: Iterable[tuple[str, str]], session: Session) -> Snapshot:
    """The repository at the head as far as `pairs` (service, env) need it."""
    files: dict[str, FileRef] = {}
    for path in view.head.files:
        files[path] = FileRef.of_bytes(path, view.file(path))
    for service, env in pairs:
        pair = view.pair(env, service)
        for layer in pair.layers if pair is not None else ():
            files[layer.path] = FileRef.of_bytes(layer.path, layer.text.encode())
    commit = view.head.commit
    root = Path(f"/etcd{view.layout.prefix}")  # a name, never read: every file is here
    return Snapshot(root, files, rev=commit, commit=commit, session=session)


def read_view(
    etcd: Etcd, layout: Layout, pairs: Iterable[tuple[str, str]], session: Session
) -> tuple[FleetView, Snapshot] | None:
    """`FleetView.read` and its snapshot of `pairs`, read again from the start when etcd
    compacted the revision in between (a reader never mixes two revisions)."""
    wanted = list(pairs)
    for attempt in range(_ATTEMPTS):
        view = FleetView.read(etcd, layout)
        if view is None:
            return None
        try:
            return view, snapshot_of(view, wanted, session)
        except Compacted:
            if attempt == _ATTEMPTS - 1:
                raise
    return None

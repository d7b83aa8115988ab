"""What the snapshots of one run share: the on-disk cache of each repository, the parsed
manifests and their pairs, the decrypted secrets.

    session = Session()                         # one per command run, or per agent
    base = Snapshot.at(root, "HEAD", session=session)
    head = Snapshot.from_worktree(root, session=session)   # parses the same manifest once
    session.close()                             # cache written, decrypted values dropped

A snapshot opened without a session gets its own: nothing is shared through module globals. The
memos are bounded (least recently used out), so a long-lived process holding one session (the
agent, `watch`) does not grow without limit.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from cfgctl.repo.cache import Cache
from cfgctl.repo.decrypt import Decrypter

if TYPE_CHECKING:
    from cfgctl.repo.gitstatus import StatusProbe

__all__ = ["LRU", "Session"]

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A mapping of at most `size` entries; the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        found = self.get(key)
        return found if found is not None else self.put(key, make())

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class Session:
    """The caches of one run (a command, an agent), owned here rather than by the module."""

    def __init__(
        self,
        *,
        use_cache: bool = True,
        decrypter: Decrypter | None = None,
        memo_size: int = 16,
        probe: StatusProbe | None = None,
    ) -> None:
        self.use_cache = use_cache
        # The work tree's status, computed since the command started; good for its first read.
        self.probe = probe
        self._probe_taken = False
        self.decrypter = decrypter if decrypter is not None else Decrypter()
        self._caches: dict[Path, Cache] = {}
        # Parsed manifests by blob id (with their problems), and the pairs of a parsed manifest:
        # both sides of a diff usually share the manifest. The values are typed by snapshot.py.
        self.manifests: LRU[str, object] = LRU(memo_size)
        self.pairs: LRU[int, object] = LRU(memo_size)

    def cache_for(self, root: Path, use: bool = True) -> Cache:
        """One cache per repository: the snapshots of a diff share what they parse."""
        if not (use and self.use_cache) or os.environ.get("CFGCTL_NO_CACHE"):
            return Cache(None)
        if root not in self._caches:
            self._caches[root] = Cache(root / CACHE_DIR)
        return self._caches[root]

    def take_probe(self) -> StatusProbe | None:
        """The early status, once: a later read of the work tree may follow a write. The
        session still ends it on `close()` if the snapshot never asked for its answer."""
        if self._probe_taken:
            return None
        self._probe_taken = True
        return self.probe

    def close(self) -> None:
        """Write the caches, and drop the decrypted values and memos."""
        if self.probe is not None:
            self.probe.close()  # nothing to do once it answered
            self.probe = None
        for cache in self._caches.values():
            cache.close()
        self._caches.clear()
        self.decrypter.clear()
        self.manifests.clear()
        self.pairs.clear()


CACHE_DIR = ".cfgctl/cache"

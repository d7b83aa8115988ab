"""Decryption of `.secrets.yaml` layers: in memory, by blob id, bounded, dropped on demand.

    decrypter = Decrypter()                      # one per run (a Session holds it)
    plain = decrypter.decrypted(snap.files["config/prod/payments.secrets.yaml"])  # None: no key
    decrypter.clear()                            # done: the plaintext leaves memory

Rendering an effective configuration (this layer) must decrypt, so the reading half of secrets
lives here; writing secrets (encrypt, set, re-key) is `cfgctl.secrets`. A `Decrypter` keeps the
trees it decrypted so that the snapshots of one run (both sides of a diff, an agent's passes)
decrypt a blob once; it holds at most `max_entries` trees and `max_bytes` of ciphertext, least
recently used first out, so that a long-lived process (the agent, `watch`) does not grow without
limit. Nothing decrypted is ever written to the on-disk cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cfgctl.errors import InputError
from cfgctl.repo import sops
from cfgctl.repo.gitstore import FileRef

__all__ = ["Decrypter", "default_key_file", "key_fingerprint"]

_NO_KEY = object()  # remembered: "no key at hand opens this blob"


def default_key_file() -> Path:
    """Where sops looks for age identities: SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt."""
    chosen = os.environ.get("SOPS_AGE_KEY_FILE")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sops" / "age" / "keys.txt"


def key_fingerprint() -> str:
    """A digest of the age keys at hand (the variables and the key file sops reads): the same
    fingerprint, the same layers decrypt. Part of the key of cached verdicts."""
    h = hashlib.sha256()
    for name in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"):
        h.update(f"{name}={os.environ.get(name, '')}\n".encode())
    try:
        h.update(default_key_file().read_bytes())
    except OSError:
        h.update(b"-")
    return h.hexdigest()


class Decrypter:
    """Decrypted trees of encrypted layers by blob id (LRU, bounded by entries and by the size of
    the ciphertext they came from). Thread-safe: `prefetch` decrypts on several threads."""

    def __init__(self, *, max_entries: int = 4096, max_bytes: int = 64 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._trees: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._trees)

    def __contains__(self, oid: object) -> bool:
        return oid in self._trees

    def decrypted(self, ref: FileRef) -> Any:
        """The plaintext tree of an encrypted layer, or None when no key at hand opens it.
        `SopsFailed` for a tampered or broken file."""
        with self._lock:
            known = self._trees.get(ref.oid)
            if known is not None:
                self._trees.move_to_end(ref.oid)
        if known is None:
            data = ref.read()
            try:
                tree = sops.decrypt(data, ref.path)
            except sops.NoKey:
                tree = _NO_KEY
            self.remember(ref.oid, tree, len(data))
            return None if tree is _NO_KEY else tree
        return None if known[0] is _NO_KEY else known[0]

    def remember(self, oid: str, tree: Any, size: int = 0) -> None:
        """Hold `tree` as the plaintext of blob `oid` (a trial decryption: an edited tree)."""
        with self._lock:
            old = self._trees.pop(oid, None)
            if old is not None:
                self._bytes -= old[1]
            self._trees[oid] = (tree, size)
            self._bytes += size
            while self._trees and (
                len(self._trees) > self.max_entries or self._bytes > self.max_bytes
            ):
                _, (_, dropped) = self._trees.popitem(last=False)
                self._bytes -= dropped

    def forget(self, oid: str) -> None:
        with self._lock:
            old = self._trees.pop(oid, None)
            if old is not None:
                self._bytes -= old[1]

    def clear(self) -> None:
        """Drop every decrypted value (a run is over; the agent's pass is done)."""
        with self._lock:
            self._trees.clear()
            self._bytes = 0

    def prefetch(self, refs: Iterable[FileRef]) -> None:
        """Decrypt many layers at once: one sops process per core plus one (each runs with
        GOMAXPROCS=1; measured on 2 cores, more processes only add contention)."""
        todo = {r.oid: r for r in refs if r.oid not in self._trees}
        if len(todo) < 2:
            for ref in todo.values():
                self._quiet(ref)
            return
        with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 1) + 1)) as pool:
            list(pool.map(self._quiet, todo.values()))

    def _quiet(self, ref: FileRef) -> None:
        with contextlib.suppress(InputError):  # reported where the layer is used, with its location
            self.decrypted(ref)

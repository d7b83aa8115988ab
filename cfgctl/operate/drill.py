"""`cfgctl backup drill FILE`: the restore drill most teams never run.

    drill = drill_backup(Path("cfg.backup"))
    drill.ok, drill.secrets, drill.steps      # each secrets file opened or not; seconds per step

Restores the backup into scratch space in memory (/dev/shm where there is one) exactly as
`backup restore` would (checksums, `git bundle verify`, every ref, HEAD checked out, every digest
compared), then checks that the age keys at hand (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, the default
key file) still open every `.secrets.yaml` at HEAD: a backup whose secrets no key opens restores
a repository nobody can deploy. The decrypted values stay in memory and are dropped at the end;
nothing is printed of them. The scratch space is removed whatever happens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.errors import CfgctlError, EnvError
from cfgctl.operate.backup import scratch
from cfgctl.operate.verify import open_verified
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot

__all__ = ["Drill", "SecretCheck", "drill_backup"]


@dataclass(frozen=True)
class SecretCheck:
    path: str
    opened: bool
    problem: str | None = None
    recipients: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "opened": self.opened,
            "problem": self.problem,
            "recipients": list(self.recipients),
        }


@dataclass
class Drill:
    path: Path
    manifest: dict[str, Any]
    secrets: list[SecretCheck] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[SecretCheck]:
        return [s for s in self.secrets if not s.opened]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def pairs(self) -> int:
        return sum(len(e) for e in self.manifest["pairs"].values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "ok": self.ok,
            "created": self.manifest["created"],
            "head": self.manifest["head"],
            "refs": self.manifest["refs"],
            "pairs": self.pairs,
            "secrets": [s.to_dict() for s in self.secrets],
            "seconds": {k: round(v, 3) for k, v in self.steps.items()},
        }


def drill_backup(path: Path, *, cache_root: Path | None = None) -> Drill:
    """Restore the backup at `path` into scratch space, compare every digest, open every
    secrets file with the keys at hand (see the module docstring)."""
    session = Session()
    try:
        with scratch() as work:
            done = open_verified(path, work, bare=False, cache_root=cache_root, session=session)
            drill = Drill(path, done.opened.manifest, steps=done.steps)
            started = time.perf_counter()
            if done.head is not None:
                drill.secrets = _open_secrets(done.head, session)
            drill.steps["secrets"] = time.perf_counter() - started
    finally:
        session.close()  # the decrypted values leave memory
    drill.steps["total"] = sum(drill.steps.values())
    return drill


def _open_secrets(snap: Snapshot, session: Session) -> list[SecretCheck]:
    refs = [
        ref
        for path, ref in sorted(snap.files_under("config").items())
        if path.endswith(".secrets.yaml")
    ]
    session.decrypter.prefetch(refs)
    out = []
    for ref in refs:
        try:
            opened = session.decrypter.decrypted(ref) is not None
            problem = None if opened else "no key at hand opens it"
        except EnvError:
            raise  # no sops binary: the drill cannot judge
        except CfgctlError as exc:
            opened, problem = False, exc.message
        recipients = () if opened else _recipients(snap, ref.path)
        out.append(SecretCheck(ref.path, opened, problem, recipients))
    return out


def _recipients(snap: Snapshot, path: str) -> tuple[str, ...]:
    """The age recipients a secrets file is encrypted for (public keys: no secret)."""
    try:
        data = snap.document(path).data
    except CfgctlError:
        return ()
    meta = data.get("sops") if isinstance(data, dict) else None
    entries = meta.get("age") if isinstance(meta, dict) else None
    if not isinstance(entries, list):
        return ()
    return tuple(str(e["recipient"]) for e in entries if isinstance(e, dict) and "recipient" in e)

"""`cfgctl export`: the effective configuration of one service in one environment, in a format
teams already have, with what that format cannot hold said before anything is written.

    exported = export_service(snap, "payments", "prod", "properties")
    exported.data       # bytes
    exported.losses     # what the format cannot hold (formats_out.Loss)
    exported.omitted    # secret keys left out (skip_secrets)

Secrets: without `reveal`, a configuration holding secrets is refused (exit 2), naming the keys,
unless `skip_secrets` leaves them out; never are they written masked, as if `***` were a value.
With `reveal`, a file (`--out`) holding them is written with mode 0600, and only on a
memory-backed filesystem (tmpfs, ramfs: /dev/shm, /run/user/...) unless `force`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.diagnostics import DiagnosedFailure
from cfgctl.errors import CheckFailed, InputError
from cfgctl.operate.flatkeys import env_part, leaves, spring_part
from cfgctl.operate.formats_out import FORMATS, LOSSES, Loss, write_format
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath

__all__ = ["Exported", "export_service", "memory_backed", "refuse_losses", "write_out"]

_MEMORY_FS = {"tmpfs", "ramfs"}


@dataclass
class Exported:
    data: bytes
    losses: list[Loss] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    revealed: bool = False  # the data holds secret values
    commented: list[str] = field(default_factory=list)  # layers whose comments are not carried

    def report(self, fmt: str) -> list[str]:
        """The "will be lost" report, one line each."""
        lines = [f"will be lost in {fmt}: {loss.what}: {_keys(loss.keys)}" for loss in self.losses]
        if self.omitted:
            lines.append(f"left out (secrets, --skip-secrets): {_keys(tuple(self.omitted))}")
        if self.commented:
            lines.append(
                f"not exported: the comments of {_keys(tuple(self.commented))} (export writes "
                "values)"
            )
        return lines


def _keys(keys: tuple[str, ...]) -> str:
    shown = ", ".join(keys[:8])
    return shown + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")


def _without(data: Any, paths: list[JsonPath]) -> Any:
    import copy

    out = copy.deepcopy(data)
    for path in paths:
        node = out
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
    return out


def export_service(
    snap: Snapshot,
    service: str,
    env: str,
    fmt: str,
    *,
    prefix: str | None = None,
    reveal: bool = False,
    skip_secrets: bool = False,
) -> Exported:
    """The effective configuration of (service, env) in `fmt`, checked against its schema."""
    from cfgctl.checks.render import render_checked

    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", hint=f"one of {', '.join(FORMATS)}")
    checked = render_checked(snap, service, env, reveal=reveal, validate=True)
    if checked.problems:
        raise DiagnosedFailure(
            f"{service}@{env} fails validation; nothing exported",
            checked.problems,
            hint="fix the values listed, then export again",
        )
    rendered = checked.rendered
    secrets = [p for p, _ in leaves(rendered.data, index_lists=False) if rendered.is_secret(p)]
    data: Any = rendered.data
    omitted: list[str] = []
    if secrets and not reveal:
        if not skip_secrets:
            raise InputError(
                f"{service}@{env} holds secrets ({_keys(tuple(dotted_path(p) for p in secrets))}): "
                "nothing exported",
                hint="--reveal writes their values; --skip-secrets leaves them out",
            )
        data = _without(data, secrets)
        omitted = [dotted_path(p) for p in secrets]
    written = write_format(data, fmt, service=service, env=env, prefix=prefix)
    exported = Exported(written.data, written.losses, omitted, bool(secrets) and reveal)
    if fmt in ("env", "spring"):
        renamed = _renamed(snap, service, data, fmt == "spring")
        if renamed:
            exported.losses.append(Loss("names", LOSSES["names"], tuple(renamed)))
    exported.commented = [
        layer.path
        for layer in rendered.layers
        if not layer.secret and b"#" in snap.files[layer.path].read()
    ]
    return exported


def refuse_losses(exported: Exported, fmt: str, what: str) -> None:
    """--strict: CheckFailed (exit 1) when `fmt` cannot hold every value of `what`."""
    if exported.losses:
        kinds = ", ".join(sorted({loss.kind for loss in exported.losses}))
        raise CheckFailed(
            f"--strict: {fmt} cannot hold every value of {what} ({kinds}); nothing exported",
            hint="export as yaml or json, which hold every value, or drop --strict",
        )


def _renamed(snap: Snapshot, service: str, data: Any, spring: bool) -> list[str]:
    """The keys whose variable name does not give them back: not declared by the schema (which
    `cfgctl import` reads the names with), and changed by upper-casing or dropped characters."""
    from cfgctl.operate.schematypes import SchemaView

    ref = snap.schema_of(service)
    view = SchemaView(snap.schemas.document(ref.path), snap.schema_resolver(ref))
    part_of = spring_part if spring else env_part
    out = []
    for path, _ in leaves(data, index_lists=spring):
        for i, part in enumerate(path):
            changed = isinstance(part, str) and part_of(part).lower() != part
            if changed and part not in view.keys(path[:i]):
                out.append(dotted_path(path))
                break
    return out


def memory_backed(path: Path) -> bool:
    """Whether the folder of `path` lies on a filesystem held in memory (tmpfs, ramfs), as the
    kernel's mount table says; False where it cannot tell."""
    try:
        mounts = Path("/proc/self/mounts").read_text()
    except OSError:
        return False
    folder = path.parent.resolve()
    best, kind = "", ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        if (folder == Path(point) or folder.is_relative_to(point)) and len(point) > len(best):
            best, kind = point, fields[2]
    return kind in _MEMORY_FS


def write_out(exported: Exported, out: Path, *, force: bool = False) -> None:
    """Write the export to `out` atomically. Revealed secrets: mode 0600, and refused on a disk
    (not memory-backed) unless `force`."""
    if exported.revealed:
        if not force and not memory_backed(out):
            raise InputError(
                f"refused to write secret values to {out}: it is not on a memory-backed "
                "filesystem, and a deleted file stays readable on a disk",
                hint="write to /dev/shm or stdout, or pass --force (the file gets mode 0600)",
            )
        if out.is_file():
            out.unlink()  # a new file gets mode 0600; an existing one would keep its mode
    try:
        atomic_write(out, exported.data, mode=0o600 if exported.revealed else None)
    except OSError as exc:
        raise InputError(
            f"cannot write {out}: {exc.strerror}", hint="check the folder and its permissions"
        ) from None
    if exported.revealed:
        out.chmod(0o600)

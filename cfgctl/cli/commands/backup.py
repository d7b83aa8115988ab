"""`cfgctl backup create|verify|restore|drill`: the repository in one checked file, and back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import FormatOpt, TextOrJson
from cfgctl.cli.output import out
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE
from cfgctl.errors import CheckFailed, InputError

if TYPE_CHECKING:
    from cfgctl.operate.drill import Drill
    from cfgctl.operate.restore import Restored

__all__ = ["app"]

app = typer.Typer(rich_markup_mode=None)
backup = typer.Typer(
    help="Backups of the repository: create, verify, restore, and the restore drill.",
    no_args_is_help=True,
)
app.add_typer(backup, name="backup")

FileArg = Annotated[
    Path, typer.Argument(metavar="FILE", help="A backup file (cfgctl backup create).")
]


def _cache_root() -> Path | None:
    """The repository the command runs in, whose parse cache (by blob id) may be used."""
    from cfgctl.repo.snapshot import find_root

    if not STATE.use_cache:
        return None
    try:
        return find_root(STATE.start())
    except InputError:
        return None


def _short(head: dict[str, str | None]) -> str:
    ref = (head.get("ref") or "").removeprefix("refs/heads/")
    commit = (head.get("commit") or "none")[:12]
    return f"HEAD {ref} at {commit}" if ref else f"HEAD (detached) at {commit}"


@backup.command("create")
def backup_create(
    out_file: Annotated[
        Path, typer.Argument(metavar="OUT", help="The backup file to write.", dir_okay=False)
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Write the whole repository into one file: a Git bundle of every ref and a manifest.

    The file is a tar of manifest.json, repo.bundle (git bundle create --all) and SHA256SUMS.
    The manifest records the SHA-256 of the bundle, each ref's commit, where HEAD points, the
    schema registry, and a digest of the effective configuration of every (service, env) at
    HEAD. Secrets stay as committed (SOPS-encrypted) and are never decrypted for a digest;
    refused (exit 1) when any .secrets.yaml in the history is plain text. OUT is written
    atomically and never overwritten without --force (exit 2).

    Example: cfgctl backup create /backups/cfg-$(date +%F).backup
    """
    from cfgctl.operate.backup import create_backup

    created = create_backup(STATE.start(), out_file, force=force, use_cache=STATE.use_cache)

    def text() -> None:
        out.print(
            f"wrote {created.path} ({created.size:,} bytes): {len(created.refs)} refs, "
            f"{_short(created.head)}, {created.pairs} effective configurations "
            f"(digest {created.configuration[:12]})"
        )

    emit(fmt.value, created.to_dict(), text)


@backup.command("verify")
def backup_verify(file: FileArg, fmt: FormatOpt = TextOrJson.text) -> None:
    """Check a backup end to end: checksums, the bundle, and every digest re-rendered.

    Reads every byte against its checksum (a truncated or changed file is named), runs `git
    bundle verify` in an empty repository (the bundle is complete: it needs no other
    repository), unpacks it in memory, compares its refs with the manifest's, and renders the
    effective configuration of every (service, env) again from the bundle to compare its
    digest. Nothing is written but scratch space. Exit 1 on any mismatch, naming it; 2 for a
    missing, unreadable or foreign file.

    Example: cfgctl backup verify /backups/cfg-2026-12-01.backup
    """
    from cfgctl.operate.verify import verify_backup

    verified = verify_backup(file, cache_root=_cache_root())

    def text() -> None:
        m, s = verified.manifest, verified.steps
        out.print(f"ok: {file} (made {m['created']} by cfgctl {m.get('cfgctl', '?')})")
        out.print(f"  checksums: manifest.json, repo.bundle, SHA256SUMS ({s['checksums']:.2f} s)")
        out.print(
            f"  bundle: complete, {len(m['refs'])} refs as recorded, {_short(m['head'])} "
            f"({s['unpack']:.2f} s)"
        )
        out.print(
            f"  effective configurations: {verified.pairs} digests match ({s['digests']:.2f} s)"
        )

    emit(fmt.value, verified.to_dict(), text)


@backup.command("restore")
def backup_restore(
    file: FileArg,
    target: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="A new or empty folder; with --at, an existing repository."
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="COMMIT|TIME",
            help="Restore the configuration as of a commit of the backed-up history (or the "
            "newest one at or before an RFC 3339 time) as a new commit on top of DIR's history.",
        ),
    ] = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Restore a backup into a new folder, or a past state as a new commit.

    Into a new or empty DIR: every ref as it was, HEAD checked out, after the checksums, `git
    bundle verify` and every digest passed; all of it or nothing (a folder it made is removed
    on failure). A folder that is not empty is refused (exit 2) unless --at is given: then DIR
    is an existing repository, and the config repository's files as they were at COMMIT (or
    at TIME, e.g. 2026-11-30T12:00:00Z) are committed on top of its history (never a rewrite),
    under the repository lock, refused on uncommitted changes. Exit 1 for a damaged backup.

    Example: cfgctl backup restore cfg.backup ./cfg --at 2026-11-30T12:00:00Z
    """
    from cfgctl.operate.restore import restore_backup

    restored = restore_backup(file, target, at=at, cache_root=_cache_root())
    emit(fmt.value, restored.to_dict(), lambda: _print_restored(file, restored))


def _print_restored(file: Path, restored: Restored) -> None:
    done = restored.at
    if restored.new:
        out.print(
            f"restored {file} into {restored.path}: {len(restored.refs)} refs, "
            f"{_short(restored.head)}; {restored.pairs} effective configurations match "
            "their digests"
        )
    if done is None:
        return
    if done.commit is None:
        out.print(f"already as at {done.source[:12]} ({done.source_time}): nothing committed")
        return
    out.print(
        f"restored the configuration as of {done.source[:12]} ({done.source_time}) as commit "
        f"{done.commit[:12]} on top of the history"
    )


@backup.command("drill")
def backup_drill(file: FileArg, fmt: FormatOpt = TextOrJson.text) -> None:
    """Rehearse a restore: into scratch space, every digest compared, every secret opened.

    Restores FILE in memory exactly as `backup restore` would (checksums, git bundle verify,
    every ref, HEAD checked out, every digest compared), then checks that the age keys at hand
    (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, ~/.config/sops/age/keys.txt) still open every
    .secrets.yaml at HEAD. Prints how long each step took. Nothing is written outside the
    scratch space, which is removed; no secret value is shown. Exit 1 when anything fails
    (a secrets file no key opens is named with its recipients), 3 without sops.

    Example: SOPS_AGE_KEY_FILE=/vault/age.txt cfgctl backup drill cfg.backup
    """
    from cfgctl.operate.drill import drill_backup

    drill = drill_backup(file, cache_root=_cache_root())
    emit(fmt.value, drill.to_dict(), lambda: _print_drill(drill))
    if not drill.ok:
        first = drill.failed[0]
        raise CheckFailed(
            f"the drill failed: {len(drill.failed)} of {len(drill.secrets)} secrets files cannot "
            f"be opened with the keys at hand ({first.path}: {first.problem})",
            hint="set SOPS_AGE_KEY_FILE to an age identity among their recipients, and keep "
            "that key where a restore can reach it",
        )


def _print_drill(drill: Drill) -> None:
    s = drill.steps
    out.print(f"drill of {drill.path} (made {drill.manifest['created']}):")
    out.print(f"  checksums: ok ({s['checksums']:.2f} s)")
    out.print(
        f"  restore: {len(drill.manifest['refs'])} refs, {_short(drill.manifest['head'])} "
        f"checked out ({s['unpack']:.2f} s)"
    )
    out.print(f"  digests: {drill.pairs} effective configurations match ({s['digests']:.2f} s)")
    opened = len(drill.secrets) - len(drill.failed)
    out.print(
        f"  secrets: {opened} of {len(drill.secrets)} files opened with the keys at hand "
        f"({s['secrets']:.2f} s)"
    )
    for check in drill.failed:
        to = f" (recipients: {', '.join(check.recipients)})" if check.recipients else ""
        out.print(f"    {check.path}: {check.problem}{to}", style="red")
    verdict = "ok" if drill.ok else "failed"
    out.print(
        f"{verdict}: restore rehearsed in {s['total']:.2f} s", style="green" if drill.ok else "red"
    )

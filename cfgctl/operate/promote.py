"""`cfgctl promote`: make one environment's effective values equal to another's.

    plan = plan_promotion(snap, "staging", "prod", ["payments"], keys=["db.*"])  # nothing written
    plan.moves      # [KeyMove(service, path, "set" | "unset", file, ...)]
    plan.skipped    # env-local keys, values only inherited, secrets no key at hand opens
    promote(snap, "staging", "prod", [], dry_run=False)                      # written, locked

For every selected key whose effective value differs, the fewest values are written into the
target environment's own files of the service (`config/TARGET/SERVICE.yaml`, or
`SERVICE.secrets.yaml` for a secret), never whole files, comments kept:

- the source has the key: when the target's own file sets it and removing it there lets the
  target inherit the source's value, it is removed; otherwise it is set there.
- the source lacks the key: it is removed from the target's own file when set there; a value the
  target only inherits (from a parent environment or a `_defaults.yaml`) is not removable without
  changing other environments or services: it is listed as skipped, with the file that sets it.
- mappings are compared key by key; a list, a scalar, or a mapping facing a non-mapping is one
  value, replaced whole.
- a secret (`x-cfgctl-secret`, or a key a `.secrets.yaml` layer sets) moves when the keys at hand
  open the source's layers and the target's secrets file: decrypted in memory, changed,
  encrypted for the target's `.sops.yaml` rule. Otherwise it is skipped, to promote by hand.
  Its value is never printed.
- env-local keys (`cfgctl.operate.keyselect`) never move; those that differ are listed as skipped.

Plain files are changed by line edits (`cfgctl.repo.yamlpatch`): every other byte, comment and
blank line stays. The result must validate for the target and every environment inheriting it
(problems that were there before do not block), else nothing is written. Files are written all
or nothing under the repository lock; with a branch, the change is one commit on a new branch
on top of HEAD (planned against HEAD, the work tree untouched).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cfgctl.changes.diff import DiffResult, diff_snapshots
from cfgctl.checks.credentials import check_credentials
from cfgctl.checks.validate import validate_snapshot
from cfgctl.diagnostics import DiagnosedFailure, Diagnostic
from cfgctl.errors import InputError
from cfgctl.operate.keyselect import KeyGlob
from cfgctl.operate.promotion import Edits, KeyMove, PairWork, Skipped
from cfgctl.repo.fsutil import write_all
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.lock import locked_worktree
from cfgctl.repo.newbranch import check_new_branch, commit_on_new_branch
from cfgctl.repo.snapshot import Snapshot

__all__ = ["KeyMove", "PromotionPlan", "Skipped", "plan_promotion", "promote"]


@dataclass
class PromotionPlan:
    source: str
    target: str
    services: list[str]
    moves: list[KeyMove] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    writes: dict[str, bytes] = field(default_factory=dict)
    diff: DiffResult | None = None
    branch: str | None = None
    commit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "services": self.services,
            "moves": [m.to_dict() for m in self.moves],
            "skipped": [s.to_dict() for s in self.skipped],
            "files": sorted(self.writes),
            "diff": self.diff.to_dict() if self.diff is not None else None,
            "branch": self.branch,
            "commit": self.commit,
        }


# --- checking the request -----------------------------------------------------------------------


def _check_envs(snap: Snapshot, source: str, target: str) -> None:
    manifest = snap.manifest
    manifest.env(source)
    manifest.env(target)
    if source == target:
        raise InputError(
            f"--from and --to are both {source!r}",
            hint="promote from one environment to another, e.g. --from staging --to prod",
        )
    for role, env in (("--from", source), ("--to", target)):
        if snap.is_abstract(env):
            raise InputError(
                f"{role} {env}: {env} is abstract (only inherited from), it has no effective "
                "configuration of its own",
                location=manifest.doc.location(("environments", env)),
                hint="name a concrete environment; promote into each one inheriting it",
            )


def _services(snap: Snapshot, services: list[str]) -> list[str]:
    for service in services:
        snap.manifest.service(service)  # unknown: exit 2 with "did you mean"
    return sorted(set(services)) if services else sorted(snap.manifest.services)


def _check_globs(globs: list[KeyGlob], matched: set[str], source: str, target: str) -> None:
    missing = [g.text for g in globs if g.text not in matched]
    if missing:
        raise InputError(
            f"--keys {missing[0]!r} matches no key of the services in {source} or {target}",
            hint="`cfgctl render SERVICE --env ENV` lists the keys; * matches within one key, "
            "** across keys",
        )


# --- validation -----------------------------------------------------------------------------------


def _errors(snap: Snapshot, pairs: list[tuple[str, str]], files: list[str]) -> list[Diagnostic]:
    scope = sorted(set(files) | {layer.path for s, e in pairs for layer in snap.layers(s, e)})
    report = validate_snapshot(snap, pairs=pairs, files=scope, checks=[check_credentials])
    wanted = set(pairs)
    return [d for d in report.errors if set(d.pairs) & wanted or d.location.path in files]


def _check_valid(snap: Snapshot, trial: Snapshot, plan: PromotionPlan) -> None:
    """Refuse when the promotion brings problems the target (and every environment inheriting
    it) did not have before."""
    manifest = snap.manifest
    pairs = [
        (s, e) for s in plan.services for e in manifest.children(plan.target) if snap.has_pair(s, e)
    ]
    files = sorted(plan.writes)
    known = {d.message for d in _errors(snap, pairs, files)}
    new = [d for d in _errors(trial, pairs, files) if d.code == "render" or d.message not in known]
    if new:
        raise DiagnosedFailure(
            f"refused: promoting {plan.source} to {plan.target} would fail validation "
            f"({len(new)} problem{'s' if len(new) > 1 else ''}); nothing written",
            new,
            hint="promote fewer keys (--keys), mark the keys that differ on purpose env-local, "
            "or fix the problems listed first",
        )


# --- the commands -------------------------------------------------------------------------------


def plan_promotion(
    snap: Snapshot,
    source: str,
    target: str,
    services: list[str],
    *,
    keys: Iterable[str] = (),
    secrets: bool = True,
) -> PromotionPlan:
    """What promoting `source` to `target` writes for `services` (all when empty) and the keys
    `keys` select (all when empty), checked and validated; nothing is written. Without
    `secrets`, a secret (a key the schema marks secret, or a secrets layer sets) is skipped,
    wherever its value is held."""
    _check_envs(snap, source, target)
    chosen = _services(snap, services)
    globs = [KeyGlob.parse(k) for k in keys]
    plan = PromotionPlan(source, target, chosen)
    edits = Edits(snap)
    matched: set[str] = set()
    for service in chosen:
        work = PairWork(snap, edits, service, source, target, globs, secrets=secrets)
        work.run()
        matched |= work.matched
        plan.moves += work.moves()
        plan.skipped += work.skipped
    _check_globs(globs, matched, source, target)
    plan.writes = edits.final()
    if not plan.writes:
        return plan
    trial = snap.with_files(plan.writes)
    _check_valid(snap, trial, plan)
    plan.diff = diff_snapshots(snap, trial, services=chosen)
    plan.diff.head = "after the promotion"
    return plan


def promote(
    snap: Snapshot,
    source: str,
    target: str,
    services: list[str],
    *,
    keys: Iterable[str] = (),
    dry_run: bool = False,
    branch: str | None = None,
) -> PromotionPlan:
    """`plan_promotion`, then (unless `dry_run`) the files written all or nothing under the
    repository lock, or (with `branch`) one commit on the new branch, planned against HEAD."""
    if branch is not None:
        return _promote_on_branch(snap, source, target, services, keys, branch, dry_run)
    if dry_run:
        return plan_promotion(snap, source, target, services, keys=keys)
    with locked_worktree(snap) as fresh:
        plan = plan_promotion(fresh, source, target, services, keys=keys)
        write_all(fresh.root, plan.writes, "the promotion")
    return plan


def _promote_on_branch(
    snap: Snapshot,
    source: str,
    target: str,
    services: list[str],
    keys: Iterable[str],
    branch: str,
    dry_run: bool,
) -> PromotionPlan:
    if snap.store is None or snap.store.workdir is None:
        raise InputError("--branch needs a Git repository", hint="run it in a Git work tree")
    check_new_branch(snap.store, branch)
    head = Snapshot.at(snap.root, "HEAD", session=snap.session)
    plan = plan_promotion(head, source, target, services, keys=keys)
    plan.branch = branch
    if dry_run or not plan.writes:
        return plan
    prefix = head.git_prefix
    count = len(plan.moves)
    message = (
        f"Promote {source} to {target}: {', '.join(sorted({m.service for m in plan.moves}))}\n\n"
        f"{count} key{'s' if count != 1 else ''} made equal by cfgctl promote:\n"
        + "".join(f"- {m.action} {m.service} {dotted_path(m.path)}\n" for m in plan.moves)
    )
    files = {prefix + rel: data for rel, data in plan.writes.items()}
    plan.commit = commit_on_new_branch(snap.store, branch, files, message)
    return plan

"""`cfgctl migrate`: move services from one version of their schema to a later one.

    plan = plan_migration(snap, ["payments"], to=None)   # nothing written
    plan.writes        # {"config/prod/payments.yaml": b"...", "cfgctl.yaml": b"...", ...}
    plan.diff          # the semantic diff of every effective configuration it changes
    migrate(snap, ["payments"], to=None)                  # the same, written under the lock

The chain of migration files (`schemas/NAME.v<N>.migration.yaml`, `cfgctl.operate.migration`)
from the service's pinned version to the target applies to every layer that holds its paths:
each environment's `SERVICE.yaml`, `_defaults.yaml` (only when every service reading it moves
along the same chain), and `SERVICE.secrets.yaml` (decrypted in memory, changed, encrypted again
for the same recipients). Comments, order and quoting of plain files are kept. `default`
operations go into the service file of the highest environment whose effective configuration
lacks the path. The service's `schema:` pin in cfgctl.yaml moves to the target.

Before anything is written, two checks: migrating the layers and then merging must give what
migrating the merged configuration gives, for every (service, env) (otherwise the operations do
not say what the migration does: refused); and the whole result must validate against the new
version. Then every file is written (atomically each; on a failure the files already written get
their old bytes back), under the repository lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cfgctl.changes.diff import DiffResult, pair_diff, same_data
from cfgctl.checks.validate import validate_snapshot
from cfgctl.diagnostics import DiagnosedFailure
from cfgctl.errors import InputError
from cfgctl.operate.layeredit import LayerJob, migrate_layer, migrate_layers
from cfgctl.operate.migration import (
    Migration,
    apply_to_effective,
    apply_to_layer,
    defaults,
    read_migration,
)
from cfgctl.operate.migrationpaths import check_paths
from cfgctl.operate.schemawalk import flatten
from cfgctl.repo import sops
from cfgctl.repo.fsutil import write_all
from cfgctl.repo.keypath import dotted_path, set_in
from cfgctl.repo.lock import locked_worktree
from cfgctl.repo.render import is_encrypted, lookup
from cfgctl.repo.schemas import migration_path, parse_spec
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import Document, JsonPath, copy_data, iter_leaves, parse
from cfgctl.repo.yamlpatch import edit_document
from cfgctl.repo.yamlwrite import dump_plain

__all__ = ["MigrationPlan", "ServiceMove", "migrate", "plan_migration"]

MANIFEST = "cfgctl.yaml"


@dataclass(frozen=True)
class ServiceMove:
    service: str
    schema: str
    source: int
    target: int
    migrations: tuple[Migration, ...]

    @property
    def chain(self) -> tuple[str, int, int]:
        return self.schema, self.source, self.target

    @property
    def moved(self) -> dict[JsonPath, JsonPath]:
        """Each path a rename or move of the chain writes -> the path its value had before."""
        origin: dict[JsonPath, JsonPath] = {}
        for migration in self.migrations:
            for op in migration.operations:
                if op.to is not None:
                    origin[op.to] = origin.pop(op.path, op.path)
        return origin


@dataclass
class MigrationPlan:
    moves: list[ServiceMove]
    unchanged: list[str]  # services already at the target
    writes: dict[str, bytes] = field(default_factory=dict)
    docs: dict[str, Document] = field(default_factory=dict)  # the plain ones, read already
    edits: list[tuple[str, str]] = field(default_factory=list)  # (file, what changed)
    diff: DiffResult | None = None

    def write(self, doc: Document) -> None:
        self.writes[doc.source] = doc.text.encode()
        self.docs[doc.source] = doc

    def trial(self, snap: Snapshot, service: str | None = None) -> Snapshot:
        """`snap` with the writes in place (the plain files' readings reused); with `service`,
        only the layers its renders read (a cheap trial for one service)."""
        names = (f"{service}.yaml", f"{service}.secrets.yaml", "_defaults.yaml")
        writes = {
            rel: data
            for rel, data in self.writes.items()
            if service is None or rel.rsplit("/", 1)[-1] in names
        }
        trial = snap.with_files(writes)
        for rel in writes:
            if rel in self.docs:
                trial.adopt(rel, self.docs[rel])
        return trial

    def to_dict(self) -> dict[str, Any]:
        return {
            "services": [
                {
                    "service": m.service,
                    "from": f"{m.schema}@{m.source}",
                    "to": f"{m.schema}@{m.target}",
                    "migrations": [x.path for x in m.migrations],
                }
                for m in self.moves
            ],
            "unchanged": self.unchanged,
            "files": sorted(self.writes),
            "edits": [{"file": f, "change": c} for f, c in self.edits],
            "diff": self.diff.to_dict() if self.diff is not None else None,
        }


# --- which services move, along which chain ---------------------------------------------------


def _move(
    snap: Snapshot, service: str, to: str | None, read: dict[tuple[str, int], Migration]
) -> ServiceMove:
    spec = snap.manifest.service(service).schema
    name, pinned = parse_spec(spec)
    versions = snap.schemas.versions.get(name) or {}
    if pinned is None:
        raise InputError(
            f"{service}'s schema {spec!r} is not pinned to a version: cfgctl cannot tell which "
            "version its files follow",
            location=snap.manifest.doc.location(("services", service, "schema")),
            hint=f"pin the version the files follow first: schema: {name}@N in {MANIFEST}",
        )
    target = max(versions) if versions else pinned
    if to is not None:
        to_name, to_version = parse_spec(to)
        if to_name != name:
            raise InputError(
                f"{service} uses schema {name}, not {to_name}",
                hint=f"--to {name}@N, or leave {service} out",
            )
        target = to_version if to_version is not None else target
    if target not in versions:
        snap.schemas.resolve(f"{name}@{target}")  # raises: no such version, with a hint
    if target < pinned:
        raise InputError(
            f"{service} is at {name}@{pinned}: migrations go forward only, not to {target}",
            hint="write a migration to a new version that undoes the change",
        )
    for v in range(pinned + 1, target + 1):
        if (name, v) not in read:  # one read and check per file, not per service
            read[name, v] = _migration(snap, name, v)
    chain = tuple(read[name, v] for v in range(pinned + 1, target + 1))
    return ServiceMove(service, name, pinned, target, chain)


def _migration(snap: Snapshot, name: str, version: int) -> Migration:
    """The migration into `name@version`, its keys checked against `name@version-1`."""
    rel = migration_path(name, version)
    if rel not in snap.files:
        raise InputError(
            f"no migration from {name}@{version - 1} to {name}@{version}: {rel} is missing",
            hint=f"write {rel} (`cfgctl schema show --builtin migration` shows its format)",
        )
    migration = read_migration(snap.document(rel), name, version)
    check_paths(migration, flatten(snap, snap.schemas.resolve(f"{name}@{version - 1}")))
    return migration


def _services(snap: Snapshot, services: list[str], everything: bool) -> list[str]:
    if everything:
        return sorted(snap.manifest.services)
    if not services:
        raise InputError("name the services to migrate, or pass --all", hint="cfgctl migrate S")
    for service in services:
        snap.manifest.service(service)  # raises for an unknown one, with "did you mean"
    return sorted(set(services))


# --- migrating the layers ---------------------------------------------------------------------


def _apply_chain(move: ServiceMove, data: Any, rel: str) -> bool:
    changed = False
    for migration in move.migrations:
        changed |= apply_to_layer(migration, data, rel)
    return changed


def _plain_layer(snap: Snapshot, rel: str, move: ServiceMove, plan: MigrationPlan) -> None:
    """Migrate one plain layer (a _defaults.yaml; the services' own files go by the batch)."""
    pending = plan.docs.get(rel)
    old = pending or snap.document(rel)
    before = plan.writes[rel] if pending is not None else snap.files[rel].read()
    doc = migrate_layer(LayerJob(rel, before, old, move.migrations, move.moved))
    if doc is not None:
        plan.write(doc)
        plan.edits.append((rel, f"{move.schema}@{move.source} -> @{move.target}"))


def _secret_layer(snap: Snapshot, rel: str, move: ServiceMove, plan: MigrationPlan) -> None:
    raw = snap.files[rel].read()
    if not is_encrypted(snap.document(rel).data):
        raise InputError(
            f"{rel} is not encrypted", hint=f"encrypt it first: cfgctl secrets encrypt {rel}"
        )
    tree = sops.decrypt(raw, rel)  # in memory only; NoKey (exit 3) without a key
    if not _apply_chain(move, tree, rel):
        return
    plan.writes[rel] = sops.encrypt(dump_plain(tree).encode(), rel, snap.root)
    plan.edits.append((rel, f"{move.schema}@{move.source} -> @{move.target} (re-encrypted)"))


def _defaults_file(snap: Snapshot, rel: str, moves: Mapping[str, ServiceMove]) -> bool:
    """Whether `rel` (an environment's _defaults.yaml) may be migrated: every service that reads
    it moves along one chain. InputError when it holds a migrated path and some do not."""
    readers = sorted(snap.manifest.services)
    chains = {moves[s].chain if s in moves else None for s in readers}
    if len(chains) == 1 and None not in chains:
        return True
    data = snap.document(rel).data
    touched = {op.path for m in moves.values() for x in m.migrations for op in x.operations}
    held = [p for p in touched if lookup(data, p)[0]]
    if held:
        others = [s for s in readers if s not in moves] or readers
        raise InputError(
            f"{rel} sets {dotted_path(held[0])}, which the migration changes, and is read by "
            f"services that do not move along the same chain: {', '.join(others[:5])}",
            hint="migrate them together, or move the key into each service's own file first",
        )
    return False


def _layers(snap: Snapshot, moves: Mapping[str, ServiceMove], plan: MigrationPlan) -> None:
    manifest = snap.manifest
    services: list[LayerJob] = []
    for env in manifest.environments:
        base = f"config/{env}/"
        defaults_rel = base + "_defaults.yaml"
        if defaults_rel in snap.files and moves and _defaults_file(snap, defaults_rel, moves):
            _plain_layer(snap, defaults_rel, next(iter(moves.values())), plan)
        for service, move in moves.items():
            rel = base + f"{service}.yaml"
            if rel in snap.files:
                services.append(LayerJob(rel, b"", None, move.migrations, move.moved))
            if base + f"{service}.secrets.yaml" in snap.files:
                _secret_layer(snap, base + f"{service}.secrets.yaml", move, plan)
    jobs = [
        replace(
            job,
            before=snap.files[job.rel].read(),
            old=snap.document(job.rel) if snap.load_cached(job.rel) else None,
        )
        for job in services
    ]  # the files not read yet are read by the workers that migrate them
    moved_by = {job.rel: moves[job.rel.rsplit("/", 1)[-1][: -len(".yaml")]] for job in jobs}
    migrated = migrate_layers(jobs)
    for rel, doc in migrated.read.items():
        snap.keep(rel, doc)
    for rel, doc in migrated.new.items():
        move = moved_by[rel]
        plan.write(doc)
        plan.edits.append((rel, f"{move.schema}@{move.source} -> @{move.target}"))


def _place_defaults(snap: Snapshot, moves: Mapping[str, ServiceMove], plan: MigrationPlan) -> None:
    """Each `default` into the service file of the highest environments that lack it."""
    manifest = snap.manifest
    ordered = sorted(manifest.environments, key=lambda e: len(manifest.chain(e)))
    for service, move in moves.items():
        ops = [op for m in move.migrations for op in defaults(m)]
        if not ops:
            continue
        for env in ordered:
            if not snap.has_pair(service, env) and not _is_root_of_pairs(snap, service, env):
                continue
            data = plan.trial(snap, service).render(service, env).data
            missing = [op for op in ops if not lookup(data, op.path)[0]]
            if missing:
                rel = f"config/{env}/{service}.yaml"
                before = plan.writes.get(rel) or (
                    snap.files[rel].read() if rel in snap.files else b""
                )
                old = (parse(before, rel).data if before.strip() else None) or {}
                doc = copy_data(old)
                for op in missing:
                    set_in(doc, op.path, copy_data(op.value))
                    plan.edits.append((rel, f"default {dotted_path(op.path)}"))
                plan.write(edit_document(before, rel, old, doc))


def _is_root_of_pairs(snap: Snapshot, service: str, env: str) -> bool:
    """An abstract environment that concrete ones inherit: defaults placed there reach them."""
    return any(snap.has_pair(service, e) for e in snap.manifest.children(env) if e != env)


# --- the two checks ---------------------------------------------------------------------------


def _check_declared(
    snap: Snapshot, trial: Snapshot, moves: Mapping[str, ServiceMove]
) -> DiffResult:
    """Refuse when migrating the layers gives another effective configuration than migrating
    the merged one: the operations would not say what the migration does. The semantic diff
    of every pair, from the renders the check made."""
    diff = DiffResult(snap.label, "after the migration")
    for service, move in sorted(moves.items()):
        for env in sorted(snap.manifest.environments):
            if not snap.has_pair(service, env):
                continue
            before = snap.render(service, env)
            expected: Any = copy_data(before.data)
            for migration in move.migrations:
                expected = apply_to_effective(migration, expected)
            after = trial.render(service, env)
            if not same_data(expected, after.data):
                key = _first_difference(expected, after.data)
                raise InputError(
                    f"refused: migrating the layers of {service} in {env} changes {key} in a "
                    "way its operations do not declare (nothing written)",
                    hint="a key set in several layers, or in a _defaults.yaml the migration "
                    "skips: move it into the service's own file, or add the operation",
                )
            pair = pair_diff(snap, trial, before, after, service, env)
            if pair is not None:
                diff.pairs.append(pair)
    return diff


def _first_difference(a: Any, b: Any) -> str:
    left, right = dict(iter_leaves(a)), dict(iter_leaves(b))
    for path in sorted(set(left) | set(right), key=lambda p: tuple(map(str, p))):
        if path not in left or path not in right or not same_data(left[path], right[path]):
            return dotted_path(path) or "(root)"
    return "(root)"


def _check_valid(trial: Snapshot, moves: Mapping[str, ServiceMove], plan: MigrationPlan) -> None:
    pairs = [(s, e) for s in moves for e in trial.manifest.environments if trial.has_pair(s, e)]
    report = validate_snapshot(trial, pairs=pairs, files=sorted(plan.writes))
    if report.errors:
        raise DiagnosedFailure(
            f"refused: the migrated configuration breaks the new schema "
            f"({len(report.errors)} problem{'s' if len(report.errors) > 1 else ''}); nothing "
            "written",
            report.errors,
            hint="add the operations the new version needs to the migration file",
        )


def _move_pins(snap: Snapshot, moves: Mapping[str, ServiceMove], plan: MigrationPlan) -> None:
    old = snap.document(MANIFEST).data
    new = copy_data(old)
    for service, move in moves.items():
        spec = new["services"][service]
        if not isinstance(spec, dict):
            raise InputError(f"services.{service} of {MANIFEST} is not a mapping")
        spec["schema"] = f"{move.schema}@{move.target}"
        plan.edits.append((MANIFEST, f"{service}: schema {move.schema}@{move.target}"))
    plan.write(edit_document(snap.files[MANIFEST].read(), MANIFEST, old, new))


# --- the commands -----------------------------------------------------------------------------


def plan_migration(
    snap: Snapshot, services: list[str], *, to: str | None = None, everything: bool = False
) -> MigrationPlan:
    """What migrating `services` (all with `everything`) to `to` (default: the newest version
    of each one's schema) writes, checked; nothing is written."""
    read: dict[tuple[str, int], Migration] = {}
    all_moves = [_move(snap, s, to, read) for s in _services(snap, services, everything)]
    moves = {m.service: m for m in all_moves if m.target != m.source}
    plan = MigrationPlan(
        list(moves.values()), [m.service for m in all_moves if m.target == m.source]
    )
    if not moves:
        return plan
    _layers(snap, moves, plan)
    _place_defaults(snap, moves, plan)
    _move_pins(snap, moves, plan)
    trial = plan.trial(snap)
    diff = _check_declared(snap, trial, moves)
    _check_valid(trial, moves, plan)
    plan.diff = diff
    return plan


def migrate(
    snap: Snapshot,
    services: list[str],
    *,
    to: str | None = None,
    everything: bool = False,
    dry_run: bool = False,
) -> MigrationPlan:
    """`plan_migration`, then (unless `dry_run`) every file written, all or nothing, under the
    repository lock."""
    if dry_run:
        return plan_migration(snap, services, to=to, everything=everything)
    with locked_worktree(snap) as fresh:
        plan = plan_migration(fresh, services, to=to, everything=everything)
        write_all(fresh.root, plan.writes, "the migration")
    return plan

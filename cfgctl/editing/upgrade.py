"""`cfgctl template upgrade`: a service made from an older version of its template gets the
template's changes since, as a three-way merge that keeps the service's own changes.

    plan = plan_upgrade(snap, "billing")     # nothing written
    plan.files                               # a FileMerge per file the template renders
    upgrade(snap, "billing")                 # the same, written under the repository lock

The three sides of each file: the old version's output (its files found in Git history, see
`templates.find_version`, rendered with the parameters the service recorded), the service's
current file, and the new version's output (the recorded parameters, `--set` values, and the
new version's defaults for parameters it added). `threeway.merge_file` merges them key by key;
the `schema:` of the service merges the same way (the template moved it, the service did not:
it moves). A conflict (a key the service changed and the template changed otherwise) refuses the
whole upgrade with every conflicting key, nothing written, unless `prefer` settles it ("ours":
keep the service's value; "theirs": take the template's). The result must validate; then the
files and the new record in cfgctl.yaml (`template: {name, version, parameters}`) are written,
all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cfgctl.changes.diff import DiffResult, diff_snapshots
from cfgctl.diagnostics import DiagnosedFailure, Diagnostic
from cfgctl.editing.scaffold import refuse_invalid
from cfgctl.editing.templates import (
    Template,
    TemplateRecord,
    find_version,
    read_template,
    record_of,
    render_files,
    resolve_parameters,
    template_entry,
)
from cfgctl.editing.threeway import Conflict, FileMerge, merge_file
from cfgctl.errors import InputError, Location
from cfgctl.repo.fsutil import write_all
from cfgctl.repo.lock import locked_worktree
from cfgctl.repo.manifest import MANIFEST
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlwrite import dump_roundtrip, load_roundtrip

__all__ = ["UpgradePlan", "plan_upgrade", "upgrade"]


@dataclass
class UpgradePlan:
    service: str
    template: str
    source: int  # the version the service was made from
    target: int
    commit: str | None  # where the old version was found (None: it is the current one)
    parameters: dict[str, Any]
    files: list[FileMerge] = field(default_factory=list)
    schema: tuple[str, str] | None = None  # (before, after) when the pin moves
    writes: dict[str, bytes | None] = field(default_factory=dict)
    diff: DiffResult | None = None

    @property
    def conflicts(self) -> list[Conflict]:
        return [c for f in self.files for c in f.conflicts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "template": self.template,
            "from": self.source,
            "to": self.target,
            "old_version_commit": self.commit,
            "parameters": self.parameters,
            "files": [
                {"file": f.rel, "changes": f.changes, "removed": f.result is None}
                for f in self.files
                if f.changed
            ],
            "schema": {"from": self.schema[0], "to": self.schema[1]} if self.schema else None,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "written_files": sorted(self.writes),
            "diff": self.diff.to_dict() if self.diff is not None else None,
        }


def _record(snap: Snapshot, service: str) -> TemplateRecord:
    record = record_of(snap, service)
    if record is None:
        raise InputError(
            f"{service} has no template record in {MANIFEST}: cfgctl cannot tell which template "
            "and version made its files",
            location=snap.manifest.doc.location(("services", service)),
            hint=f"add `template: {{name: T, version: N, parameters: {{...}}}}` to services."
            f"{service} (the version its files were made from), then run it again",
        )
    return record


def _check_version(snap: Snapshot, record: TemplateRecord, new: Template) -> None:
    if new.version < record.version:
        raise InputError(
            f"template {record.name!r} is at version {new.version}, older than the version "
            f"{record.version} the service was made from",
            location=Location(new.spec_path),
            hint=f"restore templates/{record.name}/ at version {record.version} or later",
        )


def plan_upgrade(
    snap: Snapshot, service: str, raw: dict[str, str] | None = None, prefer: str | None = None
) -> UpgradePlan:
    """What upgrading `service` to the newest version of its template writes; nothing is
    written. DiagnosedFailure (exit 1) for conflicts, CheckFailed when the result is invalid."""
    raw = raw or {}
    record = _record(snap, service)
    new = read_template(snap, record.name)
    _check_version(snap, record, new)
    old, commit = new, None
    if new.version != record.version:
        old, commit = find_version(snap, record.name, record.version)
    params = resolve_parameters(new, raw, record.parameters)
    plan = UpgradePlan(service, record.name, record.version, new.version, commit, params)
    if new.version == record.version and not raw:
        return plan  # already made from the newest version
    # A record written by hand may leave out parameters: the old version's defaults fill in.
    defaults = {k: v["default"] for k, v in old.parameters.items() if "default" in v}
    base = render_files(snap, old, {**defaults, **record.parameters, "name": service})
    theirs = render_files(snap, new, {**params, "name": service})
    for rel in sorted(set(base) | set(theirs)):
        _refuse_secret_file(rel)
        ref = snap.files.get(rel)
        ours = ref.read() if ref is not None else None
        merged = merge_file(
            rel, base=base.get(rel), ours=ours, theirs=theirs.get(rel), prefer=prefer
        )
        plan.files.append(merged)
        if merged.changed:
            plan.writes[rel] = merged.result
    _merge_schema(snap, plan, old.schema, new.schema, prefer)
    if plan.conflicts:
        raise _conflicts(plan)
    plan.writes[MANIFEST] = _manifest(snap, plan)
    trial = snap.with_files({rel: data or b"" for rel, data in plan.writes.items()})
    refuse_invalid(snap, service, {k: v or b"" for k, v in plan.writes.items()}, "the upgrade")
    plan.diff = diff_snapshots(snap, trial, services=[service])
    plan.diff.head = "after the upgrade"
    return plan


def _refuse_secret_file(rel: str) -> None:
    if rel.endswith(".secrets.yaml"):
        raise InputError(
            f"the template renders {rel}: a template cannot merge an encrypted file",
            hint="keep secrets out of templates; set them with cfgctl secrets set",
        )


def _merge_schema(
    snap: Snapshot, plan: UpgradePlan, base: str, theirs: str, prefer: str | None
) -> None:
    ours = snap.manifest.service(plan.service).schema
    if base == theirs or ours == theirs:
        return
    if ours == base or prefer == "theirs":
        plan.schema = (ours, theirs)
    elif prefer != "ours":
        location = snap.manifest.doc.location(("services", plan.service, "schema"))
        conflict = Conflict(
            MANIFEST, ("services", plan.service, "schema"), base, ours, theirs, location
        )
        plan.files.append(FileMerge(MANIFEST, None, None, conflicts=[conflict]))


def _conflicts(plan: UpgradePlan) -> DiagnosedFailure:
    diagnostics = [
        Diagnostic("error", "template-conflict", c.describe(), c.location, path=c.key)
        for c in plan.conflicts
    ]
    n = len(diagnostics)
    return DiagnosedFailure(
        f"refused: {n} conflict{'s' if n > 1 else ''} between {plan.service}'s own changes and "
        f"template {plan.template} @{plan.source} -> @{plan.target}; nothing written",
        diagnostics,
        hint="keep the service's values with --ours, take the template's with --theirs, or "
        "change the service's keys to one side and run it again",
    )


def _manifest(snap: Snapshot, plan: UpgradePlan) -> bytes:
    before = snap.files[MANIFEST].read()
    doc = load_roundtrip(before, MANIFEST)
    entry = doc["services"][plan.service]
    record = TemplateRecord(plan.template, plan.target, dict(plan.parameters))
    entry["template"] = template_entry(record)
    if plan.schema is not None:
        entry["schema"] = plan.schema[1]
    return dump_roundtrip(doc, like=before.decode("utf-8-sig")).encode()


def upgrade(
    snap: Snapshot,
    service: str,
    raw: dict[str, str] | None = None,
    *,
    prefer: str | None = None,
    dry_run: bool = False,
) -> UpgradePlan:
    """`plan_upgrade`, then (unless `dry_run`) every file written, all or nothing, under the
    repository lock."""
    if dry_run:
        return plan_upgrade(snap, service, raw, prefer)
    with locked_worktree(snap) as fresh:
        plan = plan_upgrade(fresh, service, raw, prefer)
        if plan.writes:
            write_all(fresh.root, plan.writes, "the upgrade")
    return plan

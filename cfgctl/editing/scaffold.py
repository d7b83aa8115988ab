"""Creating things from templates: a new config repository (`init`), a new service (`new service`).

A service template is a folder `templates/T/` of the config repository:

    templates/web-service/template.yaml        its parameters (schema: template.schema.json)
    templates/web-service/files/config/base/{{ name }}.yaml
    templates/web-service/files/config/prod/{{ name }}.yaml

`template.yaml` declares typed parameters (JSON Schema per parameter). In file paths and file
contents `{{ name }}` is the new service's name and `{{ param }}` a parameter; a YAML value that is
exactly one placeholder takes the parameter's type (`port: {{ port }}` gives a number). The new
service's entry in cfgctl.yaml records the template, its `version:` and the parameters
(`template: {name, version, parameters}`), which `cfgctl template upgrade` starts from.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from cfgctl.checks.codeowners import refresh_generated_codeowners
from cfgctl.checks.credentials import check_credentials
from cfgctl.checks.validate import validate_snapshot
from cfgctl.editing.templates import (
    Template,
    TemplateRecord,
    read_template,
    render_files,
    resolve_parameters,
    template_entry,
)
from cfgctl.errors import CheckFailed, InputError
from cfgctl.repo.builtin import TEMPLATES
from cfgctl.repo.fsutil import atomic_write, confined
from cfgctl.repo.gitstore import init_repository
from cfgctl.repo.lock import locked_worktree
from cfgctl.repo.manifest import MANIFEST, suggest
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlwrite import dump_roundtrip, load_roundtrip
from cfgctl.telemetry import note_commit, with_trailer

__all__ = [
    "NewService",
    "PlannedService",
    "check_new_name",
    "init_repo",
    "new_service",
    "parse_assignments",
    "plan_new_service",
    "refuse_invalid",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def init_repo(target: Path, template: str = "default") -> list[str]:
    """Copy the shipped example repository `template` into `target` and commit it with Git."""
    source = TEMPLATES / template
    if not (source / MANIFEST).is_file():
        known = [p.name for p in TEMPLATES.iterdir() if (p / MANIFEST).is_file()]
        raise InputError(
            f"no repository template {template!r}", hint=suggest(template, known, "template")
        )
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} exists and is not a folder", hint="choose a new folder")
    if target.exists() and any(target.iterdir()):
        raise InputError(
            f"{target} exists and is not empty",
            hint="choose a new folder; cfgctl init never overwrites files",
        )
    shutil.copytree(source, target, dirs_exist_ok=True)
    (target / ".gitignore").write_text(".cfgctl/\n")
    store = init_repository(target)
    files = sorted(
        p.relative_to(target).as_posix()
        for p in target.rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    for rel in files:
        store.repo.index.add(rel)
    store.repo.index.write()
    tree = store.repo.index.write_tree()
    from cfgctl.repo.gitstore import default_signature

    sig = default_signature(store.repo)
    message = with_trailer("Initial configuration (cfgctl init)")
    note_commit(str(store.repo.create_commit("HEAD", sig, sig, message, tree, [])))
    return files


def parse_assignments(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"bad --set {item!r}", hint="write --set key=value")
        out[key.strip()] = value
    return out


@dataclass(frozen=True)
class NewService:
    name: str
    files: list[str]
    schema: str


def new_service(snap: Snapshot, name: str, template: str, raw_params: dict[str, str]) -> NewService:
    """Create the files of service `name` from `templates/TEMPLATE/` and register it in
    cfgctl.yaml (comments kept). Everything is checked before the first file is written, under
    the repository lock (cfgctl.yaml read again under it); every file lands inside the
    repository or nothing is written."""
    if snap.rev is not None:
        raise InputError("cfgctl new writes into the work tree; drop --rev")
    with locked_worktree(snap) as fresh:
        return _new_service(fresh, name, template, raw_params)


def _new_service(
    snap: Snapshot, name: str, template_name: str, raw_params: dict[str, str]
) -> NewService:
    template = read_template(snap, template_name)
    planned = plan_new_service(snap, name, template, resolve_parameters(template, raw_params))
    writes = planned.writes
    targets = {rel: confined(snap.root, rel) for rel in writes}
    for rel, data in writes.items():
        atomic_write(targets[rel], data)
    written = snap.with_files(writes)
    owners_file = refresh_generated_codeowners(written)
    extra = [os.path.relpath(owners_file, snap.root)] if owners_file is not None else []
    return NewService(name, sorted(writes) + extra, template.schema)


@dataclass(frozen=True)
class PlannedService:
    """A new service, nothing written: its files by path in the config repository (cfgctl.yaml
    among them), the environments it has a configuration in, and its template record."""

    name: str
    schema: str
    writes: dict[str, bytes]
    envs: list[str]
    record: TemplateRecord


def plan_new_service(
    snap: Snapshot, name: str, template: Template, params: dict[str, Any]
) -> PlannedService:
    """The files of service `name` made from `template` with checked `params`
    (`resolve_parameters`, `typed_parameters`), validated; InputError for a bad or taken name
    or a file that exists, CheckFailed when the new service would fail validation."""
    check_new_name(snap, name)
    record = TemplateRecord(template.name, template.version, dict(params))
    params = {**params, "name": name}
    snap.schemas.resolve(template.schema)
    writes = _new_files(snap, render_files(snap, template, params))
    raw_owners = params.get("owners")
    owners = [raw_owners] if isinstance(raw_owners, str) else list(raw_owners or [])
    writes[MANIFEST] = _register(snap, name, template.schema, owners, record).encode()
    refuse_invalid(snap, name, writes, "the new service")
    trial = snap.with_files(writes)
    envs = [e for e in trial.manifest.environments if trial.has_pair(name, e)]
    return PlannedService(name, template.schema, writes, envs, record)


def check_new_name(snap: Snapshot, name: str) -> None:
    if not _NAME.match(name):
        raise InputError(
            f"bad service name {name!r}",
            hint="use lower-case letters, digits, '-' and '_' (it becomes a file name)",
        )
    if name in snap.manifest.services:
        raise InputError(
            f"service {name!r} already exists in {MANIFEST}", hint="choose another name"
        )


def _new_files(snap: Snapshot, rendered: dict[str, bytes]) -> dict[str, bytes]:
    """The rendered files, none of which may exist yet."""
    for rel in rendered:
        if rel in snap.files or (snap.root / rel).exists():
            raise InputError(f"{rel} already exists", hint="remove it, or choose another name")
    return dict(rendered)


def refuse_invalid(snap: Snapshot, name: str, writes: dict[str, bytes], what: str) -> None:
    """CheckFailed when service `name` (`what`: "the new service"), with `writes` in place,
    would fail validation."""
    trial = snap.with_files(writes)
    pairs = [(name, e) for e in trial.manifest.environments if trial.has_pair(name, e)]
    # Work follows the change: the new service's pairs and the files they read, not the rest.
    scope = {layer.path for s, e in pairs for layer in trial.layers(s, e)} | set(writes)
    report = validate_snapshot(trial, pairs=pairs, files=sorted(scope), checks=[check_credentials])
    errors = [
        d for d in report.errors if name in {s for s, _ in d.pairs} or d.location.path in writes
    ]
    if errors:
        first = errors[0]
        raise CheckFailed(
            f"refused: {what} would fail validation: {first.message}; nothing written",
            location=first.location,
            hint=first.hint,
        )


def _register(
    snap: Snapshot, name: str, schema: str, owners: list[Any], record: TemplateRecord
) -> str:
    data = load_roundtrip(snap.files[MANIFEST].read(), MANIFEST)
    entry = CommentedMap()
    entry["schema"] = schema
    if owners:
        entry["owners"] = [str(o) for o in owners]
    entry["template"] = template_entry(record)
    services = data.get("services")
    if services is None:
        data["services"] = services = CommentedMap()
    services[name] = entry
    return dump_roundtrip(data)

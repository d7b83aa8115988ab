"""Creating things from templates: a new config repository (`init`), a new service (`new service`).

A service template is a folder `templates/T/` of the config repository:

    templates/web-service/template.yaml        its parameters (schema: template.schema.json)
    templates/web-service/files/config/base/{{ name }}.yaml
    templates/web-service/files/config/prod/{{ name }}.yaml

`template.yaml` declares typed parameters (JSON Schema per parameter). In file paths and file
contents `{{ name }}` is the new service's name and `{{ param }}` a parameter; a YAML value that is
exactly one placeholder takes the parameter's type (`port: {{ port }}` gives a number).
"""

from __future__ import annotations

import json
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
from cfgctl.errors import CheckFailed, InputError, Location
from cfgctl.repo.builtin import TEMPLATES, check_own_file
from cfgctl.repo.fsutil import atomic_write, confined
from cfgctl.repo.gitstore import init_repository
from cfgctl.repo.lock import locked_worktree
from cfgctl.repo.manifest import MANIFEST, suggest
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.validator import SchemaValidator
from cfgctl.repo.yamlio import parse
from cfgctl.repo.yamlwrite import dump_roundtrip, load_roundtrip

__all__ = ["NewService", "init_repo", "new_service", "parse_assignments"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
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
    store.repo.create_commit("HEAD", sig, sig, "Initial configuration (cfgctl init)", tree, [])
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


def _coerce(spec: dict[str, Any], raw: str) -> Any:
    kind = spec.get("type")
    if kind == "string":
        return raw
    return parse(raw, "--set").data


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
    snap: Snapshot, name: str, template: str, raw_params: dict[str, str]
) -> NewService:
    _check_new_name(snap, name)
    spec_path, spec = _template_spec(snap, template)
    params = _parameters(spec, spec_path, template, raw_params)
    params["name"] = name
    schema_spec = str(spec.get("schema", ""))
    snap.schemas.resolve(schema_spec)
    writes = _template_files(snap, f"templates/{template}/files/", params)
    raw_owners = params.get("owners")
    owners = [raw_owners] if isinstance(raw_owners, str) else list(raw_owners or [])
    writes[MANIFEST] = _register(snap, name, schema_spec, owners).encode()
    _refuse_invalid(snap, name, writes)
    targets = {rel: confined(snap.root, rel) for rel in writes}
    for rel, data in writes.items():
        atomic_write(targets[rel], data)
    written = snap.with_files(writes)
    owners_file = refresh_generated_codeowners(written)
    extra = [os.path.relpath(owners_file, snap.root)] if owners_file is not None else []
    return NewService(name, sorted(writes) + extra, schema_spec)


def _check_new_name(snap: Snapshot, name: str) -> None:
    if not _NAME.match(name):
        raise InputError(
            f"bad service name {name!r}",
            hint="use lower-case letters, digits, '-' and '_' (it becomes a file name)",
        )
    if name in snap.manifest.services:
        raise InputError(
            f"service {name!r} already exists in {MANIFEST}", hint="choose another name"
        )


def _template_spec(snap: Snapshot, template: str) -> tuple[str, dict[str, Any]]:
    """The path and the checked content of `templates/TEMPLATE/template.yaml`."""
    spec_path = f"templates/{template}/template.yaml"
    if spec_path not in snap.files:
        known = sorted(
            {p.split("/")[1] for p in snap.files_under("templates") if p.endswith("/template.yaml")}
        )
        raise InputError(
            f"no service template {template!r} in templates/",
            hint=suggest(template, known, "template"),
        )
    spec_doc = snap.document(spec_path)
    problems = check_own_file(spec_doc, "template")
    if problems:
        raise InputError(problems[0].message, location=problems[0].location, hint=problems[0].hint)
    return spec_path, spec_doc.data


def _parameters(
    spec: dict[str, Any], spec_path: str, template: str, raw_params: dict[str, str]
) -> dict[str, Any]:
    """The template's parameters from `--set` values and defaults, checked against their
    declarations."""
    params_spec: dict[str, Any] = spec.get("parameters") or {}
    unknown = sorted(set(raw_params) - set(params_spec))
    if unknown:
        raise InputError(
            f"template {template!r} has no parameter {unknown[0]!r}",
            hint=suggest(unknown[0], params_spec, "parameter"),
        )
    params: dict[str, Any] = {}
    for key, pspec in params_spec.items():
        if key in raw_params:
            params[key] = _coerce(pspec, raw_params[key])
        elif "default" in pspec:
            params[key] = pspec["default"]
    properties: dict[str, Any] = {
        k: {kk: vv for kk, vv in v.items() if kk not in ("description", "required")}
        for k, v in params_spec.items()
    }
    required = [k for k, v in params_spec.items() if v.get("required") and "default" not in v]
    schema = {"type": "object", "properties": properties, "required": required}
    violations = SchemaValidator(schema, uri="urn:cfgctl:template-parameters").validate(params)
    if violations:
        v = violations[0]
        what = v.missing or v.dotted
        raise InputError(
            f"parameter {what}: {v.message}",
            location=Location(spec_path),
            hint=f"pass --set {what}=VALUE; see {spec_path} for the parameters",
        )
    return params


def _template_files(snap: Snapshot, prefix: str, params: dict[str, Any]) -> dict[str, bytes]:
    """The files the template's `files/` folder renders to, none of them existing yet."""
    writes: dict[str, bytes] = {}
    for path in sorted(p for p in snap.files_under("templates") if p.startswith(prefix)):
        named = _substitute_text(path[len(prefix) :], params, path)
        # Confined before anything is written: a parameter cannot lead a file out of the
        # repository (`..`, an absolute path, a symbolic link), nor into .git.
        try:
            full = confined(snap.root, named)
        except InputError as exc:
            raise InputError(
                f"{exc.message}; nothing written", location=Location(path), hint=exc.hint
            ) from None
        rel = full.relative_to(snap.root.resolve()).as_posix()
        if rel in snap.files or full.exists():
            raise InputError(f"{rel} already exists", hint="remove it, or choose another name")
        writes[rel] = _render_file(snap.files[path].read(), params, path).encode()
    return writes


def _refuse_invalid(snap: Snapshot, name: str, writes: dict[str, bytes]) -> None:
    """CheckFailed when the new service, with `writes` in place, would fail validation."""
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
            f"refused: the new service would fail validation: {first.message}; nothing written",
            location=first.location,
            hint=first.hint,
        )


def _param(params: dict[str, Any], key: str, source: str) -> Any:
    if key not in params:
        raise InputError(
            f"{source}: unknown placeholder {{{{ {key} }}}}",
            hint="declare it under parameters: in template.yaml",
        )
    return params[key]


def _substitute_text(text: str, params: dict[str, Any], source: str) -> str:
    def repl(match: re.Match[str]) -> str:
        return str(_param(params, match[1], source))

    return _PLACEHOLDER.sub(repl, text)


def _render_file(data: bytes, params: dict[str, Any], source: str) -> str:
    # A value that is one placeholder becomes the parameter as JSON (which is YAML): typed.
    text = data.decode("utf-8")

    def whole(match: re.Match[str]) -> str:
        return match[1] + json.dumps(_param(params, match[2], source)) + match[3]

    text = re.sub(
        r"(:\s+|-\s+)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}(\s*(?:#.*)?$)", whole, text, flags=re.M
    )
    text = _substitute_text(text, params, source)
    parse(text, source)  # the result must be valid YAML
    return text


def _register(snap: Snapshot, name: str, schema: str, owners: list[Any]) -> str:
    data = load_roundtrip(snap.files[MANIFEST].read(), MANIFEST)
    entry = CommentedMap()
    entry["schema"] = schema
    if owners:
        entry["owners"] = [str(o) for o in owners]
    services = data.get("services")
    if services is None:
        data["services"] = services = CommentedMap()
    services[name] = entry
    return dump_roundtrip(data)

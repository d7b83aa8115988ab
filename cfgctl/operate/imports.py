"""`cfgctl import`: a file in a format teams already have, written into an environment's layers.

    plan = import_files(snap, "payments", [(Path("app.properties"), "prod")])
    plan.writes     # {"config/prod/payments.yaml": b"...", ...}
    plan.edits      # [("config/prod/payments.yaml", "db.pool_size", "set"), ...]

The file's strings get the types the service's schema declares (`cfgctl.operate.unflatten`).
Only the keys whose value differs from what the environment inherits (every layer of its chain
but its own SERVICE.yaml and SERVICE.secrets.yaml) are written into its layer; a key the layer
sets to another value than the file's, where the file's equals the inherited one, is removed from
the layer. Keys the file does not name are left as they are. Secrets (keys the schema marks
secret, values the credential heuristics of `cfgctl validate` flag, keys a secrets layer holds
already, every value of a Kubernetes Secret the plain layer does not hold) go into
SERVICE.secrets.yaml, encrypted by sops for the environment's recipients; the
plaintext stays in memory. Comments of the plain layer are kept.

`infer=True` takes one file per environment and factors them into the inheritance chain: the
values every file agrees on (secrets excepted: each environment keeps its own) go into the layer
of the environments' nearest common ancestor, then each environment, the shallowest first, gets
only what differs from what it then inherits.

Everything is checked before anything is written: the result must not bring validation errors
to the environment or any environment inheriting it (exit 1, the problems listed), and all files
are written or none, under the repository lock.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.changes.diff import same_data
from cfgctl.checks.credentials import looks_like_credential
from cfgctl.errors import InputError
from cfgctl.operate.flatkeys import leaves
from cfgctl.operate.formats_in import Source, read_source
from cfgctl.operate.schematypes import SchemaView
from cfgctl.operate.unflatten import typed_data
from cfgctl.operate.workset import Workset, yaml_value
from cfgctl.repo.fsutil import write_all
from cfgctl.repo.keypath import dotted_path, remove_in, set_in
from cfgctl.repo.lock import locked_worktree
from cfgctl.repo.render import lookup, merge, overlaps
from cfgctl.repo.secretpaths import secret_paths
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath

__all__ = ["ImportPlan", "import_files", "plan_import"]


@dataclass
class ImportPlan:
    service: str
    sources: list[tuple[str, str, str]] = field(default_factory=list)  # (file, format, env)
    writes: dict[str, bytes] = field(default_factory=dict)
    edits: list[tuple[str, str, str]] = field(default_factory=list)  # (layer, key, set|unset)
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # (env, key): inherited
    skipped: list[str] = field(default_factory=list)  # names without the prefix

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "sources": [{"file": f, "format": m, "env": e} for f, m, e in self.sources],
            "files": sorted(self.writes),
            "edits": [{"file": f, "key": k, "change": c} for f, k, c in self.edits],
            "unchanged": [{"env": e, "key": k} for e, k in self.unchanged],
            "skipped": self.skipped,
        }


# --- one environment ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Round-trip data (CommentedMap, ScalarString...) as plain data, to compare."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _holds(doc: Any, path: JsonPath, value: Any) -> bool:
    found, old = lookup(doc, path)
    return found and same_data(_plain(old), value)


def _import_env(
    work: Workset, plan: ImportPlan, env: str, data: dict[str, Any], *, all_secret: bool = False
) -> None:
    """Write what `data` changes for (plan.service, env) into the edits of `work`; with
    `all_secret` (a Kubernetes Secret's values) every key it writes is a secret."""
    service = plan.service
    plain_rel = f"config/{env}/{service}.yaml"
    secret_rel = f"config/{env}/{service}.secrets.yaml"
    with work.trial() as trial:
        rendered = trial.render(service, env)
        ref = trial.schema_of(service)
        schema_doc = trial.schemas.document(ref.path)
        marked = set(secret_paths(schema_doc, data, trial.schema_resolver(ref)))
    inherited: Any = {}
    own_secrets: Any = {}
    for layer, doc in zip(rendered.layers, rendered.docs, strict=True):
        if layer.path == secret_rel:
            own_secrets = doc.data or {}
        elif layer.path != plain_rel and doc.data is not None:
            inherited = merge(inherited, doc.data)
    for path, value in leaves(data, index_lists=False):
        key = dotted_path(path)
        # A Secret's values are secret, but one the plain layer holds already is left there.
        declared = all_secret and not _holds(work.plain_doc(plain_rel), path, value)
        secret = (
            declared
            or overlaps(marked, path)
            or looks_like_credential(str(path[-1]), value) is not None
            or rendered.is_secret(path)
        )
        found, old = lookup(inherited, path)
        if found and same_data(old, value):
            plan.unchanged.append((env, key))
            if remove_in(work.plain_doc(plain_rel), path):
                plan.edits.append((plain_rel, key, "unset"))
            if lookup(own_secrets, path)[0] and remove_in(work.secret_tree(secret_rel), path):
                plan.edits.append((secret_rel, key, "unset"))
            continue
        if secret:
            tree = work.secret_tree(secret_rel)
            changed = not _holds(tree, path, value)
            set_in(tree, path, value)
            if remove_in(work.plain_doc(plain_rel), path):
                plan.edits.append((plain_rel, key, "unset"))
        else:
            doc = work.plain_doc(plain_rel)
            changed = not _holds(doc, path, value)
            set_in(doc, path, yaml_value(value))
            if lookup(own_secrets, path)[0] and remove_in(work.secret_tree(secret_rel), path):
                plan.edits.append((secret_rel, key, "unset"))
        if changed:
            plan.edits.append((secret_rel if secret else plain_rel, key, "set"))


# --- checks and the plan --------------------------------------------------------------------------


def _common_ancestor(snap: Snapshot, envs: list[str]) -> str:
    chains = [snap.manifest.chain(e) for e in envs]
    shared = [e for e in chains[0] if all(e in c for c in chains[1:])]
    if not shared:
        raise InputError(
            f"{', '.join(envs)} inherit no environment in common: no layer to factor into",
            hint="import each file on its own: cfgctl import FILE --service S --env E",
        )
    return shared[-1]


def _common(datas: list[dict[str, Any]], view: SchemaView) -> dict[str, Any]:
    """The values every one of `datas` holds alike, secrets excepted."""
    out: dict[str, Any] = {}
    first, rest = datas[0], datas[1:]
    marked = set(secret_paths(view.schema, first, view.resolve))
    for path, value in leaves(first, index_lists=False):
        if overlaps(marked, path) or looks_like_credential(str(path[-1]), value):
            continue
        if all((found := lookup(other, path))[0] and same_data(found[1], value) for other in rest):
            set_in(out, path, copy.deepcopy(value))
    return out


def plan_import(
    snap: Snapshot, service: str, items: list[tuple[Source, str]], *, infer: bool = False
) -> ImportPlan:
    """What importing each (source, env) writes, checked; nothing is written."""
    snap.manifest.service(service)
    envs = [env for _, env in items]
    for env in envs:
        snap.manifest.env(env)
    if len(set(envs)) != len(envs):
        raise InputError("one file per environment", hint="name each environment once")
    ref = snap.schema_of(service)
    view = SchemaView(snap.schemas.document(ref.path), snap.schema_resolver(ref))
    plan = ImportPlan(service, [(s.name, s.fmt, env) for s, env in items])
    for source, _ in items:
        plan.skipped.extend(source.skipped)
    datas = {
        env: typed_data(source, view, snap.render(service, env).data)[0] for source, env in items
    }
    work = Workset(snap)
    order = sorted(envs, key=lambda e: len(snap.manifest.chain(e)))
    secret_files = {env for source, env in items if source.fmt == "secret"}
    if infer:
        root = _common_ancestor(snap, envs)
        common = _common([datas[e] for e in order], view) if not secret_files else {}
        _import_env(work, plan, root, common)
        envs = [root, *envs]
    for env in order:
        _import_env(work, plan, env, datas[env], all_secret=env in secret_files)
    work.check(envs, service, "the import")
    plan.writes = {**work.plain_writes(), **work.encrypted()}
    return plan


def import_files(
    snap: Snapshot,
    service: str,
    files: list[tuple[Path, str]],
    *,
    fmt: str | None = None,
    prefix: str | None = None,
    infer: bool = False,
    dry_run: bool = False,
) -> ImportPlan:
    """Read each (file, env), plan, and (unless `dry_run`) write everything or nothing, under the
    repository lock."""
    items = [(read_source(p, fmt, prefix=prefix), e) for p, e in files]
    if dry_run:
        return plan_import(snap, service, items, infer=infer)
    with locked_worktree(snap) as fresh:
        plan = plan_import(fresh, service, items, infer=infer)
        write_all(fresh.root, plan.writes, "the import")
    return plan

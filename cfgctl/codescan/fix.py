"""`plan_fix`: what moving selected findings into configuration changes, computed and proven in
memory; nothing is written here (`cfgctl.codescan.apply` writes it).

    plan = plan_fix(snap, [Path("app")], "payments", select=["CS6bb6751b"])
    plan.code          # {Path("app/db.py"): (before, after)}  literals -> settings.db.pool_size
    plan.repo_writes   # {"schemas/web.schema.json": ..., "config/base/payments.yaml": ...}
    plan.proofs        # ["payments@prod: db.pool_size = 10 (integer), the literal's value", ...]

For each selected finding: its key is declared in the service's schema (type from the value,
the literal as default; a secret marked instead), its value written into the layer of `env` (the
root environment of the service by default; a secret into SERVICE.secrets.yaml, encrypted), its
field added to the model module, and its literal replaced by `settings.<key>`. The plan is
refused (nothing written) when an id is unknown, a key exists with another type, an environment
already sets the key to another value (the program would change there), or the result fails
validation. Two proofs come with it: the new code is the old with only those literals replaced
(compared as syntax trees), and each `settings.<key>`, read through the SDK from every affected
environment's rendered configuration, equals the literal it replaced (value and type).
"""

from __future__ import annotations

import difflib
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.codescan.findings import DEFAULT_MIN_SCORE, Finding, mask
from cfgctl.codescan.modelgen import Field, KeyPath, check_key, model_source, read_model
from cfgctl.codescan.place import model_location
from cfgctl.codescan.proof import prove_values
from cfgctl.codescan.rewrite import prove_substitution, rewrite
from cfgctl.codescan.scan import scan_paths
from cfgctl.codescan.schemaedit import NewKey, add_properties
from cfgctl.codescan.sources import shown_path, source_encoding
from cfgctl.errors import InputError
from cfgctl.operate.workset import Workset, yaml_value
from cfgctl.repo.keypath import set_in
from cfgctl.repo.render import Rendered, lookup, overlaps
from cfgctl.repo.snapshot import Snapshot

__all__ = ["FixPlan", "plan_fix"]


@dataclass
class FixPlan:
    service: str
    env: str
    moved: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, key)
    code: dict[Path, tuple[bytes, bytes]] = field(default_factory=dict)
    model: tuple[Path, bytes | None, bytes] | None = None
    repo_writes: dict[str, bytes] = field(default_factory=dict)
    config_edits: list[tuple[str, str, str]] = field(default_factory=list)  # (file, key, how)
    envs: list[str] = field(default_factory=list)  # the environments proven
    proofs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rendered: dict[str, bytes] = field(default_factory=dict, repr=False)  # env -> YAML (memory)

    def diffs(self, repo_before: dict[str, bytes]) -> list[str]:
        """Unified diffs of the code, the model, the schema and the plain configuration; a
        secrets layer named without its content."""
        out = []
        secrets = [f.value for f, _ in self.moved if f.kind == "secret"]
        for path, (before, after) in sorted(self.code.items()):
            out.append(mask(_diff(shown_path(path), before, after), secrets))
        if self.model is not None:
            model_path, old, new = self.model
            out.append(mask(_diff(shown_path(model_path), old or b"", new), secrets))
        for rel, after in sorted(self.repo_writes.items()):
            if rel.endswith(".secrets.yaml"):
                keys = [k for f, k, _ in self.config_edits if f == rel]
                out.append(f"--- {rel}\n+++ {rel}\n(encrypted: {', '.join(keys)} set)\n")
            else:
                out.append(_diff(rel, repo_before.get(rel, b""), after))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "env": self.env,
            "moved": [
                {"id": f.id, "path": f.path, "line": f.line, "key": k, "kind": f.kind}
                for f, k in self.moved
            ],
            "code": sorted(shown_path(p) for p in self.code),
            "model": shown_path(self.model[0]) if self.model else None,
            "repository": sorted(self.repo_writes),
            "environments": self.envs,
            "proofs": self.proofs,
            "notes": self.notes,
        }


def _diff(name: str, before: bytes, after: bytes) -> str:
    lines = difflib.unified_diff(
        before.decode(errors="replace").splitlines(keepends=True),
        after.decode(errors="replace").splitlines(keepends=True),
        f"a/{name}",
        f"b/{name}",
    )
    return "".join(lines)


def _select(findings: list[Finding], select: list[str] | None, min_score: float) -> list[Finding]:
    if not select:
        chosen = [f for f in findings if f.score >= min_score]
        if not chosen:
            raise InputError("nothing to fix: the scan found nothing", hint="lower --min-score")
        return chosen
    by_id = {f.id: f for f in findings}
    unknown = [i for i in select if i not in by_id]
    if unknown:
        raise InputError(
            f"no finding {', '.join(unknown)} in the scanned code",
            hint="the file may have changed since the scan (ids follow the value): run "
            "`cfgctl scan-code PATH` again and use its ids",
        )
    return [by_id[i] for i in dict.fromkeys(select)]


def _keys(chosen: list[Finding], overrides: dict[str, str]) -> list[tuple[Finding, str]]:
    unknown = set(overrides) - {f.id for f in chosen}
    if unknown:
        raise InputError(
            f"--key names {', '.join(sorted(unknown))}, which is not selected",
            hint="use --key ID=KEY for ids given to --select",
        )
    out = [(f, overrides.get(f.id, f.key)) for f in chosen]
    values: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f, key in out:
        check_key(tuple(key.split(".")))
        values[key].add((f.type, repr(f.value)))
    for key, seen in values.items():
        if len(seen) > 1:
            raise InputError(
                f"{key} would hold {len(seen)} different values",
                hint="give each value its own key: --key ID=KEY",
            )
    return out


def _root_env(snap: Snapshot, service: str) -> str:
    roots = sorted(
        {snap.manifest.chain(e)[0] for e in snap.manifest.environments if snap.has_pair(service, e)}
    )
    if len(roots) != 1:
        raise InputError(
            f"{service}'s environments have {len(roots)} roots ({', '.join(roots)})",
            hint="name the layer to write: --env ENV",
        )
    return roots[0]


def _held(rendered: Rendered, path: tuple[str, ...]) -> tuple[bool, Any, bool]:
    """(whether the environment sets the key, its value, whether that value is a secret)."""
    found, value = lookup(rendered.data, path)
    return found, value, overlaps(rendered.secret_paths, path)


def _config(plan: FixPlan, snap: Snapshot, work: Workset, keys: dict[str, Finding]) -> None:
    """Each key's value into the layer of plan.env, unless every environment below it holds
    that value already. Refused where any environment of the service holds another value (the
    code would read it there), and for a secret, where an environment outside plan.env's
    subtree would have none (the code would read None there)."""
    others = [e for e in snap.manifest.environments if snap.has_pair(plan.service, e)]
    rendered = {env: snap.render(plan.service, env) for env in others}  # once, for every key
    for key, f in sorted(keys.items()):
        path = tuple(key.split("."))
        held = 0
        for env in others:
            found, value, secret = _held(rendered[env], path)
            if found and (value != f.value or type(value) is not type(f.value)):
                shown = "a secret" if secret or f.kind == "secret" else repr(value)
                raise InputError(
                    f"{plan.service}@{env} sets {key} = {shown} already; the code's literal at "
                    f"{f.location} is {f.shown!r}: moving it would change what the code does there",
                    hint=f"choose another key (--key {f.id}=KEY), or make the two agree first",
                )
            if not found and f.kind == "secret" and env not in plan.envs:
                raise InputError(
                    f"{key} is a secret: {plan.service}@{env} is not below --env {plan.env} and "
                    "would have no value (the code would read None there)",
                    hint="move it into an environment every other inherits (with age "
                    f"recipients), or set it there first: cfgctl secrets set {plan.service} "
                    f"{key} --env {env}",
                )
            held += found and env in plan.envs
        if held == len(plan.envs):
            plan.notes.append(f"{key}: every environment holds this value already")
            continue
        rel = f"config/{plan.env}/{plan.service}{'.secrets' if f.kind == 'secret' else ''}.yaml"
        if f.kind == "secret":
            set_in(work.secret_tree(rel), path, f.value)
        else:
            set_in(work.plain_doc(rel), path, yaml_value(f.value))
        plan.config_edits.append((rel, key, "set"))


def _model(plan: FixPlan, keys: dict[str, Finding], model_path: Path) -> dict[KeyPath, Field]:
    before = model_path.read_bytes() if model_path.exists() else None
    fields = (
        read_model(before.decode(errors="replace"), str(model_path), plan.service)
        if before is not None
        else {}
    )
    for key, f in keys.items():
        path = tuple(key.split("."))
        new = Field(f.type, None if f.kind == "secret" else f.value, f.kind == "secret")
        old = fields.get(path)
        if old is not None and (old.type, old.secret) != (new.type, new.secret):
            raise InputError(
                f"{model_path} has {key} as {old.type}; the code's value is {new.type}",
                hint=f"choose another key: --key {f.id}=KEY",
            )
        fields[path] = new
    after = model_source(fields, plan.service).encode()
    plan.model = (model_path, before, after)
    return fields


def _rewrite_code(plan: FixPlan, module: str) -> None:
    by_file: dict[str, list[tuple[Finding, str]]] = defaultdict(list)
    for f, key in plan.moved:
        by_file[f.path].append((f, key))
    for shown, items in sorted(by_file.items()):
        path = Path(shown)
        before = path.read_bytes()
        if any(f.sha256 and f.sha256 != _sha256(before) for f, _ in items):
            raise InputError(f"{shown} changed since the scan", hint="run the command again")
        encoding = source_encoding(before)  # latin-1 by its coding line, a BOM kept
        text = before.decode(encoding)
        after = rewrite(text, items, module)
        prove_substitution(text, after, items, module)
        plan.code[path] = (before, after.encode(encoding))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plan_fix(
    snap: Snapshot,
    paths: list[Path],
    service: str,
    *,
    select: list[str] | None = None,
    env: str | None = None,
    keys: dict[str, str] | None = None,
    model: Path | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
    history: bool = True,
) -> FixPlan:
    """The plan of moving the selected findings (all at `min_score` without `select`)."""
    snap.manifest.service(service)
    layer_env = env if env is not None else _root_env(snap, service)
    snap.manifest.env(layer_env)
    scan = scan_paths(paths, min_score=0.0 if select else min_score, history=history)
    chosen = _select(scan.findings, select, min_score)
    plan = FixPlan(service, layer_env)
    plan.moved = _keys(chosen, keys or {})
    plan.envs = [e for e in snap.manifest.children(layer_env) if snap.has_pair(service, e)]
    if not plan.envs:
        raise InputError(f"{service} has no environment at or below {layer_env}", hint="--env ENV")
    by_key = {key: f for f, key in plan.moved}
    ref = snap.schema_of(service)
    new_keys = [
        NewKey(tuple(k.split(".")), f.type, f.value, f.kind == "secret", _describe(f))
        for k, f in sorted(by_key.items())
    ]
    schema = add_properties(snap, ref, new_keys)
    work = Workset(snap)
    _config(plan, snap, work, by_key)
    if schema is not None:
        plan.repo_writes[ref.path] = schema
        _note_shared(plan, snap, ref.path)
    model_path, module = model_location([Path(f.path) for f, _ in plan.moved], model)
    fields = _model(plan, by_key, model_path)
    _rewrite_code(plan, module)
    work.files.update(plan.repo_writes)  # the schema: in the trial, checked, written
    _check(work, snap, service, ref.path)
    with work.trial() as trial:
        plan.rendered, plan.proofs = prove_values(trial, service, plan.envs, fields, by_key)
    plan.repo_writes.update(work.plain_writes())
    plan.repo_writes.update(work.encrypted())
    return plan


def _check(work: Workset, snap: Snapshot, service: str, schema_path: str) -> None:
    """The result validated for the service, and for every other service of the same schema
    file (a key added to a shared schema must not break them)."""
    for other in sorted(snap.manifest.services):
        if other == service or snap.schema_of(other).path == schema_path:
            envs = [e for e in snap.manifest.environments if snap.has_pair(other, e)]
            work.check(envs, other, "moving these values")


def _describe(f: Finding) -> str:
    return f"{f.context}, {f.path}:{f.line} (moved by cfgctl scan-code)"


def _note_shared(plan: FixPlan, snap: Snapshot, schema_path: str) -> None:
    others = sorted(
        s
        for s in snap.manifest.services
        if s != plan.service and snap.schema_of(s).path == schema_path
    )
    if others:
        plan.notes.append(
            f"{schema_path} is shared with {', '.join(others)}: the new keys (with their "
            "defaults) are declared for them too"
        )

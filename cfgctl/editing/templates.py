"""Service templates: reading `templates/T/template.yaml`, rendering `templates/T/files/`, the
record a service keeps of the template that made it, and older versions found in Git history.

    templates/web-service/template.yaml        version, schema, typed parameters
    templates/web-service/files/config/base/{{ name }}.yaml

`version:` (an integer, 1 when absent) names the template's content: a change to its files is a
new version. `cfgctl new service` records in cfgctl.yaml which template and version made the
service, and with which parameters:

    services:
      billing:
        schema: web-service
        template: {name: web-service, version: 2, parameters: {port: 9000, replicas: 2}}

`cfgctl template upgrade` needs the files of that old version again: it takes them from the
newest commit (reachable from HEAD) whose `templates/T/template.yaml` says that version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pygit2
from ruamel.yaml.comments import CommentedMap

from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.repo.builtin import check_own_file
from cfgctl.repo.fsutil import confined
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.manifest import MANIFEST, suggest
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.validator import SchemaValidator
from cfgctl.repo.yamlio import parse

__all__ = [
    "BadParameter",
    "Template",
    "TemplateRecord",
    "find_version",
    "list_templates",
    "read_template",
    "record_of",
    "render_files",
    "resolve_parameters",
    "template_entry",
    "template_rows",
    "typed_parameters",
]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_WHOLE = re.compile(r"(:\s+|-\s+)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}(\s*(?:#.*)?$)")
_CONSTRAINTS = ("minimum", "maximum", "pattern", "enum", "format", "minLength", "maxLength")


@dataclass(frozen=True)
class Template:
    """One template as read from a snapshot (or from a commit of the history)."""

    name: str
    version: int
    schema: str
    description: str
    parameters: dict[str, dict[str, Any]]
    files: dict[str, FileRef]  # path under files/ (placeholders unrendered) -> file
    spec_path: str

    def parameter_rows(self) -> list[dict[str, Any]]:
        """Each parameter: name, type, required, default, constraints, description."""
        rows = []
        for key, spec in self.parameters.items():
            row: dict[str, Any] = {
                "name": key,
                "type": spec.get("type", "any"),
                "required": bool(spec.get("required")) and "default" not in spec,
            }
            if "default" in spec:
                row["default"] = spec["default"]
            row["constraints"] = {k: spec[k] for k in _CONSTRAINTS if k in spec}
            row["description"] = spec.get("description", "")
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "schema": self.schema,
            "description": self.description,
            "parameters": self.parameter_rows(),
            "files": sorted(self.files),
            "file": self.spec_path,
        }


def _template_names(files: Mapping[str, FileRef]) -> list[str]:
    return sorted({p.split("/")[1] for p in files if p.endswith("/template.yaml")})


def read_template(
    snap: Snapshot, name: str, files: Mapping[str, FileRef] | None = None
) -> Template:
    """Template `name` of `snap` (or of `files`, the files under templates/ of another commit),
    its template.yaml checked against its schema."""
    files = snap.files_under("templates") if files is None else files
    spec_path = f"templates/{name}/template.yaml"
    if spec_path not in files:
        raise InputError(
            f"no service template {name!r} in templates/",
            hint=suggest(name, _template_names(files), "template"),
        )
    doc = parse(files[spec_path].read(), spec_path)
    problems = check_own_file(doc, "template")
    if problems:
        raise InputError(problems[0].message, location=problems[0].location, hint=problems[0].hint)
    spec: dict[str, Any] = doc.data
    prefix = f"templates/{name}/files/"
    return Template(
        name,
        int(spec.get("version", 1)),
        str(spec["schema"]),
        str(spec.get("description", "")),
        dict(spec.get("parameters") or {}),
        {p[len(prefix) :]: f for p, f in sorted(files.items()) if p.startswith(prefix)},
        spec_path,
    )


def list_templates(snap: Snapshot) -> list[tuple[str, Template | CfgctlError]]:
    """Every template of templates/ by name, or the error that keeps one from being read."""
    files = snap.files_under("templates")
    out: list[tuple[str, Template | CfgctlError]] = []
    for name in _template_names(files):
        try:
            out.append((name, read_template(snap, name, files)))
        except CfgctlError as exc:
            out.append((name, exc))
    return out


def template_rows(snap: Snapshot) -> list[dict[str, Any]]:
    """`cfgctl template list --format json`: each template's record (name, version, schema,
    description, parameters, files) with the services made from it, each with the version it
    was made from and whether it is behind; a template that cannot be read is {name, problem}."""
    made: dict[str, list[dict[str, Any]]] = {}
    for service in sorted(snap.manifest.services):
        record = record_of(snap, service)
        if record is not None:
            made.setdefault(record.name, []).append({"service": service, "version": record.version})
    rows: list[dict[str, Any]] = []
    for name, found in list_templates(snap):
        if isinstance(found, CfgctlError):
            where = f"{found.location}: " if found.location else ""
            rows.append({"name": name, "problem": f"{where}{found.message}"})
            continue
        row = found.to_dict()
        row["services"] = [
            {**s, "behind": s["version"] < found.version} for s in made.get(found.name, [])
        ]
        rows.append(row)
    return rows


# --- parameters and rendering -------------------------------------------------------------------


def _coerce(spec: dict[str, Any], raw: str) -> Any:
    if spec.get("type") == "string":
        return raw
    return parse(raw, "--set").data


class BadParameter(InputError):
    """A template's parameter that is unknown, missing or breaks its declaration; `parameter`
    names it (the API answers 422 naming it)."""

    def __init__(
        self,
        message: str,
        parameter: str,
        *,
        location: Location | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, location=location, hint=hint)
        self.parameter = parameter


def resolve_parameters(
    template: Template, raw: Mapping[str, str], given: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The parameters from `--set` values (`raw`, read as YAML unless typed string), then values
    `given` (a service's record), then defaults; checked against their declarations."""
    _refuse_unknown(template, raw)
    given = given or {}
    params: dict[str, Any] = {}
    for key, pspec in template.parameters.items():
        if key in raw:
            params[key] = _coerce(pspec, raw[key])
        elif key in given:
            params[key] = given[key]
        elif "default" in pspec:
            params[key] = pspec["default"]
    _check(template, params, "pass --set {what}=VALUE")
    return params


def typed_parameters(template: Template, values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters from typed `values` (JSON, as an API client sends them), then defaults;
    checked against their declarations (`BadParameter` naming the first one at fault)."""
    _refuse_unknown(template, values)
    params = {
        key: values[key] if key in values else spec["default"]
        for key, spec in template.parameters.items()
        if key in values or "default" in spec
    }
    _check(template, params, "send a valid value for {what}")
    return params


def _refuse_unknown(template: Template, given: Mapping[str, Any]) -> None:
    unknown = sorted(set(given) - set(template.parameters))
    if unknown:
        raise BadParameter(
            f"template {template.name!r} has no parameter {unknown[0]!r}",
            unknown[0],
            hint=suggest(unknown[0], template.parameters, "parameter"),
        )


def _check(template: Template, params: dict[str, Any], fix: str) -> None:
    declared = template.parameters
    properties: dict[str, Any] = {
        k: {kk: vv for kk, vv in v.items() if kk not in ("description", "required")}
        for k, v in declared.items()
    }
    required = [k for k, v in declared.items() if v.get("required") and "default" not in v]
    schema = {"type": "object", "properties": properties, "required": required}
    violations = SchemaValidator(schema, uri="urn:cfgctl:template-parameters").validate(params)
    if violations:
        v = violations[0]
        what = v.missing or v.dotted
        raise BadParameter(
            f"parameter {what}: {v.message}",
            what.split(".")[0],
            location=Location(template.spec_path),
            hint=f"{fix.format(what=what)}; see {template.spec_path} for the parameters",
        )


def render_files(snap: Snapshot, template: Template, params: Mapping[str, Any]) -> dict[str, bytes]:
    """The files the template renders to with `params` (the service's `name` among them), by
    their path in the repository; every path confined to the repository."""
    out: dict[str, bytes] = {}
    for path, ref in template.files.items():
        source = f"templates/{template.name}/files/{path}"
        named = _substitute_text(path, params, source)
        # Confined before anything is written: a parameter cannot lead a file out of the
        # repository (`..`, an absolute path, a symbolic link), nor into .git.
        try:
            full = confined(snap.root, named)
        except InputError as exc:
            raise InputError(
                f"{exc.message}; nothing written", location=Location(source), hint=exc.hint
            ) from None
        rel = full.relative_to(snap.root.resolve()).as_posix()
        out[rel] = _render_file(ref.read(), params, source).encode()
    return out


def _param(params: Mapping[str, Any], key: str, source: str) -> Any:
    if key not in params:
        raise InputError(
            f"unknown placeholder {{{{ {key} }}}}",
            location=Location(source),
            hint="declare it under parameters: in template.yaml",
        )
    return params[key]


def _substitute_text(text: str, params: Mapping[str, Any], source: str) -> str:
    def repl(match: re.Match[str]) -> str:
        return str(_param(params, match[1], source))

    return _PLACEHOLDER.sub(repl, text)


def _render_file(data: bytes, params: Mapping[str, Any], source: str) -> str:
    # A value that is one placeholder becomes the parameter as JSON (which is YAML): typed.
    text = data.decode("utf-8")

    def whole(match: re.Match[str]) -> str:
        return match[1] + json.dumps(_param(params, match[2], source)) + match[3]

    lines = text.splitlines(keepends=True)
    text = "".join(
        line if line.lstrip().startswith("#") else _WHOLE.sub(whole, line) for line in lines
    )  # a comment line is text: its placeholders are substituted as text below
    text = _substitute_text(text, params, source)
    parse(text, source)  # the result must be valid YAML
    return text


# --- the record in cfgctl.yaml, and older versions --------------------------------------------


@dataclass(frozen=True)
class TemplateRecord:
    """`services.S.template` of cfgctl.yaml: which template and version made S, and how."""

    name: str
    version: int
    parameters: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "parameters": self.parameters}


def record_of(snap: Snapshot, service: str) -> TemplateRecord | None:
    """The template record of `service` (which must exist), None when it has none."""
    snap.manifest.service(service)
    raw = snap.manifest.doc.data["services"][service].get("template")
    if not isinstance(raw, dict):
        return None
    return TemplateRecord(raw["name"], int(raw["version"]), dict(raw.get("parameters") or {}))


def find_version(snap: Snapshot, name: str, version: int) -> tuple[Template, str]:
    """Template `name` as it was at `version`, and the commit it was read from: the newest
    commit reachable from HEAD whose template.yaml says that version."""
    store = snap.store
    if store is None or store.repo.head_is_unborn:
        raise InputError(
            f"cannot find version {version} of template {name!r}: the repository has no Git "
            "history",
            hint="commit the template when you change its version; cfgctl finds old versions "
            "in the history",
        )
    prefix = snap.git_prefix.rstrip("/")
    spec_path = f"templates/{name}/template.yaml"
    seen: dict[str, int | None] = {}
    walker = store.repo.walk(store.repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL)
    for commit in walker:
        files = store.files_of(commit, prefix)
        ref = files.get(spec_path)
        if ref is None:
            continue
        if ref.oid not in seen:
            seen[ref.oid] = _version_of(ref)
        if seen[ref.oid] == version:
            under = files.under("templates")
            return read_template(snap, name, under), str(commit.id)
    raise InputError(
        f"no commit reachable from HEAD holds version {version} of template {name!r} ({spec_path})",
        hint="the template's old version must be in the history: restore it in a commit, or "
        f"correct the service's template record in {MANIFEST}",
    )


def _version_of(ref: FileRef) -> int | None:
    try:
        data = parse(ref.read(), ref.path).data
    except CfgctlError:
        return None
    value = data.get("version", 1) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def template_entry(record: TemplateRecord) -> CommentedMap:
    """The `template:` record of a service in cfgctl.yaml, written on one line."""
    entry = CommentedMap()
    entry["name"] = record.name
    entry["version"] = record.version
    params = CommentedMap(sorted(record.parameters.items()))
    params.fa.set_flow_style()
    entry["parameters"] = params
    entry.fa.set_flow_style()
    return entry

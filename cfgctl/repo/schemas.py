"""The schemas of a config repository: names, versions, compiled validators, secret properties.

    schemas/web-service.schema.json      version 1 of web-service (an unversioned file is v1)
    schemas/web-service.v2.schema.yaml   version 2

A service's `schema: web-service` means the newest version, `web-service@1` pins version 1.

    registry = SchemaRegistry(files, base_uri="file:///repo/")
    ref = registry.resolve("web-service@1")
    registry.validator(ref).validate(effective_config)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.manifest import suggest
from cfgctl.repo.secretpaths import Memo, deref
from cfgctl.repo.yamlio import Document, JsonPath, parse

if TYPE_CHECKING:
    from cfgctl.repo.cache import Cache
    from cfgctl.repo.validator import SchemaValidator

__all__ = [
    "MIGRATION_FILE",
    "SchemaRef",
    "SchemaRegistry",
    "check_migration",
    "migration_path",
    "parse_spec",
]

SCHEMA_DIR = "schemas/"
_FILE = re.compile(
    r"^schemas/(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*?)(?:\.v(?P<v>[1-9][0-9]*))?"
    r"\.schema\.(?P<ext>json|yaml|yml)$"
)


# schemas/NAME.vN.migration.yaml: from version N-1 of schema NAME to version N (cfgctl migrate).
MIGRATION_FILE = re.compile(
    r"^schemas/(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*?)\.v(?P<v>[1-9][0-9]*)\.migration\.yaml$"
)


def migration_path(name: str, version: int) -> str:
    """Where the migration to `version` of schema `name` is kept."""
    return f"schemas/{name}.v{version}.migration.yaml"


def check_migration(doc: Document, version: int) -> list[Diagnostic]:
    """A migration file against its schema, and its `from`/`to` against its name (version)."""
    from cfgctl.repo.builtin import check_own_file

    problems = check_own_file(doc, "migration")
    data = doc.data
    if not problems and (data["from"], data["to"]) != (version - 1, version):
        problems.append(
            Diagnostic(
                "error",
                "migration-schema",
                f"{doc.source} must migrate from {version - 1} to {version}, "
                f"not from {data['from']} to {data['to']}",
                doc.location(("to",) if data["to"] != version else ("from",)),
                hint=f"the file of version {version} holds `from: {version - 1}` and "
                f"`to: {version}`",
            )
        )
    return problems


@dataclass(frozen=True)
class SchemaRef:
    """One version of one schema, and the file that holds it."""

    name: str
    version: int
    path: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


def _fast_metaschema_ok(schema: Any) -> bool:
    """jsonschema-rs's verdict on a schema against its metaschema; False when unsure."""
    import jsonschema_rs

    try:
        return bool(jsonschema_rs.meta.is_valid(schema))
    except Exception:  # noqa: BLE001  an unknown $schema: the reference decides
        return False


def parse_spec(spec: str) -> tuple[str, int | None]:
    """`"web@2"` -> ("web", 2); `"web"` -> ("web", None)."""
    name, at, version = spec.partition("@")
    if not name or (at and not (version.isdigit() and int(version) > 0)):
        raise InputError(f"bad schema version in {spec!r}", hint="write NAME or NAME@N, e.g. web@2")
    return name, int(version) if version else None


class SchemaRegistry:
    """Every schema file of a snapshot, compiled on first use. With a `cache`, a schema's own
    check (its metaschema, its `$ref`s) is remembered on disk by the schemas' content."""

    def __init__(
        self, files: Mapping[str, FileRef], *, base_uri: str, cache: Cache | None = None
    ) -> None:
        self.base_uri = base_uri
        self.cache = cache
        self.files = {p: f for p, f in files.items() if p.startswith(SCHEMA_DIR)}
        self.problems: list[Diagnostic] = []
        self.versions: dict[str, dict[int, SchemaRef]] = {}
        for path in sorted(self.files):
            match = _FILE.match(path)
            if match is None:
                continue
            name, version = match["name"], int(match["v"] or 1)
            ref = SchemaRef(name, version, path)
            other = self.versions.setdefault(name, {}).get(version)
            if other is not None:
                self.problems.append(
                    Diagnostic(
                        "error",
                        "schema",
                        f"two files define {ref}: {other.path} and {path}",
                        Location(path),
                        hint="keep one; an unversioned NAME.schema.json is version 1",
                    )
                )
                continue
            self.versions[name][version] = ref
        self._docs: dict[str, Document] = {}
        self._validators: dict[str, SchemaValidator] = {}
        self._checked: dict[str, list[Diagnostic]] = {}
        self.secret_memo: Memo = {}
        self._id_index: dict[str, str] | None = None
        self._digest: str | None = None

    def resolve(self, spec: str) -> SchemaRef:
        """The SchemaRef a manifest's `schema:` names; `InputError` naming what exists."""
        name, version = parse_spec(spec)
        versions = self.versions.get(name)
        if not versions:
            raise InputError(
                f"schema {name!r} not found in schemas/",
                hint=f"add schemas/{name}.schema.json; " + suggest(name, self.versions, "schema"),
            )
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            have = ", ".join(str(v) for v in sorted(versions))
            raise InputError(
                f"schema {name!r} has no version {version} (it has {have})",
                hint=f"add schemas/{name}.v{version}.schema.json or pin an existing version",
            )
        return versions[version]

    def uri(self, path: str) -> str:
        return self.base_uri + path

    def document(self, path: str) -> Any:
        """The parsed schema file (JSON or YAML); `InputError` with file:line for bad syntax."""
        return self.parsed(path).data

    def parsed(self, path: str) -> Document:
        if path not in self._docs:
            self._docs[path] = parse(self.files[path].read(), path)
        return self._docs[path]

    def check(self, ref: SchemaRef) -> list[Diagnostic]:
        """The schema's own problems: syntax, and breaking its metaschema (computed once)."""
        if ref.path not in self._checked:
            self._checked[ref.path] = self._cached_check(ref)
        return self._checked[ref.path]

    def check_key(self, ref: SchemaRef) -> str:
        """The cache key of `ref`'s check: the cache format, every schema file (a `$ref` may
        lead to any of them), the base URI the `$ref`s resolve against, and the schema's path."""
        from cfgctl.repo.cache import FORMAT, digest

        return digest(FORMAT, "schema-check", self.base_uri, self.digest(), ref.path)

    def _cached_check(self, ref: SchemaRef) -> list[Diagnostic]:
        """`_check`, remembered on disk: checking a schema imports and runs jsonschema-rs (and
        parses the schema), which a one-file diff need not pay again for unchanged schemas."""
        if self.cache is None:
            return self._check(ref)
        key = self.check_key(ref)
        cached = self.cache.get("schema-check", key)
        if isinstance(cached, list):
            try:
                return [Diagnostic.from_dict(d) for d in cached]
            except (KeyError, TypeError, ValueError, AttributeError):
                pass
        problems = self._check(ref)
        self.cache.put("schema-check", key, [p.to_dict() for p in problems])
        return problems

    def _check(self, ref: SchemaRef) -> list[Diagnostic]:
        try:
            parsed = self.parsed(ref.path)
        except CfgctlError as exc:
            return [Diagnostic.from_error(exc, "schema", Location(ref.path))]
        doc = parsed.data
        if _fast_metaschema_ok(doc):
            return self._check_refs(ref, parsed)
        from cfgctl.repo.validator import check_schema

        return [
            Diagnostic(
                "error",
                "schema",
                f"invalid schema: {dotted_path(v.path)}: {v.message}",
                parsed.location(v.path),
                path=dotted_path(v.path),
                hint="fix the schema; it must be valid against its $schema (draft 2020-12 if none)",
            )
            for v in check_schema(doc)
        ]

    def _check_refs(self, ref: SchemaRef, parsed: Document) -> list[Diagnostic]:
        """Every `$ref` of the schema that leads nowhere (a validator only follows those the
        document at hand reaches, so a dangling one would pass until the day it is used)."""
        out = []
        doc = parsed.data
        base = doc.get("$id") if isinstance(doc, dict) and isinstance(doc.get("$id"), str) else None
        base = base or self.uri(ref.path)
        for path, target in _refs(doc, ()):
            uri, _, pointer = urljoin(base, target).partition("#")
            problem = None
            try:
                root = doc if uri == base.partition("#")[0] else self._retrieve(uri)
            except CfgctlError:
                problem = f"$ref {target!r} names a schema that does not exist"
            else:
                if pointer.startswith("/") and deref(root, "#" + pointer, None)[1] is None:
                    problem = f"$ref {target!r} points at nothing in {uri.rpartition('/')[2]}"
            if problem is not None:
                out.append(
                    Diagnostic(
                        "error",
                        "schema",
                        problem,
                        parsed.location((*path, "$ref")),
                        path=dotted_path(path),
                        hint="refer to a file of schemas/ by relative path, and to an existing "
                        "definition (#/$defs/NAME)",
                    )
                )
        return out

    def validator(self, ref: SchemaRef) -> SchemaValidator:
        """The compiled validator; call `check` first, since a broken schema cannot compile."""
        from cfgctl.repo.validator import SchemaValidator

        if ref.path not in self._validators:
            self._validators[ref.path] = SchemaValidator(
                self.document(ref.path), uri=self.uri(ref.path), retrieve=self._retrieve
            )
        return self._validators[ref.path]

    def _ids(self) -> dict[str, str]:
        """The `$id` of every readable schema file, to the file's path."""
        if self._id_index is None:
            self._id_index = {}
            for path in sorted(self.files):
                try:
                    doc = self.document(path)
                except CfgctlError:
                    continue
                if isinstance(doc, dict) and isinstance(doc.get("$id"), str):
                    self._id_index[doc["$id"].split("#")[0]] = path
        return self._id_index

    def _retrieve(self, uri: str) -> Any:
        uri = uri.split("#")[0]
        if uri.startswith(self.base_uri):
            path = uri[len(self.base_uri) :]
            if path in self.files:
                return self.document(path)
        ids = self._ids()
        if uri in ids:
            return self.document(ids[uri])
        # A relative $ref inside a schema with an `$id` resolves against that id: look for the
        # file next to the schema that has it (https://acme.dev/s/c.json -> schemas/c.json).
        for known, path in ids.items():
            base, _, _ = known.rpartition("/")
            if base and uri.startswith(base + "/"):
                candidate = path.rpartition("/")[0] + "/" + uri[len(base) + 1 :]
                if candidate in self.files:
                    return self.document(candidate)
        raise InputError(
            f"cannot resolve $ref to {uri!r}",
            hint="cfgctl resolves $refs offline: refer to files of schemas/ by relative path",
        )

    def digest(self) -> str:
        """A digest of every schema file: a cached verdict is valid only with the same schemas."""
        if self._digest is None:
            h = hashlib.sha256()
            for path in sorted(self.files):
                h.update(f"{path}\0{self.files[path].oid}\n".encode())
            self._digest = h.hexdigest()
        return self._digest


_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


def _refs(node: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """(path of the subschema, target) of every `$ref` string in a schema document."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield path, node["$ref"]
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _refs(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, (*path, i))

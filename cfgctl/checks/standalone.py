"""Standalone validation, as check-jsonschema does: any YAML or JSON documents against one schema.

    report = validate_documents(Path("schema.json"), [Path("a.yaml"), Path("b.json")])

`$ref`s to other local files resolve relative to the schema's own file, offline. Documents are read
and validated on every core when there are many; positions are found only for failing documents.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

from cfgctl.diagnostics import Diagnostic, Report
from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.render import overlaps
from cfgctl.repo.secretpaths import secret_paths
from cfgctl.repo.validator import SchemaValidator, check_schema
from cfgctl.repo.yamlio import Document, decode, load_strict_json, parse, parse_all

__all__ = ["load_schema_file", "validate_documents"]

PARALLEL_FROM = 200


def _read_any(path: Path) -> Any:
    data = path.read_bytes()
    if path.suffix == ".json":
        return load_strict_json(data, str(path))
    return parse(data, str(path)).data


def _retrieve(uri: str, id_bases: dict[str, Path]) -> Any:
    for base, folder in id_bases.items():
        if uri.startswith(base):
            uri = (folder / uri[len(base) :].split("#")[0]).as_uri()
            break
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise InputError(
            f"cannot resolve $ref to {uri}: cfgctl resolves references offline only",
            hint="download the schema next to yours and refer to it by relative path",
        )
    path = Path(unquote(parsed.path))
    try:
        return _read_any(path)
    except OSError as exc:
        raise InputError(f"cannot resolve $ref to {path}: {exc.strerror}") from exc


def load_schema_file(path: Path) -> Any:
    """The schema; `InputError` (exit 2, at the schema's file:line, as a repository's broken
    schema) when it is unreadable, breaks its syntax or its metaschema."""
    where = Location(str(path))
    try:
        schema = _read_any(path)
    except OSError as exc:
        raise InputError(f"cannot read schema {path}: {exc.strerror}", location=where) from exc
    problems = check_schema(schema)
    if problems:
        first, more = problems[0], len(problems) - 1
        doc: Document | None = None
        with contextlib.suppress(CfgctlError, OSError):  # positions only: JSON is YAML, mostly
            doc = parse(path.read_bytes(), str(path))
        raise InputError(
            f"invalid schema: {dotted_path(first.path)}: {first.message}"
            + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""),
            location=doc.location(first.path) if doc is not None else where,
            hint="the schema must be valid against its $schema (draft 2020-12 if none)",
        )
    return schema


def _instances(path: Path, raw: bytes) -> list[tuple[Any, Document | None]]:
    """The documents of one file: JSON, TOML by suffix, else YAML (several with `---`)."""
    name = str(path)
    if path.suffix == ".json":
        return [(load_strict_json(raw, name), None)]
    if path.suffix == ".toml":
        try:
            return [(tomllib.loads(decode(raw, name)), None)]
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"invalid TOML: {exc}", location=Location(name)) from exc
    docs = parse_all(raw, name)
    if len(docs) > 1:  # a trailing `---` or an empty document between two is no document
        docs = [d for d in docs if d.data is not None]
    return [(d.data, d) for d in docs] or [(None, None)]


class _Checker:
    """One schema, compiled, and what resolves its `$ref`s: built once per run, handed to the
    worker processes by the pool's initializer."""

    def __init__(self, schema: Any, schema_path: Path) -> None:
        # The directory of a schema's `$id`, to the schema's folder: relative $refs resolve
        # against the $id, so they are served from the schema's own folder.
        self.id_bases: dict[str, Path] = {}
        if isinstance(schema, dict) and isinstance(schema.get("$id"), str) and "/" in schema["$id"]:
            self.id_bases[schema["$id"].rpartition("/")[0] + "/"] = schema_path.resolve().parent
        self.validator = SchemaValidator(
            schema, uri=schema_path.resolve().as_uri(), retrieve=self.retrieve
        )

    def retrieve(self, uri: str) -> Any:
        return _retrieve(uri, self.id_bases)

    def retrieve_quietly(self, uri: str) -> Any:
        try:
            return self.retrieve(urljoin(self.validator.uri, uri))
        except CfgctlError:
            return None

    def check(self, name: str) -> list[Diagnostic]:
        """The diagnostics of one document file."""
        validator = self.validator
        path = Path(name)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return [Diagnostic("error", "io", f"cannot read: {exc.strerror}", Location(name))]
        out: list[Diagnostic] = []
        try:
            instances = _instances(path, raw)
            for number, (instance, doc) in enumerate(instances, start=1):
                if validator.is_valid(instance):
                    continue
                if doc is None and path.suffix == ".json":
                    with contextlib.suppress(CfgctlError):  # positions only; JSON is YAML, mostly
                        doc = parse(raw, name)
                which = f" (document {number})" if len(instances) > 1 else ""
                secrets = list(secret_paths(validator.schema, instance, self.retrieve_quietly))
                for v in validator.violations(instance):
                    key = v.missing is not None and bool(v.path)
                    loc = doc.location(v.path, key=key) if doc is not None else Location(name)
                    shown = v.masked() if overlaps(secrets, v.path) else v.message
                    message = f"{v.dotted}: {shown}{which}"
                    out.append(Diagnostic("error", "schema", message, loc, path=v.dotted))
        except CfgctlError as exc:
            return [Diagnostic.from_error(exc, "yaml", Location(name))]
        return out


_WORKER: _Checker | None = None  # set in a worker process only, by the pool's initializer


def _start_worker(checker: _Checker) -> None:
    global _WORKER
    _WORKER = checker


def _check_in_worker(name: str) -> list[Diagnostic]:
    assert _WORKER is not None
    return _WORKER.check(name)


def validate_documents(schema_path: Path, documents: list[Path]) -> Report:
    """Every problem of every document; `InputError` when the schema is broken."""
    report = Report()
    schema = load_schema_file(schema_path)
    report.checked_files = len(documents)
    checker = _Checker(schema, schema_path)
    names = [str(d) for d in documents]
    workers = min(os.cpu_count() or 1, 8)
    if len(names) >= PARALLEL_FROM and workers > 1:
        chunk = max(1, len(names) // (workers * 4))
        # fork: the initializer's argument reaches the workers unpickled (a compiled validator).
        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(checker,),
        ) as pool:
            results = list(pool.map(_check_in_worker, names, chunksize=chunk))
    else:
        results = [checker.check(n) for n in names]
    for diagnostics in results:
        for d in diagnostics:
            report.add(d)
    return report.finish()

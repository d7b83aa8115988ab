"""Standalone validation, as check-jsonschema does: any YAML or JSON documents against one schema.

    report = validate_documents(Path("schema.json"), [Path("a.yaml"), Path("b.json")])

`$ref`s to other local files resolve relative to the schema's own file, offline. Documents are read
and validated on every core when there are many; positions are found only for failing documents.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from cfgctl.diagnostics import Diagnostic, Report
from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.jsonvalidate import SchemaValidator, check_schema, dotted_path
from cfgctl.yamlio import Document, parse

__all__ = ["load_schema_file", "validate_documents"]

PARALLEL_FROM = 200
_VALIDATOR: SchemaValidator | None = None  # set before the worker processes fork


def _read_any(path: Path) -> Any:
    data = path.read_bytes()
    if path.suffix == ".json":
        try:
            return json.loads(data)
        except ValueError:
            pass  # the YAML reader gives the error with its line and column
    return parse(data, str(path)).data


def _retrieve(uri: str) -> Any:
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


def load_schema_file(path: Path) -> tuple[Any, list[Diagnostic]]:
    """The schema and its problems (unreadable, bad syntax, breaking its metaschema)."""
    where = Location(str(path))
    try:
        schema = _read_any(path)
    except OSError as exc:
        raise InputError(f"cannot read schema {path}: {exc.strerror}", location=where) from exc
    except CfgctlError as exc:
        return None, [Diagnostic.from_error(exc, "schema", where)]
    problems = [
        Diagnostic(
            "error",
            "schema",
            f"invalid schema: {dotted_path(v.path)}: {v.message}",
            where,
            path=dotted_path(v.path),
            hint="the schema must be valid against its $schema (draft 2020-12 if none)",
        )
        for v in check_schema(schema)
    ]
    return schema, problems


def _check_one(name: str) -> list[Diagnostic]:
    assert _VALIDATOR is not None
    path = Path(name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [Diagnostic("error", "io", f"cannot read: {exc.strerror}", Location(name))]
    instance: Any
    doc: Document | None = None
    try:
        if path.suffix == ".json":
            try:
                instance = json.loads(raw)
            except ValueError:
                doc = parse(raw, name)
                instance = doc.data
        else:
            doc = parse(raw, name)
            instance = doc.data
        if _VALIDATOR.is_valid(instance):
            return []
        violations = _VALIDATOR.violations(instance)
    except CfgctlError as exc:
        return [Diagnostic.from_error(exc, "yaml", Location(name))]
    if doc is None:
        doc = parse(raw, name)
    out = []
    for v in violations:
        loc = doc.location(v.path, key=v.missing is not None and bool(v.path))
        out.append(Diagnostic("error", "schema", f"{v.dotted}: {v.message}", loc, path=v.dotted))
    return out


def validate_documents(schema_path: Path, documents: list[Path]) -> Report:
    """Every problem of every document; the schema's own problems first."""
    global _VALIDATOR
    report = Report()
    schema, problems = load_schema_file(schema_path)
    report.checked_files = len(documents)
    for p in problems:
        report.add(p)
    if problems:
        return report.finish()
    _VALIDATOR = SchemaValidator(schema, uri=schema_path.resolve().as_uri(), retrieve=_retrieve)
    names = [str(d) for d in documents]
    workers = min(os.cpu_count() or 1, 8)
    if len(names) >= PARALLEL_FROM and workers > 1:
        chunk = max(1, len(names) // (workers * 4))
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_check_one, names, chunksize=chunk))
    else:
        results = [_check_one(n) for n in names]
    for diagnostics in results:
        for d in diagnostics:
            report.add(d)
    return report.finish()

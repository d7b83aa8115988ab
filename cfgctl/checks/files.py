"""The config files of a snapshot: where each belongs (layout), whether it parses, whether it
holds a mapping, whether a .secrets.yaml is encrypted. Many cache misses are parsed on every core.

    broken = check_files(snap, report, only=None)   # the paths too broken to render
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from cfgctl.diagnostics import Diagnostic, Report
from cfgctl.errors import CfgctlError, Location
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.manifest import MANIFEST, Manifest, suggest
from cfgctl.repo.render import is_encrypted
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import Document, parse

__all__ = ["PARALLEL_FROM", "check_files"]

log = logging.getLogger(__name__)

_CONFIG_FILE = re.compile(r"^config/(?P<env>[^/]+)/(?P<name>[^/]+?)(?P<secrets>\.secrets)?\.yaml$")
# Parsing in worker processes pays off only past this many files (a fork costs ~20 ms).
PARALLEL_FROM = 400


def check_files(snap: Snapshot, report: Report, only: set[str] | None = None) -> set[str]:
    """Parse every config file (or those of `only`); report the broken and the misplaced.
    Returns the broken paths."""
    broken: set[str] = set()
    to_parse: list[str] = []
    paths = snap.files_under("config") if only is None else [p for p in only if p in snap.files]
    for path in sorted(p for p in paths if p.startswith("config/")):
        problem = _placement_problem(path, snap.manifest)
        if problem is None:
            to_parse.append(path)
            continue
        report.add(problem)
        if problem.severity == "error" and _CONFIG_FILE.match(path):
            broken.add(path)
    report.checked_files += len(to_parse)
    _parse_all(snap, to_parse)
    for path in to_parse:
        try:
            doc = snap.document(path)
        except CfgctlError as exc:
            broken.add(path)
            report.add(Diagnostic.from_error(exc, "yaml", Location(path)))
            continue
        problems = _content_problems(path, doc)
        if any(d.code == "yaml" for d in problems):
            broken.add(path)
        for d in problems:
            report.add(d)
    return broken


def _placement_problem(path: str, manifest: Manifest) -> Diagnostic | None:
    """Why a file under config/ is not read where it is, or None."""
    match = _CONFIG_FILE.match(path)
    if match is None:
        # A .yml file is a config file under the wrong name: it would be silently ignored.
        yml = path.endswith(".yml") and path.count("/") == 2
        return Diagnostic(
            "error" if yml else "warning",
            "layout",
            "not read: config files are config/ENV/SERVICE.yaml, "
            "config/ENV/_defaults.yaml or config/ENV/SERVICE.secrets.yaml",
            Location(path),
            hint="rename it (cfgctl reads the .yaml extension only) or move it",
        )
    return _layout_problem(path, match["env"], match["name"], bool(match["secrets"]), manifest)


def _content_problems(path: str, doc: Document) -> list[Diagnostic]:
    """A parsed config file that is no mapping (code `yaml`: too broken to render), a plain-text
    .secrets.yaml, and YAML 1.1 look-alikes."""
    out = []
    if doc.data is not None and not isinstance(doc.data, dict):
        out.append(
            Diagnostic(
                "error",
                "yaml",
                f"the document is a {_kind(doc.data)}; a config file must hold a mapping",
                doc.location(()),
                hint="write the settings as `key: value` lines at the top level",
            )
        )
    if path.endswith(".secrets.yaml") and doc.data and not is_encrypted(doc.data):
        out.append(
            Diagnostic(
                "error",
                "secret-plaintext",
                "a .secrets.yaml file must be encrypted with SOPS; this one is plain text",
                Location(path),
                hint=f"encrypt it in place: cfgctl secrets encrypt {path} "
                "(and rotate any secret that was pushed in plain text)",
            )
        )
    for wpath, message in doc.warnings:
        out.append(
            Diagnostic("warning", "yaml-1.1", message, doc.location(wpath), path=dotted_path(wpath))
        )
    return out


def _layout_problem(
    path: str, env: str, name: str, secrets: bool, manifest: Manifest
) -> Diagnostic | None:
    """Why a config file does not belong where it is, or None."""
    if env not in manifest.environments:
        message = f"folder config/{env}/ is not an environment of {MANIFEST}"
        hint = "declare it under environments:, or move the file; " + suggest(
            env, manifest.environments, "environment"
        )
        return Diagnostic("error", "layout", message, Location(path), hint=hint)
    if name == "_defaults" and secrets:
        message = f"not read: secrets are per service (config/{env}/SERVICE.secrets.yaml)"
        hint = f"move each value to its service: cfgctl secrets set SERVICE KEY --env {env}"
        return Diagnostic("warning", "layout", message, Location(path), hint=hint)
    if name != "_defaults" and name not in manifest.services:
        message = f"service {name!r} is not declared in {MANIFEST}"
        hint = "declare it under services:, or remove the file; " + suggest(
            name, manifest.services, "service"
        )
        return Diagnostic("error", "layout", message, Location(path), hint=hint)
    return None


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _parse_one(item: tuple[str, bytes]) -> tuple[str, Any]:
    path, data = item
    try:
        doc = parse(data, path)
    except CfgctlError as exc:
        return path, ("error", exc.message, exc.location, exc.hint)
    return path, ("ok", doc.data, doc.warnings)


def _parse_all(snap: Snapshot, paths: list[str]) -> None:
    """Parse the files not in the cache, on every core when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM or workers < 2:
        return  # parsed lazily by snap.document, one by one
    missing = [p for p in paths if not snap.load_cached(p)]
    if len(missing) < PARALLEL_FROM:
        return
    log.info(
        "parsing %d files on %d processes",
        len(missing),
        workers,
        extra={"fields": {"files": len(missing), "workers": workers}},
    )
    import multiprocessing  # here: most commands parse too few files for a pool
    from concurrent.futures import ProcessPoolExecutor

    items = [(p, snap.files[p].read()) for p in missing]
    raw = dict(items)
    chunk = max(1, len(items) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for path, result in pool.map(_parse_one, items, chunksize=chunk):
            if result[0] == "ok":
                _, data, warnings = result
                snap.keep(path, Document(path, raw[path].decode("utf-8-sig"), data, warnings))

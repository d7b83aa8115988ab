"""How often each literal changed in the Git history of its file: a value edited in five commits
is configuration; the `2` of `x / 2` never changes.

    changes = history_changes([source, ...])   # {path: {anchor: 3, ...}}

A literal is followed by its anchor (its scope, the name it is bound to, the call and argument it
feeds, the dict keys above it), so it is recognised across versions however its line moves. The
newest `MAX_COMMITS` commits of the branch are read, and at most `MAX_VERSIONS` versions of a
file parsed; files outside a Git repository have no history.
"""

from __future__ import annotations

import ast
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import SortMode

from cfgctl.codescan.literals import Literal, literals
from cfgctl.codescan.sources import Source

__all__ = ["Anchor", "anchor", "history_changes"]

MAX_COMMITS = 500
MAX_VERSIONS = 20
Anchor = tuple[Any, ...]


def anchor(lit: Literal) -> Anchor:
    return (lit.scope, lit.name, lit.call, lit.arg, lit.outer, lit.how)


def _values(data: bytes) -> dict[Anchor, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    out: dict[Anchor, Any] = {}
    for lit in literals(tree):
        if lit.name is not None or lit.call is not None:
            out.setdefault(anchor(lit), lit.value)
    return out


def _versions(repo: pygit2.Repository, wanted: set[str]) -> dict[str, list[pygit2.Oid]]:
    """The blob ids of each wanted path, newest first, one per commit that changed it."""
    found: dict[str, list[pygit2.Oid]] = defaultdict(list)
    if repo.head_is_unborn:
        return found
    walker = repo.walk(repo.head.target, SortMode.TOPOLOGICAL | SortMode.TIME)
    walker.simplify_first_parent()
    for count, commit in enumerate(walker):
        if count >= MAX_COMMITS:
            break
        parent = commit.parents[0].tree if commit.parents else None
        diff = commit.tree.diff_to_tree(parent, swap=True) if parent is not None else None
        if diff is None:
            for path in wanted:
                try:
                    entry = commit.tree[path]
                except KeyError:
                    continue
                found[path].append(entry.id)
            continue
        for delta in diff.deltas:
            path = delta.new_file.path
            if path in wanted and len(found[path]) < MAX_VERSIONS and delta.status_char() != "D":
                found[path].append(delta.new_file.id)
    return found


def _changes(repo: pygit2.Repository, oids: list[pygit2.Oid]) -> dict[Anchor, int]:
    counts: dict[Anchor, int] = defaultdict(int)
    newer: dict[Anchor, Any] | None = None
    for oid in oids:
        blob = repo[oid]
        values = _values(bytes(blob.data)) if isinstance(blob, pygit2.Blob) else {}
        if newer is not None:
            for key, value in newer.items():
                if key in values and values[key] != value:
                    counts[key] += 1
        newer = values
    return dict(counts)


def history_changes(sources: list[Source]) -> dict[str, dict[Anchor, int]]:
    """{source.shown: {anchor: number of commits that changed its value}} for the sources
    inside a Git repository."""
    by_repo: dict[str, list[tuple[Source, str]]] = defaultdict(list)
    for source in sources:
        found = pygit2.discover_repository(str(source.path.resolve().parent))
        if found is None:
            continue
        git_dir = Path(found)
        workdir = git_dir.parent if git_dir.name == ".git" else git_dir
        try:
            rel = source.path.resolve().relative_to(workdir.resolve()).as_posix()
        except ValueError:
            continue
        by_repo[str(git_dir)].append((source, rel))
    out: dict[str, dict[Anchor, int]] = {}
    for repo_dir, items in by_repo.items():
        try:
            repo = pygit2.Repository(repo_dir)
            versions = _versions(repo, {rel for _, rel in items})
        except (pygit2.GitError, KeyError, ValueError):
            continue
        for source, rel in items:
            if len(versions.get(rel, [])) > 1:
                out[source.shown] = _changes(repo, versions[rel])
    return out

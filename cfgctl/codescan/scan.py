"""`scan_paths`: every Python file under the paths read, each literal judged, the findings that
score at least `min_score` returned with stable ids and keys that do not collide.

    result = scan_paths([Path("src")], min_score=0.5)
    result.findings[0].key, result.findings[0].score     # "db.pool_size", 0.88
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections import defaultdict
from pathlib import Path

from cfgctl.codescan.findings import DEFAULT_MIN_SCORE, Finding, ScanResult, Skipped
from cfgctl.codescan.history import Anchor, anchor, history_changes
from cfgctl.codescan.literals import Literal, literals
from cfgctl.codescan.scoring import Verdict, json_type, judge, key_of
from cfgctl.codescan.sources import (
    MODEL_MARKER,
    Source,
    parse_source,
    python_files,
    read_source,
)
from cfgctl.errors import InputError

__all__ = ["DEFAULT_MIN_SCORE", "scan_paths", "scan_source"]


_LINES = re.compile(r"\r\n|\r|\n")


def _char_col(lines: list[str], line: int, byte_col: int) -> int:
    """ast's 0-based UTF-8 byte offset as a 1-based column in characters."""
    if 0 < line <= len(lines):
        return len(lines[line - 1].encode()[:byte_col].decode(errors="replace")) + 1
    return byte_col + 1


def scan_source(
    source: Source,
    tree: ast.Module,
    min_score: float,
    changes: dict[Anchor, int] | None = None,
) -> list[Finding]:
    """The findings of one parsed file, in source order (keys not yet made unique)."""
    module = Path(source.shown).stem
    if module == "__init__":
        module = Path(source.shown).parent.name or module
    lines = _LINES.split(source.text)  # as ast counts lines: not at \f or U+2028
    out: list[Finding] = []
    seen: dict[tuple[str, str, object], int] = defaultdict(int)
    for lit in literals(tree):
        verdict = judge(lit, module, (changes or {}).get(anchor(lit), 0))
        if verdict is None or verdict.score < min_score:
            continue
        out.append(_finding(source, lines, lit, verdict, key_of(lit, module), seen))
    return out


def _finding(
    source: Source,
    lines: list[str],
    lit: Literal,
    verdict: Verdict,
    key: str,
    seen: dict[tuple[str, str, object], int],
) -> Finding:
    ident = (key, json_type(lit.value), lit.value)
    seen[ident] += 1
    return Finding(
        path=source.shown,
        line=lit.line,
        col=_char_col(lines, lit.line, lit.col),
        end_line=lit.end_line,
        end_col=_char_col(lines, lit.end_line, lit.end_col),
        key=key,
        type=json_type(lit.value),
        value=lit.value,
        kind=verdict.kind,
        score=verdict.score,
        reasons=verdict.reasons,
        occurrence=seen[ident],
        sha256=source.sha256,
        context=_context(lit),
    )


def _context(lit: Literal) -> str:
    """Where the literal is used, in the code's own names."""
    where = f" in {'.'.join(lit.scope)}" if lit.scope else ""
    if lit.how == "env":
        return f"the default of ${lit.name}"
    if lit.how == "fallback":
        return f"the default of {lit.call}({lit.name!r})"
    if lit.how == "dict":
        return f"{'.'.join(lit.outer) or 'a dict'}[{lit.name!r}]{where}"
    if lit.how == "default":
        return f"the default of parameter {lit.name}{where}"
    if lit.call and isinstance(lit.arg, str):
        return f"{lit.arg}= of {lit.call}(){where}"
    if lit.call and isinstance(lit.arg, int):
        return f"argument {lit.arg + 1} of {lit.call}(){where}"
    if lit.name:
        return f"{lit.name}{where}"
    return f"a literal{where}"


def _unique_keys(findings: list[Finding]) -> list[Finding]:
    """One key per value: a key suggested for two different values gets the file's module
    stem, then a number, so `--fix` never merges two settings into one."""
    values: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in findings:
        values[f.key].add((f.type, repr(f.value)))
    taken: dict[tuple[str, str, str], str] = {}
    used: set[str] = {k for k, v in values.items() if len(v) == 1}
    out = []
    for f in findings:
        if len(values[f.key]) == 1:
            out.append(f)
            continue
        ident = (f.key, f.type, repr(f.value))
        if ident not in taken:
            n, key = 1, f.key
            while key in used:
                n += 1
                key = f"{f.key}_{n}"
            used.add(key)
            taken[ident] = key
        out.append(dataclasses.replace(f, key=taken[ident]))
    return out


def scan_paths(
    paths: list[Path], *, min_score: float = DEFAULT_MIN_SCORE, history: bool = True
) -> ScanResult:
    """Scan every Python file under `paths`. `history` weighs how often each literal changed in
    Git (files in a repository only)."""
    if not 0.0 <= min_score <= 1.0:
        raise InputError(f"--min-score {min_score} is not between 0 and 1", hint="e.g. 0.5")
    result = ScanResult()
    parsed: list[tuple[Source, ast.Module]] = []
    for path in python_files(paths, result.skipped):
        source = read_source(path)
        if isinstance(source, Skipped):
            result.skipped.append(source)
            continue
        if MODEL_MARKER in source.text[:400]:
            continue  # the model module --fix wrote: its defaults are the moved values
        tree = parse_source(source)
        if isinstance(tree, Skipped):
            result.skipped.append(tree)
            continue
        result.files += 1
        result.lines += source.text.count("\n") + (not source.text.endswith("\n"))
        parsed.append((source, tree))
    changes = history_changes([s for s, _ in parsed]) if history else {}
    findings = []
    for source, tree in parsed:
        try:
            findings.extend(scan_source(source, tree, min_score, changes.get(source.shown)))
        except RecursionError:
            result.skipped.append(Skipped(source.shown, "nested too deeply to read"))
    result.findings = _unique_keys(findings)
    return result

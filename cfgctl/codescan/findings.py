"""What `cfgctl scan-code` reports: a `Finding` per literal that looks like configuration, and the
`ScanResult` of a run (findings, files skipped with why, lines read).

    result = scan_paths([Path("src")])
    for f in result.findings:
        print(f.location, f.key, f.score, f.reasons)     # app/db.py:12:17 db.pool_size 0.9 [...]

A finding's `id` is stable while the literal keeps its file, key and value (lines above it may
move): `--fix --select ID` names findings across runs. A secret's value is never kept in a
finding's output: `shown` masks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from cfgctl.errors import Location

__all__ = ["DEFAULT_MIN_SCORE", "MASK", "Finding", "ScanResult", "Skipped", "mask"]

DEFAULT_MIN_SCORE = 0.5
"""Findings scoring below this are not reported unless `--min-score` asks for them."""

Kind = Literal["config", "secret"]
JsonType = Literal["integer", "number", "string", "boolean"]
MASK = "********"


@dataclass(frozen=True)
class Finding:
    """One literal that looks like configuration."""

    path: str  # as scanned, relative to the folder named on the command line's parent when given
    line: int  # 1-based
    col: int  # 1-based, in characters
    end_line: int
    end_col: int  # 1-based, exclusive
    key: str  # the suggested dotted key, e.g. db.pool_size
    type: JsonType
    value: Any  # the literal's value (a secret's too: never print it, use `shown`)
    kind: Kind
    score: float  # 0..1
    reasons: tuple[str, ...]
    occurrence: int = 1  # the n-th literal of this key and value in this file
    sha256: str = ""  # of the file's bytes when scanned
    context: str = ""  # where the value is used: "REQUEST_TIMEOUT", "timeout= of requests.get()"

    @property
    def id(self) -> str:
        """`CS` + 8 hex digits of (path, key, value, occurrence): stable while lines move. A
        secret's value is left out (an id is published, in SARIF alerts say, and 32 bits of a
        hash of a weak password would let it be guessed)."""
        value = "<secret>" if self.kind == "secret" else repr(self.value)
        text = f"{self.path}\0{self.key}\0{self.type}\0{value}\0{self.occurrence}"
        return "CS" + hashlib.sha256(text.encode()).hexdigest()[:8]

    @property
    def location(self) -> Location:
        return Location(self.path, self.line, self.col)

    @property
    def shown(self) -> Any:
        """The value as output may show it: a secret masked."""
        return MASK if self.kind == "secret" else self.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "key": self.key,
            "type": self.type,
            "value": self.shown,
            "kind": self.kind,
            "score": round(self.score, 3),
            "reasons": list(self.reasons),
            "context": self.context,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Skipped:
    """A file not scanned, and why (it does not parse, it is binary, it is a test)."""

    path: str
    reason: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, "line": self.line}


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0  # Python files read
    lines: int = 0  # their lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "lines": self.lines,
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [s.to_dict() for s in self.skipped],
        }


def mask(text: str, values: Iterable[Any]) -> str:
    """`text` with each of `values` masked as it may be written: plain, as Python's repr, as
    JSON and as ASCII escapes (a diff, a test's output, an error)."""
    for value in values:
        forms = {str(value), repr(value), json.dumps(value), ascii(value)}
        if isinstance(value, str):
            forms |= {repr(value)[1:-1], json.dumps(value)[1:-1], ascii(value)[1:-1]}
        for form in sorted((f for f in forms if len(f) >= 4), key=len, reverse=True):
            text = text.replace(form, MASK)
    return text

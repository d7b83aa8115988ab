"""Diagnostics: what `validate` finds, each pointing at the line a person must edit.

A `Report` collects every diagnostic of a run (never only the first), sorted by place, and renders
nothing itself: the CLI's reporters print it as text, JSON or GitHub annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from cfgctl.errors import CfgctlError, CheckFailed, Location

__all__ = ["DiagnosedFailure", "Diagnostic", "Report", "Severity"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `path` is the dotted JSON path of the value, when there is one, and
    `pointer` the same as an RFC 6901 JSON pointer (unambiguous: a key may hold a dot; for a
    missing required key, where it would be); `pairs` are the (service, environment) pairs whose
    effective configuration it affects."""

    severity: Severity
    code: str
    message: str
    location: Location
    path: str | None = None
    hint: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    pointer: str | None = None

    @classmethod
    def from_error(cls, error: CfgctlError, code: str, fallback: Location) -> Diagnostic:
        return cls("error", code, error.message, error.location or fallback, hint=error.hint)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Diagnostic:
        """The inverse of `to_dict` (for cached diagnostics)."""
        return cls(
            d["severity"],
            d["code"],
            d["message"],
            Location(d["file"], d["line"], d["column"]),
            path=d["path"],
            hint=d["hint"],
            pairs=tuple((p["service"], p["env"]) for p in d["pairs"]),
            pointer=d.get("pointer"),  # absent from diagnostics cached before it existed
        )

    def sort_key(self) -> tuple[Any, ...]:
        loc = self.location
        return (loc.path, loc.line or 0, loc.column or 0, self.severity, self.message)

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "severity": self.severity,
            "code": self.code,
            "file": loc.path,
            "line": loc.line,
            "column": loc.column,
            "path": self.path,
            "pointer": self.pointer,
            "message": self.message,
            "hint": self.hint,
            "pairs": [{"service": s, "env": e} for s, e in self.pairs],
        }


@dataclass
class Report:
    """Every diagnostic of one run, plus what was checked."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked_files: int = 0
    checked_pairs: int = 0

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def finish(self) -> Report:
        """Merge diagnostics that differ only in the pairs they affect; sort by place."""
        merged: dict[tuple[Any, ...], Diagnostic] = {}
        for d in self.diagnostics:
            key = (d.severity, d.code, d.message, d.location, d.path, d.hint)
            if key in merged:
                pairs = tuple(sorted(set(merged[key].pairs) | set(d.pairs)))
                merged[key] = replace(merged[key], pairs=pairs)
            else:
                merged[key] = replace(d, pairs=tuple(sorted(set(d.pairs))))
        self.diagnostics = sorted(merged.values(), key=Diagnostic.sort_key)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "checked": {"files": self.checked_files, "pairs": self.checked_pairs},
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


class DiagnosedFailure(CheckFailed):
    """A check said no, with the diagnostics that say why (exit 1): `cfgctl set` refused."""

    def __init__(
        self,
        message: str,
        diagnostics: Sequence[Diagnostic],
        *,
        location: Location | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, location=location, hint=hint)
        self.diagnostics = tuple(diagnostics)

"""The one error family of cfgctl.

    CfgctlError        2  anything a user caused or can fix
      InputError       2  bad YAML, flag, reference or schema
      CheckFailed      1  validation or policy said no
      EnvError         3  missing tool or key, unreadable repository

Every error carries a message, optionally a location (file:line:col) and a hint saying how to fix
it. Library code raises only these; the CLI boundary prints them as one line each and exits with
the class's exit code. Messages never contain secret values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = ["CfgctlError", "CheckFailed", "EnvError", "InputError", "Location"]


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line and column, path relative to the repository root."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class CfgctlError(Exception):
    """Anything a user caused or can fix."""

    exit_code: ClassVar[int] = 2

    def __init__(
        self, message: str, *, location: Location | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.message}"


class InputError(CfgctlError):
    """Bad YAML, flag, reference or schema (exit 2)."""

    exit_code: ClassVar[int] = 2


class CheckFailed(CfgctlError):
    """Validation or policy said no (exit 1)."""

    exit_code: ClassVar[int] = 1


class EnvError(CfgctlError):
    """The environment is missing something: a tool, a key, a readable repository (exit 3)."""

    exit_code: ClassVar[int] = 3

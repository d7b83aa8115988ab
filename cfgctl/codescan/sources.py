"""The Python files a scan reads, and each one parsed with `ast` (never imported, never run).

    for source in python_files([Path("src")], skipped):   # test files and virtualenvs left out
        tree = parse_source(source)                        # None: reported in `skipped`

A file that does not parse (Python 2, a syntax error, a binary, an unknown encoding) is recorded
as `Skipped` with the reason and line, never raised. Test files (`test_*.py`, `*_test.py`,
`conftest.py`, anything under `tests/` or `test/`), `setup.py` and the folders of tools
(`.git`, virtualenvs, `site-packages`, `node_modules`, `__pycache__`, build output) are not
configuration: a folder walk leaves them out; named on the command line, they are skipped with a
reason.
"""

from __future__ import annotations

import ast
import hashlib
import io
import os
import tokenize
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cfgctl.codescan.findings import Skipped
from cfgctl.errors import InputError

__all__ = [
    "MODEL_MARKER",
    "Source",
    "is_test_file",
    "parse_source",
    "python_files",
    "read_source",
    "shown_path",
    "source_encoding",
]

_TOOL_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", ".env", "site-packages",
        "node_modules", "__pycache__", "build", "dist", ".eggs", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", ".cfgctl",
    }
)  # fmt: skip
_TEST_FOLDERS = frozenset({"tests", "test", "testing"})
_NOT_CODE = frozenset({"setup.py", "conftest.py", "noxfile.py", "fabfile.py"})
MAX_BYTES = 4 << 20  # a larger .py file is generated code, not a service's configuration
MODEL_MARKER = "cfgctl scan-code --fix writes this file"
"""In the docstring of the model module `--fix` writes: its defaults are not to be found again."""


@dataclass
class Source:
    """One Python file: the path shown in findings, its bytes, its text."""

    path: Path
    shown: str
    data: bytes
    text: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def is_test_file(path: Path) -> bool:
    name = path.name
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name in _NOT_CODE
        or any(part in _TEST_FOLDERS for part in path.parts[:-1])
    )


def shown_path(path: Path) -> str:
    """`path` relative to the current folder when below it, as findings and diffs show it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _TOOL_FOLDERS
            and d not in _TEST_FOLDERS
            and not d.endswith(".egg-info")
            and not Path(root, d).is_symlink()
        )
        for name in sorted(files):
            if name.endswith(".py") and not is_test_file(Path(name)):
                yield Path(root, name)


def python_files(paths: list[Path], skipped: list[Skipped]) -> Iterator[Path]:
    """Every Python file under `paths` (files named are taken as they are, whatever their
    extension), each once; a missing path is an `InputError`."""
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder", hint="name Python files or folders")
        if path.is_dir():
            found: Iterator[Path] = _walk(path)
        elif is_test_file(path):
            skipped.append(Skipped(shown_path(path), "a test file (tests are not configuration)"))
            continue
        else:
            found = iter([path])
        for file in found:
            real = file.resolve()
            if real not in seen:
                seen.add(real)
                yield file


def source_encoding(data: bytes) -> str:
    """The encoding Python reads the source in: its coding line, a BOM (`utf-8-sig`), or UTF-8;
    SyntaxError or LookupError for a bad one."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return encoding


def read_source(path: Path) -> Source | Skipped:
    """The file's bytes and text, or why it cannot be read as Python 3 source."""
    shown = shown_path(path)
    if not path.is_file():  # a FIFO or a device would block or never end
        return Skipped(shown, "not a regular file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return Skipped(shown, f"cannot be read: {exc.strerror or exc}")
    if len(data) > MAX_BYTES:
        return Skipped(shown, f"larger than {MAX_BYTES >> 20} MiB: generated code")
    if b"\0" in data:
        return Skipped(shown, "a binary file, not Python source")
    try:
        text = data.decode(source_encoding(data))
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        return Skipped(shown, f"cannot be decoded: {exc}")
    return Source(path, shown, data, text)


def parse_source(source: Source) -> ast.Module | Skipped:
    """The module's syntax tree, or why it does not parse (with the line)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old code
            return ast.parse(source.text, filename=source.shown)
    except SyntaxError as exc:
        why = exc.msg or "invalid syntax"
        if "print" in why.lower() or "Missing parentheses" in why:
            why += " (Python 2 source?)"
        return Skipped(source.shown, f"does not parse as Python 3: {why}", exc.lineno)
    except (ValueError, RecursionError, MemoryError) as exc:
        return Skipped(source.shown, f"does not parse as Python 3: {exc}")

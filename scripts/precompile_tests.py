"""Compile the test modules once, with pytest's assertion rewriting, before a test run.

    .venv/bin/python scripts/precompile_tests.py      # make test runs it beside the web build

pytest rewrites the asserts of each test module and conftest.py when it first imports it, and
caches the result in __pycache__/NAME.cpython-3XX-pytest-X.Y.Z.pyc. On a fresh clone the three
xdist workers each rewrite and compile every module at once, on two cores. This writes those
files first, the way pytest writes them (`rewrite_asserts`, then a pyc whose header holds the
source's mtime and size, which pytest checks before it uses one). Modules that are not tests
(tests/support/) are compiled by compileall. It is only a head start: a file it cannot write,
or a pytest whose internals moved, leaves pytest to do it as usual, so it never fails the build.
"""

from __future__ import annotations

import ast
import importlib.util
import marshal
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _write(source: Path, cache_tail: str, rewrite: Callable[..., Any]) -> None:
    source = source.absolute()  # the name pytest compiles it under (its import is absolute)
    stat = source.stat()
    data = source.read_bytes()
    tree = ast.parse(data, filename=str(source))
    rewrite(tree, data, str(source), None)  # as pytest does, with the default options
    code = compile(tree, str(source), "exec", dont_inherit=True)
    folder = source.parent / "__pycache__"
    folder.mkdir(exist_ok=True)
    target = folder / (source.name[:-3] + cache_tail)
    partial = target.with_name(f"{target.name}.{os.getpid()}")
    header = struct.pack("<LL", int(stat.st_mtime) & 0xFFFFFFFF, stat.st_size & 0xFFFFFFFF)
    partial.write_bytes(importlib.util.MAGIC_NUMBER + b"\0\0\0\0" + header + marshal.dumps(code))
    partial.replace(target)


def main(root: Path) -> int:
    try:
        from _pytest.assertion.rewrite import PYC_TAIL, rewrite_asserts
    except ImportError:
        return 0
    for source in sorted(root.rglob("*.py")):
        if "__pycache__" in source.parts:
            continue
        if not (source.name.startswith("test_") or source.name == "conftest.py"):
            continue
        try:
            _write(source, PYC_TAIL, rewrite_asserts)
        except (OSError, SyntaxError, ValueError, TypeError):
            continue  # pytest rewrites it (and reports a syntax error) itself
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests")))

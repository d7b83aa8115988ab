"""scripts/precompile_tests.py: the rewritten test modules it writes are the ones pytest loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # a pytest of its own
def test_pytest_loads_the_precompiled_module_instead_of_rewriting_it(tmp_path: Path) -> None:
    """The source is changed after the precompile, keeping its size and mtime (what pytest
    compares with the cached file's header): the failure pytest then reports is the precompiled
    one, so pytest read that file and did not rewrite the module itself."""
    test = tmp_path / "tests" / "test_sample.py"
    test.parent.mkdir()
    test.write_text("def test_sum():\n    total = 1 + 1\n    assert total == 3\n")
    stat = test.stat()
    done = subprocess.run(  # a relative folder, as the Makefile gives it
        [sys.executable, str(ROOT / "scripts/precompile_tests.py"), "tests"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert list((test.parent / "__pycache__").glob("test_sample.*-pytest-*.pyc"))
    test.write_text("def test_sum():\n    total = 1 + 1\n    assert total == 4\n")
    os.utime(test, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    run = subprocess.run(  # from another folder than the precompile's
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         test.name],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=test.parent,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "assert 2 == 3" in run.stdout, run.stdout  # the rewritten assert, precompiled
    # compiled under the name pytest gives the file: the failure shows its source line
    assert ">       assert total == 4" in run.stdout and "???" not in run.stdout, run.stdout

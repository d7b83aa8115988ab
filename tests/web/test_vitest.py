"""The dashboard's unit tests (Vitest and Testing Library, web/test/) in `make test`: run when
web/'s sources changed since they last passed here (a stamp under .cache/ names their digest),
so an unchanged tree costs nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
STAMPS = ROOT / ".cache" / "vitest"
SOURCES = ("src", "test", "package-lock.json", "package.json", "vite.config.ts", "tsconfig.json")

pytestmark = pytest.mark.slow


def _digest() -> str:
    sha = hashlib.sha256()
    for name in SOURCES:
        top = WEB / name
        for path in sorted([top] if top.is_file() else top.rglob("*")):
            if path.is_file():
                sha.update(path.relative_to(WEB).as_posix().encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()[:32]


def test_the_dashboards_unit_tests_pass() -> None:
    if shutil.which("npx") is None or not (WEB / "node_modules" / ".bin" / "vitest").exists():
        pytest.skip("web/node_modules is not installed (make install runs npm ci)")
    stamp = STAMPS / _digest()
    if stamp.exists():
        return  # these very sources passed here before
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
    run = subprocess.run(
        ["npx", "--no-install", "vitest", "run", "--reporter=dot"],
        cwd=WEB,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    STAMPS.mkdir(parents=True, exist_ok=True)
    stamp.touch()

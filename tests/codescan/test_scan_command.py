"""`cfgctl scan-code` as a user runs it: text and JSON reports, skipped files on stderr, exit codes,
and a credential's value in no output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import SECRET_VALUES, run_cli

CODE = """\
import os
import requests

API_URL = os.getenv("API_URL", "https://billing.example.com/api")
SMTP_PASSWORD = "Zr8#kq2-Lm9vX4"


def fetch(path):
    return requests.get(API_URL + path, timeout=12)
"""


def _project(tmp_path: Path) -> Path:
    SECRET_VALUES.add("Zr8#kq2-Lm9vX4")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "client.py").write_text(CODE)
    (tmp_path / "app" / "old.py").write_text("print 'py2'\n")
    return tmp_path


def test_text_report_names_each_finding_with_its_place_and_reasons(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = run_cli("scan-code", "app", cwd=root)
    assert result.exit_code == 0, result.output
    assert "app/client.py:4:32: " in result.stdout
    assert "api.url = 'https://billing.example.com/api' (string)" in result.stdout
    assert "the default of API_URL" in result.stdout
    assert "secret smtp.password = '********'" in result.stdout
    assert "http.timeout = 12 (integer)" in result.stdout
    assert "scan-code: skipped app/old.py:1: does not parse as Python 3" in result.stderr
    assert "3 findings (1 secret)" in result.stdout
    assert "Zr8#kq2-Lm9vX4" not in result.output


def test_json_report_and_exit_code_for_ci(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = run_cli("scan-code", "app", "--format", "json", "--min-score", "0.9", cwd=root)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["files"] == 1 and data["skipped"][0]["path"] == "app/old.py"
    assert all(f["score"] >= 0.9 for f in data["findings"])
    assert {f["key"] for f in data["findings"]} >= {"api.url", "smtp.password"}
    gate = run_cli("scan-code", "app", "--exit-code", cwd=root)
    assert gate.exit_code == 1 and "hard-coded value(s) found" in gate.stderr
    clean = tmp_path / "clean.py"
    clean.write_text("x = 2\n")
    assert run_cli("scan-code", str(clean), "--exit-code", cwd=root).exit_code == 0


def test_bad_flags_and_paths_are_usage_errors(tmp_path: Path) -> None:
    missing = run_cli("scan-code", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr
    bad = run_cli("scan-code", str(tmp_path), "--min-score", "7")
    assert bad.exit_code == 2 and "between 0 and 1" in bad.stderr
    assert "Traceback" not in missing.output + bad.output

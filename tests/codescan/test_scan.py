"""scan-code's judgement on the evidence the issue names, each piece on its own."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pygit2
import pytest

from cfgctl.codescan.findings import Finding
from cfgctl.codescan.scan import scan_paths
from cfgctl.errors import InputError
from tests.support.cli import SECRET_VALUES


def _scan(tmp_path: Path, code: str, name: str = "service.py", **kw: object) -> list[Finding]:
    file = tmp_path / name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(textwrap.dedent(code))
    return scan_paths([file], **kw).findings  # type: ignore[arg-type]


def _by_value(findings: list[Finding]) -> dict[object, Finding]:
    """Findings by value; booleans under ("bool", value), as False == 0 in a dict."""
    return {("bool", f.value) if isinstance(f.value, bool) else f.value: f for f in findings}


def test_the_calls_and_names_of_the_issue_are_found_with_keys(tmp_path: Path) -> None:
    found = _by_value(
        _scan(
            tmp_path,
            """
            import logging, os, socket, time
            import requests
            from sqlalchemy import create_engine
            DB_POOL_SIZE = 10
            MAX_RETRIES = 5
            API_URL = os.environ.get("API_URL", "https://api.example.com/v2")
            DEBUG = True
            def run():
                socket.create_connection(("ledger.internal", 7000))
                requests.get(API_URL, timeout=7)
                create_engine("postgresql://db.internal/app", pool_size=12)
                logging.basicConfig(level="WARNING")
                time.sleep(45)
            """,
        )
    )
    assert found[10].key == "db.pool_size" and found[10].type == "integer"
    assert found[5].key.endswith("max_retries")
    assert found["https://api.example.com/v2"].key == "api.url"
    assert "the default of API_URL" in found["https://api.example.com/v2"].reasons
    assert found[("bool", True)].key.endswith("debug")
    assert found["ledger.internal"].key.endswith("host") and found[7000].key.endswith("port")
    assert found[7].key == "http.timeout"
    assert found[12].key == "db.pool_size_2" or found[12].key.startswith("db.pool_size")
    assert found["postgresql://db.internal/app"].key == "db.url"
    assert found["WARNING"].key == "log.level"
    assert found[45].key.endswith("sleep_seconds")
    assert all(0.5 <= f.score <= 1 and f.reasons for f in found.values())


def test_code_that_is_not_configuration_is_left_out(tmp_path: Path) -> None:
    code = """
        import logging, re
        log = logging.getLogger(__name__)
        __version__ = "1.4.2"
        PATTERN = re.compile(r"^[a-z]+$")
        def work(items, x):
            \"\"\"A docstring with http://example.com in it.\"\"\"
            for i in range(10):
                items[3] = x / 2 + items[-1]
            if x.status == 404:
                raise ValueError("bad item %s, see https://docs.example.com" % x)
            log.warning("retrying in %d seconds", 30)
            print(f"done {x:>10}")
            return {"name": "value", "kind": 7}[x]
        """
    assert _scan(tmp_path, code) == []
    # Even at score 0: no verdict at all for a loop bound, an index, arithmetic, a comparison, a
    # message, string formatting, a dunder, a regex, a docstring.
    every = _scan(tmp_path, code, min_score=0.0)
    assert {f.line for f in every} == {14}, every  # only the lookup table's values


def test_a_credential_is_a_secret_and_its_value_is_never_shown(tmp_path: Path) -> None:
    SECRET_VALUES.add("s3cr3t-Pa55word-2026")
    found = _scan(
        tmp_path,
        """
        DB_PASSWORD = "s3cr3t-Pa55word-2026"
        TOKEN_TYPE = "bearer"
        GITHUB = "ghp_" + "a" * 3
        """,
    )
    secret = next(f for f in found if f.kind == "secret")
    assert secret.key == "db.password" and secret.line == 2
    assert "s3cr3t-Pa55word-2026" not in repr(secret.to_dict())
    assert not any(f.value == "bearer" and f.kind == "secret" for f in found)


def test_bad_files_are_skipped_with_why_and_test_files_are_not_scanned(tmp_path: Path) -> None:
    (tmp_path / "py2.py").write_text('print "hello"\nTIMEOUT = 30\n')
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02TIMEOUT = 30")
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nHOST = 'caf\xe9.internal'\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text("TIMEOUT = 30\n")
    (tmp_path / "test_app.py").write_text("TIMEOUT = 30\n")
    (tmp_path / "ok.py").write_text("REQUEST_TIMEOUT = 25\n")
    result = scan_paths([tmp_path])
    reasons = {s.path.rsplit("/", 1)[-1]: s for s in result.skipped}
    assert "Python 2" in reasons["py2.py"].reason and reasons["py2.py"].line == 1
    assert "does not parse" in reasons["broken.py"].reason
    assert "binary" in reasons["blob.py"].reason
    assert {Path(f.path).name for f in result.findings} == {"ok.py", "latin.py"}
    assert result.files == 2
    named = scan_paths([tmp_path / "test_app.py"])
    assert named.findings == [] and "test file" in named.skipped[0].reason
    os.mkfifo(tmp_path / "pipe.py")  # reading it would block forever
    piped = scan_paths([tmp_path / "pipe.py"])
    assert piped.skipped[0].reason == "not a regular file"


def test_columns_count_characters_and_lines_as_python_does(tmp_path: Path) -> None:
    """A form feed or U+2028 in a line is no line break to ast: the line numbers stay right."""
    found = _scan(tmp_path, 'A = "x\fy"  \f\nHOST = "caf\u00e9\u2028.internal"; TIMEOUT = 30\n')
    timeout = _by_value(found)[30]
    assert (timeout.line, timeout.col) == (2, 36)
    assert (timeout.end_line, timeout.end_col) == (2, 38)


def test_the_key_stays_unique_per_value_and_the_id_survives_moved_lines(tmp_path: Path) -> None:
    first = _scan(tmp_path, "TIMEOUT = 30\n", name="a/client.py")
    again = _scan(tmp_path, "# a new line above\n\nTIMEOUT = 30\n", name="a/client.py")
    assert first[0].id == again[0].id and first[0].line != again[0].line
    both = scan_paths([tmp_path / "a"]).findings
    (tmp_path / "a" / "server.py").write_text("TIMEOUT = 60\n")
    both = scan_paths([tmp_path / "a"]).findings
    assert sorted(f.key for f in both) == ["client.timeout", "server.timeout"]
    (tmp_path / "a" / "client.py").write_text("TIMEOUT = 30\nOTHER_TIMEOUT = 30\n")
    (tmp_path / "a" / "server.py").write_text("def f(timeout=60): ...\ndef g(timeout=30): ...\n")
    keys = {
        (f.path.rsplit("/", 1)[-1], f.value, f.key) for f in scan_paths([tmp_path / "a"]).findings
    }
    server = {k for p, v, k in keys if p == "server.py"}
    assert len(server) == 2, keys  # two values of server.timeout: two keys


def test_history_weighs_a_value_edited_in_several_commits(tmp_path: Path) -> None:
    repo = pygit2.init_repository(str(tmp_path))
    sig = pygit2.Signature("t", "t@example.com")
    file = tmp_path / "worker.py"
    parents: list[pygit2.Oid] = []
    for value in (10, 20, 30, 40):
        file.write_text(f"def run(queue):\n    queue.fetch(count=2)\n    poll(chunk={value})\n")
        repo.index.add("worker.py")
        repo.index.write()
        tree = repo.index.write_tree()
        parents = [repo.create_commit("HEAD", sig, sig, f"v{value}", tree, parents)]
    with_history = _by_value(scan_paths([file], min_score=0.0).findings)
    without = _by_value(scan_paths([file], min_score=0.0, history=False).findings)
    assert "changed in 3 commits" in with_history[40].reasons
    assert with_history[40].score > without[40].score
    assert with_history[40].score >= 0.5 > without[40].score


def test_a_bad_min_score_and_a_missing_path_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="between 0 and 1"):
        scan_paths([tmp_path], min_score=1.5)
    with pytest.raises(InputError, match="no such file"):
        scan_paths([tmp_path / "missing"])


def test_declared_settings_count_even_as_0_1_or_empty(tmp_path: Path) -> None:
    """Option defaults, settings classes, settings modules and settings fallbacks are the
    defaults of declared settings: found even when 0, 1, False or "" (and only there)."""
    found = _by_value(
        _scan(
            tmp_path,
            """
            import argparse
            from pydantic import BaseModel, Field
            parser = argparse.ArgumentParser()
            parser.add_argument("--web-port", type=int, default=8089, help="the port to serve")
            parser.add_argument("--headless", action="store_true", default=False)
            class WorkerOptions(BaseModel):
                concurrency: int = Field(default=17, description="how many at once")
                prefetch = 0
            class Bind:
                default = "127.0.0.1:8000"
            def make(cfg):
                return getattr(cfg, "http_parser", "auto")
            SETTINGS = [
                Setting(
                    "max_returned_rows",
                    1000,
                    "Maximum rows that can be returned from a table or query",
                ),
            ]
            """,
            name="cli.py",
        )
    )
    assert found[8089].key == "web.port" and "the default of option web_port" in found[8089].reasons
    assert found[("bool", False)].key.endswith("headless")
    assert "the port to serve" not in found and int not in found  # an option's definition
    assert found[17].key.endswith("concurrency") and found[0].key.endswith("prefetch")
    assert found["127.0.0.1:8000"].score >= 0.5
    assert found["auto"].key == "http.parser"
    rows = found[1000]  # Setting(NAME, DEFAULT, HELP): the default's own line, under its name
    assert (rows.line, rows.key) == (17, "cli.max_returned_rows"), rows
    assert "max_returned_rows" not in found
    settings = _by_value(
        _scan(tmp_path, "USE_TZ = True\nLANGUAGE_CODE = 'en-us'\nX = 0\n", name="settings.py")
    )
    assert {("bool", True), "en-us", 0} <= set(settings)
    plain = _scan(tmp_path, "USE_TZ = True\nX = 0\n", name="models.py")
    assert all(f.value != 0 for f in plain)


def test_local_state_templates_and_verdicts_are_not_configuration(tmp_path: Path) -> None:
    found = _scan(
        tmp_path,
        """
        OLD_NAME = "celeryd_{0}"
        LOG_LINE = "%(asctime)s %(message)s"
        class Runner:
            def run(self, verbose):
                level = "INFO"
                if verbose:
                    level = "DEBUG"
                self.warning_emitted = False
            def enabled(self):
                return True
        """,
    )
    assert [(f.line, f.value) for f in found] == [], found

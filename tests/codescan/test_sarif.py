"""`scan-code --format sarif`: the log against the OASIS SARIF 2.1.0 schema (vendored in
tests/fixtures/sarif/, see its README) and against what GitHub code scanning asks of an upload."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

from cfgctl.codescan.findings import MASK, Finding, ScanResult, Skipped
from cfgctl.codescan.sarif import (
    CONFIG_RULE,
    FINGERPRINT,
    MAX_RESULTS,
    SCHEMA_URI,
    SECRET_RULE,
    dumps,
    to_sarif,
)
from tests.support.sarif import sarif_errors, schema

SECRET = "s3cr3t-Ünïcode-tøken-9f8e7d6c"


def _finding(**kw: Any) -> Finding:
    base: dict[str, Any] = dict(
        path="app/db.py",
        line=12,
        col=17,
        end_line=12,
        end_col=19,
        key="db.pool_size",
        type="integer",
        value=10,
        kind="config",
        score=0.9,
        reasons=("name pool_size", "passed to create_pool"),
    )
    base.update(kw)
    return Finding(**base)


def _secret(**kw: Any) -> Finding:
    fields: dict[str, Any] = dict(
        path="app/settings.py",
        line=3,
        col=14,
        end_line=3,
        end_col=44,
        key="db.password",
        type="string",
        value=SECRET,
        kind="secret",
        score=0.95,
        reasons=("name password", f"entropy of {SECRET!r} is high"),
    )
    fields.update(kw)
    return _finding(**fields)


def _result() -> ScanResult:
    return ScanResult(
        findings=[
            _finding(),
            _finding(path="app/ünïcödé dir/naïve#1.py", key="http.timeout", score=0.55, value=2.5),
            _secret(),
        ],
        skipped=[
            Skipped("app/broken.py", "does not parse: invalid syntax", 7),
            Skipped("app/blob.py", "binary"),
        ],
        files=5,
        lines=321,
    )


def _run(log: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = log["runs"][0]
    return run


def test_the_log_is_valid_sarif_2_1_0() -> None:
    log = to_sarif(_result(), version="0.2.0", base=Path("/work/repo"))
    assert sarif_errors(log) == []
    assert sarif_errors(json.loads(dumps(log))) == []
    assert log["$schema"] == SCHEMA_URI == schema()["id"]
    assert jsonschema.validators.validator_for(schema()) is jsonschema.Draft4Validator
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    empty = to_sarif(ScanResult(), version="0.2.0")
    assert sarif_errors(empty) == [] and _run(empty)["results"] == []


def test_the_schema_does_reject_broken_logs() -> None:
    """The check above can fail: these are what a careless writer would produce."""
    log = to_sarif(_result(), version="0.2.0")
    for path, bad in [
        (("level",), "critical"),
        (("locations", 0, "physicalLocation", "region", "startLine"), 0),
        (("locations", 0, "physicalLocation", "artifactLocation", "uri"), "app/ü dir.py"),
        (("message",), {}),
    ]:
        broken = json.loads(json.dumps(log))
        target = broken["runs"][0]["results"][0]
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = bad
        assert sarif_errors(broken), f"{path} = {bad!r} was accepted"
    assert sarif_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})  # no name


def test_a_secret_value_appears_nowhere() -> None:
    log = to_sarif(_result(), version="0.2.0", base=Path("/work/repo"))
    for text in (
        dumps(log),
        json.dumps(log, ensure_ascii=False),
        json.dumps(log, ensure_ascii=True),
    ):
        assert SECRET not in text
        assert SECRET.encode("ascii", "backslashreplace").decode() not in text
    secret = next(r for r in _run(log)["results"] if r["ruleId"] == SECRET_RULE)
    assert MASK in secret["message"]["text"]
    assert "db.password" in secret["message"]["text"]
    assert f"entropy of '{MASK}' is high" in secret["message"]["text"]  # the reason, scrubbed


def test_rules_carry_what_github_shows() -> None:
    driver = _run(to_sarif(_result(), version="1.2.3"))["tool"]["driver"]
    assert driver["name"] == "cfgctl" and driver["semanticVersion"] == "1.2.3"
    assert driver["informationUri"].startswith("https://")
    rules = {r["id"]: r for r in driver["rules"]}
    assert list(rules) == [CONFIG_RULE, SECRET_RULE]
    for rule in rules.values():
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "--fix --service NAME --select ID" in rule["help"]["text"]
        assert "```sh\ncfgctl scan-code" in rule["help"]["markdown"]
        assert 0 < len(rule["properties"]["tags"]) <= 10  # GitHub keeps 10 tags, refuses 21
    secret = rules[SECRET_RULE]["properties"]
    assert "security" in secret["tags"] and "external/cwe/cwe-798" in secret["tags"]
    assert 7.0 <= float(secret["security-severity"]) < 9.0  # GitHub: High
    assert "security-severity" not in rules[CONFIG_RULE]["properties"]
    assert "security" not in rules[CONFIG_RULE]["properties"]["tags"]


def test_results_point_at_the_literal_with_level_fingerprint_and_properties() -> None:
    run = _run(to_sarif(_result(), version="0.2.0"))
    rules = run["tool"]["driver"]["rules"]
    high, low, secret = run["results"]
    for result, finding in zip(run["results"], _result().findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["partialFingerprints"] == {FINGERPRINT: finding.id}
        assert result["properties"]["findingId"] == finding.id
        assert finding.id in result["message"]["text"]
    assert (high["level"], low["level"], secret["level"]) == ("warning", "note", "error")
    assert (high["ruleId"], secret["ruleId"]) == (CONFIG_RULE, SECRET_RULE)
    assert high["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 17, "endLine": 12, "endColumn": 19},
    }
    assert high["properties"] == {
        "findingId": _finding().id,
        "key": "db.pool_size",
        "type": "integer",
        "kind": "config",
        "score": 0.9,
    }
    assert high["rank"] == 90.0
    text = high["message"]["text"]
    assert "db.pool_size = 10 (integer)" in text and "name pool_size" in text
    assert "cfgctl scan-code app/db.py --fix --service NAME --select CS" in text
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["properties"] == {"files": 5, "lines": 321}


def test_the_fingerprint_stays_while_lines_move() -> None:
    before = _run(to_sarif(ScanResult([_finding()]), version="0"))["results"][0]
    moved = _finding(line=40, end_line=40)
    after = _run(to_sarif(ScanResult([moved]), version="0"))["results"][0]
    assert before["partialFingerprints"] == after["partialFingerprints"]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 40


def test_unicode_and_odd_paths_are_percent_encoded_uris() -> None:
    run = _run(to_sarif(_result(), version="0.2.0"))
    uri = run["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "app/%C3%BCn%C3%AFc%C3%B6d%C3%A9%20dir/na%C3%AFve%231.py"
    assert unquote(uri) == "app/ünïcödé dir/naïve#1.py"
    assert uri.isascii()


def test_paths_are_made_relative_to_the_source_root(tmp_path: Path) -> None:
    inside = _finding(path=str(tmp_path / "src" / "app.py"))
    outside = _finding(path="/elsewhere/app.py")
    run = _run(to_sarif(ScanResult([inside, outside]), version="0", base=tmp_path))
    first, second = (
        r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]
    )
    assert first == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}
    assert second == {"uri": "file:///elsewhere/app.py"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    assert "originalUriBaseIds" not in _run(to_sarif(ScanResult(), version="0"))


def test_skipped_files_are_warnings_of_a_successful_invocation() -> None:
    run = _run(to_sarif(_result(), version="0.2.0"))
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    broken, binary = invocation["toolExecutionNotifications"]
    assert broken["level"] == binary["level"] == "warning"
    assert broken["message"]["text"] == "app/broken.py: not scanned: does not parse: invalid syntax"
    assert broken["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app/broken.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7},
    }
    assert "region" not in binary["locations"][0]["physicalLocation"]
    descriptors = run["tool"]["driver"]["notifications"]
    assert descriptors[broken["descriptor"]["index"]]["id"] == broken["descriptor"]["id"]


def test_past_the_limit_secrets_and_high_scores_are_kept_in_order() -> None:
    findings = [
        _finding(key="a", score=0.5),
        _finding(key="b", score=0.9),
        _secret(score=0.3),
        _finding(key="c", score=0.6),
        _finding(key="d", score=0.7),
    ]
    run = _run(to_sarif(ScanResult(findings), version="0", max_results=3))
    assert [r["properties"]["key"] for r in run["results"]] == ["b", "db.password", "d"]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "results-left-out"
    assert note["message"]["text"].startswith("2 findings were left out")
    assert "--min-score" in note["message"]["text"]


@pytest.mark.slow  # ~3 s
def test_the_largest_run_github_takes_fits_its_upload_size() -> None:
    """25,000 results (GitHub's limit a run) and more: what is written gzips far below 10 MB."""
    findings = [
        _finding(
            path=f"pkg/module_{i // 50}/file_{i % 50}.py",
            line=i % 900 + 1,
            end_line=i % 900 + 1,
            key=f"service.section_{i % 97}.setting_{i}",
            value=f"https://host-{i}.example.internal:8443/api/v1",
            type="string",
            score=0.5 + (i % 50) / 100,
        )
        for i in range(MAX_RESULTS + 100)
    ]
    started = time.perf_counter()
    text = dumps(to_sarif(ScanResult(findings), version="0.2.0"))
    elapsed = time.perf_counter() - started
    log = json.loads(text)
    assert len(_run(log)["results"]) == MAX_RESULTS
    packed = len(gzip.compress(text.encode()))
    assert packed < 10 * 1024 * 1024
    assert elapsed < 10, f"{elapsed:.1f} s"


@pytest.mark.parametrize("score", [0.0, 0.799, 0.8, 1.0])
def test_rank_and_level_follow_the_score(score: float) -> None:
    log = to_sarif(ScanResult([_finding(score=score)]), version="0")
    (result,) = _run(log)["results"]
    assert result["rank"] == round(score * 100, 1)
    assert result["level"] == ("warning" if score >= 0.8 else "note")
    assert sarif_errors(log) == []

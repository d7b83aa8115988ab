"""deploy/prometheus/: the alerting and recording rules over the agent's metrics are valid for
Prometheus (`promtool check rules`), their unit tests pass (`promtool test rules`: each alert
fires where it should and stays quiet where it should not), and every alert leads to its runbook
in docs/operations.md."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cfgctl.repo.yamlio import parse

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/prometheus/cfgctl.rules.yaml"
RULE_TESTS = ROOT / "deploy/prometheus/cfgctl.rules.test.yaml"
OPERATIONS = ROOT / "docs/operations.md"
SEVERITIES = {"critical", "warning", "info"}

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is missing (Debian's prometheus package; scripts/test-setup.sh installs it)",
)


def _alerts() -> list[dict[str, Any]]:
    data = parse(RULES.read_text(), str(RULES)).data
    return [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], capture_output=True, text=True, timeout=120, check=False
    )


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_promtool
@pytest.mark.slow  # ~2-4 s: seven hours of a fleet's samples evaluated minute by minute
def test_promtool_unit_tests_pass() -> None:
    result = _promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_tests_can_fail(tmp_path: Path) -> None:
    """The tests judge the rules: a rule that ignores held targets fails them."""
    broken = RULES.read_text().replace(
        "- (cfgctl_agent_target_held or 0 * cfgctl_agent_target_in_sync)", "- 0"
    )
    assert broken != RULES.read_text()
    (tmp_path / "cfgctl.rules.yaml").write_text(broken)
    data = parse(RULE_TESTS.read_text(), str(RULE_TESTS)).data
    data["tests"] = [  # the short groups of the stuck-target alert: a fraction of a second
        group
        for group in data["tests"]
        if any(c["alertname"] == "CfgctlTargetNotConverged" for c in group["alert_rule_test"])
        and len(group["input_series"]) < 10
    ]
    assert data["tests"]
    (tmp_path / "tests.yaml").write_text(json.dumps(data))
    result = _promtool("test", "rules", str(tmp_path / "tests.yaml"))
    assert result.returncode == 1
    assert "alertname: CfgctlTargetNotConverged" in result.stdout + result.stderr


def test_every_alert_has_severity_summary_description_and_runbook() -> None:
    alerts = _alerts()
    assert len(alerts) >= 12
    for alert in alerts:
        name = alert["alert"]
        assert alert["labels"]["severity"] in SEVERITIES, name
        assert {"summary", "description", "runbook_url"} <= alert["annotations"].keys(), name
        assert alert["annotations"]["runbook_url"] == f"docs/operations.md#{name.lower()}"


def _slug(heading: str) -> str:
    """The anchor GitHub and MkDocs give a heading made of words."""
    return re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")


def _runbooks() -> dict[str, str]:
    """`### ` sections of "## Alerts and runbooks" in docs/operations.md, by anchor."""
    text = OPERATIONS.read_text()
    part = text.split("\n## Alerts and runbooks\n", 1)
    assert len(part) == 2, "docs/operations.md has no '## Alerts and runbooks' section"
    body = part[1].split("\n## ", 1)[0]
    sections = re.split(r"^### (.+)$", body, flags=re.M)
    return {_slug(title): text for title, text in zip(sections[1::2], sections[2::2], strict=True)}


def test_every_alert_has_a_runbook_in_operations_md() -> None:
    runbooks = _runbooks()
    for alert in _alerts():
        anchor = alert["annotations"]["runbook_url"].partition("#")[2]
        assert anchor in runbooks, f"{alert['alert']}: no '### ' section for #{anchor}"
        section = runbooks[anchor]
        for part in ("What it means", "What to look at", "What to do"):
            assert part in section, f"{alert['alert']}'s runbook lacks {part!r}"


def test_every_alert_is_tested_firing_and_quiet() -> None:
    data = parse(RULE_TESTS.read_text(), str(RULE_TESTS)).data
    cases = [case for group in data["tests"] for case in group["alert_rule_test"]]
    for alert in _alerts():
        name = alert["alert"]
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case.get("exp_alerts") for case in mine), f"{name} is never tested firing"
        assert any(not case.get("exp_alerts") for case in mine), f"{name} is never tested quiet"

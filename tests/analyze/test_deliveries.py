"""Delivery records, as the agent's own AuditLog writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgctl.agent.audit import AuditLog
from cfgctl.analyze.deliveries import deliveries_of, read_deliveries
from cfgctl.errors import InputError

SHA = "3f2a9c41d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0"
OLD = "0" * 40


def test_only_successful_applies_count_with_their_wave(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.record("apply", "payments@prod:/etc/p.yaml", OLD, SHA, "ok", wave=2, seconds=1.5)
    audit.record("apply", "payments@staging:/etc/s.yaml", OLD, SHA, "failed", error="boom")
    audit.record("refuse", "payments@prod:/etc/p.yaml", SHA, SHA, "invalid", error="x")
    audit.record("apply", "search@prod:/etc/q.yaml", None, SHA, "ok")
    with (tmp_path / "audit.jsonl").open("a") as handle:
        handle.write('{"time": "2026-12-0')  # the last line, cut short by a crash
    found = read_deliveries(tmp_path)
    assert [(d.service, d.env, d.wave, d.previous) for d in found] == [
        ("payments", "prod", 2, OLD),
        ("search", "prod", 1, None),
    ]
    assert [d.target for d in deliveries_of(found, SHA[:7], service="payments")] == [
        "payments@prod:/etc/p.yaml"
    ]
    with pytest.raises(InputError, match="never delivered 1234567 to payments"):
        deliveries_of(found, "1234567", service="payments")


def test_a_broken_line_in_the_middle_and_a_missing_file_are_errors(tmp_path: Path) -> None:
    (tmp_path / "audit.jsonl").write_text("{oops\n{}\n")
    with pytest.raises(InputError, match=r"audit\.jsonl:1"):
        read_deliveries(tmp_path / "audit.jsonl")
    with pytest.raises(InputError, match="No such file"):
        read_deliveries(tmp_path / "nowhere.jsonl")

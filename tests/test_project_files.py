"""The files other tools read from this project: pre-commit's hook list, the GitHub action."""

from __future__ import annotations

import re
from pathlib import Path

from cfgctl.repo.yamlio import parse

ROOT = Path(__file__).resolve().parent.parent


def test_pre_commit_hook() -> None:
    [hook] = parse((ROOT / ".pre-commit-hooks.yaml").read_text(), ".pre-commit-hooks.yaml").data
    assert {"id", "name", "entry", "language"} <= hook.keys()
    assert hook["id"] == "cfgctl-validate" and hook["entry"].startswith("cfgctl ")
    files = re.compile(hook["files"])
    for path in ("cfgctl.yaml", "config/prod/payments.yaml", "ops/cfg/schemas/web.schema.json"):
        assert files.search(path), path
    assert not files.search("README.md")


def test_validate_action() -> None:
    action = parse((ROOT / "actions/validate/action.yml").read_text(), "action.yml").data
    assert action["runs"]["using"] == "composite"
    assert any(
        "cfgctl validate --format github" in step.get("run", "") for step in action["runs"]["steps"]
    )

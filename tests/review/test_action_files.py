"""The composite actions and the workflow template, against GitHub's own file schemas (the
SchemaStore copies check-jsonschema vendors), and their cross-references."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cfgctl._version import __version__
from cfgctl.repo.builtin import TEMPLATES
from cfgctl.repo.yamlio import parse
from tests.support.actions_runner import evaluate, substitute
from tests.support.cli import RunCli

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = sorted(p.parent.name for p in (ROOT / "actions").glob("*/action.yml"))
WORKFLOW = TEMPLATES / "default/.github/workflows/cfgctl.yml"


def _vendored(name: str) -> dict[str, Any]:
    path = resources.files("check_jsonschema.builtin_schemas.vendor") / f"{name}.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _errors(schema: dict[str, Any], data: Any) -> list[str]:
    cls = jsonschema.validators.validator_for(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in cls(schema).iter_errors(data)]


def test_there_are_the_four_actions() -> None:
    assert ACTIONS == ["escalate", "gate", "plan", "validate"]


@pytest.mark.parametrize("name", ACTIONS)
def test_action_yml_is_a_valid_github_action(name: str) -> None:
    data = parse((ROOT / "actions" / name / "action.yml").read_text(), "action.yml").data
    assert _errors(_vendored("github-actions"), data) == []
    assert data["runs"]["using"] == "composite"
    step_ids = {s.get("id") for s in data["runs"]["steps"]}
    for output in (data.get("outputs") or {}).values():
        for ref in re.findall(r"steps\.([\w-]+)\.outputs", output["value"]):
            assert ref in step_ids, f"{name}: output names a missing step {ref}"
    for step in data["runs"]["steps"]:
        text = json.dumps(step)
        for ref in re.findall(r"inputs\.([\w-]+)", text):
            assert ref in data["inputs"], f"{name}: step uses an undeclared input {ref}"


def test_the_workflow_template_is_a_valid_workflow_using_these_actions() -> None:
    data = parse(WORKFLOW.read_text(), "cfgctl.yml").data
    assert _errors(_vendored("github-workflows"), data) == []
    assert set(data["on"]) == {"pull_request", "pull_request_review", "schedule"}
    uses = [s["uses"] for job in data["jobs"].values() for s in job["steps"] if "uses" in s]
    ours = [u for u in uses if u.startswith("cfgctl/cfgctl/actions/")]
    assert sorted(u.split("/")[3].split("@")[0] for u in ours) == ACTIONS
    assert all(u.endswith(f"@v{__version__}") for u in ours)


def test_init_installs_the_workflow(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("init", str(tmp_path / "new"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new/.github/workflows/cfgctl.yml").read_text() == WORKFLOW.read_text()
    assert (tmp_path / "new/policy.yaml").is_file()
    assert run_cli("codeowners", "--check", cwd=tmp_path / "new").exit_code == 0


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("inputs.comment == 'true'", True),
        ("inputs.comment != 'true'", False),
        ("inputs.empty != ''", False),
        ("inputs.empty || 'fallback'", "fallback"),
        ("inputs.comment == 'true' && !inputs.empty", True),
        ("(inputs.empty || inputs.comment) == 'TRUE'", True),
    ],
)
def test_the_local_runner_evaluates_expressions(expr: str, expected: Any) -> None:
    context = {"inputs": {"comment": "true", "empty": ""}}
    assert evaluate(expr, context) == expected
    assert substitute("a ${{ inputs.comment }} b", context) == "a true b"


def test_the_schemas_do_reject_broken_files() -> None:
    """The checks above can fail: a step without `shell` or an action without `runs` is refused."""
    broken_step = {
        "name": "x",
        "description": "d",
        "runs": {"using": "composite", "steps": [{"run": "true"}]},
    }
    assert _errors(_vendored("github-actions"), broken_step)
    assert _errors(_vendored("github-actions"), {"name": "x", "description": "d"})
    assert _errors(_vendored("github-workflows"), {"on": "push", "jobs": {"a": {"steps": []}}})

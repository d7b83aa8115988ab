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
from tests.support.actions_runner import evaluate, run_action, substitute
from tests.support.cli import RunCli

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = sorted(p.parent.name for p in (ROOT / "actions").glob("*/action.yml"))
CODE_ACTIONS = ["scan-code"]  # for the repositories of services' code, not the config repository
PUSH_ACTIONS = ["publish"]  # after the merge (on push), not in the pull-request workflow
CONFIG_ACTIONS = [a for a in ACTIONS if a not in CODE_ACTIONS + PUSH_ACTIONS]
WORKFLOW = TEMPLATES / "default/.github/workflows/cfgctl.yml"


def _vendored(name: str) -> dict[str, Any]:
    path = resources.files("check_jsonschema.builtin_schemas.vendor") / f"{name}.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _errors(schema: dict[str, Any], data: Any) -> list[str]:
    cls = jsonschema.validators.validator_for(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in cls(schema).iter_errors(data)]


def test_there_are_the_five_actions() -> None:
    assert ACTIONS == ["escalate", "gate", "plan", "publish", "scan-code", "validate"]


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
    assert sorted(u.split("/")[3].split("@")[0] for u in ours) == CONFIG_ACTIONS
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


def _steps(name: str) -> list[dict[str, Any]]:
    data = parse((ROOT / "actions" / name / "action.yml").read_text(), "action.yml").data
    steps: list[dict[str, Any]] = data["runs"]["steps"]
    return steps


def test_scan_code_writes_sarif_and_hands_that_file_to_upload_sarif() -> None:
    data = parse((ROOT / "actions/scan-code/action.yml").read_text(), "action.yml").data
    defaults = {name: spec.get("default") for name, spec in data["inputs"].items()}
    assert defaults == {
        "paths": ".",
        "min-score": "0.5",
        "output": "cfgctl-scan.sarif",
        "upload": "true",
        "category": "cfgctl-scan-code",
        "python-version": "3.12",
    }
    install, scan, upload = _steps("scan-code")[1:]
    assert install["run"] == _steps("validate")[1]["run"]  # the shared install.sh
    assert "cfgctl scan-code $PATHS --format sarif --min-score" in scan["run"]
    assert scan["env"]["OUTPUT"] == "${{ inputs.output }}"  # inputs reach the script as env
    assert "${{" not in scan["run"]  # ... never pasted into it (no script injection)
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["if"] == "inputs.upload == 'true'"
    assert upload["with"] == {
        "sarif_file": "${{ inputs.output }}",
        "category": "${{ inputs.category }}",
    }


def _readme_workflow(heading: str) -> dict[str, Any]:
    text = (ROOT / "actions/README.md").read_text()
    section = text[text.index(heading) :]
    start = section.index("```yaml\n") + len("```yaml\n")
    block = section[start : section.index("\n```", start)]
    data: dict[str, Any] = parse(block, "README.md").data
    return data


def test_the_readme_shows_a_valid_scan_code_workflow() -> None:
    data = _readme_workflow("## Hard-coded configuration in code")
    assert _errors(_vendored("github-workflows"), data) == []
    assert data["permissions"]["security-events"] == "write"  # what upload-sarif needs
    (job,) = data["jobs"].values()
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert f"cfgctl/cfgctl/actions/scan-code@v{__version__}" in uses


def test_the_local_runner_records_uses_steps(tmp_path: Path) -> None:
    """A `uses:` step is not run; the test sees what it would have been given, and whether."""
    action = tmp_path / "action"
    action.mkdir()
    (action / "action.yml").write_text(
        """
name: t
description: d
inputs:
  flag: {default: "true"}
  file: {default: out.txt}
runs:
  using: composite
  steps:
    - shell: bash
      run: echo hi > "${{ inputs.file }}"
    - uses: some/action@v1
      if: inputs.flag == 'true'
      with:
        path: ${{ inputs.file }}
    - shell: bash
      run: exit 3
    - uses: some/action@v1
"""
    )
    run = run_action(action, inputs={}, env={}, workspace=tmp_path, tmp=tmp_path)
    ran, upload, failed, after = run.steps
    assert not ran.skipped and (tmp_path / "out.txt").read_text() == "hi\n"
    assert upload.skipped and upload.would_run
    assert (upload.uses, upload.with_inputs) == ("some/action@v1", {"path": "out.txt"})
    assert failed.returncode == 3 and not after.would_run
    off = run_action(action, inputs={"flag": "false"}, env={}, workspace=tmp_path, tmp=tmp_path)
    assert not off.steps[1].would_run

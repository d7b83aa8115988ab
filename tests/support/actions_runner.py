"""Run a composite GitHub Action's steps locally, as the runner would: `${{ }}` expressions,
`if:` conditions, `env:`, `working-directory:`, `GITHUB_OUTPUT` per step, one
`GITHUB_STEP_SUMMARY`, the action's `outputs:` from its steps' outputs.

    run = run_action(ROOT / "actions/gate", inputs={...}, env={...}, workspace=repo)
    run.outputs["state"], run.summary, run.steps[-1].returncode

`uses:` steps (actions/setup-python, github/codeql-action/upload-sarif) are recorded and skipped:
the test's Python is the one set up, and a remote action is not run here; the record keeps the
action, its `with:` as substituted and whether its `if:` held (`would_run`), so a test can check
what the step would have been given. Only the expression forms the actions use are supported (contexts, string literals, `==`,
`!=`, `&&`, `||`, `!`, parentheses); anything else raises, so an action cannot silently rely on
something this runner does not do.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.repo.yamlio import parse

__all__ = ["ActionRun", "StepRun", "evaluate", "run_action"]

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"unsupported expression: {text!r} at {pos}")
        kind = match.lastgroup or ""
        out.append((kind, match[kind]))
        pos = match.end()
    return out


def _lookup(context: dict[str, Any], name: str) -> Any:
    value: Any = context
    for part in name.split("."):
        if isinstance(value, dict):
            value = value.get(part, "")
        else:
            return ""
    return value


def _truthy(value: Any) -> bool:
    return value not in ("", None, False, 0)


def evaluate(text: str, context: dict[str, Any]) -> Any:
    """Evaluate one expression (the inside of `${{ }}`, or an `if:` value)."""
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def primary() -> Any:
        kind, value = take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "name":
            if value in ("true", "false"):
                return value == "true"
            return _lookup(context, value)
        if value == "(":
            result = either()
            take()
            return result
        if value == "!":
            return not _truthy(primary())
        raise ValueError(f"unexpected {value!r} in {text!r}")

    def compare() -> Any:
        left = primary()
        while (tok := peek()) is not None and tok[1] in ("==", "!="):
            op = take()[1]
            right = primary()
            equal = str(left).lower() == str(right).lower()
            left = equal if op == "==" else not equal
        return left

    def both() -> Any:
        left = compare()
        while (tok := peek()) is not None and tok[1] == "&&":
            take()
            right = compare()
            left = right if _truthy(left) else left
        return left

    def either() -> Any:
        left = both()
        while (tok := peek()) is not None and tok[1] == "||":
            take()
            right = both()
            left = left if _truthy(left) else right
        return left

    result = either()
    if pos != len(tokens):
        raise ValueError(f"trailing tokens in {text!r}")
    return result


def substitute(text: str, context: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value = evaluate(match[1], context)
        return (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )

    return _EXPR.sub(one, text)


def _condition(text: str | bool, context: dict[str, Any]) -> bool:
    if isinstance(text, bool):
        return text
    inner = _EXPR.fullmatch(text.strip())
    return _truthy(evaluate(inner[1] if inner else text, context))


def _read_outputs(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            i += 1
            while lines[i] != delimiter:
                value.append(lines[i])
                i += 1
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            out[name] = value_text
        i += 1
    return out


@dataclass
class StepRun:
    name: str
    skipped: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    uses: str = ""  # a `uses:` step: the action, never run here
    with_inputs: dict[str, str] = field(default_factory=dict)  # its `with:`, substituted
    would_run: bool = False  # its `if:` held and no step before it failed


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str

    @property
    def ok(self) -> bool:
        return all(s.returncode == 0 for s in self.steps)

    @property
    def output(self) -> str:
        return "\n".join(s.stdout + s.stderr for s in self.steps)


def run_action(
    action_dir: Path,
    *,
    inputs: dict[str, str],
    env: dict[str, str],
    workspace: Path,
    tmp: Path,
    timeout: float = 120,
) -> ActionRun:
    """Run the action's steps; `env` holds the GITHUB_* variables of the job."""
    action = parse((action_dir / "action.yml").read_text(), "action.yml").data
    event_path = env.get("GITHUB_EVENT_PATH")
    github = {
        "action_path": str(action_dir),
        "token": env.get("GITHUB_TOKEN", ""),
        "event_name": env.get("GITHUB_EVENT_NAME", ""),
        "repository": env.get("GITHUB_REPOSITORY", ""),
        "server_url": env.get("GITHUB_SERVER_URL", ""),
        "run_id": env.get("GITHUB_RUN_ID", ""),
        "workspace": str(workspace),
        "event": json.loads(Path(event_path).read_text()) if event_path else {},
    }
    context: dict[str, Any] = {"github": github, "env": dict(env), "steps": {}, "inputs": {}}
    for name, spec in (action.get("inputs") or {}).items():
        default = str(spec.get("default", "")) if isinstance(spec, dict) else ""
        context["inputs"][name] = inputs.get(name, substitute(default, context))
    summary = tmp / "step-summary.md"
    summary.touch()
    runs: list[StepRun] = []
    failed = False
    for i, step in enumerate(action["runs"]["steps"]):
        name = step.get("name") or step.get("uses") or f"step {i}"
        due = not failed and _condition(step.get("if", True), context)
        if "uses" in step:
            given = {k: substitute(str(v), context) for k, v in (step.get("with") or {}).items()}
            runs.append(StepRun(name, True, uses=step["uses"], with_inputs=given, would_run=due))
            continue
        if not due:
            runs.append(StepRun(name, skipped=True))
            continue
        output_file = tmp / f"output-{i}"
        output_file.touch()
        step_env = {**os.environ, **env, "GITHUB_OUTPUT": str(output_file)}
        step_env["GITHUB_STEP_SUMMARY"] = str(summary)
        step_env["GITHUB_ACTION_PATH"] = str(action_dir)
        step_env.update(
            {k: substitute(str(v), context) for k, v in (step.get("env") or {}).items()}
        )
        cwd = workspace / substitute(str(step.get("working-directory", ".")), context)
        script = tmp / f"step-{i}.sh"
        script.write_text(substitute(step["run"], context))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        run = StepRun(
            name, False, proc.returncode, proc.stdout, proc.stderr, _read_outputs(output_file)
        )
        runs.append(run)
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": run.outputs}
        failed = proc.returncode != 0
    outputs = {
        name: substitute(str(spec.get("value", "")), context)
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionRun(runs, outputs, summary.read_text())

"""Start-up: `--version` and `--help` answered without typer, click or rich, byte for byte as
click would answer them; every other command imports only its own module."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from cfgctl._version import __version__
from cfgctl.cli.group import app
from cfgctl.cli.table import COMMANDS, fast_answer, help_width, root_help, worktree_first
from tests.support.gitrepo import ConfigRepo

CFGCTL = str(Path(sys.executable).parent / "cfgctl")
HEAVY = ("typer", "click", "rich", "pygit2", "jsonschema", "ruamel", "cfgctl.cli.group")

# Runs main() as the console script does, then prints the modules it loaded. main() leaves
# through os._exit (cli/ending.py), or sys.exit for the fast answers: the report is made there.
_PROBE = """\
import json, os, sys
from cfgctl.cli.app import main
leave = os._exit
me = os.getpid()

def report(code):
    if os.getpid() != me:  # the status probe's forked child
        leave(code)
    sys.stdout.flush()
    sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
    sys.stderr.flush()
    leave(0)

os._exit = report
sys.argv = ["cfgctl", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    report(exc.code)
"""


def _probe(*args: str, cwd: Path | None = None) -> tuple[int, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args))],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        timeout=60,
        check=False,
    )
    report = json.loads(proc.stderr.rsplit("\nMODULES ", 1)[1])
    return report["code"], set(report["modules"])


def _loaded(modules: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv, capture_output=True, env={**os.environ, **env}, timeout=60, check=False
    )


def _click(*args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """The full typer application, never the fast path."""
    code = f"from cfgctl.cli.group import app; app({list(args)!r}, prog_name='cfgctl')"
    return _run([sys.executable, "-c", code], **env)


def test_root_help_is_what_click_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    group = typer.main.get_command(app)
    ctx = group.make_context("cfgctl", ["-v"])
    assert group.get_help(ctx) == root_help()


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"], []])
def test_fast_answers_equal_the_full_application(args: list[str]) -> None:
    fast = _run([CFGCTL, *args], COLUMNS="80")
    full = _click(*args, COLUMNS="80")
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        full.returncode,
        full.stdout,
        full.stderr,
    )
    assert fast.stdout or fast.stderr


def test_version_line() -> None:
    assert fast_answer(["--version"]) == (0, f"cfgctl {__version__}\n", True)


@pytest.mark.parametrize(
    "args", [["-C", ".", "--version"], ["--no-cache", "--help"], ["--version", "-v"]]
)
def test_other_command_lines_take_the_full_path(args: list[str]) -> None:
    assert fast_answer(args) is None
    proc = _run([CFGCTL, *args], COLUMNS="80")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == _click(*args, COLUMNS="80").stdout


def test_a_narrow_terminal_gets_the_help_from_click(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert help_width() == 58
    assert fast_answer(["--help"]) is None
    narrow = _run([CFGCTL, "--help"], COLUMNS="60")
    assert narrow.stdout == _click("--help", COLUMNS="60").stdout
    assert b"...\n" in narrow.stdout


def test_every_module_defines_exactly_its_table_commands() -> None:
    for module_name in {entry.module for entry in COMMANDS.values()}:
        module = importlib.import_module(module_name)
        defined = set(typer.main.get_group(module.app).commands)
        assert defined == {n for n, e in COMMANDS.items() if e.module == module_name}


@pytest.mark.parametrize("args", [["--version"], ["--help"], []])
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    code, modules = _probe(*args)
    assert code == (2 if not args else 0)
    assert not [name for name in HEAVY if _loaded(modules, name)]
    assert not _loaded(modules, "cfgctl.cli.commands")


def test_a_command_imports_only_its_own_module(small_repo: ConfigRepo) -> None:
    cwd = small_repo.workdir
    for args, own in (
        (["validate"], "validate"),
        (["diff", "HEAD", "HEAD"], "diff"),
        (["render", "payments", "--env", "prod"], "render"),
    ):
        code, modules = _probe(*args, cwd=cwd)
        assert code == 0, args
        loaded = {m for m in modules if m.startswith("cfgctl.cli.commands.")}
        assert loaded == {f"cfgctl.cli.commands.{own}"}, args
        assert not _loaded(modules, "github3"), args
        # its root span is written without the OpenTelemetry SDK (cfgctl/telemetry.py)
        assert not _loaded(modules, "opentelemetry"), args
    spans = list((Path.home() / ".local/state/cfgctl/traces").glob("cfgctl-cli-*.jsonl"))
    names = [json.loads(line)["name"] for p in spans for line in p.read_text().splitlines()]
    assert {"cfgctl validate", "cfgctl diff", "cfgctl render"} <= set(names)


def test_sub_command_help_loads_one_command_module() -> None:
    code, modules = _probe("secrets", "--help")
    assert code == 0
    assert {m for m in modules if m.startswith("cfgctl.cli.commands.")} == {
        "cfgctl.cli.commands.secrets"
    }


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["validate"], "."),
        (["validate", "--changed-since", "HEAD~1", "-f", "json"], "."),
        (["-C", "cfg", "validate"], "cfg"),
        (["--repo=ops/cfg", "-vv", "--log-format", "json", "validate"], "ops/cfg"),
        (["--no-cache", "--repo", "x", "validate", "--changed-since=main"], "x"),
        (["validate", "--rev", "HEAD"], None),
        (["validate", "--rev=HEAD"], None),
        (["validate", "--schema", "s.json", "a.yaml"], None),
        (["validate", "--schemafile=s.json", "a.yaml"], None),
        (["validate", "--help"], None),
        (["-C"], None),
        (["-C", "validate"], None),  # -C takes "validate" as its folder: no command
        (["--log-format", "json"], None),
        (["set", "-e", "base", "payments", "port", "1"], None),  # reads again under the lock
        (["set", "payments", "port", "1", "-e", "base", "--dry-run"], "."),
        (["-C", "c", "unset", "payments", "port", "-e", "base", "--dry-run"], "c"),
        (["render", "payments", "prod"], "."),
        (["get", "payments", "prod", "port", "--rev", "HEAD"], None),
        (["explain", "payments", "prod", "port"], "."),
        (["diff"], None),
        (["secrets", "validate"], None),
        ([], None),
    ],
)
def test_worktree_first_recognises_the_commands_that_read_the_work_tree_first(
    argv: list[str], start: str | None
) -> None:
    assert worktree_first(argv) == start

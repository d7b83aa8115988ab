"""The command table: every top-level command, the module that defines it, its one-line summary.

`cfgctl --version`, `cfgctl --help` and a bare `cfgctl` are answered from here without importing
typer, rich or any command (see `fast_answer`); every other command line imports the one module
its command lives in (`cfgctl.cli.group.LazyGroup`). tests/cli/test_startup.py renders the root
help through click and compares it byte for byte with `root_help()`, so the two cannot drift.
"""

from __future__ import annotations

import os
import sys

from cfgctl._version import __version__

__all__ = ["COMMANDS", "Entry", "fast_answer", "help_width", "root_help", "worktree_first"]


class Entry:
    """A command's module and its summary, as click shortens the command's help for the root's
    list. (A plain class: typing.NamedTuple would import typing on the fast path.)"""

    __slots__ = ("module", "summary")

    def __init__(self, module: str, summary: str) -> None:
        self.module = module
        self.summary = summary


_C = "cfgctl.cli.commands."

# In the order `cfgctl --help` lists them (typer lists commands before groups).
COMMANDS: dict[str, Entry] = {
    "init": Entry(_C + "edit", "Create a working example config repository in DIRECTORY and..."),
    "validate": Entry(
        _C + "validate", "Validate the repository: cfgctl.yaml, every schema, every..."
    ),
    "render": Entry(_C + "render", "Print the effective configuration of SERVICE in ENV: every..."),
    "get": Entry(_C + "render", "Print the effective value of KEY for SERVICE in ENV (a..."),
    "set": Entry(_C + "edit", "Set KEY to VALUE in config/ENV/SERVICE.yaml, keeping..."),
    "unset": Entry(_C + "edit", "Remove KEY from config/ENV/SERVICE.yaml, keeping comments..."),
    "explain": Entry(_C + "render", "Show the effective value of KEY and every layer that sets..."),
    "diff": Entry(_C + "diff", "Show how the effective configuration of every service in..."),
    "history": Entry(_C + "history", "List the commits that changed the effective value of KEY..."),
    "codeowners": Entry(
        _C + "codeowners", "Write .github/CODEOWNERS from the owners in cfgctl.yaml..."
    ),
    "migrate": Entry(
        _C + "operate", "Move services to a later version of their schema with its..."
    ),
    "promote": Entry(
        _C + "promote", "Make the effective values of --to equal to those of --from,..."
    ),
    "drift": Entry(_C + "promote", "List the keys of --env whose value never passed through..."),
    "export": Entry(_C + "exchange", "Write the effective configuration of SERVICE in ENV as..."),
    "import": Entry(_C + "exchange", "Read FILE (yaml, json, toml, env, properties, spring,..."),
    "scan-code": Entry(_C + "codescan", "Find the literals in Python code that look like..."),
    "serve": Entry(_C + "serve", "Serve the configuration of the repository's branch over..."),
    "trace": Entry(_C + "trace", "Print the timeline of COMMIT from span files: the commit,..."),
    "new": Entry(_C + "edit", "Create new things from templates."),
    "schema": Entry(_C + "schema", "The JSON Schemas of the repository."),
    "template": Entry(_C + "template", "Service templates: list them, show their parameters,..."),
    "secrets": Entry(
        _C + "secrets", "Secrets encrypted with SOPS (age keys): keys, recipients,..."
    ),
    "backup": Entry(
        _C + "backup", "Backups of the repository: create, verify, restore, and the..."
    ),
    "analyze": Entry(_C + "analyze", "Analytics: change points of metrics, the impact of..."),
    "audit": Entry(_C + "audit", "The audit log of `cfgctl serve`: one JSON line per write,..."),
    "pr": Entry(_C + "pr", "Pull requests as the approval workflow: plan, comment,..."),
    "agent": Entry(_C + "agent", "The sync agent: delivers merged configuration to running..."),
    "fleet": Entry(_C + "fleet", "The fleet: configuration published to etcd, watched by..."),
    "deploy": Entry(_C + "deploy", "Deployment files of the sync agent, rendered from its..."),
}

DESCRIPTION = (
    "Configuration as code: layered YAML in Git, validated against JSON Schema.\n\n"
    "Run inside a config repository (the folder holding cfgctl.yaml, or below it), or pass -C DIR."
)

# The root's options as click lays them out at its usual width (78 columns); group.py declares
# them, and the byte-for-byte test holds the two together.
_OPTIONS = """\
Options:
  -C, --repo <dir>        The config repository (default: the nearest folder
                          holding cfgctl.yaml at or above the current one).
  -v, --verbose           Log what cfgctl does (-vv: more).
  --log-format text|json  Log lines as text or JSON, on stderr.  [default:
                          text]
  --no-cache              Neither read nor write .cfgctl/cache/.
  --version               Print the version.
  -h, --help              Show this message and exit.
"""

_DESCRIPTION_78 = """\
  Configuration as code: layered YAML in Git, validated against JSON Schema.

  Run inside a config repository (the folder holding cfgctl.yaml, or below
  it), or pass -C DIR.
"""

FAST_WIDTH = 78


def help_width() -> int:
    """The width click formats help to: the terminal's, within 50..78 (shutil's rules, without
    importing shutil)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    columns = columns or 80
    return max(min(columns, 80) - 2, 50)


def root_help() -> str:
    """`cfgctl --help` at the width of 78 columns, as click prints it (without the last newline)."""
    name_width = max(len(name) for name in COMMANDS)
    rows = [f"  {name:<{name_width}}  {entry.summary}" for name, entry in COMMANDS.items()]
    return (
        "Usage: cfgctl [OPTIONS] COMMAND [ARGS]...\n\n"
        + _DESCRIPTION_78
        + "\n"
        + _OPTIONS
        + "\nCommands:\n"
        + "\n".join(rows)
    )


def fast_answer(argv: list[str]) -> tuple[int, str, bool] | None:
    """(exit code, text, on stdout) for the command lines answered without click, else None."""
    if argv == ["--version"]:
        return 0, f"cfgctl {__version__}\n", True
    if argv in ([], ["--help"], ["-h"]) and help_width() == FAST_WIDTH:
        # A bare `cfgctl` prints the help on stderr and exits 2, as typer does (no_args_is_help).
        return (0, root_help() + "\n", True) if argv else (2, root_help() + "\n", False)
    return None


# The root's options that take a value, and the command lines that read the work tree before
# anything else (and write nothing first): their Git status can start before typer is imported.
# A command with a flag here reads first only with that flag (`set --dry-run`; without it, `set`
# reads the work tree again under the repository lock, where an earlier status is no good).
_VALUED = ("-C", "--repo", "--log-format")
_READ_FIRST: dict[str, str | None] = {
    "validate": None,
    "render": None,
    "get": None,
    "explain": None,
    "set": "--dry-run",
    "unset": "--dry-run",
}
_NOT_THE_WORKTREE = ("--rev", "--schema", "--schemafile", "--help", "-h")


def worktree_first(argv: list[str]) -> str | None:
    """The folder given with -C (or ".") when `argv` is a command that first reads the work tree
    (`_READ_FIRST`), else None. A guess, never a verdict: click parses the line again, and a
    wrong guess only starts a status nobody asks for (`gitstatus.StatusProbe` checks the
    repository it is for)."""
    repo, i = ".", 0
    while i < len(argv) and argv[i].startswith("-"):
        option, _, value = argv[i].partition("=")
        if option in _VALUED and not value:
            value = argv[i + 1] if i + 1 < len(argv) else ""
            i += 1
        if option in ("-C", "--repo"):
            repo = value
        i += 1
    if i >= len(argv) or argv[i] not in _READ_FIRST:
        return None
    rest = [arg.partition("=")[0] for arg in argv[i + 1 :]]
    needed = _READ_FIRST[argv[i]]
    if any(arg in _NOT_THE_WORKTREE for arg in rest) or (needed and needed not in rest):
        return None
    return repo or None

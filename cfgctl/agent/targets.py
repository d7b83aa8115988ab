"""Targets that cannot collide, checked when the agent starts.

    check_targets(config)      # InputError at the target's agent.yaml line (exit 2)

Two targets that write the same file (after resolving `..` and symbolic links), a target inside
`state_dir` (the state, the mirror, the backups, the audit log, the lock), or a target that is
one of the agent's own files (agent.yaml, the age key) would destroy what the agent or another
target depends on: refused before anything is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from cfgctl.agent.config import AgentConfig, Target
from cfgctl.errors import InputError, Location

__all__ = ["check_targets"]


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _location(target: Target) -> Location:
    """`target.origin` ("agent.yaml:7" or "agent.yaml:7:5") as a Location."""
    head, _, last = target.origin.rpartition(":")
    if not last.isdigit():
        return Location(target.origin)
    path, _, line = head.rpartition(":")
    if line.isdigit():  # file:line:column
        return Location(path, int(line), int(last))
    return Location(head, int(last))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _own_files(config: AgentConfig) -> dict[Path, str]:
    own = {_resolved(config.path): "the agent's configuration (agent.yaml)"}
    if config.age_key_file is not None:
        own[_resolved(config.age_key_file)] = "the agent's age key (age_key_file)"
    return own


def check_targets(config: AgentConfig) -> None:
    """Refuse colliding targets, at the agent.yaml line of the second one."""
    state_dir = _resolved(config.state_dir)
    own = _own_files(config)
    seen: dict[Path, Target] = {}
    for target in config.targets:
        path = _resolved(target.path)
        where = _location(target)
        if path in seen:
            raise InputError(
                f"this target writes {path}, as the target at {seen[path].origin} does",
                location=where,
                hint="give each target its own file: one would overwrite and roll back the other",
            )
        if _inside(path, state_dir):
            raise InputError(
                f"the target {target.path} is inside state_dir {config.state_dir}",
                location=where,
                hint="the state folder holds the agent's state, backups and audit log: "
                "deliver elsewhere",
            )
        if path in own:
            raise InputError(
                f"the target {target.path} is {own[path]}",
                location=where,
                hint="deliver to the service's own file",
            )
        seen[path] = target

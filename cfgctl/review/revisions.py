"""The revisions a change is judged between, when the user names none.

default_base(Path.cwd())  # "origin/HEAD", "origin/main", ... whichever exists first
change_range(Path.cwd(), None, None)  # the pull request's commits inside Actions, else those
"""

from __future__ import annotations

from pathlib import Path

from cfgctl.errors import InputError
from cfgctl.repo.gitstore import GitStore
from cfgctl.repo.snapshot import find_root

__all__ = ["BASE_CANDIDATES", "change_range", "default_base"]

BASE_CANDIDATES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")


def default_base(start: Path) -> str:
    """The first of BASE_CANDIDATES that names a commit in the repository holding `start`."""
    find_root(start)  # outside a config repository: say so first (exit 2)
    store = GitStore.open(start)
    for name in BASE_CANDIDATES:
        try:
            store.commit_of(name)
        except Exception:  # noqa: BLE001  any failure: try the next name
            continue
        return name
    raise InputError(
        "no base revision: neither origin/main nor main exists",
        hint="pass --base REV (the branch the change will merge into)",
    )


def change_range(start: Path, base: str | None, head: str | None) -> tuple[str, str]:
    """(base, head): those given; else the pull request's commits of the GitHub Actions event;
    else the default base and HEAD."""
    from cfgctl.review.forge.actions import event_shas, read_event

    event_base, event_head = (
        event_shas(read_event()) if base is None or head is None else (None, None)
    )
    return base or event_base or default_base(start), head or event_head or "HEAD"

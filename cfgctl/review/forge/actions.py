"""GitHub Actions' files: the event that started the job (`GITHUB_EVENT_PATH`), step outputs
(`GITHUB_OUTPUT`) and the job summary (`GITHUB_STEP_SUMMARY`). All are no-ops outside Actions.

    set_outputs({"state": "pending", "comment-url": url})
    add_summary("### cfgctl plan\n...")
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from cfgctl.errors import EnvError

__all__ = ["add_summary", "event_shas", "read_event", "set_outputs"]


def set_outputs(values: dict[str, str]) -> None:
    """Append `name<<DELIM ... DELIM` blocks (safe for values with newlines)."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    lines = []
    for name, value in values.items():
        delimiter = f"cfgctl_{secrets.token_hex(8)}"
        lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    with Path(path).open("a", encoding="utf-8") as fh:
        fh.write("".join(lines))


def add_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as fh:
        fh.write(markdown.rstrip("\n") + "\n\n")


def read_event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EnvError(
            f"cannot read the GitHub event at {path}: {exc}",
            hint="GITHUB_EVENT_PATH must name the event JSON GitHub Actions wrote",
        ) from exc
    return data if isinstance(data, dict) else {}


def event_shas(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """The pull request's base and head commits named by an Actions event, if any."""
    pull = event.get("pull_request")
    if not isinstance(pull, dict):
        return None, None
    base, head = pull.get("base") or {}, pull.get("head") or {}
    return base.get("sha"), head.get("sha")

"""GitHub Actions' files: step outputs (`GITHUB_OUTPUT`) and the job summary
(`GITHUB_STEP_SUMMARY`). Both are no-ops outside Actions.

    set_outputs({"state": "pending", "comment-url": url})
    add_summary("### cfgctl plan\n...")
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["add_summary", "set_outputs"]


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

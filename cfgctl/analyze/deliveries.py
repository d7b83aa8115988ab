"""The agent's delivery records as data: which commit reached which target, when, in which wave,
read from its audit log (`state_dir/audit.jsonl`, one JSON object a line).

    deliveries = read_deliveries(Path("/var/lib/cfgctl-agent/audit.jsonl"))
    [d for d in deliveries if d.commit.startswith("3f2a")]

Only successful applies count; a line cut short by a crash (the last one) is skipped, any other
unreadable line is an error with its number. A target is `service@env:path`, as the agent names
it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cfgctl.analyze.series import parse_time
from cfgctl.errors import InputError, Location

__all__ = ["Delivery", "deliveries_of", "read_deliveries"]


@dataclass(frozen=True)
class Delivery:
    time: float  # Unix seconds
    target: str  # service@env:path
    service: str
    env: str
    commit: str  # the commit delivered
    previous: str | None  # the commit it replaced
    wave: int


def _delivery(entry: object, where: Location) -> Delivery | None:
    if (
        not isinstance(entry, dict)
        or entry.get("action") != "apply"
        or entry.get("outcome") != "ok"
    ):
        return None
    target, commit = entry.get("target"), entry.get("to")
    when = parse_time(str(entry.get("time", "")))
    if (
        not isinstance(target, str)
        or "@" not in target
        or not isinstance(commit, str)
        or when is None
    ):
        raise InputError(
            "an apply record without its target, commit or time",
            location=where,
            hint="is this an agent's audit.jsonl?",
        )
    service, _, rest = target.partition("@")
    env = rest.split(":", 1)[0]
    wave = entry.get("wave", 1)
    previous = entry.get("from")
    return Delivery(
        when, target, service, env, commit, previous if isinstance(previous, str) else None,
        wave if isinstance(wave, int) and not isinstance(wave, bool) else 1,
    )  # fmt: skip


def read_deliveries(path: Path) -> list[Delivery]:
    """Every successful apply of the audit log at `path` (or `path/audit.jsonl`), oldest first."""
    if path.is_dir():
        path = path / "audit.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(
            f"{path}: {exc.strerror or exc}", hint="name the agent's state_dir or its audit.jsonl"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text", hint="name the agent's audit.jsonl") from exc
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                continue  # the last line, cut short by a crash while it was written
            raise InputError(
                f"not JSON: {exc.msg}",
                location=Location(str(path), number),
                hint="is this an agent's audit.jsonl?",
            ) from exc
        found = _delivery(entry, Location(str(path), number))
        if found is not None:
            out.append(found)
    return sorted(out, key=lambda d: d.time)


def deliveries_of(
    deliveries: list[Delivery], commit: str, service: str | None = None, env: str | None = None
) -> list[Delivery]:
    """The deliveries of `commit` (a prefix of 7 or more hex digits), filtered; `InputError`
    when the agent never delivered it."""
    if len(commit) < 7:
        raise InputError(
            f"{commit!r}: give at least 7 digits of the commit", hint="git log --oneline"
        )
    found = [
        d
        for d in deliveries
        if d.commit.startswith(commit)
        and (service is None or d.service == service)
        and (env is None or d.env == env)
    ]
    if not found:
        scope = "".join(f" to {x}" for x in (service, env) if x)
        raise InputError(
            f"the agent never delivered {commit}{scope}",
            hint="cfgctl agent status shows what each target runs",
        )
    return found

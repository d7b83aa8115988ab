"""Renderings of a DiffResult: plain lines for terminals and a Markdown pull-request comment.

text_lines(result)              # ["payments", "  prod", "    ~ db.pool_size: 40 -> 80", ...]
markdown(result, limit=65_536)  # a summary table, then one collapsible section per service
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from cfgctl.changes.diff import Change, DiffResult, PairDiff

__all__ = [
    "GITHUB_COMMENT_LIMIT",
    "change_text",
    "markdown",
    "text_lines",
    "value_text",
]

GITHUB_COMMENT_LIMIT = 65_536
_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def value_text(value: Any) -> str:
    """A value as the diff prints it: JSON, on one line."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))


def change_text(change: Change) -> str:
    """`db.pool_size: 40 -> 80`, `db.password: secret changed`, `tags[2]: added "x"`."""
    if change.secret:
        return f"{change.dotted}: secret {change.kind}"
    if change.kind == "added":
        return f"{change.dotted}: added {value_text(change.new)}"
    if change.kind == "removed":
        return f"{change.dotted}: removed (was {value_text(change.old)})"
    note = " (type changed)" if change.type_change else ""
    return f"{change.dotted}: {value_text(change.old)} -> {value_text(change.new)}{note}"


def _by_service(result: DiffResult) -> dict[str, list[PairDiff]]:
    grouped: dict[str, list[PairDiff]] = defaultdict(list)
    for pair in result.pairs:
        grouped[pair.service].append(pair)
    return dict(sorted(grouped.items()))


def _pair_header(pair: PairDiff) -> str:
    extra = []
    if pair.status != "changed":
        extra.append(f"{pair.status}")
    if pair.schema_changed and pair.status == "changed":
        extra.append(f"schema {pair.schema_old} -> {pair.schema_new}")
    return pair.env + (f" ({', '.join(extra)})" if extra else "")


def text_lines(result: DiffResult) -> list[str]:
    """The diff as indented lines: service, environment, one line per change."""
    if not result.pairs:
        return [f"no change in effective configuration: {result.base} -> {result.head}"]
    lines = [f"{result.base} -> {result.head}"]
    for service, pairs in _by_service(result).items():
        lines.append(service)
        for pair in pairs:
            lines.append(f"  {_pair_header(pair)}")
            lines.extend(f"    {_SIGN[c.kind]} {change_text(c)}" for c in pair.changes)
    count = len(result.pairs)
    lines.append(f"{count} service/environment pair{'s' if count != 1 else ''} changed")
    return lines


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _md_code(text: str, limit: int = 200) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _md_escape(text).replace("`", "'")
    return f"`{text}`"


def _md_change(change: Change) -> str:
    key = _md_code(change.dotted)
    if change.secret:
        return f"| {key} | {change.kind} | *secret changed* |"
    if change.kind == "added":
        return f"| {key} | added | {_md_code(value_text(change.new))} |"
    if change.kind == "removed":
        return f"| {key} | removed | ~~{_md_code(value_text(change.old))}~~ |"
    note = " (type changed)" if change.type_change else ""
    old, new = _md_code(value_text(change.old)), _md_code(value_text(change.new))
    return f"| {key} | changed | {old} → {new}{note} |"


def _service_section(service: str, pairs: list[PairDiff]) -> str:
    n = sum(len(p.changes) for p in pairs)
    envs = len(pairs)
    out = [
        f"<details><summary><b>{_md_escape(service)}</b>: {envs} environment"
        f"{'s' if envs != 1 else ''}, {n} change{'s' if n != 1 else ''}</summary>",
        "",
    ]
    for pair in pairs:
        out.append(f"**{_md_escape(_pair_header(pair))}**")
        out.append("")
        if pair.changes:
            out += ["| key | change | value |", "| --- | --- | --- |"]
            out += [_md_change(c) for c in pair.changes]
        else:
            out.append("no key changed")
        out.append("")
    out += ["</details>", ""]
    return "\n".join(out)


def markdown(
    result: DiffResult, *, limit: int = GITHUB_COMMENT_LIMIT, title: str | None = None
) -> str:
    """A pull-request comment: a summary table of services x environments, then one collapsible
    section per service, in a stable order, cut with an explicit "… N more" under `limit`."""
    head = [f"### {title or 'Effective configuration changes'}", ""]
    head.append(f"`{_md_escape(result.base)}` → `{_md_escape(result.head)}`")
    head.append("")
    if not result.pairs:
        return "\n".join([*head, "No change in the effective configuration."]) + "\n"
    grouped = _by_service(result)
    envs = sorted({p.env for p in result.pairs})
    table = ["| service | " + " | ".join(_md_escape(e) for e in envs) + " |"]
    table.append("| --- |" + " --- |" * len(envs))
    for service, pairs in grouped.items():
        cells = {p.env: p for p in pairs}
        row = []
        for env in envs:
            pair = cells.get(env)
            if pair is None:
                row.append("·")
            elif pair.status != "changed":
                row.append(pair.status)
            else:
                row.append(str(len(pair.changes)))
        table.append(f"| {_md_escape(service)} | " + " | ".join(row) + " |")
    services = f"{len(grouped)} service{'s' if len(grouped) != 1 else ''}"
    summary = f"**{services}**, {len(result.pairs)} service/environment pairs changed."
    body = [*head, summary, ""]
    reserve = 200  # room for the "… N more" line
    text = "\n".join(body) + "\n"
    table_text = "\n".join(table) + "\n\n"
    if len(text) + len(table_text) < limit - reserve:
        text += table_text
    shown = 0
    for service, pairs in grouped.items():
        section = _service_section(service, pairs)
        if len(text) + len(section) > limit - reserve:
            break
        text += section
        shown += 1
    missing = len(grouped) - shown
    if missing:
        more = f"{missing} more service{'s' if missing != 1 else ''}"
        text += f"\n… {more} not shown (comment size limit); run `cfgctl diff` for all of it.\n"
    return text

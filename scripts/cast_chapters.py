"""Cuts one asciinema recording of `scripts/demo.sh` into a cast per chapter.

    python scripts/cast_chapters.py RAW.cast OUT_DIR [--idle-time-limit 2]

demo.sh prints a mark `@@cfgctl-chapter NAME TITLE@@` at the start of each chapter when
DEMO_CHAPTERS is set (scripts/record-casts.sh sets it). Every chapter becomes OUT_DIR/NAME.cast
(asciicast v2): the recorded output between its mark and the next one, with the recorded timings
counted from its mark, the mark itself removed, TITLE in the header. The output is never edited
otherwise. Prints one line per cast written.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARK = re.compile(r"@@cfgctl-chapter (\S+) ([^@\r\n]*)@@\r?\n")


@dataclass
class Chapter:
    name: str
    title: str
    start: float
    events: list[tuple[float, str]] = field(default_factory=list)


def read_cast(path: Path) -> tuple[dict[str, Any], list[tuple[float, str]]]:
    """The header and the output events ("o") of an asciicast v2 file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header: dict[str, Any] = json.loads(lines[0])
    if header.get("version") != 2:
        sys.exit(f"{path}: not an asciicast v2 recording")
    events = []
    for line in lines[1:]:
        if line.strip():
            t, kind, data = json.loads(line)
            if kind == "o":
                events.append((float(t), str(data)))
    return header, events


def split(events: list[tuple[float, str]]) -> list[Chapter]:
    """The chapters of the recording: a mark may straddle two events, so the cut is made on the
    whole text, each character keeping the time of the event that printed it."""
    text = "".join(data for _, data in events)
    bounds: list[tuple[int, float]] = []  # (offset in text, time) of each event's start
    offset = 0
    for t, data in events:
        bounds.append((offset, t))
        offset += len(data)
    marks = list(MARK.finditer(text))
    if not marks:
        sys.exit("no chapter mark in the recording: was it made with DEMO_CHAPTERS=1?")
    if text[: marks[0].start()].strip():
        sys.exit(f"output before the first chapter mark: {text[: marks[0].start()][:200]!r}")
    chapters = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        chapter = Chapter(mark[1], mark[2].strip(), _time_at(bounds, mark.start()))
        for j, (start, t) in enumerate(bounds):
            stop = bounds[j + 1][0] if j + 1 < len(bounds) else len(text)
            lo, hi = max(start, mark.end()), min(stop, end)
            if lo < hi:
                chapter.events.append((max(t - chapter.start, 0.0), text[lo:hi]))
        chapters.append(chapter)
    return chapters


def _time_at(bounds: list[tuple[int, float]], offset: int) -> float:
    found = bounds[0][1]
    for start, t in bounds:
        if start > offset:
            break
        found = t
    return found


def write(chapter: Chapter, header: dict[str, Any], out: Path, idle: float) -> Path:
    path = out / f"{chapter.name}.cast"
    head = {
        "version": 2,
        "width": header["width"],
        "height": header["height"],
        "timestamp": int(header.get("timestamp", 0) + chapter.start),
        "idle_time_limit": idle,
        "title": chapter.title,
        "env": header.get("env", {}),
    }
    lines = [json.dumps(head, ensure_ascii=False)]
    for t, data in chapter.events:
        lines.append(json.dumps([round(t, 6), "o", data], ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--idle-time-limit", type=float, default=2.0)
    args = parser.parse_args()
    header, events = read_cast(args.raw)
    args.out.mkdir(parents=True, exist_ok=True)
    for chapter in split(events):
        path = write(chapter, header, args.out, args.idle_time_limit)
        duration = chapter.events[-1][0] if chapter.events else 0.0
        print(f"{path}: {chapter.title} ({duration:.1f} s, {len(chapter.events)} events)")  # noqa: T201


if __name__ == "__main__":
    main()

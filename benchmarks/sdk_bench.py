"""The read cost of a typed attribute, `cfg.db.pool_size`: the SDK against its peers, in one run.

    python -m benchmarks.sdk_bench [--repeat N] [--strict]

Timed with `timeit` (the same statement shape for every row, loop count from `autorange`,
the median of N repeats), in nanoseconds per read:

- a plain frozen dataclass built by hand: the floor;
- the object `cfgctl.sdk.load` returns, for a frozen dataclass model and for a pydantic model;
- `watcher.current.db.pool_size`, a reader going through a `cfgctl.sdk.watch` watcher;
- the same while another thread rewrites the file (atomically, every few milliseconds) and the
  watcher swaps configurations: the reader shares the GIL with both threads, and that counts;
- Dynaconf (`Dynaconf(settings_files=[yaml]).db.pool_size`) and OmegaConf
  (`OmegaConf.load(yaml).db.pool_size`) on the same YAML file.

Goal: every SDK read of a dataclass model within 2x of the plain dataclass.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from benchmarks.generate import OUT
from cfgctl.repo.fsutil import atomic_write
from cfgctl.sdk import load, watch

GOAL = 2.0
YAML = """\
db:
  host: payments-db.internal
  port: 5432
  pool_size: {pool}
server:
  host: 0.0.0.0
  port: 8080
features:
  refunds_v2: true
"""


@dataclass(frozen=True)
class Db:
    host: str
    port: int
    pool_size: int


@dataclass(frozen=True)
class Server:
    host: str
    port: int


@dataclass(frozen=True)
class Settings:
    db: Db
    server: Server
    features: dict[str, bool] = field(default_factory=dict)


class DbModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    host: str
    port: int
    pool_size: int


class ServerModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    host: str
    port: int


class SettingsModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    db: DbModel
    server: ServerModel
    features: dict[str, bool] = {}


def _ns_per_read(stmt: str, names: dict[str, Any], repeat: int) -> float:
    timer = timeit.Timer(stmt, globals=names)
    number, _ = timer.autorange()
    number *= 5  # ~1 s a repeat: long enough to span many swaps in the concurrent row
    return statistics.median(t / number * 1e9 for t in timer.repeat(repeat, number))


class _Writer(threading.Thread):
    """Rewrites the file as fast as the watcher can take it: pool_size 10, 11, 10, 11..."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.stop, self.writes = path, threading.Event(), 0

    def run(self) -> None:
        while not self.stop.wait(0.005):
            self.writes += 1
            atomic_write(self.path, YAML.format(pool=10 + self.writes % 2).encode())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeat", type=int, default=5, help="timeit repeats (the median is shown)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when the goal is missed")
    args = ap.parse_args(argv)
    from dynaconf import Dynaconf
    from omegaconf import OmegaConf

    folder = OUT / "sdk"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(YAML.format(pool=10))

    plain = Settings(
        Db("payments-db.internal", 5432, 10), Server("0.0.0.0", 8080), {"refunds_v2": True}
    )
    loaded = load(path, Settings)
    assert loaded == plain, "the SDK loads what the hand-built object holds"
    model = load(path, SettingsModel)
    dyna = Dynaconf(settings_files=[str(path)])
    omega = OmegaConf.load(path)
    assert model.db.pool_size == dyna.db.pool_size == omega.db.pool_size == 10

    def row(label: str, stmt: str, names: dict[str, Any], held: bool) -> None:
        rows.append((label, _ns_per_read(stmt, names, args.repeat), held))

    rows: list[tuple[str, float, bool]] = []  # label, ns/read, held to the goal
    _ns_per_read("cfg.db.pool_size", {"cfg": plain}, 1)  # warm up the interpreter's caches
    row("plain frozen dataclass (by hand)", "cfg.db.pool_size", {"cfg": plain}, False)
    row("cfgctl.sdk.load, dataclass model", "cfg.db.pool_size", {"cfg": loaded}, True)
    row("cfgctl.sdk.load, pydantic model", "cfg.db.pool_size", {"cfg": model}, False)
    with watch(path, Settings, debounce_ms=5) as watcher:
        row("watcher.current, idle", "w.current.db.pool_size", {"w": watcher}, True)
        writer = _Writer(path)
        before = watcher.reloads
        writer.start()
        try:
            busy = _ns_per_read("w.current.db.pool_size", {"w": watcher}, args.repeat)
        finally:
            writer.stop.set()
            writer.join()
        swaps = watcher.reloads - before
        rows.append((f"watcher.current, {swaps} swaps meanwhile", busy, True))
        assert watcher.last_error is None, f"a rejected update: {watcher.last_error}"
    row("Dynaconf", "cfg.db.pool_size", {"cfg": dyna}, False)
    row("OmegaConf", "cfg.db.pool_size", {"cfg": omega}, False)

    floor = rows[0][1]
    print(f"read of `cfg.db.pool_size` ({sys.version.split()[0]}, median of {args.repeat})")
    print(f"{'reader':<46}{'ns/read':>10}{'vs plain':>10}")
    for label, ns, _ in rows:
        print(f"{label:<46}{ns:>10.1f}{ns / floor:>9.2f}x")
    held = [ns / floor for _, ns, goal in rows if goal]
    ok = all(r <= GOAL for r in held) and swaps > 0
    print(
        f"goal: within {GOAL:.0f}x of the plain dataclass (the SDK's dataclass rows, worst "
        f"{max(held):.2f}x): {'PASS' if ok else 'MISS'}"
    )
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())

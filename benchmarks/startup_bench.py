"""Start-up and work that follows the change; see benchmarks/README.md.

    python -m benchmarks.startup_bench                  # N = 1,000 and 10,000 services, 15 runs
    python -m benchmarks.startup_bench --quick          # 100 and 1,000 services, 3 runs
    python -m benchmarks.startup_bench --data /tmp/b    # generate (once) and reuse repos there

Three groups of figures, each the median of `--runs` wall-clock runs of a real process:

- start-up: `python -c pass`, `cfgctl --version`, `cfgctl --help`, `check-jsonschema --version`,
  run in one go (round robin, so that a busy moment hits them all alike), as ratios to the bare
  interpreter;
- one file: `cfgctl diff HEAD~1 HEAD` and `cfgctl validate --changed-since HEAD~1` (HEAD~1..HEAD
  changes one service file) in a warm repository (the same command ran once before, untimed) of
  the small and the large size, round robin over both sizes, as the ratio large / small; beside
  each, the library's own time (`python -c` importing cfgctl and calling the library function,
  timed inside the process), so that the CLI's start-up and the library's work show apart;
- `cfgctl set SERVICE service.description TEXT --env base --dry-run` (validates base and the two
  environments inheriting it) at 10 services and at the large size, each run a text never set
  before (a new edit, not a verdict the repository's cache kept from an earlier run), as the
  ratio large / small.

Benchmarks measure; no test asserts a timing. Results: benchmarks/out/startup.json and a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import benchmarks.generate as generate
from benchmarks.run import CFGCTL, PEER, BenchError, _run, _tail

RESULTS = generate.OUT / "startup.json"  # benchmarks/out/, whatever --data says

# The library's part of a one-file command, timed inside one process: the imports the command
# needs, then the work. Printed as JSON: {"import_s": ..., "work_s": ...}.
_LIBRARY = {
    "diff": """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from cfgctl.changes.diff import diff_snapshots
from cfgctl.changes.tree import open_range
t1 = time.perf_counter()
old, new = open_range(Path(sys.argv[1]), "HEAD~1", "HEAD")
result = diff_snapshots(old, new)
t2 = time.perf_counter()
assert len(result.pairs) == 1, result.to_list()
print(json.dumps({"import_s": t1 - t0, "work_s": t2 - t1}))
""",
    "changed_since": """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from cfgctl.checks.validate import validate_changes
from cfgctl.repo.snapshot import Snapshot
t1 = time.perf_counter()
root = Path(sys.argv[1])
report = validate_changes(Snapshot.open(root), Snapshot.open(root, "HEAD~1"))
t2 = time.perf_counter()
assert report.ok and report.checked_pairs == 1, report.diagnostics
print(json.dumps({"import_s": t1 - t0, "work_s": t2 - t1}))
""",
}


@dataclass
class Row:
    key: str
    label: str
    command: str
    runs: list[float] = field(default_factory=list)
    library_runs: list[float] = field(default_factory=list)  # the library's work, in-process
    library_import_runs: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(self.runs)

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["median_s"] = self.seconds
        if self.library_runs:
            out["library_work_median_s"] = statistics.median(self.library_runs)
            out["library_import_median_s"] = statistics.median(self.library_import_runs)
        return out


def _timed(argv: Sequence[str | Path], cwd: Path, what: str, *, ok: int = 0) -> float:
    seconds, proc = _run(argv, cwd)
    if proc.returncode != ok:
        raise BenchError(
            f"{what}: exit {proc.returncode}, expected {ok}\n{_tail(proc.stdout)}\n"
            f"{_tail(proc.stderr)}"
        )
    return seconds


def bench_startup(runs: int, cwd: Path) -> list[Row]:
    rows = [
        Row("startup.python", "python -c pass", "python -c pass"),
        Row("startup.version", "cfgctl --version", "cfgctl --version"),
        Row("startup.help", "cfgctl --help", "cfgctl --help"),
        Row("startup.peer", "check-jsonschema --version", "check-jsonschema --version"),
    ]
    argvs: list[list[str | Path]] = [
        [sys.executable, "-c", "pass"],
        [CFGCTL, "--version"],
        [CFGCTL, "--help"],
        [PEER, "--version"],
    ]
    for argv in argvs:  # one untimed round: the files are in the page cache, .pyc written
        _timed(argv, cwd, str(argv[-1]))
    for _ in range(runs):
        for row, argv in zip(rows, argvs, strict=True):
            row.runs.append(_timed(argv, cwd, row.label))
    return rows


def _library(kind: str, root: Path) -> tuple[float, float]:
    _, proc = _run([sys.executable, "-c", _LIBRARY[kind], root], root)
    if proc.returncode != 0:
        raise BenchError(f"library {kind} at {root}: {_tail(proc.stderr)}")
    found = json.loads(proc.stdout)
    return float(found["import_s"]), float(found["work_s"])


def _one_file_rows(repo: generate.Repo) -> list[tuple[Row, list[str | Path], Path, str]]:
    n = len(repo.services)
    base: list[str | Path] = [CFGCTL, "-C", repo.root]
    return [
        (
            Row(
                f"diff.{n}",
                f"cfgctl diff HEAD~1 HEAD, {n} services",
                f"cfgctl -C {repo.root.name} diff HEAD~1 HEAD -f json",
            ),
            [*base, "diff", "HEAD~1", "HEAD", "-f", "json"],
            repo.root,
            "diff",
        ),
        (
            Row(
                f"changed_since.{n}",
                f"cfgctl validate --changed-since HEAD~1, {n} services",
                f"cfgctl -C {repo.root.name} validate --changed-since HEAD~1 -f json",
            ),
            [*base, "validate", "--changed-since", "HEAD~1", "-f", "json"],
            repo.root,
            "changed_since",
        ),
    ]


def bench_one_file(repos: Sequence[generate.Repo], runs: int) -> list[Row]:
    """Each command in each repository, round robin (so that a busy moment of the machine hits
    the small and the large figure alike, not one of them): rows in the order of `repos`."""
    rows = [row for repo in repos for row in _one_file_rows(repo)]
    for row, argv, root, _ in rows:
        _timed(argv, root, row.label)  # warm: the cache holds what it reads
    for _ in range(runs):
        for row, argv, root, kind in rows:
            row.runs.append(_timed(argv, root, row.label))
            imported, work = _library(kind, root)
            row.library_import_runs.append(imported)
            row.library_runs.append(work)
    for row, _, _, _ in rows:
        print(f"  {row.label}: {row.seconds:.3f} s", file=sys.stderr, flush=True)
    return [row for row, _, _, _ in rows]


def bench_set(repo: generate.Repo, runs: int) -> Row:
    n = len(repo.services)
    service = repo.services[min(1, n - 1)]
    row = Row(
        f"set.{n}",
        f"cfgctl set (one value, --env base), {n} services",
        f"cfgctl -C {repo.root.name} set {service} service.description TEXT --env base --dry-run",
    )
    base: list[str | Path] = [CFGCTL, "-C", repo.root, "set", service]
    refused = [*base, "replicas", "0", "--env", "base", "--dry-run"]
    _timed(refused, repo.root, f"{row.label} (refusal of replicas 0)", ok=1)  # it does validate
    # A text never set before in each run, of this and of every earlier benchmark: a verdict to
    # compute, never one the repository's cache (kept between runs) already holds.
    token = os.urandom(6).hex()
    for i in range(runs):
        text = f"edited by the start-up benchmark, {token} run {i}"
        argv = [*base, "service.description", text, "--env", "base", "--dry-run"]
        row.runs.append(_timed(argv, repo.root, row.label))
    print(f"  {row.label}: {row.seconds:.3f} s", file=sys.stderr, flush=True)
    return row


def _ratio(a: Row, b: Row) -> float:
    return b.seconds / a.seconds


def table(rows: list[Row], ratios: list[tuple[str, float]]) -> str:
    w = max(len(r.label) for r in rows) + 2
    out = [f"{'measurement':<{w}}{'median':>9}  {'library':>9}  runs", "-" * (w + 60)]
    for r in rows:
        lib = f"{statistics.median(r.library_runs):>8.3f}s" if r.library_runs else f"{'':>9}"
        runs = ", ".join(f"{x:.3f}" for x in r.runs)
        out.append(f"{r.label:<{w}}{r.seconds:>8.3f}s  {lib}  [{runs}]")
    out.append("")
    rw = max(len(t) for t, _ in ratios) + 2
    out += [f"{'ratio':<{rw}}{'value':>8}", "-" * (rw + 8)]
    out += [f"{text:<{rw}}{value:>7.2f}x" for text, value in ratios]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per figure (median)")
    parser.add_argument("--small", type=int, default=1000, help="services, small repository")
    parser.add_argument("--large", type=int, default=10000, help="services, large repository")
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 services, 3 runs")
    parser.add_argument("--data", type=Path, help="where the repositories are generated")
    args = parser.parse_args(argv)
    if args.quick:
        args.small, args.large, args.runs = 100, 1000, 3
    if args.data is not None:
        generate.OUT = args.data.resolve()
    generate.OUT.mkdir(parents=True, exist_ok=True)
    try:
        rows = bench_startup(args.runs, generate.OUT)
        small, large = generate.ensure_repo(args.small), generate.ensure_repo(args.large)
        tiny = generate.ensure_repo(10)
        one_file = bench_one_file([small, large], args.runs)
        sets = [bench_set(tiny, args.runs), bench_set(large, args.runs)]
    except BenchError as exc:
        print(f"benchmark stopped: {exc}", file=sys.stderr)
        return 2
    rows += one_file + sets
    python, version, helptext, peer = rows[:4]
    d_small, c_small, d_large, c_large = one_file
    ratios = [
        ("cfgctl --version / python -c pass", _ratio(python, version)),
        ("cfgctl --help / python -c pass", _ratio(python, helptext)),
        ("check-jsonschema --version / python -c pass", _ratio(python, peer)),
        ("cfgctl --version / check-jsonschema --version", _ratio(peer, version)),
        (f"diff: {args.large} / {args.small} services", _ratio(d_small, d_large)),
        (f"--changed-since: {args.large} / {args.small} services", _ratio(c_small, c_large)),
        (f"set: {args.large} / 10 services", _ratio(sets[0], sets[1])),
    ]
    print(table(rows, ratios))
    results = {
        "figures": [r.summary() for r in rows],
        "ratios": dict(ratios),
        "params": {"runs": args.runs, "small": args.small, "large": args.large},
        "host": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`cfgctl analyze changepoints` beside ruptures (PELT, binary segmentation) and Apache Otava:
detection quality on labelled series, and speed on 1,000 series of 10,000 points.

    python -m benchmarks.changepoint_bench [--per-scenario 20] [--peer-budget 60] [--strict]
    python -m benchmarks.changepoint_bench --tools ruptures-pelt otava --count 100

Quality: the series of benchmarks/changepoint_data.py (5 conditions: gaussian, t(3), 1% spikes,
seasonality, trend; each without change, and with 1-4 shifts of 0.5, 1, 2 and 4 sigma), the same
series given to every tool in one run. A reported point within 5 of a true one is a true
positive (each matched once): precision, recall and F1 on the series with changes, by scenario
and overall; on the series without change, the false-alarm rate (the share where a tool reported
anything) and the mean number of points reported. Goals (issue 14): cfgctl's F1 the best of the
three on series with changes, and its false-alarm rate the lowest on series without.

The peers, each as its documentation shows it:
  ruptures PELT    rpt.Pelt(model="l2", min_size=2, jump=5).fit(x).predict(pen=PEN)
  ruptures BinSeg  rpt.Binseg(model="l2", min_size=2, jump=1).fit(x).predict(pen=PEN)
  Otava            otava.analysis.compute_change_points(list_of_floats, window_len=50,
                   max_pvalue=0.001, min_magnitude=0.0): E-Divisive means on sliding windows,
                   weak points merged away by a t-test (Hunter, Fleming et al. 2023); the
                   defaults of Otava's own command line
The penalty is BIC's for a change in mean with known variance: PEN = 2 sigma^2 ln(n) (two
parameters a change: where, and the new mean; R changepoint's "BIC"/"SIC" for cpt.mean), with
sigma estimated robustly as 1.4826 MAD(first differences) / sqrt(2) (shifts touch one difference
each, so they hardly move it; nor do spikes). ruptures' breakpoints end segments, so all but
the last are first points of new segments, as cfgctl's and Otava's indices are. PELT keeps
ruptures' default jump=5 (candidates every 5th point, at most 2 from any true point, within the
margin): with jump=1 one 2,000-point series takes 27 s. Otava gets a list: given a numpy array
its window splitter ignores the window and works on the whole series (N^2 memory).

Speed: `--count` (1,000) series of `--length` (10,000) points, the scenarios in turn. cfgctl
runs on all of them; a peer runs series after series until `--peer-budget` seconds have passed,
and its time is extrapolated to all of them (said in the table). Wall seconds (perf_counter)
and CPU seconds (process_time plus reaped children), and each tool's time as a multiple of
cfgctl's. Goal (issue 14): cfgctl under 10 s wall for 1,000 x 10,000 points on this machine.

Results go to benchmarks/out/changepoints.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.changepoint_data import (
    CONDITIONS,
    MARGIN,
    SHIFTS,
    Labelled,
    Match,
    Score,
    match,
    quality_set,
    scenario_name,
    score,
    speed_set,
)
from benchmarks.generate import OUT

Detector = Callable[[NDArray[np.float64]], list[int]]

RESULTS = OUT / "changepoints.json"
GOAL_SECONDS = 10.0
TOOLS = {
    "cfgctl": "cfgctl changepoints",
    "ruptures-pelt": "ruptures PELT (l2, BIC)",
    "ruptures-binseg": "ruptures BinSeg (l2, BIC)",
    "otava": "Otava (E-Divisive, t-test)",
}


def bic_penalty(values: NDArray[np.float64], c: float = 2.0) -> float:
    """c sigma^2 ln(n), sigma = 1.4826 MAD(first differences) / sqrt(2); never 0."""
    d = np.diff(values)
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / float(np.sqrt(2.0))
    if sigma == 0.0:
        sigma = float(np.std(values)) or 1e-12
    return c * sigma**2 * float(np.log(values.size))


def _cfgctl() -> Detector:
    try:  # by name: the bench must say what is missing while the module is not on main yet
        detect = importlib.import_module("cfgctl.analyze.changepoints").detect
    except ImportError as exc:
        raise SystemExit(
            f"changepoint_bench: cannot import cfgctl.analyze.changepoints ({exc}); the detector"
            " is not on this branch yet: merge main, or leave it out with --tools"
            " ruptures-pelt ruptures-binseg otava"
        ) from None
    return lambda values: [int(p.index) for p in detect(values)]


def _ruptures(kind: str) -> Detector:
    try:
        import ruptures as rpt
    except ImportError:
        raise SystemExit(
            "changepoint_bench: ruptures is not installed: pip install -e '.[bench]'"
        ) from None
    algo = rpt.Pelt if kind == "pelt" else rpt.Binseg
    jump = 5 if kind == "pelt" else 1

    def run(values: NDArray[np.float64]) -> list[int]:
        fitted = algo(model="l2", min_size=2, jump=jump).fit(values)
        return [int(b) for b in fitted.predict(pen=bic_penalty(values))[:-1]]

    return run


_OTAVA_VENV = Path(__file__).resolve().parent / ".cache" / "otava-venv"
# Reads one JSON array of floats a line, answers the change points' indices a line.
_OTAVA_WORKER = """
import json, sys
from otava.analysis import compute_change_points
for line in sys.stdin:
    points, _weak = compute_change_points(
        json.loads(line), window_len=50, max_pvalue=0.001, min_magnitude=0.0
    )
    print(json.dumps([int(p.index) for p in points]), flush=True)
"""


def _otava() -> Detector:
    """Otava in a virtualenv of its own (benchmarks/.cache/otava-venv, made once): apache-otava
    0.8 pins numpy 2.2, scipy < 1.17 and ruamel.yaml 0.18.16, which cfgctl's own environment
    must not be downgraded to. One worker process answers every series."""
    python = _OTAVA_VENV / "bin" / "python"
    if not python.exists():
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(_OTAVA_VENV)], capture_output=True, check=False
        )
        installed = (
            made.returncode == 0
            and subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "apache-otava>=0.8,<1"],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )
        if not installed:
            raise SystemExit(f"changepoint_bench: cannot install apache-otava into {_OTAVA_VENV}")
    worker = subprocess.Popen(
        [str(python), "-c", _OTAVA_WORKER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdin is not None
    assert worker.stdout is not None
    stdin, stdout = worker.stdin, worker.stdout

    def run(values: NDArray[np.float64]) -> list[int]:
        stdin.write(json.dumps(values.tolist()) + "\n")
        stdin.flush()
        return [int(i) for i in json.loads(stdout.readline())]

    return run


def detectors(names: Sequence[str]) -> dict[str, Detector]:
    """The detectors asked for, by their table label; a missing one stops the bench (exit 3)."""
    makers: dict[str, Callable[[], Detector]] = {
        "cfgctl": _cfgctl,
        "ruptures-pelt": lambda: _ruptures("pelt"),
        "ruptures-binseg": lambda: _ruptures("binseg"),
        "otava": _otava,
    }
    made: dict[str, Detector] = {}
    for name in names:
        try:
            made[TOOLS[name]] = makers[name]()
        except SystemExit as exc:
            print(exc, file=sys.stderr)
            raise SystemExit(3) from None
    return made


def _run(detector: Detector, values: NDArray[np.float64], peer: bool) -> list[int]:
    if not peer:
        return detector(values)
    with warnings.catch_warnings():  # the peers' numpy warnings on flat windows
        warnings.simplefilter("ignore")
        return detector(values)


def _fmt(x: float | None, width: int = 6) -> str:
    return f"{'n/a':>{width}}" if x is None else f"{x:{width}.3f}"


def _evaluate(detector: Detector, series: list[Labelled], peer: bool) -> dict[str, Any]:
    """Every series' matches, grouped by scenario, and the seconds it took."""
    started = time.perf_counter()
    by_scenario: dict[str, list[Match]] = {}
    reported: dict[str, list[int]] = {}
    for s in series:
        found = _run(detector, s.values, peer)
        by_scenario.setdefault(s.scenario, []).append(match(s.changes, found))
        reported.setdefault(s.scenario, []).append(len(set(found)))
    return {"matches": by_scenario, "reported": reported, "seconds": time.perf_counter() - started}


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, list[Match]] = run["matches"]
    n: dict[str, list[int]] = run["reported"]
    changed = [x for k, v in m.items() if not k.startswith("none/") for x in v]
    quiet = [x for k, v in n.items() if k.startswith("none/") for x in v]
    return {
        "overall": score(changed),
        "by_scenario": {k: score(v) for k, v in m.items() if not k.startswith("none/")},
        "by_shift": {
            f"{s:g}": score([x for c in CONDITIONS for x in m[scenario_name(s, c)]]) for s in SHIFTS
        },
        "by_condition": {
            c: score([x for s in SHIFTS for x in m[scenario_name(s, c)]]) for c in CONDITIONS
        },
        "false_alarm_rate": sum(1 for r in quiet if r) / len(quiet),
        "false_points_per_series": sum(quiet) / len(quiet),
        "false_alarms_by_condition": {
            c: (
                sum(1 for r in n[f"none/{c}"] if r) / len(n[f"none/{c}"]),
                float(np.mean(n[f"none/{c}"])),
            )
            for c in CONDITIONS
        },
        "seconds": run["seconds"],
    }


def _print_quality(results: dict[str, dict[str, Any]], series: list[Labelled]) -> None:
    changed = sum(1 for s in series if s.changes)
    points = sum(len(s.changes) for s in series)
    print(
        f"change points: {len(series)} labelled series (200-2,000 points; {changed} with"
        f" {points} changes, {len(series) - changed} without), margin +-{MARGIN} points"
    )
    print(
        f"{'tool':<28}{'TP':>6}{'FP':>6}{'FN':>6}  precision  recall      F1"
        f"  false alarms  pts/quiet  seconds"
    )
    for name, r in results.items():
        o: Score = r["overall"]
        print(
            f"{name:<28}{o.tp:>6}{o.fp:>6}{o.fn:>6}     {_fmt(o.precision)}  {_fmt(o.recall)}"
            f"  {_fmt(o.f1)}  {r['false_alarm_rate']:>11.1%}  {r['false_points_per_series']:>9.2f}"
            f"  {r['seconds']:>7.1f}"
        )
    names = list(results)
    short = [n.split(" (")[0] for n in names]
    head = "".join(f"{s:>22}" for s in short)
    print(f"\n{'F1 / precision':<30}{head}")
    groups = [("shift", "by_shift"), ("condition", "by_condition"), ("", "by_scenario")]
    for label, key in groups:
        for cell in results[names[0]][key]:
            row = f"{(label + ' ' + cell).strip():<30}"
            for name in names:
                sc: Score = results[name][key][cell]
                row += f"{_fmt(sc.f1, 10)} / {_fmt(sc.precision, 5).strip():>7}  "
            print(row)
    print(f"\n{'false alarms (share; points)':<30}{head}")
    for c in CONDITIONS:
        row = f"{'none/' + c:<30}"
        for name in names:
            rate, mean = results[name]["false_alarms_by_condition"][c]
            row += f"{rate:>15.0%} ({mean:4.1f})"
        print(row)


def quality(tools: dict[str, Detector], per_scenario: int) -> dict[str, Any]:
    series = quality_set(per_scenario)
    results = {
        name: _summary(_evaluate(d, series, peer=not name.startswith("cfgctl")))
        for name, d in tools.items()
    }
    _print_quality(results, series)
    out: dict[str, Any] = {
        "series": len(series),
        "per_scenario": per_scenario,
        "tools": {n: _jsonable(r) for n, r in results.items()},
    }
    ours = next((n for n in results if n.startswith("cfgctl")), None)
    if ours is not None and len(results) > 1:
        out["goals"] = _quality_goals(results, ours)
    return out


def _quality_goals(results: dict[str, dict[str, Any]], ours: str) -> dict[str, bool]:
    f1 = {n: r["overall"].f1 or 0.0 for n, r in results.items()}
    fa = {n: r["false_alarm_rate"] for n, r in results.items()}
    best_f1 = f1[ours] >= max(f1.values())
    fewest = fa[ours] <= min(fa.values())
    print(
        f"goal: cfgctl's F1 the best of the tools on series with changes ({f1[ours]:.3f};"
        f" best peer {max(v for n, v in f1.items() if n != ours):.3f}):"
        f" {'PASS' if best_f1 else 'MISS'}"
    )
    print(
        f"goal: cfgctl's false-alarm rate the lowest on series without change ({fa[ours]:.1%};"
        f" lowest peer {min(v for n, v in fa.items() if n != ours):.1%}):"
        f" {'PASS' if fewest else 'MISS'}"
    )
    return {"best_f1": best_f1, "fewest_false_alarms": fewest}


def _jsonable(r: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, Score):
            return asdict(v)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return {k: conv(v) for k, v in r.items()}


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _time(
    detector: Detector, series: list[Labelled], budget: float | None, peer: bool
) -> dict[str, Any]:
    """Wall and CPU seconds over the series, stopping after `budget` seconds (then extrapolated)."""
    w0, c0, done, found = time.perf_counter(), _cpu(), 0, 0
    for s in series:
        found += len(_run(detector, s.values, peer))
        done += 1
        if budget is not None and time.perf_counter() - w0 > budget:
            break
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    scale = len(series) / done
    return {
        "series_run": done,
        "wall_s": wall * scale,
        "cpu_s": cpu * scale,
        "measured_wall_s": wall,
        "measured_cpu_s": cpu,
        "extrapolated": done < len(series),
        "points_found": found,
    }


def speed(tools: dict[str, Detector], count: int, length: int, budget: float) -> dict[str, Any]:
    started = time.perf_counter()
    series = speed_set(count, length)
    made = time.perf_counter() - started
    print(
        f"speed: {count:,} series of {length:,} points (generated in {made:.1f} s),"
        f" {os.cpu_count()} CPUs; peers stop after {budget:g} s and are extrapolated"
    )
    figures = {
        name: _time(
            d, series, None if name.startswith("cfgctl") else budget, not name.startswith("cfgctl")
        )
        for name, d in tools.items()
    }
    base = next(iter(figures.values()))
    print(f"{'tool':<28}{'wall s':>10}{'CPU s':>10}{'x wall':>10}{'x CPU':>10}  series timed")
    for name, f in figures.items():
        timed = f"{f['series_run']:,} of {count:,}" + (
            f", extrapolated from {f['measured_wall_s']:.1f} s" if f["extrapolated"] else ""
        )
        print(
            f"{name:<28}{f['wall_s']:>10.2f}{f['cpu_s']:>10.2f}"
            f"{f['wall_s'] / base['wall_s']:>9.2f}x{f['cpu_s'] / base['cpu_s']:>9.2f}x  {timed}"
        )
    out: dict[str, Any] = {"count": count, "length": length, "budget_s": budget, "tools": figures}
    ours = figures.get(TOOLS["cfgctl"])
    if ours is not None:
        goal = count * length
        passed = ours["wall_s"] * (1000 * 10_000 / goal) < GOAL_SECONDS
        print(
            f"goal: cfgctl under {GOAL_SECONDS:g} s for 1,000 x 10,000 points:"
            f" {ours['wall_s']:.2f} s wall{' (scaled)' if goal != 10_000_000 else ''}"
            f" {'PASS' if passed else 'MISS'}"
        )
        out["goal_passed"] = passed
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tools", nargs="+", choices=list(TOOLS), default=list(TOOLS))
    ap.add_argument("--per-scenario", type=int, default=20, help="quality series per scenario")
    ap.add_argument("--count", type=int, default=1000, help="series in the speed run")
    ap.add_argument("--length", type=int, default=10_000, help="points in each of them")
    ap.add_argument("--peer-budget", type=float, default=60.0, help="seconds of each peer's timing")
    ap.add_argument("--no-speed", action="store_true", help="quality only")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args(argv)
    tools = detectors(args.tools)
    report: dict[str, Any] = {
        "host": {"python": platform.python_version(), "platform": platform.platform(),
                 "cpus": os.cpu_count()},
        "tools": {TOOLS[t]: t for t in args.tools},
        "quality": quality(tools, args.per_scenario),
    }  # fmt: skip
    if not args.no_speed:
        print()
        report["speed"] = speed(tools, args.count, args.length, args.peer_budget)
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results: {RESULTS.relative_to(OUT.parent.parent)}")
    goals = [
        *report["quality"].get("goals", {}).values(),
        report.get("speed", {}).get("goal_passed", True),
    ]
    return 1 if args.strict and not all(goals) else 0


if __name__ == "__main__":
    sys.exit(main())

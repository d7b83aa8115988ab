"""`cfgctl scan-code` beside ruff's PLR2004 (magic numbers) and detect-secrets: quality on the
labelled corpus, speed on whole packages from PyPI.

    python -m benchmarks.codescan_bench [--min-score S] [--runs 3] [--worst 15] [--strict]
    python -m benchmarks.codescan_bench --packages celery==5.7.0 redis==8.1.0 --cache DIR

Quality: the three tools on the same files in one run, each measured line by line against the
hand labels of labels.yaml (benchmarks/codescan_corpus.py): precision, recall, F1; on two corpora.
tests/codescan/corpus/ is the one scan-code's scoring was tuned on; goal: precision >= 0.8 at
recall >= 0.6 for cfgctl at its default --min-score. tests/codescan/corpus_holdout/ is held out
(other packages, never tuned on): the same table, reported with no goal, is how the tuning
generalises.

Speed: the sdists of a few packages (pip download into --cache, default benchmarks/.cache/,
git-ignored; skipped with a message when PyPI cannot be reached), their Python files as scan-code
walks them (tests and tool folders left out), the same file list given to every tool. cfgctl runs
in this process (`scan_paths(files, history=False)`, one core): CPU seconds by
`time.process_time`, median of --runs; goal: at least 20,000 lines a second. ruff and
detect-secrets run as their command lines (wall clock, one run each), and the ratios of their
time to cfgctl's wall time are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from benchmarks.codescan_corpus import (
    CORPUS,
    HOLDOUT,
    at_threshold,
    cfgctl_lines,
    cfgctl_scores,
    corpus_files,
    detect_secrets_command,
    detect_secrets_lines,
    evaluate,
    parse_detect_secrets,
    parse_ruff,
    ruff_command,
    ruff_lines,
)
from benchmarks.generate import OUT
from cfgctl.codescan.findings import DEFAULT_MIN_SCORE, Skipped
from cfgctl.codescan.scan import scan_paths
from cfgctl.codescan.sources import python_files

CACHE = Path(__file__).resolve().parent / ".cache" / "codescan"
PACKAGES = ["celery==5.7.0", "gunicorn==27.0.1", "redis==8.1.0", "sentry-sdk==2.75.0"]
GOAL_PRECISION, GOAL_RECALL, GOAL_LINES_PER_S = 0.8, 0.6, 20_000
RESULTS = OUT / "codescan.json"


def _fmt(x: float | None) -> str:
    return "   n/a" if x is None else f"{x:6.3f}"


def quality(min_score: float, worst: int, corpus: Path = CORPUS) -> dict[str, Any]:
    """The three tools' table on `corpus`; the goal is judged on the tuned-on corpus only."""
    files = corpus_files(corpus)
    lines = sum(p.read_text(encoding="utf-8").count("\n") for p in files)
    tools = {
        f"cfgctl scan-code (--min-score {min_score:.2f})": cfgctl_lines(min_score, corpus),
        "ruff PLR2004": ruff_lines(corpus),
        "detect-secrets": detect_secrets_lines(corpus),
    }
    results = {name: evaluate(found, corpus) for name, found in tools.items()}
    first = next(iter(results.values()))
    held_out = corpus != CORPUS
    what = "held-out corpus (labelled blind, not tuned on)" if held_out else "tuned-on corpus"
    print(
        f"scan-code {what}: {len(files)} files, {lines:,} lines, {first['labelled']} labelled"
        f" configuration lines ({corpus.relative_to(CORPUS.parents[2]).as_posix()}/)"
    )
    print(f"{'tool':<36}{'reported':>9}{'TP':>6}{'FP':>6}{'FN':>6}  precision  recall      F1")
    for name, r in results.items():
        print(
            f"{name:<36}{r['reported']:>9}{r['tp']:>6}{r['fp']:>6}{r['fn']:>6}"
            f"     {_fmt(r['precision'])}  {_fmt(r['recall'])}  {_fmt(r['f1'])}"
        )
    ours = results[next(iter(results))]
    passed = (ours["precision"] or 0.0) >= GOAL_PRECISION and ours["recall"] >= GOAL_RECALL
    if not held_out:
        print(
            f"goal: cfgctl precision >= {GOAL_PRECISION} at recall >= {GOAL_RECALL}:"
            f" {'PASS' if passed else 'MISS'}"
        )
    scores = cfgctl_scores(corpus)
    _sweep(scores, min_score, corpus)
    print(
        "cfgctl recall by category: "
        + ", ".join(f"{c} {v['found']}/{v['labelled']}" for c, v in ours["by_category"].items())
    )
    _show_worst("false positives", ours["false_positives"], worst, scores, corpus)
    _show_worst("false negatives", ours["false_negatives"], worst, scores, corpus)
    out = {"results": results, "files": len(files), "lines": lines}
    return out if held_out else {**out, "goal_passed": passed}


def _sweep(scores: dict[str, dict[int, float]], chosen: float, corpus: Path) -> None:
    """cfgctl's precision and recall at other thresholds (from one scan at --min-score 0)."""
    cells = []
    for t in sorted({0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, chosen}):
        r = evaluate(at_threshold(scores, t), corpus)
        cells.append(f"{t:.2f}: P {_fmt(r['precision']).strip()} R {r['recall']:.3f}")
    print("cfgctl by --min-score: " + "; ".join(cells))


def _round_robin(items: list[str]) -> list[str]:
    """Items file by file in turn, so that one big file does not fill the list."""
    by_file: dict[str, list[str]] = {}
    for item in items:
        by_file.setdefault(item.rsplit(":", 1)[0], []).append(item)
    queues = list(by_file.values())
    out: list[str] = []
    while queues:
        out.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return out


def _show_worst(
    what: str, items: list[str], worst: int, scores: dict[str, dict[int, float]], corpus: Path
) -> None:
    """The wrong lines, each with cfgctl's best score there ("-": no literal of it scored)."""
    if not items or worst <= 0:
        return
    print(f"cfgctl {what} ({len(items)}; {min(worst, len(items))}, file by file in turn):")
    for item in _round_robin(items)[:worst]:
        name, line = item.rsplit(":", 1)
        text = (corpus / name).read_text(encoding="utf-8").splitlines()[int(line) - 1].strip()
        score = scores.get(name, {}).get(int(line))
        shown = "    -" if score is None else f"{score:5.2f}"
        print(f"  {item:<34} {shown}  {text[:80]}")


def fetch(packages: list[str], cache: Path) -> list[Path] | str:
    """The unpacked sdists (downloaded once into `cache`), or why they could not be had."""
    cache.mkdir(parents=True, exist_ok=True)
    roots = []
    for spec in packages:
        name, _, version = spec.partition("==")
        stem = f"{name.replace('-', '_').lower()}-{version}"
        archives = [p for p in cache.glob("*.tar.gz") if p.name.lower().startswith(stem)]
        if not archives:
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 "--quiet", "--dest", str(cache), spec],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            archives = [p for p in cache.glob("*.tar.gz") if p.name.lower().startswith(stem)]
            if proc.returncode != 0 or not archives:
                return f"pip download {spec} failed (offline?): {proc.stderr.strip()[-300:]}"
        root = cache / archives[0].name.removesuffix(".tar.gz")
        if not root.exists():
            with tarfile.open(archives[0]) as tar:
                tar.extractall(cache, filter="data")
        roots.append(root)
    return roots


def _timed(argv: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        tail = proc.stderr[-2000:]
        raise SystemExit(f"{' '.join(argv[:3])}... exited {proc.returncode}:\n{tail}")
    return elapsed, proc.stdout


def _count(found: dict[str, set[int]]) -> int:
    return sum(map(len, found.values()))


def _table(lines: int, wall_s: float, rows: list[tuple[str, float, int]]) -> None:
    """Seconds, lines/s and findings of each tool; wall times as a ratio to cfgctl's wall time."""
    print(f"{'tool':<36}{'seconds':>9}{'lines/s':>12}{'findings':>10}{'vs cfgctl':>11}")
    for label, seconds, found in rows:
        shown = "" if "CPU" in label else f"{seconds / wall_s:9.2f}x"
        print(f"{label:<36}{seconds:>9.3f}{lines / seconds:>12,.0f}{found:>10,}{shown:>11}")


def speed(packages: list[str], cache: Path, runs: int) -> dict[str, Any] | None:
    roots = fetch(packages, cache)
    if isinstance(roots, str):
        print(f"speed: skipped, {roots}")
        return None
    skipped: list[Skipped] = []
    files = [f for root in roots for f in python_files([root], skipped)]
    cpu, wall = [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        result = scan_paths(files, history=False)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    if result.files + len(result.skipped) != len(files):
        raise SystemExit(f"scan-code read {result.files} of {len(files)} files")
    lines, cpu_s, wall_s = result.lines, statistics.median(cpu), statistics.median(wall)
    ruff_s, ruff_out = _timed(ruff_command(files), cache)
    ds_s, ds_out = _timed(detect_secrets_command(files), cache)
    rate = lines / cpu_s
    names = ", ".join(r.name for r in roots)
    print(f"speed: {names}: {len(files):,} Python files, {lines:,} lines")
    ours = len(result.findings)
    _table(
        lines,
        wall_s,
        [
            ("cfgctl scan-code, CPU (1 core)", cpu_s, ours),
            ("cfgctl scan-code, wall", wall_s, ours),
            ("ruff PLR2004, wall", ruff_s, _count(parse_ruff(ruff_out))),
            ("detect-secrets scan, wall", ds_s, _count(parse_detect_secrets(ds_out, cache))),
        ],
    )
    passed = rate >= GOAL_LINES_PER_S
    print(
        f"goal: cfgctl >= {GOAL_LINES_PER_S:,} lines/s on one core: {rate:,.0f} lines/s"
        f" {'PASS' if passed else 'MISS'} (CPU median of {runs}: {[round(c, 3) for c in cpu]})"
    )
    return {
        "packages": [r.name for r in roots],
        "files": len(files),
        "lines": lines,
        "cfgctl_cpu_s": cpu,
        "cfgctl_wall_s": wall,
        "ruff_wall_s": ruff_s,
        "detect_secrets_wall_s": ds_s,
        "lines_per_s": rate,
        "goal_passed": passed,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    ap.add_argument("--packages", nargs="+", default=PACKAGES, help="NAME==VERSION of sdists")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where the sdists are kept")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--worst", type=int, default=15, help="how many wrong lines of cfgctl to show")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args(argv)
    report: dict[str, Any] = {"quality": quality(args.min_score, args.worst)}
    print()
    report["quality_holdout"] = quality(args.min_score, args.worst, HOLDOUT)
    print()
    report["speed"] = speed(args.packages, args.cache.resolve(), args.runs)
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    missed = not report["quality"]["goal_passed"] or (
        report["speed"] is not None and not report["speed"]["goal_passed"]
    )
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())

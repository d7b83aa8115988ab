"""Time the real `cfgctl` CLI against check-jsonschema; see benchmarks/README.md.

    python -m benchmarks.run                      # 1,000 services, 3,000 documents
    python -m benchmarks.run --services 10000     # ... plus the 10,000-service scaling run
    python -m benchmarks.run --quick              # 100 services, 300 documents, 1 run each

Every figure is the wall-clock time (`time.perf_counter`) of a subprocess: the median of 3 runs,
or a single run when the first one takes over 20 s. Results are printed as a table and written to
benchmarks/out/results.json. Exit status: 0 when every check of correctness passed (a missed
performance goal is reported, not fatal, unless --strict), 2 when a tool disagreed or failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.generate import OUT, Docs, Repo, ensure_docs, ensure_rendered, ensure_repo

BIN = Path(sys.executable).parent
CFGCTL = BIN / "cfgctl"
PEER = BIN / "check-jsonschema"
SLOW = 20.0  # seconds: a figure whose first run takes longer is measured once
RESULTS = OUT / "results.json"
X = "\N{MULTIPLICATION SIGN}"


Checker = Callable[[str, subprocess.CompletedProcess[str]], None]


class BenchError(Exception):
    """A tool failed or disagreed: the figures would be meaningless."""


@dataclass
class Figure:
    key: str
    label: str
    command: str
    runs: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(self.runs)


@dataclass
class Goal:
    key: str
    text: str  # "cfgctl is 3.4x faster than check-jsonschema"
    value: float
    goal: str  # ">= 3.0x"
    passed: bool


# --- running the tools ----------------------------------------------------------------------


def _env() -> dict[str, str]:
    """The environment of the tools: ours without what would change what they do or load (a
    PYTHONPATH pointing at a worktree would shadow the installed cfgctl; CFGCTL_NO_CACHE would
    make every run cold)."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "CFGCTL_NO_CACHE", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def _run(argv: Sequence[str | Path], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    args = [str(a) for a in argv]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _fail(what: str, proc: subprocess.CompletedProcess[str], why: str) -> BenchError:
    return BenchError(
        f"{what}: {why} (exit {proc.returncode})\n"
        f"--- stdout (tail) ---\n{_tail(proc.stdout)}\n--- stderr (tail) ---\n{_tail(proc.stderr)}"
    )


def expect_cfgctl_ok(files: int | None = None, pairs: int | None = None) -> Checker:
    """A check of `cfgctl validate -f json`: exit 0, no error, no warning, everything checked."""

    def check(what: str, proc: subprocess.CompletedProcess[str]) -> None:
        if proc.returncode != 0:
            raise _fail(what, proc, "cfgctl found the documents invalid")
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            raise _fail(what, proc, "cfgctl printed no JSON report") from None
        if not report.get("ok") or report.get("errors") or report.get("warnings"):
            raise _fail(what, proc, f"expected a clean report, got {report.get('diagnostics')}")
        checked = report.get("checked", {})
        if files is not None and checked.get("files") != files:
            raise _fail(what, proc, f"checked {checked.get('files')} files, expected {files}")
        if pairs is not None and checked.get("pairs") != pairs:
            raise _fail(what, proc, f"checked {checked.get('pairs')} pairs, expected {pairs}")

    return check


def expect_peer_ok(what: str, proc: subprocess.CompletedProcess[str]) -> None:
    if proc.returncode != 0 or "ok -- validation done" not in proc.stdout:
        raise _fail(what, proc, "check-jsonschema found the documents invalid")


def measure(
    key: str,
    label: str,
    argv: Sequence[str | Path],
    *,
    cwd: Path,
    check: Checker,
    runs: int,
    shown: str,
    prepare: Callable[[], None] | None = None,
) -> Figure:
    """The median of `runs` runs (one when the first is over SLOW seconds); `prepare` runs,
    untimed, before each."""
    fig = Figure(key, label, shown)
    for i in range(runs):
        if prepare is not None:
            prepare()
            os.sync()  # what prepare wrote is flushed before the clock starts, not during
        seconds, proc = _run(argv, cwd)
        check(label, proc)
        fig.runs.append(seconds)
        print(f"  {label}: run {i + 1}: {seconds:.2f} s", file=sys.stderr, flush=True)
        if seconds > SLOW:
            break
    return fig


def clear_cache(repo: Repo) -> Callable[[], None]:
    def clear() -> None:
        shutil.rmtree(repo.root / ".cfgctl" / "cache", ignore_errors=True)

    return clear


def _rel(paths: list[Path], base: Path) -> list[str]:
    """Documents relative to `base` (the tools' working folder): a shorter command line."""
    return [p.relative_to(base).as_posix() for p in paths]


# --- the benchmarks -------------------------------------------------------------------------


def bench_standalone(docs: Docs, runs: int) -> tuple[Figure, Figure]:
    names = _rel(docs.documents, docs.folder)
    n = len(names)
    ours = measure(
        "standalone.cfgctl",
        f"cfgctl validate --schema, {n} docs",
        [CFGCTL, "validate", "-f", "json", "--schema", docs.schema.name, *names],
        cwd=docs.folder,
        check=expect_cfgctl_ok(files=n),
        runs=runs,
        shown=f"cfgctl validate -f json --schema {docs.schema.name} <{n} docs>",
    )
    peer = measure(
        "standalone.check-jsonschema",
        f"check-jsonschema --schemafile, {n} docs",
        [PEER, "--schemafile", docs.schema.name, *names],
        cwd=docs.folder,
        check=expect_peer_ok,
        runs=runs,
        shown=f"check-jsonschema --schemafile {docs.schema.name} <{n} docs>",
    )
    return ours, peer


def bench_repo(repo: Repo, runs: int, tag: str) -> tuple[Figure, Figure]:
    n = len(repo.services)
    argv: list[str | Path] = [CFGCTL, "-C", repo.root, "validate", "-f", "json"]
    check = expect_cfgctl_ok(pairs=repo.pairs)
    shown = f"cfgctl -C {repo.root.name} validate -f json"
    cold = measure(
        f"{tag}.cold",
        f"cfgctl validate, {n} services, cold",
        argv,
        cwd=repo.root,
        check=check,
        runs=runs,
        shown=shown + "  (after rm -rf .cfgctl/cache)",
        prepare=clear_cache(repo),
    )
    warm = measure(
        f"{tag}.warm",
        f"cfgctl validate, {n} services, warm",
        argv,
        cwd=repo.root,
        check=check,
        runs=runs,
        shown=shown + "  (cache of the previous run)",
    )
    return cold, warm


def expect_diff(pairs: int, *, at_least: bool = False) -> Checker:
    def check(what: str, proc: subprocess.CompletedProcess[str]) -> None:
        if proc.returncode != 0:
            raise _fail(what, proc, f"exit {proc.returncode}")
        try:
            found = len(json.loads(proc.stdout))
        except ValueError as exc:
            raise _fail(what, proc, "no JSON list on stdout") from exc
        if found < pairs if at_least else found != pairs:
            raise _fail(what, proc, f"{found} changed pairs, expected {pairs}")

    return check


def bench_changes(repo: Repo, runs: int, tag: str) -> list[Figure]:
    """The cost of a change: diff of one service file, diff of base's _defaults.yaml (every
    pair), validate --changed-since of one file (cold cache: the changed pair is rendered)."""
    n = len(repo.services)
    base: list[str | Path] = [CFGCTL, "-C", repo.root]
    one = measure(
        f"{tag}.diff_one",
        f"cfgctl diff HEAD~1 HEAD, {n} services, one service file",
        [*base, "diff", "HEAD~1", "HEAD", "-f", "json"],
        cwd=repo.root,
        check=expect_diff(1),  # the service in prod
        runs=runs,
        shown=f"cfgctl -C {repo.root.name} diff HEAD~1 HEAD -f json",
    )
    defaults = measure(
        f"{tag}.diff_defaults",
        f"cfgctl diff HEAD~2 HEAD~1, {n} services, base _defaults.yaml",
        [*base, "diff", "HEAD~2", "HEAD~1", "-f", "json"],
        cwd=repo.root,
        # Every pair is rendered at both sides; those whose services override the key are equal.
        check=expect_diff(1, at_least=True),
        runs=runs,
        shown=f"cfgctl -C {repo.root.name} diff HEAD~2 HEAD~1 -f json",
    )

    def cache_of_previous_commit() -> None:
        # The situation --changed-since is for: the cache holds what was validated before the
        # change (here: HEAD~1); only the changed file is new to it.
        clear_cache(repo)()
        _run([CFGCTL, "-C", repo.root, "validate", "--rev", "HEAD~1", "-f", "json"], repo.root)

    since = measure(
        f"{tag}.changed_since",
        f"cfgctl validate --changed-since HEAD~1, {n} services",
        [*base, "validate", "--changed-since", "HEAD~1", "-f", "json"],
        cwd=repo.root,
        check=expect_cfgctl_ok(pairs=1),
        runs=runs,
        prepare=cache_of_previous_commit,
        shown=f"cfgctl -C {repo.root.name} validate --changed-since HEAD~1  (cache: HEAD~1)",
    )
    return [one, defaults, since]


def bench_rendered(rendered: Docs, runs: int) -> Figure:
    names = _rel(rendered.documents, rendered.folder)
    n = len(names)
    return measure(
        "rendered.check-jsonschema",
        f"check-jsonschema, {n} rendered docs",
        [PEER, "--schemafile", rendered.schema, *names],
        cwd=rendered.folder,
        check=expect_peer_ok,
        runs=runs,
        shown=f"check-jsonschema --schemafile {rendered.schema.relative_to(OUT)} <{n} docs>",
    )


_CONTROL = """\
service: {name: control, tier: standard}
replicas: 1
owner: {team: sre, email: sre@example.com}
server: {port: 8080}
log: {level: info}
"""
# Each breaks the schema in one way; both tools must reject every one, and accept the original.
_BROKEN = {
    "minimum-and-unknown-key": _CONTROL.replace("replicas: 1", "replicas: 0\nunknown_key: 1"),
    "ref-to-common-schema": _CONTROL + "database: {host: db.example.com, port: 70000, name: m}\n",
    "format-email": _CONTROL.replace("sre@example.com", "not-an-email"),
    "format-hostname": _CONTROL + 'database: {host: "-bad-.example..com", port: 5432, name: m}\n',
    "format-uri": _CONTROL + 'public_url: "not a uri"\n',
}


def sanity_checks(docs: Docs) -> None:
    """Both tools must accept a minimal valid document and reject broken ones, so that they do
    the same work: a validator that skips formats or an unresolved $ref looks fast for nothing."""
    folder = OUT / "controls"
    folder.mkdir(parents=True, exist_ok=True)
    cases = {"valid": _CONTROL, **_BROKEN}
    for name, text in cases.items():
        path = folder / f"{name}.yaml"
        path.write_text(text)
        want = 0 if name == "valid" else 1
        commands: dict[str, list[str | Path]] = {
            "cfgctl": [CFGCTL, "validate", "--schema", docs.schema, path],
            "check-jsonschema": [PEER, "--schemafile", docs.schema, path],
        }
        for tool, argv in commands.items():
            _, proc = _run(argv, folder)
            if proc.returncode != want:
                raise _fail(f"control {tool} {path.name}", proc, f"expected exit {want}")


# --- reporting ------------------------------------------------------------------------------


def _ratio_text(fast: float, slow: float, ours: str, peer: str) -> tuple[float, str]:
    ratio = slow / fast
    if ratio >= 1:
        return ratio, f"{ours} is {ratio:.1f}{X} faster than {peer}"
    return ratio, f"{ours} is {1 / ratio:.1f}{X} slower than {peer}"


def table(figures: list[Figure], goals: list[Goal]) -> str:
    w = max(len(f.label) for f in figures) + 2
    out = [f"{'measurement':<{w}}{'median':>10}  {'runs':<28}", "-" * (w + 40)]
    for f in figures:
        runs = ", ".join(f"{r:.2f}" for r in f.runs)
        out.append(f"{f.label:<{w}}{f.seconds:>9.2f}s  [{runs}]")
    if goals:
        out.append("")
        gw = max(len(g.text) for g in goals) + 2
        out.append(f"{'goal':<{gw}}{'target':>10}  verdict")
        out.append("-" * (gw + 20))
        for g in goals:
            out.append(f"{g.text:<{gw}}{g.goal:>10}  {'PASS' if g.passed else 'MISS'}")
    return "\n".join(out)


def _cfgctl_origin() -> dict[str, Any]:
    """Which cfgctl the CLI runs: its version, package folder, and Git commit (in a checkout)."""
    info: dict[str, Any] = {}
    _, proc = _run([CFGCTL, "--version"], OUT)
    info["version"] = proc.stdout.strip()
    _, proc = _run([sys.executable, "-c", "import cfgctl; print(cfgctl.__file__)"], OUT)
    package = Path(proc.stdout.strip()).parent if proc.returncode == 0 else None
    info["package"] = str(package) if package else None
    if package is not None:
        try:
            import pygit2

            repo = pygit2.Repository(pygit2.discover_repository(str(package)))
            info["commit"] = str(repo.head.target)
            info["dirty"] = bool(repo.status(untracked_files="no"))
        except Exception:  # noqa: BLE001  not a checkout: the version says enough
            pass
    _, proc = _run([PEER, "--version"], OUT)
    info["peer"] = proc.stdout.strip()
    return info


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    ap.add_argument(
        "--services",
        type=int,
        default=None,
        help="also time a repository of this many services (e.g. 10000) against the baseline "
        "repository (1,000 services; 100 with --quick) and check how it scales",
    )
    ap.add_argument("--docs", type=int, default=None, help="standalone documents (default 3000)")
    ap.add_argument("--quick", action="store_true", help="100 services, 300 docs, 1 run each")
    ap.add_argument("--runs", type=int, default=None, help="runs per figure (default 3; 1 quick)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args(argv)

    base_services = 100 if args.quick else 1000
    n_docs = args.docs or (300 if args.quick else 3000)
    runs = args.runs or (1 if args.quick else 3)
    big = args.services if args.services and args.services != base_services else None
    for tool in (CFGCTL, PEER):
        if not tool.exists():
            print(f"benchmarks: {tool} is missing; run `make install`", file=sys.stderr)
            return 2

    OUT.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        docs = ensure_docs(n_docs)
        repo = ensure_repo(base_services)
        rendered = ensure_rendered(repo)
        big_repo = ensure_repo(big) if big else None
        generated = time.perf_counter() - started

        origin = _cfgctl_origin()  # also warms the OS cache of both tools' code, untimed
        sanity_checks(docs)
        print(f"benchmarks: timing {origin['version']} against {origin['peer']}", file=sys.stderr)
        s_ours, s_peer = bench_standalone(docs, runs)
        cold, warm = bench_repo(repo, runs, "repo")
        r_peer = bench_rendered(rendered, runs)
        changes = bench_changes(repo, runs, "repo")
        figures = [s_ours, s_peer, cold, warm, r_peer, *changes]
        big_cold = big_warm = None
        big_changes: list[Figure] = []
        if big_repo is not None:
            big_cold, big_warm = bench_repo(big_repo, runs, "repo-big")
            big_changes = bench_changes(big_repo, runs, "repo-big")
            figures += [big_cold, big_warm, *big_changes]
    except BenchError as exc:
        print(f"\nbenchmarks: FAILED: {exc}", file=sys.stderr)
        return 2

    goals = []
    value, text = _ratio_text(s_ours.seconds, s_peer.seconds, "cfgctl", "check-jsonschema")
    goals.append(
        Goal("standalone_speedup", f"{text} ({n_docs} docs)", value, f">= 3.0{X}", value >= 3)
    )
    value, text = _ratio_text(
        cold.seconds, r_peer.seconds, "cold cfgctl validate", "check-jsonschema on rendered docs"
    )
    goals.append(Goal("repo_cold_vs_rendered", text, value, f">= 1.0{X}", value >= 1))
    if big_cold is not None and big_warm is not None and big:
        limit = 1.1 * big / base_services
        value = big_cold.seconds / cold.seconds
        goals.append(
            Goal(
                "scaling_cold",
                f"cold validate, {big} vs {base_services} services: {value:.1f}{X} the time",
                value,
                f"<= {limit:.1f}{X}",
                value <= limit,
            )
        )

    for figures_of in (changes, big_changes):
        for fig in figures_of:
            if "_defaults" in fig.label:
                continue  # every pair changes: its cost follows the repository, by nature
            goals.append(
                Goal(
                    f"incremental_{fig.key}",
                    f"{fig.label}: {fig.seconds:.2f} s",
                    fig.seconds,
                    "<= 0.5 s",
                    fig.seconds <= 0.5,
                )
            )
    after = _cfgctl_origin()
    changed = (after.get("commit"), after.get("dirty")) != (
        origin.get("commit"),
        origin.get("dirty"),
    )
    print()
    print(table(figures, goals))
    print(
        f"\n{origin['version']} at {origin.get('commit', '?')[:12]}"
        f"{' (uncommitted changes)' if origin.get('dirty') else ''}, {origin['peer']}; "
        f"{os.cpu_count()} CPUs; data generated or checked in {generated:.1f} s"
    )
    if changed:
        print(
            f"WARNING: cfgctl changed during the run (now {after.get('commit', '?')[:12]}"
            f"{', uncommitted changes' if after.get('dirty') else ''}): figures may mix versions"
        )
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "params": {
            "services": base_services,
            "big_services": big,
            "docs": n_docs,
            "runs": runs,
            "quick": args.quick,
            "pairs": repo.pairs,
        },
        "host": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "cfgctl": origin,
        "cfgctl_changed_during_run": changed,
        "figures": {
            f.key: {"label": f.label, "command": f.command, "median_s": f.seconds, "runs_s": f.runs}
            for f in figures
        },
        "goals": {g.key: asdict(g) for g in goals},
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {RESULTS}")
    if args.strict and not all(g.passed for g in goals):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

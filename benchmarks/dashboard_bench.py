"""The web dashboard: the JavaScript of its first page, and the overview of 100 and 10,000
services in Debian's Chromium (headless, /usr/bin/chromium), driven by Playwright.

    python -m benchmarks.dashboard_bench                       # 100 and 10,000 services
    python -m benchmarks.dashboard_bench --services 100 1000 --runs 5

- first-page JS: every JavaScript file Chromium loads for `/#/overview` (the entry and the
  Overview page's lazy chunk), gzip-compressed at level 9 as a static server would send it;
  the budget is 250 KB.
- overview interactive: on a generated repository of N services x 3 environments (one in 97
  with an error in staging), served by one `cfgctl serve --insecure-local`: the time from the
  navigation's start (`performance.now()` in the page) until the grid answers a text filter
  with the one matching row, in a fresh browser context each run (no cache), median of the
  runs. The server's overview answer is computed once per commit and kept: its first (cold)
  computation is timed apart, with curl-like plain HTTP, before the browser runs.

Clients and server share this machine's two cores. Benchmarks measure; no test asserts a
timing. Results: benchmarks/out/dashboard.json and a table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pygit2

CFGCTL = str(Path(sys.executable).parent / "cfgctl")
ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "cfgctl" / "server" / "dashboard"
RESULTS = Path(__file__).resolve().parent / "out" / "dashboard.json"
CHROMIUM = "/usr/bin/chromium"
BUDGET_KB = 250
SIGNATURE = pygit2.Signature("bench", "bench@example.com", 1_700_000_000, 0)
SCHEMA = {
    "type": "object",
    "required": ["port"],
    "properties": {"port": {"type": "integer", "minimum": 1}, "replicas": {"type": "integer"}},
}


def make_repo(root: Path, services: int) -> None:
    """N services x (base, staging, prod), owners from 25 teams; every 97th service has an
    error in staging."""
    names = [f"svc-{i:05d}" for i in range(services)]
    manifest = [
        "version: 1",
        "environments:",
        "  base: {}",
        "  staging: {inherits: base}",
        "  prod: {inherits: base}",
        "services:",
        *(
            f'  {n}: {{schema: svc, owners: ["@acme/team-{i % 25:02d}"]}}'
            for i, n in enumerate(names)
        ),
    ]
    files = {
        "cfgctl.yaml": "\n".join(manifest) + "\n",
        "schemas/svc.schema.json": json.dumps(SCHEMA),
        "config/base/_defaults.yaml": "port: 8080\nreplicas: 2\n",
        "config/prod/_defaults.yaml": "replicas: 4\n",
    }
    for i, name in enumerate(names):
        if i % 97 == 0:
            files[f"config/staging/{name}.yaml"] = "replicas: many\n"
    repo = pygit2.init_repository(str(root), initial_head="main")
    index = repo.index
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        index.add(rel)
    index.write()
    repo.create_commit("HEAD", SIGNATURE, SIGNATURE, "generated", index.write_tree(), [])


@contextmanager
def serve(root: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [CFGCTL, "-C", str(root), "serve", "--insecure-local", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[1].removesuffix("/api/v1/")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "/api/v1/status", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _get_seconds(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as answer:
        answer.read()
    return time.perf_counter() - started


def first_page_js(browser: Any, url: str) -> dict[str, Any]:
    """The JavaScript files loaded for /#/overview, with their gzip -9 sizes."""
    page = browser.new_page()
    loaded: list[str] = []
    page.on(
        "response",
        lambda r: loaded.append(r.url) if r.url.endswith(".js") else None,
    )
    page.goto(url + "/#/overview")
    page.get_by_role("grid").wait_for()
    page.close()
    files = {}
    for address in sorted(set(loaded)):
        name = address.rsplit("/", 1)[1]
        data = (BUNDLE / "assets" / name).read_bytes()
        files[name] = {"bytes": len(data), "gzip": len(gzip.compress(data, 9))}
    total = sum(f["gzip"] for f in files.values())
    return {"files": files, "gzip_total": total, "budget": BUDGET_KB * 1000}


_AT = "() => (%s) ? performance.now() : false"


def interactive(browser: Any, url: str, services: int, runs: int) -> dict[str, Any]:
    """Navigation start -> the grid showing only the filtered service, in ms (median)."""
    wanted = f"svc-{services // 2:05d}"
    times, grid_times = [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(url + "/#/overview")
        # the page notes the time itself, at the first animation frame the condition holds
        # (Playwright's own waits poll with back-off: they would add up to 500 ms)
        grid_times.append(page.wait_for_function(_AT % "document.querySelector('th[scope=row]')",
                                                 polling="raf").json_value())  # fmt: skip
        page.get_by_label("Search services").fill(wanted)
        shown = (
            "document.querySelector('[role=status]').textContent.startsWith('Showing 1 of')"
            f" && document.querySelector('th[scope=row] .service').textContent === '{wanted}'"
        )
        times.append(page.wait_for_function(_AT % shown, polling="raf").json_value())
        context.close()
    return {
        "services": services,
        "runs": runs,
        "grid_ms": round(statistics.median(grid_times)),
        "filtered_ms": round(statistics.median(times)),
        "filtered_all_ms": [round(t) for t in times],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, nargs="+", default=[100, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not (BUNDLE / "index.html").is_file():
        print("the dashboard is not built: make install", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {"overview": []}
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        for n in args.services:
            root = Path(tmp) / f"repo-{n}"
            make_repo(root, n)
            with serve(root) as url:
                cold = _get_seconds(url + "/api/v1/overview")
                warm = _get_seconds(url + "/api/v1/overview")
                if "first_page_js" not in results:
                    results["first_page_js"] = first_page_js(browser, url)
                row = interactive(browser, url, n, args.runs)
                row["server_cold_s"] = round(cold, 2)
                row["server_warm_ms"] = round(warm * 1000, 1)
                compare = url + "/api/v1/compare?env=staging&env=prod"  # every service, page 1
                row["compare_cold_s"] = round(_get_seconds(compare), 2)
                row["compare_warm_ms"] = round(_get_seconds(compare) * 1000, 1)
                results["overview"].append(row)
        browser.close()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    js = results["first_page_js"]
    parts = ", ".join(f"{k} {v['gzip'] / 1000:.1f} KB" for k, v in js["files"].items())
    total = js["gzip_total"] / 1000
    print(f"first page JS (gzip -9): {total:.1f} KB of a {BUDGET_KB} KB budget ({parts})")
    print("| services | grid shown | filter answered | server overview cold | warm |")
    print("|---:|---:|---:|---:|---:|")
    for r in results["overview"]:
        print(
            f"| {r['services']} | {r['grid_ms']} ms | {r['filtered_ms']} ms | "
            f"{r['server_cold_s']} s | {r['server_warm_ms']} ms |"
        )
    print("| services | compare staging and prod, every service: cold | warm |")
    print("|---:|---:|---:|")
    for r in results["overview"]:
        print(f"| {r['services']} | {r['compare_cold_s']} s | {r['compare_warm_ms']} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`cfgctl analyze report`: a real config repository, the agent's audit log and metric files, made
into one HTML page; the page parsed, and looked at in Debian's Chromium."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from cfgctl.analyze import plots
from cfgctl.analyze.config import AnalyticsConfig, FilesSpec, Metric
from cfgctl.analyze.deliveries import read_deliveries
from cfgctl.analyze.plots import LINE_COLOURS, Line, Mark
from cfgctl.analyze.report import gather
from cfgctl.analyze.reportpage import correlation_section, render_page
from cfgctl.analyze.sources import FileSource
from tests.support.cli import run_cli
from tests.support.gitrepo import ConfigRepo
from tests.support.prometheus import LATENCIES, Prometheus
from tests.support.repos import make_small_repo

HOSTILE = "<script>alert(1)</script>"
ANALYTICS = f"""\
version: 1
source: {{files: {{folder: metrics}}}}
metrics:
  - {{name: latency, query: "{{service}}-{{env}}.csv#p99", direction: higher_is_worse, critical: true}}
  - name: errors
    query: "{{service}}-{{env}}.csv#{HOSTILE}"
    direction: higher_is_worse
"""
CHROMIUM = shutil.which("chromium")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


@dataclass
class World:
    repo: ConfigRepo
    commits: list[str]  # slow (to prod and staging), then fine (to staging)
    now: float

    @property
    def root(self) -> Path:
        return self.repo.workdir

    def report(self, *args: str, out: Path | None = None) -> tuple[int, str, Path]:
        out = out or self.root / "report.html"
        result = run_cli(
            "analyze", "report", "--audit", str(self.root / "state"), "--out", str(out), *args,
            cwd=self.root,
        )  # fmt: skip
        return result.exit_code, result.output, out


def _metrics(path: Path, start: float, end: float, shift_at: float | None, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = [f"time,p99,{HOSTILE}"]
    for t in np.arange(start, end, 30.0):
        p99 = rng.normal(100 + (40 if shift_at is not None and t >= shift_at else 0), 4)
        rows.append(f"{_iso(t)},{p99:.3f},{rng.poisson(3)}")
    path.write_text("\n".join(rows) + "\n")


def _world(tmp_path: Path, *, ago: float = 3 * 3600) -> World:
    """Two commits delivered `ago` seconds ago (the first slows payments@prod) and 1 h later."""
    repo = make_small_repo(tmp_path / "repo")
    first = str(repo.repo.head.target)
    slow = repo.commit(
        {"config/prod/payments.yaml": "host: prod.internal\ndb: {pool: 2}\n"},
        f"Shrink the pool {HOSTILE}",
    )
    fine = repo.commit({"config/staging/payments.yaml": "host: s.internal\n"}, "Staging host")
    repo.commit({"analytics.yaml": ANALYTICS}, "Analytics")
    now = time.time()
    delivered = now - ago
    (repo.workdir / "metrics").mkdir()
    _metrics(repo.workdir / "metrics/payments-prod.csv", now - 8 * 3600, now, delivered, 1)
    _metrics(repo.workdir / "metrics/payments-staging.csv", now - 8 * 3600, now, None, 2)
    entries = [
        (delivered, "payments@prod:/etc/p.yaml", first, slow),
        (delivered + 5, f"payments@staging:/etc/{HOSTILE}.yaml", first, slow),
        (delivered + 3600, f"payments@staging:/etc/{HOSTILE}.yaml", slow, fine),
    ]
    (repo.workdir / "state").mkdir()
    with (repo.workdir / "state/audit.jsonl").open("w") as log:
        for when, target, before, commit in entries:
            entry = {"time": _iso(when), "action": "apply", "target": target, "from": before,
                     "to": commit, "outcome": "ok", "wave": 1}  # fmt: skip
            log.write(json.dumps(entry) + "\n")
    return World(repo, [slow, fine], now)


class _Page(HTMLParser):
    """Tags, attributes and text of a page; fails on tags closed out of order."""

    VOID = frozenset({"meta", "br", "link", "img", "input", "hr", "col", "source"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check_page(text: str) -> _Page:
    page = _Page(text)
    assert page.open == [], page.open[-5:]
    assert not {"script", "iframe", "object", "embed", "link", "img"} & set(page.tags)
    assert "http://" not in text and "https://" not in text  # nothing to fetch, no namespace
    assert not [v for k, v in page.attrs if k in ("src", "href") and v and not v.startswith("#")]
    assert "<script" not in text.lower() and "javascript:" not in text.lower()
    return page


def test_a_report_of_a_real_repository_audit_log_and_metric_files(tmp_path: Path) -> None:
    world = _world(tmp_path)
    status, output, out = world.report("--since", "6h", "--window", "30m")
    assert status == 0, output
    assert f"{out}: 3 deliveries, 2 metric(s) in 4 plot(s)" in output
    text = out.read_text()
    page = _check_page(text)
    # one plot per metric and scope (payments@prod, payments@staging), each an inline SVG
    assert page.tags.count("svg") == 4
    assert text.count("<figure>") == 4
    words = " ".join(page.text)
    for commit in world.commits:
        assert commit[:7] in words
    assert re.search(r">\s*" + world.commits[0][:7] + r"\s*</text>", text)  # on the plot
    assert "Shrink the pool " + HOSTILE in words  # the commit's subject, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # the column, the target, the subject
    for verdict in ("regression", "no change", "inconclusive", "pass"):
        assert verdict in words
    # the slow commit regressed payments@prod: its latency row holds every number
    row = re.search(r"<td>latency</td><td><span class=\"v v-regression\">.*?</tr>", text)
    assert row is not None
    assert re.search(r"\+\d+(\.\d+)?</td><td class=\"num\">\[\d", row[0])  # effect, interval
    assert re.search(r'"num">6[01]/6[01]</td>', row[0])  # 30 min of a point every 30 s
    if importlib.util.find_spec("cfgctl.analyze.correlate") is None:
        assert "Correlation is not available in this version of cfgctl." in words
    else:  # the pool shrunk in prod, and latency rose there
        assert re.search(r"<td>latency</td><td>payments</td><td>db\.pool</td>", text)
    assert "prod.internal" not in text and "s.internal" not in text  # no configuration value


def test_matplotlib_is_imported_only_to_draw() -> None:
    """No module imports it at its top (cfgctl --version and every other command stay light:
    tests/cli/test_startup.py); plots.svg imports it when it draws."""
    import cfgctl.analyze
    import cfgctl.cli.commands

    files = [*Path(cfgctl.analyze.__file__).parent.glob("*.py"),
             Path(cfgctl.cli.commands.__file__).parent / "analyze.py"]  # fmt: skip
    for file in files:
        for node in ast.parse(file.read_text()).body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not [n for n in names if n.split(".")[0] == "matplotlib"], file


def test_the_page_is_the_same_for_the_same_input(tmp_path: Path) -> None:
    world = _world(tmp_path)
    config = AnalyticsConfig(
        "analytics.yaml",
        FilesSpec(world.root / "metrics"),
        (Metric(HOSTILE, "{service}-{env}.csv#p99", "higher_is_worse"),),
    )
    deliveries = read_deliveries(world.root / "state")
    source = FileSource(world.root / "metrics")

    def page() -> str:
        data = gather(
            deliveries, config, source, start=world.now - 6 * 3600, end=world.now,
            window=1800, now=world.now,
        )  # fmt: skip
        return render_page(data, subjects={world.commits[0]: HOSTILE}, ranking=None)

    first = page()
    assert first == page()
    _check_page(first)
    assert f'<h3 id="metric-0">{HOSTILE.replace("<", "&lt;").replace(">", "&gt;")}</h3>' in first
    assert "Correlation is not available." in first


def test_a_period_without_deliveries_still_gives_a_page(tmp_path: Path) -> None:
    world = _world(tmp_path, ago=7 * 3600)
    status, output, out = world.report("--since", "1h")
    assert status == 0, output
    text = out.read_text()
    _check_page(text)
    assert "No deliveries in this period: the agent's audit log has none there." in text
    assert "No deliveries in this period: nothing to judge." in text
    assert text.count("<svg") == 4  # the metrics are still drawn, for the targets of the log


def test_bad_out_folder_and_a_metrics_source_down(tmp_path: Path) -> None:
    world = _world(tmp_path)
    status, output, _ = world.report(out=world.root / "nowhere/report.html")
    assert status == 2 and "the folder" in output and "does not exist" in output
    assert "Traceback" not in output and not (world.root / "nowhere").exists()
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (world.root / "analytics.yaml").write_text(
        ANALYTICS.replace(
            "{files: {folder: metrics}}",
            f"{{prometheus: {{url: 'http://127.0.0.1:{port}', timeout: 2s}}}}",
        )
    )
    (world.root / "report.html").write_text("the old report\n")
    status, output, out = world.report()
    assert status == 3, output
    assert f"cannot reach Prometheus at http://127.0.0.1:{port}" in output
    assert out.read_text() == "the old report\n"
    assert [p.name for p in world.root.iterdir() if ".cfgctl-" in p.name] == []


def test_a_missing_metrics_file_spoils_only_its_plot(tmp_path: Path) -> None:
    world = _world(tmp_path)
    (world.root / "metrics/payments-staging.csv").unlink()
    status, output, out = world.report("--since", "6h", "--env", "staging")
    assert status == 0, output
    assert "problem(s), shown in it" in output
    text = out.read_text()
    _check_page(text)
    assert "payments-staging.csv: no such metrics file" in text
    assert text.count("<svg") == 0 and "2 deliveries of 2 commit(s) to 1 target(s)" in text


def test_the_correlation_section() -> None:
    ranking = [
        {"metric": "latency", "service": "payments", "key": HOSTILE, "changes": 4, "hits": 3,
         "rate": 0.75, "p_value": 0.0012},
    ]  # fmt: skip
    text = correlation_section(ranking)
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in text
    assert '<td class="num">75%</td><td class="num">0.0012</td>' in text
    assert "No key" in correlation_section([])
    assert "Correlation is not available" in correlation_section(None)
    assert "Correlation needs" in correlation_section("correlation needs the repository")


def _pixels(png: Path) -> tuple[tuple[int, int], np.ndarray]:
    from PIL import Image  # matplotlib's own dependency

    with Image.open(png) as image:
        return image.size, np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.mark.slow  # ~2.5 s: Chromium starts
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed: `make test` installs Debian's package "
    "(scripts/test-setup.sh, as root); or apt-get install chromium",
)
def test_the_page_in_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    world = _world(tmp_path)
    status, output, out = world.report("--since", "6h")
    assert status == 0, output
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'chromium'}", f"--screenshot={shot}",
         "--window-size=1280,2000", out.as_uri()],
        capture_output=True, timeout=90, check=True,
    )  # fmt: skip
    size, rgb = _pixels(shot)
    assert size == (1280, 2000)
    ink = np.any(rgb < 235, axis=2).mean()
    assert ink > 0.03, f"the page looks blank: {ink:.1%} of its pixels are not white"
    line = np.array([int(LINE_COLOURS[0][i : i + 2], 16) for i in (1, 3, 5)])
    near = np.all(np.abs(rgb - line) <= 12, axis=2).sum()
    assert near > 500, f"the plot line colour {LINE_COLOURS[0]} shows on {near} pixels only"


@pytest.mark.slow  # Prometheus' first scrape: ~7 s, shared with tests/analyze/test_prometheus.py
def test_a_report_from_prometheus_outside_a_repository(
    tmp_path: Path, prometheus: Prometheus
) -> None:
    (tmp_path / "analytics.yaml").write_text(
        "version: 1\n"
        f"source: {{prometheus: {{url: '{prometheus.url}'}}}}\n"
        "metrics:\n"
        "  - {name: latency, query: 'sample_latency_seconds{service={service}}', "
        "direction: higher_is_worse}\n"
    )
    weird = next(s for s in LATENCIES if '"' in s)
    (tmp_path / "state").mkdir()
    with (tmp_path / "state/audit.jsonl").open("w") as log:
        for i, service in enumerate(("payments", weird)):
            entry = {"time": _iso(time.time() - 20 + i), "action": "apply", "outcome": "ok",
                     "target": f"{service}@prod:/etc/x.yaml", "to": f"{i}abcdef" * 5}  # fmt: skip
            log.write(json.dumps(entry) + "\n")
    result = run_cli(
        "analyze", "report", "--audit", str(tmp_path / "state"), "--since", "2m",
        "--config", str(tmp_path / "analytics.yaml"), "--out", str(tmp_path / "r.html"),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 deliveries, 1 metric(s) in 2 plot(s)" in result.stdout
    text = (tmp_path / "r.html").read_text()
    _check_page(text)
    assert text.count("<svg") == 2
    assert "<b>we&quot;ird\\name</b>" in text  # the scope (the query names the service only)
    # the placeholder as a PromQL string (escaped there), then that escaped for HTML
    assert "sample_latency_seconds{service=&quot;we\\&quot;ird\\\\name&quot;}" in text
    assert "the window after the delivery ends in" in text  # too recent to judge
    if importlib.util.find_spec("cfgctl.analyze.correlate") is not None:
        assert "Correlation needs the config repository" in text


def test_a_long_series_is_drawn_small_and_many_deliveries_unlabelled() -> None:
    times = 1.7e9 + np.arange(200_000, dtype=np.float64)
    values = np.random.default_rng(3).normal(size=times.size)
    marks = tuple(Mark(float(t), f"c{i:06d}") for i, t in enumerate(times[::5000]))
    few = plots.svg(plots.Panel((Line("x", times, values),), marks[:3]), salt="a")
    many = plots.svg(plots.Panel((Line("x", times, values),), marks), salt="a")
    assert len(many) < 200_000  # 1,000 buckets, not 200,000 points
    assert "c000001" in few and "c000001" not in many and len(marks) > plots.MAX_LABELS
    assert few == plots.svg(plots.Panel((Line("x", times, values),), marks[:3]), salt="a")
    assert re.findall(r'id="(p[0-9a-f]+)"', few) != re.findall(
        r'id="(p[0-9a-f]+)"', plots.svg(plots.Panel((Line("x", times, values),)), salt="b")
    )  # another salt, other ids: two plots of one page keep their clip paths apart

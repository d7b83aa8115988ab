"""The documentation site (mkdocs.yml): `mkdocs build --strict` passes (every link and anchor
resolves, every page of docs/ is in the nav), and the walkthrough plays the casts of `make demo`
(docs/casts/, made by scripts/record-casts.sh) with the pinned asciinema player, none of them
holding a secret."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
CASTS = sorted((DOCS / "casts").glob("*.cast"))
PLAYER = "assets/asciinema-player/asciinema-player.min.js"

# One build, on one worker (scripts/test-setup.sh installs the player the hook copies; the
# session scope keeps the build when the worker runs other modules between these tests).
pytestmark = pytest.mark.xdist_group("docs-site")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


def _nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^  - [^:]+: (\S+\.md)$", nav, re.MULTILINE)


def test_every_page_of_docs_is_in_the_nav_and_built(site: Path) -> None:
    pages = _nav_pages()
    assert pages[:3] == ["index.md", "walkthrough.md", "guide.md"]
    assert sorted(pages) == sorted(p.name for p in DOCS.glob("*.md"))
    for page in pages:
        html = site / ("index.html" if page == "index.md" else f"{page[:-3]}/index.html")
        assert html.is_file(), page
        assert "<h1" in html.read_text(encoding="utf-8"), page
    assert (site / "search" / "search_index.json").is_file()


def test_the_walkthrough_plays_every_cast(site: Path) -> None:
    assert CASTS, "no docs/casts/*.cast: run make casts"
    page = (site / "walkthrough" / "index.html").read_text(encoding="utf-8")
    for cast in CASTS:
        assert f'<a class="cfgctl-cast" href="../casts/{cast.name}">' in page, cast.name
        assert (site / "casts" / cast.name).read_bytes() == cast.read_bytes()
    assert f'src="../{PLAYER}"' in page and 'src="../assets/casts.js"' in page
    assert 'href="../assets/asciinema-player/asciinema-player.css"' in page
    assert "AsciinemaPlayer.create(" in (site / "assets" / "casts.js").read_text(encoding="utf-8")


def test_the_player_is_the_pinned_npm_package(site: Path) -> None:
    pinned = json.loads((DOCS / "package.json").read_text())["dependencies"]["asciinema-player"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"pin an exact version, not {pinned}"
    lock = json.loads((DOCS / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/asciinema-player"]["version"] == pinned
    package = DOCS / "node_modules" / "asciinema-player"
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    bundle = package / "dist" / "bundle" / "asciinema-player.min.js"
    assert (site / PLAYER).read_bytes() == bundle.read_bytes()
    assert not (site / "node_modules").exists() and not (site / "package.json").exists()
    assert not (site / "hooks.py").exists()


def test_one_cast_per_chapter_of_the_demo() -> None:
    demo = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    chapters = re.findall(r"^chapter (\S+) ", demo, re.MULTILINE)
    assert sorted(chapters) == sorted(c.stem for c in CASTS), "run make casts"


@pytest.mark.parametrize("cast", CASTS, ids=lambda p: p.stem)
def test_cast_is_a_recording_without_secrets(cast: Path) -> None:
    text = cast.read_text(encoding="utf-8")
    assert "demo-Passw0rd-2026" not in text  # set through stdin in the demo
    assert "AGE-SECRET-KEY" not in text
    assert not re.search(r"cfgctl_[0-9a-f]{12}_", text), "an API token of cfgctl serve"
    assert not re.search(r"/tmp/(tmp\.|tmp[a-z0-9_]{8}|pytest-)", text), "a random temp path"
    header, *lines = text.splitlines()
    head = json.loads(header)
    assert head["version"] == 2 and head["width"] >= 80 and head["height"] >= 24
    assert head["title"] and head["idle_time_limit"] > 0
    events = [json.loads(line) for line in lines]
    times = [t for t, _, _ in events]
    assert events and times == sorted(times) and times[0] >= 0
    assert {kind for _, kind, _ in events} == {"o"}
    output = "".join(data for _, _, data in events)
    assert "$ cfgctl " in re.sub(r"\x1b\[[0-9;]*m", "", output)
    assert "@@cfgctl-chapter" not in output and "Traceback" not in output


def _cast_chapters() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "cast_chapters", ROOT / "scripts" / "cast_chapters.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_recording_is_cut_at_the_chapter_marks() -> None:
    split = _cast_chapters().split
    # a mark cut in two by the terminal, output before and after it in the same events
    events = [
        (0.5, "@@cfgctl-chapter one The first@@\r\n$ a\r\n"),
        (1.0, "x\r\n@@cfgctl-chap"),
        (1.25, "ter two The second@@\r\n$ b"),
        (3.0, "\r\ny\r\n"),
    ]
    one, two = split(events)
    assert (one.name, one.title, one.start) == ("one", "The first", 0.5)
    assert one.events == [(0.0, "$ a\r\n"), (0.5, "x\r\n")]
    assert (two.name, two.title, two.start) == ("two", "The second", 1.0)
    assert two.events == [(0.25, "$ b"), (2.0, "\r\ny\r\n")]

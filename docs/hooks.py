"""MkDocs hook (mkdocs.yml `hooks:`): the asciinema player of docs/walkthrough.md in the site.

The player is the npm package `asciinema-player`, pinned in docs/package.json and
docs/package-lock.json. When docs/node_modules lacks it, or the lock file is newer than the
installed packages, `npm ci` installs it (the only network a build may use); its standalone
script and stylesheet are then added to the site under assets/asciinema-player/, where
mkdocs.yml's extra_javascript and extra_css name them. docs/assets/casts.js mounts a player on
each link to a cast.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

DOCS = Path(__file__).resolve().parent
BUNDLE = DOCS / "node_modules" / "asciinema-player" / "dist" / "bundle"
INSTALLED = DOCS / "node_modules" / ".package-lock.json"
ASSETS = {
    "assets/asciinema-player/asciinema-player.min.js": "asciinema-player.min.js",
    "assets/asciinema-player/asciinema-player.css": "asciinema-player.css",
}


def install() -> None:
    """`npm ci` in docs/ when the player is missing or older than the lock file (also run by
    scripts/test-setup.sh before the tests, which build the site)."""
    lock = DOCS / "package-lock.json"
    fresh = INSTALLED.is_file() and INSTALLED.stat().st_mtime >= lock.stat().st_mtime
    if fresh and all((BUNDLE / name).is_file() for name in ASSETS.values()):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise PluginError(
            "docs/hooks.py: npm not found: the asciinema player (docs/package.json) cannot be "
            "installed; install Node.js 20 and npm, then run: npm ci --prefix docs"
        )
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=DOCS,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PluginError(
            f"docs/hooks.py: npm ci in docs/ failed (exit {done.returncode}):\n"
            f"{done.stderr.strip()}\nhint: run `npm ci --prefix docs` to see why"
        )


def on_files(files: Files, config: Any) -> Files:
    install()
    for uri, name in ASSETS.items():
        files.append(File.generated(config, uri, abs_src_path=str(BUNDLE / name)))
    return files

"""The built wheel behaves like the editable install: it carries the schemas and templates
cfgctl ships (the templates' .github/ folder included), and `cfgctl init` + `cfgctl validate`
work from it in a fresh virtual environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "cfgctl" / "server" / "dashboard"

pytestmark = pytest.mark.slow
PIP = (sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check")


def _tracked_sources(dest: Path) -> Path:
    """A copy of the files Git tracks (a build must not depend on what lies around, nor
    leave a build/ folder in the work tree)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = _tracked_sources(work / "src")
    if DASHBOARD.is_dir():  # built by make install (gitignored): a release is built after it
        shutil.copytree(DASHBOARD, src / DASHBOARD.relative_to(ROOT))
    out = work / "dist"
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("cfgctl-*.whl")
    return built


def test_the_wheel_carries_the_resources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "cfgctl" / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped, "cfgctl/resources/ is empty"
    assert shipped <= names, sorted(shipped - names)
    assert "cfgctl/resources/templates/default/.github/workflows/cfgctl.yml" in names
    assert not any(n.startswith("cfgctl/data/") for n in names)


def test_the_wheel_carries_the_built_dashboard(wheel: Path) -> None:
    if not (DASHBOARD / "index.html").is_file():
        pytest.skip("the dashboard is not built (make install runs scripts/build-web.sh)")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cfgctl/server/dashboard/index.html" in names
    assets = [n for n in names if n.startswith("cfgctl/server/dashboard/assets/")]
    assert any(n.endswith(".js") for n in assets) and any(n.endswith(".css") for n in assets)


def test_init_and_validate_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # The wheel goes in with no dependencies; those come from this test's own environment,
    # appended after the fresh site-packages, so that `cfgctl` itself is the wheel's copy.
    subprocess.run(
        [*PIP, "install", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}"

    def cfgctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "cfgctl", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    where = subprocess.run(
        [str(python), "-c", "import cfgctl; print(cfgctl.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(site)), where  # the wheel's copy, not the work tree's

    init = cfgctl("init", "repo")
    assert init.returncode == 0, init.stderr
    repo = tmp_path / "repo"
    assert (repo / ".github" / "workflows" / "cfgctl.yml").is_file()
    assert (repo / "cfgctl.yaml").is_file()
    validate = cfgctl("-C", "repo", "validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr

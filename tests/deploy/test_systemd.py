"""The systemd units: every one `cfgctl deploy render --for systemd` makes (the example's and
the variants') and the checked-in cfgctl-serve.service pass `systemd-analyze verify` without a
word, and `systemd-analyze security --offline=yes` rates each 2.5 or less.

This container runs no systemd as PID 1: both commands read the unit files offline. `verify`
also checks that ExecStart's program exists and is executable, so the units are checked with
ExecStart pointing at the cfgctl installed here (`--bin`, and the same substitution for the
serve unit); the checked-in agent unit differs from the verified one by that path only. All
units go through one call of each command (module-scoped)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.deployfiles import CHECKED_IN, EXAMPLE, STATIC_UNITS, write_variants

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is missing (systemd package)"
)

MAX_EXPOSURE = 2.5
CFGCTL = str(Path(sys.executable).parent / "cfgctl")
SCORE = re.compile(r"Overall exposure level for (\S+): (\d+(?:\.\d+)?)")


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args], capture_output=True, text=True, timeout=60, check=False
    )


def _render(agent_yaml: Path, folder: Path, name: str) -> Path:
    result = run_cli("deploy", "render", "--for", "systemd", str(agent_yaml), "--bin", CFGCTL)
    assert result.exit_code == 0, result.stderr
    path = folder / f"{name}.service"
    path.write_text(result.stdout)
    return path


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("units")
    out = [_render(EXAMPLE, folder, "cfgctl-agent")]
    out += [_render(path, folder, f"agent-{n}") for n, path in write_variants(folder).items()]
    for unit in STATIC_UNITS:
        text = unit.read_text().replace("/usr/local/bin/cfgctl", CFGCTL)
        (folder / unit.name).write_text(text)
        out.append(folder / unit.name)
    return out


@pytest.fixture(scope="module")
def scores(units: list[Path]) -> dict[str, float]:
    result = _analyze("security", "--offline=yes", *map(str, units))
    found = {name: float(score) for name, score in SCORE.findall(result.stdout)}
    assert set(found) == {u.name for u in units}, result.stdout + result.stderr
    return found


def test_units_verify_cleanly(units: list[Path]) -> None:
    result = _analyze("verify", *map(str, units))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # an unknown or misspelt setting is only a warning


def test_exposure_is_at_most_2_5(scores: dict[str, float]) -> None:
    worst = {name: score for name, score in scores.items() if score > MAX_EXPOSURE}
    assert worst == {}, f"over {MAX_EXPOSURE}: {worst} (systemd-analyze security --offline=yes)"


def test_the_checked_in_unit_is_the_verified_one_but_for_exec_start(units: list[Path]) -> None:
    verified = units[0].read_text()
    assert verified.replace(CFGCTL, "/usr/local/bin/cfgctl") == CHECKED_IN["systemd"].read_text()


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """A misspelt setting is reported by verify; a unit without a sandbox scores far above 2.5."""
    bare = tmp_path / "bare.service"
    bare.write_text(f"[Service]\nExecStart={CFGCTL} agent run\nProtectSystm=strict\n")
    verify = _analyze("verify", str(bare))
    assert "Unknown key 'ProtectSystm'" in verify.stderr
    security = _analyze("security", "--offline=yes", str(bare))
    [(_, score)] = SCORE.findall(security.stdout)
    assert float(score) > 9
    missing = tmp_path / "missing.service"
    missing.write_text("[Service]\nExecStart=/nonexistent/cfgctl agent run\n")
    verify = _analyze("verify", str(missing))
    assert verify.returncode != 0 and "/nonexistent/cfgctl" in verify.stderr

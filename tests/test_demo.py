"""`make demo` must keep working: its script runs here end to end."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the whole demo script

ROOT = Path(__file__).resolve().parent.parent


def test_demo_script_runs_the_whole_tour(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh"), str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "config/prod/payments.yaml:5:14: error: db.pool_size: expected integer" in out
    assert "refused: replicas = 0 would fail validation" in out
    assert out.count("ok: checked 12 files and 8 service/environment pairs; 0 errors") == 2
    assert "migrated search: web-service @1 -> @2" in out  # the example's migration file
    assert "Traceback" not in out
    assert "db.password: secret added" in out and "demo-Passw0rd-2026" not in out
    assert not (tmp_path / "demo" / "demo-age-key.txt").exists()
    # the agent delivered the merged change, and the running service picked it up
    assert "the service runs with db.pool_size = 40" in out
    assert "webhook answered 202" in out
    assert "the service now runs with db.pool_size = 60" in out
    assert "wave 1  in-sync" in out
    assert "secrets: 1 of 1 files opened with the keys at hand" in out  # the backup drill
    assert "ok: restore rehearsed in" in out
    assert '"password":"***"' in out  # the server's read, masked
    assert "the long poll answered 200 after" in out and "replicas = 8" in out
    # writes through the server: tokens, the author's own approval refused, bob's merge
    assert "without a token: HTTP 401" in out and "alice approving her own change: HTTP 403" in out
    assert "approved by bob: HTTP 200" in out and "change request 1 merged at" in out
    # an API token (cfgctl_<id>_<secret>) is shown once, to whoever made it: never here
    assert not re.search(r"cfgctl_[0-9a-f]{12}_", out)
    if shutil.which("prometheus"):  # the canary gate: a slower service rolled back, and why
        canaries = "\n".join(line for line in out.splitlines() if "canary" in line)
        # pool 60: no harm. Passed, or, on a machine too loaded to tell (the first test of a
        # fresh `make test`, beside three workers), inconclusive: judged again, then let
        # through or held. Never a regression.
        harmless = re.search(r"canary of \w+: (passed \(pass\)|proceeded|held)", out)
        assert harmless, canaries
        assert "the canary gate rolled it back: the service runs with db.pool_size = 60" in out
        assert "canary analysis: regression: critical metric latency regressed" in out
        assert "latency: regression: worse, and significant; effect +0.0" in out
    if shutil.which("etcd"):  # the fleet chapter ends with the commit's one trace
        trace = out[out.index("$ cfgctl trace") :]
        for name in ("cfgctl set", "fleet.publish", "agent.apply", "agent.health"):
            assert name in trace, name

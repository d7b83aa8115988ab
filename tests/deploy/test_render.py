"""`cfgctl deploy render`: the files follow agent.yaml (writable folders, port, probes, keys),
the checked-in files of deploy/ are exactly what it prints for deploy/agent.example.yaml, and
bad input is a clear error (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgctl.agent.config import load_agent_config
from cfgctl.deploy.kubernetes import daemonset, sidecar
from cfgctl.deploy.options import Options
from cfgctl.repo.yamlio import parse_all
from tests.support.cli import run_cli
from tests.support.deployfiles import CHECKED_IN, EXAMPLE, write_variants


@pytest.mark.parametrize("kind", sorted(CHECKED_IN))
def test_checked_in_files_are_what_render_prints(kind: str) -> None:
    result = run_cli("deploy", "render", "--for", kind, str(EXAMPLE))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == CHECKED_IN[kind].read_text(), (
        f"{CHECKED_IN[kind]} drifted from deploy/agent.example.yaml: run\n"
        f"  cfgctl deploy render --for {kind} deploy/agent.example.yaml "
        f"--out {CHECKED_IN[kind].parent.relative_to(EXAMPLE.parents[1])}"
    )


def test_out_writes_the_file(tmp_path: Path) -> None:
    result = run_cli("deploy", "render", "--for", "systemd", str(EXAMPLE), "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    written = tmp_path / "cfgctl-agent.service"
    assert f"wrote {written}" in result.stderr
    assert written.read_text() == CHECKED_IN["systemd"].read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["cfgctl-agent.service"]  # no temporary left


def test_the_unit_opens_exactly_the_folders_the_agent_writes(tmp_path: Path) -> None:
    variant = write_variants(tmp_path)["variant"]
    result = run_cli("deploy", "render", "--for", "systemd", str(variant), "--bin", "/opt/c/bin/c")
    assert result.exit_code == 0, result.stderr
    unit = result.stdout
    assert (
        'ReadWritePaths=/srv/cfgctl/state /srv/search /home/web/conf "/srv/web data/50%%"\n'
    ) in unit
    assert "StateDirectory" not in unit  # not under /var/lib
    assert "ProtectHome=read-only\n" in unit  # a target under /home stays reachable
    assert "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n" in unit  # port 443
    assert "ExecStart=/opt/c/bin/c agent run --config /etc/cfgctl/agent.yaml\n" in unit
    example = CHECKED_IN["systemd"].read_text()
    assert "StateDirectory=cfgctl-agent\n" in example
    assert "ReadWritePaths=/etc/payments\n" in example  # two targets, one folder
    assert "CapabilityBoundingSet=\n" in example and "ProtectHome=yes\n" in example


def test_a_target_under_tmp_keeps_the_host_tmp(tmp_path: Path) -> None:
    agent = tmp_path / "agent.yaml"
    agent.write_text(
        "source: {url: https://x/c.git}\nstate_dir: /var/lib/cfgctl-agent\n"
        "targets: [{service: a, env: prod, path: /tmp/a/a.yaml}]\n"
    )
    result = run_cli("deploy", "render", "--for", "systemd", str(agent))
    assert result.exit_code == 0, result.stderr
    assert "PrivateTmp=no\n" in result.stdout and "ReadWritePaths=/tmp/a\n" in result.stdout


def test_manifests_follow_the_agent_yaml(tmp_path: Path) -> None:
    variants = write_variants(tmp_path)
    options = Options(image="registry.example.com/cfgctl:9.9.9")
    variant = load_agent_config(variants["variant"])
    [_, deployment] = sidecar(variant, variants["variant"].read_text(), options)
    spec = deployment["spec"]["template"]["spec"]
    assert spec["shareProcessNamespace"] is True  # a signal reaches the application
    app, agent = spec["containers"]
    assert agent["image"] == "registry.example.com/cfgctl:9.9.9"
    probe = agent["livenessProbe"]["exec"]["command"]  # loopback: the kubelet cannot reach it
    assert "http://127.0.0.1:443/healthz" in probe[-1]
    assert agent["ports"] == [{"name": "http", "containerPort": 443, "protocol": "TCP"}]
    mounts = {m["mountPath"]: m for m in app["volumeMounts"]}
    assert mounts["/run/search"]["readOnly"] is False  # the application writes its pid there
    assert mounts["/srv/search"]["readOnly"] is True
    assert {m["mountPath"] for m in agent["volumeMounts"]} >= {
        "/srv/search",
        "/home/web/conf",
        "/run/search",
        "/srv/cfgctl/state",
        "/etc/cfgctl/deploy-key",
        "/srv/web data/50%",
    }
    quiet = load_agent_config(variants["quiet"])
    [_, daemon] = daemonset(quiet, variants["quiet"].read_text(), options)
    pod = daemon["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert "ports" not in container and "livenessProbe" not in container
    assert "hostNetwork" not in pod  # nothing to reach on the node's loopback
    assert {v["name"] for v in pod["volumes"]} == {"agent-yaml", "tmp", "state", "target-0"}


def test_the_config_map_holds_agent_yaml_as_it_is() -> None:
    docs = [d.data for d in parse_all(CHECKED_IN["kubernetes"].read_text(), "daemonset")]
    config_map, daemon = docs
    assert config_map["data"]["agent.yaml"] == EXAMPLE.read_text()
    pod = daemon["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True  # reload and health on the node's 127.0.0.1:9000
    [agent] = pod["containers"]
    assert agent["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8787}
    mounts = {m["mountPath"]: m["name"] for m in agent["volumeMounts"]}
    assert mounts["/etc/cfgctl/age.key"] == "age-key"
    assert mounts["/var/lib/cfgctl-agent"] == "state"
    host = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert host == {"state": "/var/lib/cfgctl-agent", "target-0": "/etc/payments"}


def _error(*args: str) -> str:
    result = run_cli("deploy", "render", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    assert "unknown --for 'helm'" in _error("--for", "helm", str(EXAMPLE))
    missing = tmp_path / "nope.yaml"
    assert f"{missing}: error: cannot read the agent configuration" in _error(
        "--for", "systemd", str(missing)
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("source: {url: x}\nstate_dir: /s\ntargets: 5\n")
    assert f"{broken}:3" in _error("--for", "kubernetes", str(broken))
    unclosed = tmp_path / "unclosed.yaml"
    unclosed.write_text("source: {url: x\n")
    assert str(unclosed) in _error("--for", "systemd", str(unclosed))
    relative = tmp_path / "relative.yaml"
    relative.write_text(
        "source: {url: https://x/c.git}\nstate_dir: state\n"
        "targets: [{service: a, env: prod, path: /etc/a.yaml}]\n"
    )
    message = _error("--for", "systemd", str(relative))
    assert f"{relative}:2" in message and "state_dir: 'state' is relative" in message
    variant = write_variants(tmp_path)["variant"]
    message = _error("--for", "kubernetes", str(variant))
    assert "search@staging:/srv/search/search.toml is reloaded by a signal" in message
    assert f"{variant}:5" in message  # the target's line


def test_an_unwritable_out_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    message = _error("--for", "systemd", str(EXAMPLE), "--out", str(blocker / "sub"))
    assert "cannot write" in message

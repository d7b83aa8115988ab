"""The agent's systemd unit, rendered from its agent.yaml: the sandbox opens exactly the folders
the agent writes (its state_dir and each target's folder) and nothing else.

    text = agent_unit(config, Options())     # cfgctl-agent.service

The unit runs as the dedicated user `cfgctl` (deploy/systemd/cfgctl-agent.sysusers.conf
creates it): the targets' folders must let that user create files in them, which a transient
DynamicUser= could not be given ahead of time. `systemd-analyze security --offline=yes` rates
the result 1.1 ("OK"; 1.3 with a port below 1024 and a target under /home);
tests/deploy/test_systemd.py holds it under 2.5.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from cfgctl.agent.config import AgentConfig
from cfgctl.deploy.options import HEADER, Options, target_folders

__all__ = ["agent_unit"]

_UNIT = """\
[Unit]
Description=cfgctl sync agent: delivers merged configuration to running services
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
ExecStart={exe} agent run --config {config}
# Tokens and secrets named by agent.yaml (source.token_env, webhook.secret_env,
# report.token_env): VAR=value lines, mode 0600, owned by root.
EnvironmentFile=-/etc/cfgctl/agent.env
User=cfgctl
Group=cfgctl
Restart=on-failure
RestartSec=5s
# Exit 2: agent.yaml is wrong; restarting does not help.
RestartPreventExitStatus=2
# SIGTERM finishes the current target within the grace period ({grace}s, agent.yaml).
TimeoutStopSec={stop}s
{writable}
"""

_SANDBOX = """\
ProtectSystem=strict
ProtectHome={home}
PrivateTmp={tmp}
PrivateDevices=yes
PrivateMounts=yes
PrivateUsers=yes
NoNewPrivileges=yes
CapabilityBoundingSet={caps}
AmbientCapabilities={caps}
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
KeyringMode=private
DevicePolicy=closed
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
UMask=0077

[Install]
WantedBy=multi-user.target
"""

_HOMES = ("/home", "/root", "/run/user")
_TMPS = ("/tmp", "/var/tmp")


def _quote(word: str) -> str:
    """`word` as one word of a unit file's setting: `%` doubled (systemd's specifiers), quoted
    when it holds white space, a quote or a backslash."""
    word = word.replace("%", "%%")
    if any(c.isspace() or c in "\"'\\" for c in word):
        word = '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def _under(path: PurePosixPath, roots: tuple[str, ...]) -> bool:
    return any(path == PurePosixPath(r) or PurePosixPath(r) in path.parents for r in roots)


def _writable(config: AgentConfig) -> tuple[str, list[PurePosixPath]]:
    """StateDirectory= for a state_dir under /var/lib (systemd makes it, owned by the user),
    ReadWritePaths= for the rest; and every path the agent writes."""
    state = PurePosixPath(config.state_dir)
    folders = [PurePosixPath(p) for p in target_folders(config)]
    lines = []
    rw = list(folders)
    if PurePosixPath("/var/lib") in state.parents:
        lines.append(f"StateDirectory={_quote(str(state.relative_to('/var/lib')))}")
        lines.append("StateDirectoryMode=0700")
    else:
        rw.insert(0, state)
    lines.append("# The state folder and the folders of the targets: nothing else is writable.")
    lines.append("ReadWritePaths=" + " ".join(_quote(str(p)) for p in rw))
    return "\n".join(lines), [state, *folders]


def agent_unit(config: AgentConfig, options: Options) -> str:
    """cfgctl-agent.service for `config` (agent.yaml installed at options.config_path)."""
    writable, paths = _writable(config)
    grace = int(config.grace_period.total_seconds())
    port = config.listen[1] if config.listen is not None else 0
    caps = "CAP_NET_BIND_SERVICE" if 0 < port < 1024 else ""
    head = _UNIT.format(
        exe=_quote(options.executable),
        config=_quote(options.config_path),
        grace=grace,
        stop=max(30, grace + 10),
        writable=writable,
    )
    sandbox = _SANDBOX.format(
        home="read-only" if any(_under(p, _HOMES) for p in paths) else "yes",
        tmp="no" if any(_under(p, _TMPS) for p in paths) else "yes",
        caps=caps,
    )
    return HEADER.format(kind="systemd", comment="#") + head + sandbox

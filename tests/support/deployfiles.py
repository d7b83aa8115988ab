"""The deployment files of tests/deploy/: the checked-in ones of deploy/, the example agent.yaml
they are rendered from, and agent.yaml variants that exercise each branch of the rendering."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
EXAMPLE = DEPLOY / "agent.example.yaml"

# --for -> the checked-in file rendered from EXAMPLE.
CHECKED_IN = {
    "systemd": DEPLOY / "systemd/cfgctl-agent.service",
    "kubernetes": DEPLOY / "kubernetes/cfgctl-agent-daemonset.yaml",
    "sidecar": DEPLOY / "kubernetes/cfgctl-agent-sidecar.yaml",
}
STATIC_UNITS = [DEPLOY / "systemd/cfgctl-serve.service"]
STATIC_MANIFESTS = [
    DEPLOY / "kubernetes/cfgctl-serve.yaml",
    DEPLOY / "kubernetes/cfgctl-publish-job.yaml",
]

# A second agent: state outside /var/lib, targets in two folders (one under /home), a privileged
# port on loopback, a signal reload with a pidfile, an SSH key, no webhook, a folder whose name
# holds a space and a `%` (quoted and escaped in the unit).
VARIANT = """\
source: {url: "git@github.com:acme/config.git", ssh_key: /etc/cfgctl/deploy-key}
http: {listen: "127.0.0.1:443"}
state_dir: /srv/cfgctl/state
targets:
  - {service: search, env: staging, path: /srv/search/search.toml, format: toml,
     reload: {signal: HUP, pidfile: /run/search/search.pid}}
  - {service: web, env: staging, path: /home/web/conf/web.env, format: env,
     health: {command: [/usr/local/bin/web-check]}}
  - {service: web, env: staging, path: "/srv/web data/50%/web.json", format: json}
"""

# An agent on an etcd source (docs/fleet.md), without a listen address (no port, no probes) or an
# age key.
QUIET = """\
source: {etcd: {endpoints: ["http://etcd-0.etcd:2379", "http://etcd-1.etcd:2379"], env: prod}}
state_dir: /var/lib/cfgctl-agent
targets:
  - {service: payments, env: prod, path: /etc/payments/config.yaml}
"""


def write_variants(folder: Path) -> dict[str, Path]:
    """name -> agent.yaml written into `folder`."""
    out = {}
    for name, text in (("variant", VARIANT), ("quiet", QUIET)):
        path = folder / f"{name}.yaml"
        path.write_text(text)
        out[name] = path
    return out

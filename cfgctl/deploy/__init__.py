"""Deployment files rendered from one agent.yaml: systemd units, Kubernetes manifests, a sidecar
(`cfgctl deploy render`), so that they never drift from the agent's configuration."""

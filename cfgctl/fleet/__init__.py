"""The fleet: configuration distributed through etcd to thousands of hosts.

`cfgctl fleet publish` writes each (service, env) of a commit under `<prefix>/v1/`, the head last;
agents and services watch it (docs/fleet.md).
"""

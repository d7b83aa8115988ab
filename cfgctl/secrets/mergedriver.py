"""Registration of cfgctl's Git merge driver for SOPS files in a repository.

install_merge_driver(root)  # .gitattributes and .git/config; returns .gitattributes' path
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.gitstore import GitStore

__all__ = ["ATTRIBUTE", "install_merge_driver"]

ATTRIBUTE = "*.secrets.yaml merge=cfgctl-sops"


def install_merge_driver(root: Path) -> Path:
    """Register `cfgctl secrets merge-driver` for *.secrets.yaml in the Git config of the
    repository holding `root`, and in its .gitattributes (kept as it is when already there)."""
    store = GitStore.open(root)
    command = f"{shlex.quote(sys.executable)} -m cfgctl secrets merge-driver %O %A %B %P"
    store.repo.config["merge.cfgctl-sops.name"] = "cfgctl: merge SOPS-encrypted secrets key by key"
    store.repo.config["merge.cfgctl-sops.driver"] = command
    attributes = (store.workdir or root) / ".gitattributes"
    text = attributes.read_text() if attributes.exists() else ""
    if ATTRIBUTE not in text.splitlines():
        separator = "" if not text or text.endswith("\n") else "\n"
        atomic_write(attributes, (text + separator + ATTRIBUTE + "\n").encode())
    return attributes

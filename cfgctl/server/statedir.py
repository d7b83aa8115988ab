"""Where `cfgctl serve` keeps its state (the token database, the audit log).

state_dir(None)            # $CFGCTL_STATE_DIR, else $XDG_STATE_HOME/cfgctl/server,
                           # else ~/.local/state/cfgctl/server
state_dir(Path("/var/lib/cfgctl"))   # an explicit --state-dir wins
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["STATE_DIR_ENV", "state_dir"]

STATE_DIR_ENV = "CFGCTL_STATE_DIR"


def state_dir(explicit: Path | None = None) -> Path:
    """The server's state directory (not made here: TokenStore.open makes it, mode 0700)."""
    if explicit is not None:
        return explicit
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "cfgctl" / "server"

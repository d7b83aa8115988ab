"""cfgctl: configuration as code. Layered YAML in Git, validated, reviewed and delivered.

from cfgctl import Snapshot
snap = Snapshot.from_worktree(Path("."))
rendered = snap.render("payments", "prod")
rendered.data["db"]["pool_size"], rendered.provenance(("db", "pool_size"))
"""

__version__ = "0.2.0"

from cfgctl.diagnostics import Diagnostic, Report
from cfgctl.errors import CfgctlError, CheckFailed, EnvError, InputError, Location
from cfgctl.snapshot import Layer, Provenance, Rendered, Snapshot

__all__ = [
    "CfgctlError",
    "CheckFailed",
    "Diagnostic",
    "EnvError",
    "InputError",
    "Layer",
    "Location",
    "Provenance",
    "Rendered",
    "Report",
    "Snapshot",
    "__version__",
]

"""cfgctl: configuration as code. Layered YAML in Git, validated, reviewed and delivered.

from cfgctl import Snapshot
snap = Snapshot.from_worktree(Path("."))
rendered = snap.render("payments", "prod")
rendered.data["db"]["pool_size"], rendered.provenance(("db", "pool_size"))

The public names are imported when first used (PEP 562), so that `import cfgctl.sdk` or
`cfgctl --version` does not load Git, YAML or JSON Schema.
"""

from __future__ import annotations

import importlib

from cfgctl._version import __version__

# Not typing's: `cfgctl --version` imports this package and typing costs it more than the rest.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cfgctl.diagnostics import Diagnostic, Report
    from cfgctl.errors import CfgctlError, CheckFailed, EnvError, InputError, Location
    from cfgctl.repo.render import Layer, Provenance, Rendered
    from cfgctl.repo.snapshot import Snapshot

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

_HOMES = {
    "Diagnostic": "cfgctl.diagnostics",
    "Report": "cfgctl.diagnostics",
    "CfgctlError": "cfgctl.errors",
    "CheckFailed": "cfgctl.errors",
    "EnvError": "cfgctl.errors",
    "InputError": "cfgctl.errors",
    "Location": "cfgctl.errors",
    "Layer": "cfgctl.repo.render",
    "Provenance": "cfgctl.repo.render",
    "Rendered": "cfgctl.repo.render",
    "Snapshot": "cfgctl.repo.snapshot",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cfgctl' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

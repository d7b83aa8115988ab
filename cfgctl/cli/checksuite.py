"""The checks `cfgctl validate` runs beyond schemas, files and pairs: the same list the server's
`GET /api/v1/validate` runs, composed in cfgctl.server.checksuite (the server answers the same
report, and sits below the CLI).

    report = validate_snapshot(snap, checks=repository_checks())
"""

from __future__ import annotations

from cfgctl.server.checksuite import repository_checks

__all__ = ["repository_checks"]

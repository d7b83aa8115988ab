"""The body of a configuration read, computed on the repository's thread.

    body = config_document(served, commit, "payments", "prod", provenance=True, reveal=False)

The effective configuration is what `cfgctl render` prints, checked the same way
(`render_checked`: a configuration that fails its schema is no answer, a 422 with the
diagnostics) and masked the same way (`masked`: `***` for every secret unless revealed).
Provenance names, for every leaf, the layer that set it (environment, file, line, column) and
the commit that last changed that line (`git blame` of the layer file at the commit read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cfgctl.errors import CfgctlError
from cfgctl.server.etag import encode
from cfgctl.server.problems import Problem

if TYPE_CHECKING:
    from cfgctl.repo.render import Layer, Rendered
    from cfgctl.repo.snapshot import Snapshot
    from cfgctl.server.repository import ServedRepo

__all__ = ["config_document"]


def config_document(
    served: ServedRepo,
    commit: str,
    service: str,
    env: str,
    *,
    provenance: bool,
    reveal: bool,
    checked: bool = True,
) -> bytes:
    """The JSON body of `GET /api/v1/config/{service}/{env}` at `commit`. Not `checked`
    (`?invalid=true`): a configuration that fails its schema is served all the same, its
    diagnostics in `errors` (a valid one is the same body as checked, hence the same ETag)."""
    from cfgctl.checks.render import render_checked
    from cfgctl.repo.masking import masked

    snap = served.snapshot(commit, reveal=reveal)
    served.check_pair(snap, service, env)
    try:
        result = render_checked(snap, service, env, reveal=reveal, validate=True)
    except CfgctlError as exc:
        raise Problem.from_error(exc) from None
    if result.problems and checked:
        raise Problem(
            "check-failed",
            f"{service}@{env} fails validation at {commit[:12]}; nothing is served",
            hint="fix the values listed in errors (`cfgctl validate` shows them too); "
            "?invalid=true serves it all the same, to fix it",
            extra={"errors": [d.to_dict() for d in result.problems]},
        )
    rendered = result.rendered
    doc: dict[str, Any] = {
        "service": service,
        "env": env,
        "schema": str(rendered.schema) if rendered.schema else None,
        "config": masked(rendered, reveal),
    }
    if result.problems:
        doc["errors"] = [d.to_dict() for d in result.problems]
    if provenance:
        doc["provenance"] = provenance_rows(snap, rendered)
    return encode(doc)


def provenance_rows(snap: Snapshot, rendered: Rendered) -> list[dict[str, Any]]:
    """For every leaf: key, path, env, layer kind, file, line, column, and the commit, author
    and date that last changed the line (None for a line no commit holds)."""
    from cfgctl.changes.history import blame_layers
    from cfgctl.repo.keypath import dotted_path

    rows: list[dict[str, Any]] = []
    lines: list[tuple[Layer, int]] = []
    for path, _value, prov in rendered.leaves():
        if prov is None:
            continue
        rows.append(
            {
                "key": dotted_path(path),
                "path": list(path),
                "env": prov.layer.env,
                "layer": prov.layer.kind,
                "file": prov.layer.path,
                "line": prov.line,
                "column": prov.column,
            }
        )
        lines.append((prov.layer, prov.line or 1))
    for row, blamed in zip(rows, blame_layers(snap, lines), strict=True):
        row.update(blamed.to_dict())
    return rows

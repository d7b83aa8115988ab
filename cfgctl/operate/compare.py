"""Effective configurations side by side: one row per key, each side's value and where it comes
from (the layer, file, line and column), and whether the sides agree. What the dashboard's
Compare page (and `GET /api/v1/compare`) shows.

    rows = compare_rendered([snap.render("payments", "staging"), snap.render("payments", "prod")])
    rows[0].to_dict()
    # {"key": "db.pool_size", "path": ["db", "pool_size"], "status": "differs", "secret": false,
    #  "cells": [{"present": true, "value": 10, "env": "base", "layer": "service",
    #             "file": "config/base/payments.yaml", "line": 4, "column": 14}, ...]}

Keys are the leaves of the mappings: a list, a scalar or an empty mapping is one value (as
`cfgctl promote` moves it). Secret values (`x-cfgctl-secret`, `writeOnly`, anything a
`.secrets.yaml` layer sets) are `***`, as every masked read shows them; they are compared by
what the reader holds (ciphertext when no key opens them): equal means `same`, unequal
`secret` (not known: two environments encrypt the same value differently), present on one
side only `differs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.masking import MASK
from cfgctl.repo.render import lookup
from cfgctl.repo.yamlio import same_data

if TYPE_CHECKING:
    from cfgctl.repo.render import Rendered
    from cfgctl.repo.yamlio import JsonPath

__all__ = ["CompareRow", "Status", "compare_rendered", "value_paths"]

Status = Literal["same", "differs", "secret"]


@dataclass(frozen=True)
class CompareRow:
    path: JsonPath
    status: Status
    secret: bool
    cells: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": dotted_path(self.path),
            "path": list(self.path),
            "status": self.status,
            "secret": self.secret,
            "cells": list(self.cells),
        }


def value_paths(data: Any, path: JsonPath = ()) -> Iterator[JsonPath]:
    """The path of every value: mappings are walked key by key, anything else (a list, a
    scalar, an empty mapping) is one value."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from value_paths(value, (*path, key))
    elif path:
        yield path


def _cell(rendered: Rendered, path: JsonPath) -> tuple[dict[str, Any], Any, bool]:
    """What one side shows for `path`, the value it holds (to compare) and whether it is a
    secret."""
    found, value = lookup(rendered.data, path)
    if not found or (isinstance(value, dict) and value):
        return {"present": False}, None, False
    secret = rendered.is_secret(path)
    cell: dict[str, Any] = {"present": True, "value": MASK if secret else value}
    prov = rendered.provenance(path)
    if prov is not None:
        cell.update(
            env=prov.layer.env,
            layer=prov.layer.kind,
            file=prov.layer.path,
            line=prov.line,
            column=prov.column,
        )
    return cell, value, secret


def _status(present: list[bool], values: list[Any], secret: bool) -> Status:
    if not all(present):
        return "differs"
    first = values[0]
    if all(same_data(first, v) for v in values[1:]):
        return "same"
    return "secret" if secret else "differs"


def compare_rendered(sides: Sequence[Rendered], *, everything: bool = True) -> list[CompareRow]:
    """One row per key any side has, in the order the sides first hold them; only the rows
    that are not `same` unless `everything`."""
    order: dict[JsonPath, None] = {}
    for rendered in sides:
        for path in value_paths(rendered.data):
            order.setdefault(path, None)
    rows: list[CompareRow] = []
    for path in order:
        cells, values, present, secret = [], [], [], False
        for rendered in sides:
            cell, value, is_secret = _cell(rendered, path)
            cells.append(cell)
            values.append(value)
            present.append(bool(cell["present"]))
            secret |= is_secret
        status = _status(present, values, secret)
        if everything or status != "same":
            rows.append(CompareRow(path, status, secret, tuple(cells)))
    return rows

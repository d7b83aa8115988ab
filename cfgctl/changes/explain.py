"""Where an effective value comes from: every layer that sets a key, in merge order.

explanation = explain_key(snap, "payments", "prod", "db.pool_size", blame=True)
explanation.rows[-1]["file"]  # the layer that wins
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cfgctl.errors import InputError
from cfgctl.repo.keypath import parse_key
from cfgctl.repo.masking import MASK

if TYPE_CHECKING:
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["Explanation", "explain_key"]


@dataclass(frozen=True)
class Explanation:
    service: str
    env: str
    key: str
    value: Any  # the effective value, MASK for a secret
    # {env, file, line, column, value, wins} (+ commit, author, date); for a mapping also
    # merged (this layer's mapping is merged into the result) and keys (the children whose
    # effective value this layer sets)
    rows: list[dict[str, Any]]
    blamed: bool = False
    merged: bool = False  # the effective value is a mapping: the layers merge key by key

    def to_list(self) -> list[dict[str, Any]]:
        return self.rows


def explain_key(snap: Snapshot, service: str, env: str, key: str, *, blame: bool) -> Explanation:
    """The layers setting `key` of `service` in `env`; secret values masked. With `blame`, the
    commit and author that last changed each line (None for a line not committed yet)."""
    rendered = snap.render(service, env)
    path = parse_key(key)
    setters = rendered.setters(path)
    if not setters:
        rendered.get(path)  # raises with a hint when the key does not exist at all
        raise InputError(
            f"no layer sets {key} itself; it is built from the keys under it",
            hint=f"ask for a key under it, e.g. `cfgctl render {service} --env {env}`",
        )
    secret = rendered.is_secret(path)
    final = rendered.get(path)
    rows: list[dict[str, Any]] = [
        {
            "env": layer.env,
            "file": loc.path,
            "line": loc.line,
            "column": loc.column,
            "value": MASK if secret or layer.secret else value,
            "wins": i == len(setters) - 1,
        }
        for i, (layer, value, loc) in enumerate(setters)
    ]
    merged = isinstance(final, dict)
    if merged:
        _mark_merged(rows, [value for _, value, _ in setters])
    if blame:
        from cfgctl.changes.history import blame_layers

        blamed = blame_layers(snap, [(layer, loc.line or 1) for layer, _, loc in setters])
        for row, b in zip(rows, blamed, strict=True):
            row.update(b.to_dict())
    shown = MASK if secret else final
    return Explanation(service, env, key, shown, rows, blamed=blame, merged=merged)


def _mark_merged(rows: list[dict[str, Any]], values: list[Any]) -> None:
    """Mappings merge: every mapping after the last value that replaced the key is merged into
    the result (none of them wins alone), and each child key comes from the last of them that
    sets it. Layers before a replacing value are overridden."""
    start = max((i + 1 for i, v in enumerate(values) if not isinstance(v, dict)), default=0)
    owner: dict[str, int] = {}
    for i in range(start, len(values)):
        owner.update(dict.fromkeys(map(str, values[i]), i))
    for i, row in enumerate(rows):
        row["wins"] = False
        row["merged"] = i >= start
        row["keys"] = [k for k, o in owner.items() if o == i]

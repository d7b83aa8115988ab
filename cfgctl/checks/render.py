"""Rendering for people: refuse what cannot be shown, and say why the result breaks its schema.

checked = render_checked(snap, "payments", "prod", reveal=False, validate=True)
checked.problems  # the schema errors of the effective configuration; show nothing if any
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cfgctl.errors import InputError

if TYPE_CHECKING:
    from cfgctl.diagnostics import Diagnostic
    from cfgctl.repo.render import Rendered
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["CheckedRender", "render_checked"]


@dataclass(frozen=True)
class CheckedRender:
    rendered: Rendered
    problems: list[Diagnostic]  # errors only; with any, nothing may be printed


def render_checked(
    snap: Snapshot, service: str, env: str, *, reveal: bool, validate: bool
) -> CheckedRender:
    """SERVICE in ENV rendered and (with `validate`) checked against its schema. Raises when
    `reveal` lacks a key, or when ENV is abstract (only inherited from) and `validate`."""
    from cfgctl.checks.pairs import validate_pair

    rendered = snap.render(service, env)
    if reveal and rendered.encrypted:
        from cfgctl.repo.masking import no_key_error

        raise no_key_error(rendered.encrypted[0].path)
    if snap.is_abstract(env) and validate:
        raise InputError(
            f"environment {env!r} is abstract: only inherited from, never used on its own",
            hint="render an environment that inherits it, or pass --no-validate to see it",
        )
    if not validate:
        return CheckedRender(rendered, [])
    verdict = validate_pair(snap, service, env, rendered)
    return CheckedRender(rendered, [d for d in verdict if d.severity == "error"])

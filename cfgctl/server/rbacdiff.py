"""What a change to rbac.yaml grants: for `cfgctl pr plan`, so that a reviewer sees new rights
before approving them.

    added_permissions(old, new)        # [Permission(subject, action, glob)], sorted
    added_by_change(base, head)        # the same between two revisions' rbac.yaml
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cfgctl.errors import InputError
from cfgctl.server.rbac import RBAC, Authorizer, Permission, glob_match, rbac_of

if TYPE_CHECKING:
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["added_by_change", "added_permissions"]


def _covers(old: str, new: str) -> bool:
    """Does glob `old` match everything glob `new` does? Sound, not complete: True only when
    sure (the same glob, `*`, or `*`-only globs where old matches new's text)."""
    if old in (new, "*"):
        return True
    if re.search(r"[?\[\]{}]", old + new):
        return False
    return glob_match(new, old)


def added_permissions(old: Authorizer | None, new: Authorizer | None) -> list[Permission]:
    """What `new` allows that `old` did not: for `cfgctl pr plan` on a change to rbac.yaml.
    A permission whose glob an old one of the same subject and action covers is not new."""
    if new is None:
        return []
    before = old.permissions() if old is not None else set()
    held: dict[tuple[str, str], list[str]] = {}
    for p in before:
        held.setdefault((p.subject, p.action), []).append(p.object)
    return sorted(
        p
        for p in new.permissions()
        if not any(_covers(o, p.object) for o in held.get((p.subject, p.action), ()))
    )


def added_by_change(base: Snapshot, head: Snapshot) -> list[Permission]:
    """`added_permissions` between two revisions' rbac.yaml, for `cfgctl pr plan`: [] when it
    did not change; a base whose rbac.yaml is broken counts as allowing nothing (so all that
    head allows is listed); a broken head raises InputError at its line."""
    old_ref, new_ref = base.files.get(RBAC), head.files.get(RBAC)
    if new_ref is None or (old_ref is not None and old_ref.oid == new_ref.oid):
        return []
    try:
        old = rbac_of(base)
    except InputError:
        old = None
    return added_permissions(old, rbac_of(head))

"""A recommendation written as a commit on a new branch, for a pull request: the work tree, the
index and the checked-out branch are not touched, and an existing branch is never moved.

    commit = propose_on_branch(snap, rec, "tune/payments-workers")

The value is set in config/ENV/SERVICE.yaml of HEAD as `cfgctl set` sets it (comments and order
kept, the result validated); the message names the evidence.
"""

from __future__ import annotations

from cfgctl.analyze.recommend import KeyModel, Recommendation
from cfgctl.editing.values import set_in_snapshot
from cfgctl.errors import InputError
from cfgctl.repo.keypath import parse_key
from cfgctl.repo.newbranch import check_new_branch, commit_on_new_branch
from cfgctl.repo.snapshot import Snapshot

__all__ = ["message_of", "propose_on_branch"]


def message_of(rec: Recommendation, m: KeyModel) -> str:
    """The commit message: what is set, and the evidence behind it."""
    lines = [
        f"{rec.service}@{rec.env}: {m.key} {m.current:g} -> {m.proposal} "
        f"(cfgctl analyze recommend, {rec.metric})",
        "",
        f"Evidence: {m.reason}.",
        f"Model: {m.model}, {len(m.points)} points of {m.distinct} values from "
        f"{len({p.commit for p in m.points})} deliveries, windows of {rec.window:g} s.",
    ]
    if m.expected is not None and m.interval is not None:
        lines.append(
            f"Expected {rec.metric}: {m.expected:.4g} (95% interval {m.interval[0]:.4g} to "
            f"{m.interval[1]:.4g})."
        )
    if m.effect is not None and m.effect_interval is not None:
        lines.append(
            f"Expected change from the current value: {m.effect:+.4g} "
            f"({m.effect_interval[0]:+.4g} to {m.effect_interval[1]:+.4g})."
        )
    lines += ["", "A proposal from past changes: review it, and watch `cfgctl analyze impact`."]
    return "\n".join(lines) + "\n"


def propose_on_branch(snap: Snapshot, rec: Recommendation, branch: str) -> str:
    """The commit of the recommendation on the new `branch`, on top of HEAD; its id."""
    m = rec.chosen
    if m is None or m.proposal is None:
        raise InputError(f"nothing to write on {branch}: {rec.reason}", hint="no branch made")
    if m.proposal == m.current:
        raise InputError(
            f"nothing to write on {branch}: {m.key} is {m.proposal} already",
            hint="no branch made",
        )
    store = snap.store
    if store is None or store.workdir is None:
        raise InputError("--branch needs a Git repository", hint="run it in a Git work tree")
    check_new_branch(store, branch)
    head = Snapshot.at(snap.root, "HEAD", session=snap.session)
    _, data = set_in_snapshot(head, rec.service, rec.env, parse_key(m.key), m.proposal)
    files = {head.git_prefix + f"config/{rec.env}/{rec.service}.yaml": data}
    rec.branch = branch
    rec.commit = commit_on_new_branch(store, branch, files, message_of(rec, m))
    return rec.commit

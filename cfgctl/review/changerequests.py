"""Change requests without a forge: a proposed commit, its reviews and its merge, kept in the
repository's own refs and judged by the same policy code as `cfgctl pr gate`.

    store = ChangeStore(GitStore.open(root), root)
    cr = store.open("payments: pool 60", "alice", "main", {"config/prod/payments.yaml": b"..."})
    store.review(cr.id, "bob", "approve")          # the author's own approval is refused
    judged = store.judge(cr.id, now=now)           # plan (impact, rules, risk) and verdict
    store.merge(cr.id, "bob", now=now)             # only when the verdict passes

Each change request `N` is two refs: `refs/cfgctl/changes/N/head`, the proposed commit (its
parent the tip of the base branch when it was opened), and `refs/cfgctl/changes/N/meta`, a chain
of commits whose tree holds `change.json` (title, author, base branch, state, reviews, merged
commit): every event (opened, approved, changes requested, rejected, merged) is one commit of
that chain, so the history of a change request is in Git and moves with a `git push --mirror`.
Numbers are given in order under a lock (`cfgctl-changes.lock` in the Git folder), and every
update of a change request holds it too.

The verdict is `review.approval.evaluate` over the plan of base...head (`review.plan.make_plan`),
the same code `pr gate` runs on a pull request: each reviewer's latest review counts, only
approvals of the current head count, the author's never does. A merge fast-forwards the base
branch when it has not moved, else makes a merge commit when the two merge cleanly (a conflict
refuses the merge); the branch moves with a compare-and-swap on its old tip, so a concurrent
push is never overwritten. Nothing else ever writes the base branch.

A store given `publish` (a callable that carries refs to a remote, e.g. the configuration
server's upstream: `publish(["refs/cfgctl/changes/3/head", ...])`) calls it, under the lock,
after each write with the refs it changed; when it raises, those refs are put back as they
were and the error goes up: nothing is kept here that the remote refused. A merge publishes
the base branch first (the remote may refuse it: moved since), then the change's record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pygit2
from filelock import FileLock, Timeout
from pygit2.enums import FileMode

from cfgctl.errors import CfgctlError, EnvError, InputError
from cfgctl.repo.gitstore import GitStore, default_signature
from cfgctl.repo.timespec import parse_instant, utc_iso
from cfgctl.repo.worktree import move_checked_out
from cfgctl.review.approval import Membership, PullRequestFacts, Review, Verdict, evaluate
from cfgctl.review.plan import Plan, make_plan
from cfgctl.review.policy import Policy
from cfgctl.telemetry import note_commit, with_trailer

__all__ = ["ChangeRequest", "ChangeStore", "Judged", "NotAllowed"]

PREFIX = "refs/cfgctl/changes/"
State = Literal["open", "merged", "rejected"]
Kind = Literal["approve", "request_changes", "comment"]
_REVIEW_STATES = {
    "approve": "APPROVED",
    "request_changes": "CHANGES_REQUESTED",
    "comment": "COMMENTED",
}


class NotAllowed(CfgctlError):
    """The action breaks a rule of the workflow (approving one's own change, merging what the
    policy has not approved): refused, nothing written."""

    exit_code = 1


@dataclass
class ChangeRequest:
    id: int
    title: str
    author: str
    base: str  # the branch it is to be merged into
    head: str  # the proposed commit
    opened: str  # ISO 8601
    state: State = "open"
    reviews: list[dict[str, Any]] = field(default_factory=list)  # user, state, commit, time
    merged: str | None = None  # the commit the base branch moved to
    closed_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def review_objects(self) -> tuple[Review, ...]:
        return tuple(
            Review(r["user"], r["state"], r["commit"], parse_instant(r["time"]))
            for r in self.reviews
        )


@dataclass
class Judged:
    change: ChangeRequest
    plan: Plan
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.change.to_dict(),
            "plan": self.plan.to_dict(),
            "verdict": self.verdict.to_dict(),
        }


def _nobody_is_a_member(team: str, user: str) -> bool:
    return False


class ChangeStore:
    """The change requests of one repository. `root`: the config repository's folder (where
    cfgctl.yaml is), for the plans."""

    def __init__(
        self,
        store: GitStore,
        root: Path,
        is_member: Membership = _nobody_is_a_member,
        *,
        use_cache: bool = True,
        publish: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self.store, self.root, self.is_member = store, root, is_member
        self.use_cache = use_cache  # the plans' disk cache (.cfgctl/cache); a server keeps none
        self.publish = publish  # carries changed refs elsewhere (see the module docstring)
        self.repo = store.repo
        self._lock = FileLock(str(Path(self.repo.path) / "cfgctl-changes.lock"), is_singleton=True)

    # --- reading ------------------------------------------------------------------------------

    def get(self, number: int) -> ChangeRequest:
        ref = self.repo.references.get(f"{PREFIX}{number}/meta")
        if ref is None:
            raise InputError(f"no change request {number}", hint="GET /api/v1/changes lists them")
        commit = self.repo[ref.target].peel(pygit2.Commit)
        blob = commit.tree["change.json"]
        data = json.loads(self.repo[blob.id].peel(pygit2.Blob).data)
        return ChangeRequest(**data)

    def numbers(self) -> list[int]:
        """The numbers of every change request, from the ref names alone."""
        return sorted(
            int(name[len(PREFIX) :].split("/")[0])
            for name in self.repo.references
            if name.startswith(PREFIX) and name.endswith("/meta")
        )

    def list(self, state: State | None = None) -> list[ChangeRequest]:
        found = [self.get(n) for n in self.numbers()]
        return [c for c in found if state is None or c.state == state]

    def judge(self, number: int, *, now: datetime) -> Judged:
        """The plan of the change (base tip...head) and the policy's verdict on its reviews."""
        change = self.get(number)
        base = str(self._branch_tip(change.base))
        plan = make_plan(self.root, base, change.head, use_cache=self.use_cache, now=now)
        facts = PullRequestFacts(
            change.author, change.head, (), change.review_objects(), change.id, change.title
        )
        verdict = evaluate(plan.policy or Policy(), plan.impact, facts, plan.owners,
                           self.is_member, now)  # fmt: skip
        return Judged(change, plan, verdict)

    # --- writing ------------------------------------------------------------------------------

    def open(
        self,
        title: str,
        author: str,
        base: str,
        files: Mapping[str, bytes | None],
        *,
        message: str | None = None,
        now: datetime | None = None,
        parent: str | None = None,
    ) -> ChangeRequest:
        """A new change request: `files` (paths from the top of the Git repository; None
        removes one) committed on the tip of `base`, or on `parent` (a commit of `base`: the
        one the files were computed from, so a branch that moved meanwhile is merged, not
        overwritten)."""
        if not title.strip():
            raise InputError("a change request needs a title", hint="say what it changes")
        tip = self._branch_tip(base)
        if parent is not None:
            tip = self._commit_of_branch(parent, base, tip)
        head = self._commit_files(tip, files, message or title, author)
        with self._locked():
            number = max(self.numbers(), default=0) + 1  # no change request read
            change = ChangeRequest(number, title, author, base, head, utc_iso(now or _now()))
            with self._published(f"{PREFIX}{number}/head", f"{PREFIX}{number}/meta"):
                self.repo.references.create(f"{PREFIX}{number}/head", pygit2.Oid(hex=head))
                self._save(change, f"opened by {author}: {title}", first=True)
        return change

    def review(
        self, number: int, user: str, kind: Kind, *, now: datetime | None = None
    ) -> ChangeRequest:
        """Record `user`'s review of the current head. The author may comment, never approve."""
        with self._locked():
            change = self._open_change(number)
            if kind == "approve" and user.casefold() == change.author.casefold():
                raise NotAllowed(
                    f"{user} opened change request {number}: nobody approves their own change",
                    hint="ask another reviewer the policy names",
                )
            state = _REVIEW_STATES[kind]
            when = utc_iso(now or _now())
            change.reviews.append(
                {"user": user, "state": state, "commit": change.head, "time": when}
            )
            with self._published(f"{PREFIX}{number}/meta"):
                self._save(change, f"{state.lower().replace('_', ' ')} by {user}")
        return change

    def reject(self, number: int, user: str) -> ChangeRequest:
        with self._locked():
            change = self._open_change(number)
            change.state, change.closed_by = "rejected", user
            with self._published(f"{PREFIX}{number}/meta"):
                self._save(change, f"rejected by {user}")
        return change

    def merge(self, number: int, user: str, *, now: datetime) -> ChangeRequest:
        """Merge into the base branch when the policy's verdict passes; `NotAllowed` with what
        is missing otherwise."""
        with self._locked():
            self._open_change(number)
            judged = self.judge(number, now=now)
            if not judged.verdict.passed:
                raise NotAllowed(
                    f"change request {number} cannot be merged: {judged.verdict.description}",
                    hint="it needs the approvals policy.yaml asks for (see its plan)",
                )
            change = judged.change
            ref_name = f"refs/heads/{change.base}"
            old = self._branch_tip(change.base)
            new = self._merged(old, change, user)
            with self._published(ref_name):
                # A work tree that has the branch checked out follows it (or the merge waits).
                move_checked_out(
                    self.repo, change.base, old, new,
                    move=lambda: _compare_and_swap(self.repo, ref_name, old, new),
                )  # fmt: skip
            change.state, change.merged, change.closed_by = "merged", str(new), user
            # The branch moved (here and there): the record says so even if its push fails.
            with self._published(f"{PREFIX}{number}/meta", keep=True):
                self._save(change, f"merged by {user} into {change.base} at {str(new)[:12]}")
        return change

    # --- the parts ----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._lock.acquire(timeout=10)
        except Timeout:
            raise EnvError(
                "another writer holds the change requests' lock for over 10 s",
                hint="try again in a moment",
            ) from None
        try:
            yield
        finally:
            self._lock.release()

    @contextmanager
    def _published(self, *names: str, keep: bool = False) -> Iterator[None]:
        """Run the block that writes the refs `names`, then publish them; when publishing
        fails, each is put back as it was before the block (removed when it was not there),
        unless `keep`."""
        before = {n: self.repo.references.get(n) for n in names}
        targets = {n: None if r is None else r.target for n, r in before.items()}
        yield
        if self.publish is None:
            return
        try:
            self.publish(list(names))
        except BaseException:
            for name, old in targets.items() if not keep else ():
                if old is None:
                    self.repo.references.delete(name)
                else:
                    self.repo.references.create(name, old, force=True)
            raise

    def _open_change(self, number: int) -> ChangeRequest:
        change = self.get(number)
        if change.state != "open":
            raise InputError(
                f"change request {number} is {change.state}", hint="open a new one to go on"
            )
        return change

    def _branch_tip(self, branch: str) -> pygit2.Oid:
        ref = self.repo.references.get(f"refs/heads/{branch}")
        if ref is None:
            raise InputError(f"no branch {branch!r}", hint="name the branch to merge into")
        return ref.peel(pygit2.Commit).id

    def _commit_of_branch(self, commit: str, base: str, tip: pygit2.Oid) -> pygit2.Oid:
        oid = pygit2.Oid(hex=commit)
        if oid != tip and not self.repo.descendant_of(tip, oid):
            raise InputError(
                f"{commit[:12]} is not a commit of {base}", hint="open it on the branch's tip"
            )
        return oid

    def _signature(self, who: str) -> pygit2.Signature:
        base = default_signature(self.repo)
        return pygit2.Signature(who, f"{who}@cfgctl", base.time, base.offset)

    def _commit_files(
        self, parent: pygit2.Oid, files: Mapping[str, bytes | None], message: str, author: str
    ) -> str:
        repo = self.repo
        index = pygit2.Index()
        index.read_tree(repo[parent].peel(pygit2.Commit).tree)
        for path, data in sorted(files.items()):
            if data is None:
                if path in index:
                    index.remove(path)
                continue
            mode = index[path].mode if path in index else FileMode.BLOB
            index.add(pygit2.IndexEntry(path, repo.create_blob(data), mode))
        tree = index.write_tree(repo)
        sig = self._signature(author)
        made = str(repo.create_commit(None, sig, sig, with_trailer(message), tree, [parent]))
        note_commit(made)
        return made

    def _merged(self, base_tip: pygit2.Oid, change: ChangeRequest, user: str) -> pygit2.Oid:
        head = pygit2.Oid(hex=change.head)
        if self.repo.descendant_of(head, base_tip) or head == base_tip:
            return head  # a fast-forward
        index = self.repo.merge_commits(base_tip, head)
        if index.conflicts is not None:
            paths = sorted({e.path for c in index.conflicts for e in c if e is not None})
            raise NotAllowed(
                f"change request {change.id} conflicts with {change.base}: {', '.join(paths)}",
                hint="open a new change request on the current tip",
            )
        tree = index.write_tree(self.repo)
        sig = self._signature(user)
        message = with_trailer(f"Merge change request {change.id}: {change.title}")
        merged = self.repo.create_commit(None, sig, sig, message, tree, [base_tip, head])
        note_commit(str(merged))
        return merged

    def _save(self, change: ChangeRequest, event: str, *, first: bool = False) -> None:
        repo = self.repo
        data = json.dumps(change.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
        builder = repo.TreeBuilder()
        builder.insert("change.json", repo.create_blob(data), FileMode.BLOB)
        tree = builder.write()
        ref_name = f"{PREFIX}{change.id}/meta"
        ref = repo.references.get(ref_name)
        parents = [] if first or ref is None else [ref.target]
        sig = self._signature("cfgctl")
        oid = repo.create_commit(None, sig, sig, event, tree, parents)
        repo.references.create(ref_name, oid, force=True)


def _compare_and_swap(repo: pygit2.Repository, name: str, old: pygit2.Oid, new: pygit2.Oid) -> None:
    """Move branch `name` from `old` to `new`, or refuse when it moved meanwhile (checked right
    before the move, under the change requests' lock; libgit2 locks the ref file for the write)."""
    ref = repo.references.get(name)
    if ref is None or ref.peel(pygit2.Commit).id != old:
        raise EnvError(f"{name} moved while the change was being merged", hint="merge it again")
    try:
        repo.references.create(name, new, force=True)
    except pygit2.GitError as exc:
        raise EnvError(f"cannot move {name}: {exc}", hint="is the repository writable?") from exc


def _now() -> datetime:
    return datetime.now(UTC)

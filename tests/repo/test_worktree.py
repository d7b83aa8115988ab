"""cfgctl.repo.worktree: a checked-out branch moved under a work tree (as by a server's merge)."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from cfgctl.errors import EnvError
from cfgctl.repo.worktree import move_checked_out

SIG = pygit2.Signature("t", "t@example.com")


def _commit(
    repo: pygit2.Repository, files: dict[str, bytes | None], parent: pygit2.Oid
) -> pygit2.Oid:
    """A commit of the parent's tree with `files` set (None: removed), the branch left alone."""
    index = pygit2.Index()
    index.read_tree(repo[parent].peel(pygit2.Tree))
    for path, data in files.items():
        if data is None:
            index.remove(path)
        else:
            index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
    return repo.create_commit(None, SIG, SIG, "next", index.write_tree(repo), [parent])


@pytest.fixture
def repo(tmp_path: Path) -> pygit2.Repository:
    repo = pygit2.init_repository(str(tmp_path / "w"), initial_head="main")
    for name, text in {"a.yaml": "a: 1\n", "gone.yaml": "g: 1\n"}.items():
        (tmp_path / "w" / name).write_text(text)
        repo.index.add(name)
    repo.index.write()
    repo.create_commit("HEAD", SIG, SIG, "first", repo.index.write_tree(), [])
    return repo


def _move(repo: pygit2.Repository, old: pygit2.Oid, new: pygit2.Oid) -> None:
    def move() -> None:
        repo.references.create("refs/heads/main", new, force=True)

    move_checked_out(repo, "main", old, new, move=move)


def test_the_work_tree_and_index_follow_the_branch(repo: pygit2.Repository) -> None:
    old = repo.head.peel(pygit2.Commit).id
    new = _commit(repo, {"a.yaml": b"a: 2\n", "gone.yaml": None, "sub/new.yaml": b"n: 1\n"}, old)
    (Path(repo.workdir) / "untracked.txt").write_text("mine")
    _move(repo, old, new)
    work = Path(repo.workdir)
    assert repo.head.peel(pygit2.Commit).id == new
    assert (work / "a.yaml").read_text() == "a: 2\n" and (work / "sub/new.yaml").exists()
    assert not (work / "gone.yaml").exists()
    assert (work / "untracked.txt").read_text() == "mine"
    assert repo.status() == {"untracked.txt": pygit2.enums.FileStatus.WT_NEW}


def test_edits_or_a_file_in_the_way_refuse_the_move(repo: pygit2.Repository) -> None:
    old = repo.head.peel(pygit2.Commit).id
    new = _commit(repo, {"a.yaml": b"a: 2\n", "new.yaml": b"n: 1\n"}, old)
    work = Path(repo.workdir)
    (work / "a.yaml").write_text("a: 99\n")
    with pytest.raises(EnvError, match="edits not committed"):
        _move(repo, old, new)
    assert repo.head.peel(pygit2.Commit).id == old and (work / "a.yaml").read_text() == "a: 99\n"
    (work / "a.yaml").write_text("a: 1\n")
    (work / "new.yaml").write_text("my own\n")
    with pytest.raises(EnvError, match="in the way"):
        _move(repo, old, new)
    assert repo.head.peel(pygit2.Commit).id == old and (work / "new.yaml").read_text() == "my own\n"


def test_another_branch_or_a_bare_repository_only_moves(
    repo: pygit2.Repository, tmp_path: Path
) -> None:
    old = repo.head.peel(pygit2.Commit).id
    new = _commit(repo, {"a.yaml": b"a: 2\n"}, old)
    (Path(repo.workdir) / "a.yaml").write_text("edited\n")
    moved: list[str] = []
    move_checked_out(repo, "other", old, new, move=lambda: moved.append("other"))
    bare = pygit2.clone_repository(repo.path, str(tmp_path / "b.git"), bare=True)
    move_checked_out(bare, "main", old, new, move=lambda: moved.append("bare"))
    assert moved == ["other", "bare"]
    assert (Path(repo.workdir) / "a.yaml").read_text() == "edited\n"

"""Real Git repositories for tests, committed with pygit2 under a fixed signature."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pygit2

SIGNATURE = pygit2.Signature("Test Author", "test@example.com", 1_700_000_000, 0)


@dataclass
class ConfigRepo:
    workdir: Path
    repo: pygit2.Repository

    @classmethod
    def init(cls, path: Path) -> ConfigRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = pygit2.init_repository(str(path), initial_head="main")
        return cls(path, repo)

    @classmethod
    def from_template(cls, path: Path, template: Path) -> ConfigRepo:
        shutil.copytree(template, path)
        repo = cls(path, pygit2.init_repository(str(path), initial_head="main"))
        repo.commit({}, "init", add_all=True)
        return repo

    def write(self, files: dict[str, str | bytes | None]) -> None:
        for rel, content in files.items():
            target = self.workdir / rel
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    def commit(
        self,
        files: dict[str, str | bytes | None],
        message: str,
        *,
        add_all: bool = False,
        author: pygit2.Signature = SIGNATURE,
    ) -> str:
        self.write(files)
        index = self.repo.index
        if add_all:
            index.add_all()
        for rel, content in files.items():
            if content is None:
                index.remove(rel)
            else:
                index.add(rel)
        index.write()
        tree = index.write_tree()
        parents = [] if self.repo.head_is_unborn else [self.repo.head.target]
        return str(self.repo.create_commit("HEAD", author, author, message, tree, parents))

    def read(self, rel: str) -> str:
        return (self.workdir / rel).read_text()

    def read_bytes(self, rel: str) -> bytes:
        return (self.workdir / rel).read_bytes()

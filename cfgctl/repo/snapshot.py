"""Snapshot: a read-only view of the config repository at one revision or in the work tree.

    snap = Snapshot.from_worktree(Path("."))        # walks up to cfgctl.yaml
    snap = Snapshot.at(Path("."), "HEAD~1")          # straight from Git objects, no checkout
    rendered = snap.render("payments", "prod")
    rendered.data                                     # the effective configuration
    rendered.provenance(("db", "port"))               # Provenance(layer=..., line=12, column=9)

The effective configuration of (service, env) is the deep merge, along the inheritance chain
(root first), of each environment's `_defaults.yaml`, then `<service>.yaml`, then
`<service>.secrets.yaml`: mappings merge key by key, anything else (lists, scalars, null) is
replaced by the later layer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.repo.cache import Cache
from cfgctl.repo.gitstore import FileRef, GitStore, OverlayFiles, TreeFiles
from cfgctl.repo.manifest import MANIFEST, Manifest, load_manifest
from cfgctl.repo.render import (
    Layer,
    Rendered,
    is_encrypted,
    layer_paths,
)
from cfgctl.repo.schemas import SchemaRef, SchemaRegistry
from cfgctl.repo.secretpaths import secret_paths
from cfgctl.repo.session import CACHE_DIR, Session
from cfgctl.repo.yamlio import Document, decode, parse

__all__ = ["CACHE_DIR", "Snapshot", "find_root"]

# What a snapshot reads; anything else in the repository is not configuration.
_READ_DIRS = ("config", "schemas", "templates")
_READ_FILES = (MANIFEST, "policy.yaml", ".sops.yaml", "analytics.yaml", "rbac.yaml")


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds cfgctl.yaml."""
    if not start.exists():
        raise InputError(f"{start} does not exist", hint="pass -C an existing folder")
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / MANIFEST).is_file():
            return folder
    raise InputError(
        f"no {MANIFEST} in {start} or any folder above it",
        hint="run cfgctl inside a config repository, pass -C DIR, or create one with `cfgctl init`",
    )


class Snapshot:
    """The config repository at one point; see the module docstring."""

    def __init__(
        self,
        root: Path,
        files: Mapping[str, FileRef],
        *,
        rev: str | None = None,
        commit: str | None = None,
        store: GitStore | None = None,
        cache: Cache | None = None,
        session: Session | None = None,
    ) -> None:
        self.root = root
        # What this snapshot shares with the others of its run (a diff's two sides, an edit's
        # trial): parsed manifests, decrypted secrets. Its own when none is given.
        self.session = session if session is not None else Session()
        self.files = files
        self.rev = rev
        self.commit = commit
        self.store = store
        self.cache = cache or Cache(None)
        self._docs: dict[str, Document] = {}
        self._pairs: list[tuple[str, str]] | None = None

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def from_worktree(
        cls, path: Path, *, use_cache: bool = True, session: Session | None = None
    ) -> Snapshot:
        """The files as they are on disk, under the repository root found from `path`."""
        root = find_root(path)
        session = session if session is not None else Session(use_cache=use_cache)
        store = GitStore.discover(root)
        if store is not None and os.environ.get("CFGCTL_READ_WORKTREE") != "all":
            overlay = store.worktree_files(root, _wanted, session.take_probe())
            if overlay is not None:
                cache = session.cache_for(root, use_cache)
                return cls(root, overlay, store=store, cache=cache, session=session)
        files: dict[str, FileRef] = {}
        for name in _READ_FILES:
            if (root / name).is_file():
                files[name] = FileRef.of_bytes(name, _read(root / name, name))
        for folder in _READ_DIRS:
            for dirpath, dirnames, filenames in os.walk(root / folder):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                rel_dir = Path(dirpath).relative_to(root).as_posix()
                for fname in filenames:
                    full = Path(dirpath, fname)
                    if fname.startswith(".") or not full.is_file():
                        continue
                    rel = f"{rel_dir}/{fname}"
                    files[rel] = FileRef.of_bytes(rel, _read(full, rel))
        cache = session.cache_for(root, use_cache)
        return cls(root, files, store=store, cache=cache, session=session)

    @classmethod
    def at(
        cls, path: Path, rev: str, *, use_cache: bool = True, session: Session | None = None
    ) -> Snapshot:
        """The files of commit `rev`, read from the object database without a checkout."""
        session = session if session is not None else Session(use_cache=use_cache)
        start = path.resolve()
        try:
            root: Path | None = find_root(start)
        except InputError:
            if GitStore.discover(start) is None:
                raise  # neither a config repository nor Git: say what is missing first
            root = None
        store = GitStore.open(start)
        root = root or store.workdir or start
        prefix = ""
        if store.workdir is not None and root.is_relative_to(store.workdir):
            prefix = root.relative_to(store.workdir).as_posix()
            prefix = "" if prefix == "." else prefix
        commit = store.commit_of(rev)
        files = store.files_of(commit, prefix)
        if MANIFEST not in files:
            raise InputError(
                f"revision {rev!r} ({str(commit.id)[:12]}) has no {prefix + '/' if prefix else ''}"
                f"{MANIFEST}",
                hint="name a revision of the config repository made after `cfgctl init`",
            )
        return cls(
            root,
            files,
            rev=rev,
            commit=str(commit.id),
            store=store,
            cache=session.cache_for(root, use_cache and store.workdir is not None),
            session=session,
        )

    @classmethod
    def open(
        cls,
        path: Path,
        rev: str | None = None,
        *,
        use_cache: bool = True,
        session: Session | None = None,
    ) -> Snapshot:
        if rev is None:
            return cls.from_worktree(path, use_cache=use_cache, session=session)
        return cls.at(path, rev, use_cache=use_cache, session=session)

    @property
    def git_prefix(self) -> str:
        """The config repository's folder in its Git repository, as `ops/cfg/` ('' at the root)."""
        workdir = self.store.workdir if self.store is not None else None
        if workdir is None or not self.root.is_relative_to(workdir) or self.root == workdir:
            return ""
        return self.root.relative_to(workdir).as_posix() + "/"

    @property
    def label(self) -> str:
        return f"{self.rev} ({self.commit[:12]})" if self.rev and self.commit else "work tree"

    def with_files(
        self, changes: Mapping[str, bytes | FileRef], *, cached: bool = True
    ) -> Snapshot:
        """This snapshot with `changes` in place, nothing written: the trial of an edit, sharing
        this one's session (and its disk cache unless `cached` is False). A work tree's overlay
        stays an overlay: nothing is listed."""
        refs = {
            rel: data if isinstance(data, FileRef) else FileRef.of_bytes(rel, data)
            for rel, data in changes.items()
        }
        files: Mapping[str, FileRef]
        if isinstance(self.files, OverlayFiles):
            files = OverlayFiles(self.files.base, {**self.files.changed, **refs})
        else:
            files = {**self.files, **refs}
        cache = self.cache if cached else None
        return Snapshot(self.root, files, store=self.store, cache=cache, session=self.session)

    # --- documents ----------------------------------------------------------------------------

    def document(self, path: str) -> Document:
        """The parsed file (cached in memory and, by blob id, on disk); `InputError` if broken."""
        if path in self._docs or self.load_cached(path):
            return self._docs[path]
        ref = self.files.get(path)
        if ref is None:
            raise InputError(f"{path} does not exist in {self.label}")
        doc = parse(ref.read(), path)
        self.keep(path, doc)
        return doc

    def load_cached(self, path: str) -> bool:
        """Load `path` from memory or the on-disk cache; False when it must be parsed."""
        if path in self._docs:
            return True
        ref = self.files.get(path)
        cached = self.cache.get("doc", ref.oid) if ref is not None else None
        if ref is None or not (isinstance(cached, dict) and "data" in cached):
            return False
        self._docs[path] = Document(
            path,
            lambda ref=ref: decode(ref.read(), ref.path),  # type: ignore[misc]
            cached["data"],
            [(tuple(p), str(m)) for p, m in cached.get("warnings", [])],
        )
        return True

    def adopt(self, path: str, doc: Document) -> None:
        """Use a document parsed elsewhere (by a worker process) for `path`."""
        self._docs[path] = doc

    def keep(self, path: str, doc: Document) -> None:
        """`adopt`, and remember the reading in the disk cache as `document` does."""
        ref = self.files[path]
        self.cache.put(
            "doc", ref.oid, {"data": doc.data, "warnings": [list(w) for w in doc.warnings]}
        )
        self._docs[path] = doc

    # --- the manifest and schemas -------------------------------------------------------------

    @cached_property
    def manifest_and_problems(self) -> tuple[Manifest | None, list[Any]]:
        """The manifest (None when it cannot be read) and every problem of it."""
        ref = self.files.get(MANIFEST)
        if ref is None:
            return self._load_manifest()
        # The other side of a diff, often: the session remembers manifests by blob id.
        known: Any = self.session.manifests.get_or_make(ref.oid, self._load_manifest)
        return known  # type: ignore[no-any-return]

    def _load_manifest(self) -> tuple[Manifest | None, list[Any]]:
        try:
            doc = self.document(MANIFEST)
        except CfgctlError as exc:
            from cfgctl.diagnostics import Diagnostic

            return None, [Diagnostic.from_error(exc, "yaml", Location(MANIFEST))]
        return load_manifest(doc, self.own_file_problems(MANIFEST, "cfgctl", doc))

    def own_file_problems(self, path: str, kind: str, doc: Document) -> list[Any]:
        """`doc`, the file at `path`, against cfgctl's schema of its `kind` (cfgctl, policy),
        cached by content: compiling a validator (and importing jsonschema) costs more than the
        rest of a small diff or `validate --changed-since`."""
        from cfgctl.diagnostics import Diagnostic
        from cfgctl.repo.builtin import check_own_file
        from cfgctl.repo.cache import FORMAT, digest

        key = digest(FORMAT, kind, self.files[path].oid)
        cached = self.cache.get("own-check", key)
        if isinstance(cached, list):
            try:
                return [Diagnostic.from_dict(d) for d in cached]
            except (KeyError, TypeError, ValueError):
                pass
        problems = check_own_file(doc, kind)
        self.cache.put("own-check", key, [p.to_dict() for p in problems])
        return problems

    @property
    def manifest(self) -> Manifest:
        """The manifest; `InputError` (with the first problem) when it is broken."""
        manifest, problems = self.manifest_and_problems
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            first = errors[0]
            raise InputError(
                f"{MANIFEST} is invalid: {first.message}",
                location=first.location,
                hint=first.hint or "run `cfgctl validate` to see every problem",
            )
        assert manifest is not None
        return manifest

    @cached_property
    def schemas(self) -> SchemaRegistry:
        return SchemaRegistry(
            self.files_under("schemas"), base_uri=self.root.as_uri() + "/", cache=self.cache
        )

    def files_under(self, folder: str) -> dict[str, FileRef]:
        """The files below `folder` of the repository, without listing the rest."""
        if isinstance(self.files, (TreeFiles, OverlayFiles)):
            return self.files.under(folder)
        return {p: f for p, f in self.files.items() if p.startswith(folder + "/")}

    def schema_of(self, service: str) -> SchemaRef:
        return self.schemas.resolve(self.manifest.service(service).schema)

    # --- rendering ----------------------------------------------------------------------------

    def layers(self, service: str, env: str) -> list[Layer]:
        """The files that exist and feed (service, env), in merge order."""
        out = []
        for name in self.manifest.chain(env):
            for path, kind in layer_paths(name, service):
                if path in self.files:
                    out.append(Layer(name, path, kind))
        return out

    def _layer_document(self, layer: Layer) -> Document:
        """A layer's document; an encrypted secrets layer decrypted (in memory) when a key at
        hand opens it, else as it is (its keys, with ciphertext values)."""
        doc = self.document(layer.path)
        if not (layer.secret and is_encrypted(doc.data)):
            return doc
        plain = self.session.decrypter.decrypted(self.files[layer.path])
        if plain is None:
            return doc
        return replace(doc, data=plain, warnings=[])

    def render(self, service: str, env: str) -> Rendered:
        """The effective configuration of `service` in `env`, with provenance; `InputError` for
        an unknown service or environment, a broken file or a broken schema."""
        manifest = self.manifest
        manifest.service(service)
        manifest.env(env)
        layers = self.layers(service, env)
        docs = [self._layer_document(layer) for layer in layers]
        for layer, doc in zip(layers, docs, strict=True):
            if doc.data is not None and not isinstance(doc.data, dict):
                raise InputError(
                    f"{layer.path} must hold a mapping of keys, not a {type(doc.data).__name__}",
                    location=doc.location(()),
                    hint="write the service's settings as `key: value` lines",
                )
        schema_ref = self.schema_of(service)
        problems = self.schemas.check(schema_ref)
        if problems:
            raise InputError(
                problems[0].message, location=problems[0].location, hint=problems[0].hint
            )
        rendered = Rendered(service, env, schema_ref, layers, docs)
        schema_doc = self.schemas.document(schema_ref.path)
        secrets = frozenset(
            secret_paths(
                schema_doc,
                rendered.data,
                self.schema_resolver(schema_ref),
                self.schemas.secret_memo,
            )
        )
        rendered.secret_paths = secrets
        return rendered

    def schema_resolver(self, ref: SchemaRef) -> Any:
        """Loads the schema files that `ref`'s `$ref`s name, relative to `ref`."""
        base = ref.path.rsplit("/", 1)[0] + "/"

        def resolve(target: str) -> Any:
            path = target
            if "://" in target:
                path = target.removeprefix(self.schemas.base_uri)
            else:
                path = os.path.normpath(base + target)
            if path not in self.files:
                raise InputError(f"no schema file {target}")
            return self.schemas.document(path)

        return resolve

    def is_abstract(self, env: str) -> bool:
        """An environment only inherited from: never validated or rendered on its own."""
        return _is_abstract(self.manifest, env)

    def pairs(self) -> list[tuple[str, str]]:
        """Every (service, env) with an effective configuration: abstract environments excluded."""
        if self._pairs is None:
            manifest = self.manifest
            cached: Any = self.session.pairs.get(id(manifest))
            if cached is None or cached[0] is not manifest:
                cached = self.session.pairs.put(id(manifest), (manifest, self._all_pairs()))
            self._pairs = cached[1]
        return self._pairs

    def has_pair(self, service: str, env: str) -> bool:
        """Whether (service, env) is one of `pairs()`, without listing them."""
        manifest = self.manifest
        return (
            service in manifest.services
            and env in manifest.environments
            and not _is_abstract(manifest, env)
        )

    def _all_pairs(self) -> list[tuple[str, str]]:
        manifest = self.manifest
        envs = [e for e in manifest.environments if not _is_abstract(manifest, e)]
        return [(s, e) for s in manifest.services for e in envs]


def _is_abstract(manifest: Manifest, env: str) -> bool:
    data = manifest.doc.data.get("environments", {}).get(env) or {}
    return isinstance(data, dict) and data.get("abstract") is True


def _wanted(rel: str) -> bool:
    return rel in _READ_FILES or rel.split("/", 1)[0] in _READ_DIRS


def _read(path: Path, rel: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read: {exc.strerror}", location=Location(rel), hint="check its permissions"
        ) from exc

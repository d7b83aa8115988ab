"""`Workset`: edits of a repository's layers held in memory, checked as a trial snapshot, and
written as bytes (secrets encrypted on the way out; plaintext never touches the disk).

    work = Workset(snap)
    set_in(work.plain_doc("config/base/payments.yaml"), ("db", "pool_size"), 10)
    work.secret_tree("config/base/payments.secrets.yaml")["token"] = "..."
    with work.trial() as trial:       # a Snapshot with every edit in place
        trial.render("payments", "prod")
    write_all(snap.root, {**work.plain_writes(), **work.encrypted()})
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from cfgctl.checks.credentials import check_credentials
from cfgctl.checks.validate import validate_snapshot
from cfgctl.diagnostics import DiagnosedFailure, Diagnostic
from cfgctl.errors import InputError
from cfgctl.repo import sops
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.masking import no_key_error
from cfgctl.repo.render import is_encrypted
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlwrite import dump_plain, dump_roundtrip, is_ambiguous, load_roundtrip
from cfgctl.secrets.rules import SopsConfig

__all__ = ["Workset", "yaml_value"]


class Workset:
    """Edits of a repository's layers in memory: plain layers as round-trip documents (comments
    kept), secrets layers as plaintext trees, encrypted only on the way out."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.plain: dict[str, tuple[Any, str]] = {}  # rel -> (document, text before)
        self.secret: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}  # other files written as they are (a schema, say)

    def plain_doc(self, rel: str) -> Any:
        if rel not in self.plain:
            ref = self.snap.files.get(rel)
            before = ref.read() if ref is not None else b""
            doc = load_roundtrip(before, rel) if before.strip() else None
            if doc is not None and not isinstance(doc, dict):
                raise InputError(f"{rel} does not hold a mapping", hint="fix the file first")
            text = before.decode("utf-8-sig", errors="replace")
            self.plain[rel] = (doc if doc is not None else CommentedMap(), text)
        return self.plain[rel][0]

    def secret_tree(self, rel: str) -> dict[str, Any]:
        if rel not in self.secret:
            tree: Any = {}
            ref = self.snap.files.get(rel)
            if ref is not None and ref.read().strip():
                if not is_encrypted(self.snap.document(rel).data):
                    raise InputError(
                        f"{rel} is not encrypted",
                        hint=f"encrypt it first: cfgctl secrets encrypt {rel}",
                    )
                tree = self.snap.session.decrypter.decrypted(ref)
                if tree is None:
                    raise no_key_error(rel)
            self.secret[rel] = copy.deepcopy(tree) if isinstance(tree, dict) else {}
        return self.secret[rel]

    def plain_writes(self) -> dict[str, bytes]:
        """Every file edited but the secrets layers, as bytes."""
        out = dict(self.files)
        for rel, (doc, before) in self.plain.items():
            if not doc and not before.strip():
                continue  # no file, and nothing to put in one
            after = dump_roundtrip(doc, like=before)
            if after != before:
                out[rel] = after.encode()
        return out

    @contextlib.contextmanager
    def trial(self) -> Iterator[Snapshot]:
        """The repository with every edit so far in place; secrets layers as stand-in blobs
        whose plaintext the session's decrypter holds while the trial lasts."""
        decrypter = self.snap.session.decrypter
        markers = {}
        for rel, tree in self.secret.items():
            marker = FileRef.of_bytes(
                rel, b"sops:\n  cfgctl-import: " + os.urandom(16).hex().encode() + b"\n"
            )
            decrypter.remember(marker.oid, tree)
            markers[rel] = marker
        try:
            yield self.snap.with_files({**self.plain_writes(), **markers}, cached=False)
        finally:
            for marker in markers.values():
                decrypter.forget(marker.oid)

    def encrypted(self) -> dict[str, bytes]:
        """Every secrets layer edited, encrypted by sops for its environment's recipients;
        `InputError` when .sops.yaml has no age keys for one."""
        out = {}
        rules = SopsConfig.load(self.snap.root) if self.secret else None
        for rel, tree in sorted(self.secret.items()):
            env = rel.split("/")[1]
            if rules is not None and not rules.recipients(env):
                raise InputError(
                    f"the change holds secrets for {env}, and .sops.yaml has no rule with age keys "
                    f"for {rel}: nothing written",
                    hint=f"add one: cfgctl secrets recipients add $(age public key) --env {env}",
                )
            out[rel] = sops.encrypt(dump_plain(tree).encode(), rel, self.snap.root)
        return out

    def check(self, envs: list[str], service: str, what: str) -> None:
        """DiagnosedFailure when the edits bring validation errors to an environment they feed."""
        snap = self.snap
        pairs = sorted(
            {
                (service, e)
                for env in envs
                for e in snap.manifest.children(env)
                if snap.has_pair(service, e)
            }
        )
        plain = sorted(self.plain_writes())
        scope = sorted(set(plain) | {layer.path for s, e in pairs for layer in snap.layers(s, e)})
        scope = [p for p in scope if p not in self.secret]
        before = {d.message for d in _errors(snap, pairs, scope)}
        with self.trial() as trial:
            new = [
                d
                for d in _errors(trial, pairs, scope)
                if d.code == "render" or d.message not in before
            ]
        if new:
            raise DiagnosedFailure(
                f"refused: {what} would fail validation ({len(new)} problem"
                f"{'s' if len(new) > 1 else ''}); nothing written",
                new,
                hint="fix the values, or the schema, and try again",
            )


def yaml_value(value: Any) -> Any:
    """Strings a YAML 1.1 reader would take for another type are written quoted; those holding
    Unicode's line breaks (NEL, LS, PS) double-quoted, where they are escaped."""
    if isinstance(value, str) and set(value) & {"\x85", "\u2028", "\u2029"}:
        return DoubleQuotedScalarString(value)
    if isinstance(value, str) and is_ambiguous(value):
        return SingleQuotedScalarString(value)
    if isinstance(value, dict):
        return {k: yaml_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [yaml_value(v) for v in value]
    return value


def _errors(snap: Snapshot, pairs: list[tuple[str, str]], files: list[str]) -> list[Diagnostic]:
    report = validate_snapshot(snap, pairs=pairs, files=files, checks=[check_credentials])
    wanted = set(pairs)
    return [d for d in report.errors if set(d.pairs) & wanted or d.location.path in files]

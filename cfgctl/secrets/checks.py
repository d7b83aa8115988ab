"""The sops-specific checks of `.secrets.yaml` files: encrypted with a valid MAC (when a key at
hand opens them), for the recipients that `.sops.yaml` names for their environment.

    report = validate_snapshot(snap, checks=[check_encrypted_files])

Verdicts are cached by blob id, the rule and the keys at hand; decryption happens in memory, in
parallel, through the snapshot's session.
"""

from __future__ import annotations

from typing import Any

from cfgctl.checks.protocol import config_files
from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import CfgctlError, Location
from cfgctl.repo import sops
from cfgctl.repo.cache import FORMAT, digest
from cfgctl.repo.decrypt import Decrypter, key_fingerprint
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.render import is_encrypted
from cfgctl.repo.snapshot import Snapshot
from cfgctl.secrets.operations import SECRET_FILE
from cfgctl.secrets.rules import SopsConfig

__all__ = ["check_encrypted_files"]


def check_encrypted_files(snap: Snapshot, only: set[str] | None = None) -> list[Diagnostic]:
    """Every .secrets.yaml (or those of `only`) encrypted, with a valid MAC and for the
    recipients of its environment's rule; a broken .sops.yaml."""
    out: list[Diagnostic] = []
    rules: SopsConfig | None
    try:
        rules = SopsConfig.load(snap.root) if snap.rev is None else None
    except CfgctlError as exc:
        out.append(Diagnostic.from_error(exc, "secrets", Location(".sops.yaml")))
        rules = None
    rules_id = repr(rules.data) if rules is not None else "-"
    files = config_files(snap, only)
    chosen = sorted(p for p in files if p.endswith(".secrets.yaml"))
    keys = key_fingerprint() if chosen else ""
    todo: list[tuple[str, str]] = []
    for rel in chosen:
        key = digest(FORMAT, "secret-check", rel, files[rel].oid, rules_id, keys)
        cached = snap.cache.get("secret-check", key)
        if isinstance(cached, list):
            out.extend(Diagnostic.from_dict(d) for d in cached)
        else:
            todo.append((rel, key))
    decrypter = snap.session.decrypter
    decrypter.prefetch([files[rel] for rel, _ in todo if _encrypted(snap, rel)])
    for rel, key in todo:
        found = _check_file(snap, rel, files[rel], rules, decrypter)
        snap.cache.put("secret-check", key, [d.to_dict() for d in found])
        out.extend(found)
    return out


def _encrypted(snap: Snapshot, rel: str) -> bool:
    try:
        return is_encrypted(snap.document(rel).data)
    except CfgctlError:
        return False


def _check_file(
    snap: Snapshot, rel: str, ref: FileRef, rules: SopsConfig | None, decrypter: Decrypter
) -> list[Diagnostic]:
    try:
        doc = snap.document(rel)
    except CfgctlError:
        return []  # reported by validate as a YAML problem
    return _check_encrypted(rel, ref, doc.data, rules, decrypter)


def _check_encrypted(
    rel: str, ref: FileRef, data: Any, rules: SopsConfig | None, decrypter: Decrypter
) -> list[Diagnostic]:
    where = Location(rel)
    if not data:
        return []
    if not is_encrypted(data):
        return []  # validate reports the plain-text secrets file (code secret-plaintext)
    out = []
    try:
        decrypter.decrypted(ref)
    except CfgctlError as exc:
        out.append(Diagnostic.from_error(exc, "secret-mac", where))
    if rules is not None:
        match = SECRET_FILE.match(rel)
        wanted = set(rules.recipients(match["env"])) if match else set()
        have = sops.age_recipients(data)
        if wanted and have != wanted:
            missing, extra = len(wanted - have), len(have - wanted)
            out.append(
                Diagnostic(
                    "error",
                    "secret-recipients",
                    f"encrypted for other recipients than .sops.yaml names for its environment "
                    f"({missing} missing, {extra} not in the rule)",
                    where,
                    hint=f"re-key it for the rule, from the repository root: sops updatekeys {rel}",
                )
            )
    return out

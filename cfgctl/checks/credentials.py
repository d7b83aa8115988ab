"""Credentials in plain files (config/ENV/*.yaml, not .secrets.yaml): a private key block, a
known token prefix, or a long random-looking value under a name like password or token. No sops
needed: a plain file is read as it is.

    why = looks_like_credential("api_token", "ghp_...")   # "an access token", or None
    diagnostics = check_credentials(snap, None)          # a RepositoryCheck
"""

from __future__ import annotations

import math
import re
from typing import Any

from cfgctl.checks.protocol import config_files
from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import CfgctlError
from cfgctl.repo.cache import FORMAT, digest
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import iter_leaves

__all__ = ["check_credentials", "looks_like_credential"]

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|AGE-SECRET-KEY-1[0-9A-Z]{20,}")
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|sk_live_[A-Za-z0-9]{20,}"
    r"|rk_live_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{20,})"
)
_SECRET_NAME = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)"
)


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_like_credential(key: str, value: Any) -> str | None:
    """Why a plain value looks like a credential, or None: a private key block, a known token
    prefix, or a long random-looking string under a name like password or token."""
    if not isinstance(value, str):
        return None
    if _PRIVATE_KEY.search(value):
        return "a private key"
    if _TOKENS.search(value):
        return "an access token"
    if (
        _SECRET_NAME.search(key)
        and len(value) >= 16
        and " " not in value
        and not value.startswith(("${", "{{", "ENC[", "vault:", "ref+", "http://", "https://"))
        and _entropy(value) >= 3.5
    ):
        return f"a random-looking value under {key!r}"
    return None


def check_credentials(snap: Snapshot, only: set[str] | None) -> list[Diagnostic]:
    """Every plain config file (or those of `only`) scanned for credentials; verdicts cached by
    blob id (under the key the secrets checks used before they were split)."""
    files = config_files(snap, only)
    out: list[Diagnostic] = []
    for rel in sorted(p for p in files if p.endswith(".yaml")):
        if rel.endswith(".secrets.yaml"):
            continue
        key = digest(FORMAT, "secret-check", rel, files[rel].oid)
        cached = snap.cache.get("secret-check", key)
        if isinstance(cached, list):
            out.extend(Diagnostic.from_dict(d) for d in cached)
            continue
        found = _scan(snap, rel)
        snap.cache.put("secret-check", key, [d.to_dict() for d in found])
        out.extend(found)
    return out


_CONFIG_FILE = re.compile(r"^config/(?P<env>[^/]+)/(?P<name>[^/]+)\.yaml$")


def _move_hint(rel: str, key: str) -> str:
    """The command that stores `key` of `rel` encrypted, with the file's real names."""
    match = _CONFIG_FILE.match(rel)
    env = match["env"] if match else "ENV"
    service = match["name"] if match and match["name"] != "_defaults" else "SERVICE"
    return (
        f"move it: `cfgctl secrets set {service} {key} --env {env}` (the value on stdin), "
        "remove it here, and rotate it: it is in Git history"
    )


def _scan(snap: Snapshot, rel: str) -> list[Diagnostic]:
    try:
        doc = snap.document(rel)
    except CfgctlError:
        return []  # reported by validate as a YAML problem
    out = []
    for path, value in iter_leaves(doc.data):
        why = looks_like_credential(str(path[-1]) if path else "", value)
        if why:
            out.append(
                Diagnostic(
                    "error",
                    "secret-scan",
                    f"{dotted_path(path)} looks like {why}, in a plain file",
                    doc.location(path),
                    path=dotted_path(path),
                    hint=_move_hint(rel, dotted_path(path)),
                )
            )
    return out

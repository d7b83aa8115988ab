"""What a backup records of the configuration at its head: a digest of the effective
configuration of every (service, env), the schema registry, and whether any secrets file in the
whole history is plain text.

    digests = config_digests(snap)         # {"payments": {"prod": "9f2c...", ...}, ...}
    registry = schema_registry(snap)       # names, versions, files and blob ids, digest
    plaintext_secrets(store, git_dir)      # [(path, blob id)] of .secrets.yaml files not encrypted

The digest of a pair is the SHA-256 of `cfgctl-pair-v1`, then the canonical JSON (sorted keys, no
spaces) of: the deep merge of its plain layers (`_defaults.yaml`, `SERVICE.yaml` along the
inheritance chain, as `render` merges them), and the path and blob id of each of its
`.secrets.yaml` layers. Secret values are never decrypted for it: a digest over plaintext could
be brute-forced for a low-entropy password, while the blob id of an encrypted file (a hash of
ciphertext with a random nonce) tells nothing. Any change of a secret re-encrypts its file, so it
changes the blob id and the digest all the same. A layer that does not parse counts by its blob
id too, so that a broken repository is still backed up and verified.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from cfgctl.checks.files import check_files
from cfgctl.diagnostics import Report
from cfgctl.errors import CfgctlError
from cfgctl.repo.render import is_encrypted, layer_paths, merge
from cfgctl.repo.yamlio import parse

if TYPE_CHECKING:
    from pathlib import Path

    from cfgctl.repo.gitstore import GitStore
    from cfgctl.repo.snapshot import Snapshot

__all__ = [
    "PAIR_DIGEST",
    "config_digests",
    "differences",
    "plaintext_secrets",
    "schema_registry",
    "total_digest",
]

PAIR_DIGEST = "cfgctl-pair-v1"
SECRETS_SUFFIX = ".secrets.yaml"


# What the layers of (service, env) along its chain give: the merged plain data, the secrets
# layers and the unreadable layers, each as [path, blob id].
_Merged = tuple[Any, list[list[str]], list[list[str]]]


def _merged(
    snap: Snapshot, service: str, chain: list[str], broken: set[str], memo: dict[str, _Merged]
) -> _Merged:
    """The layers of `service` along `chain` (root first), merged; the parent environment's
    result is reused (memo by environment), so a chain is merged once, not once per child."""
    env = chain[-1]
    if env in memo:
        return memo[env]
    data, secrets, unreadable = (
        _merged(snap, service, chain[:-1], broken, memo) if len(chain) > 1 else ({}, [], [])
    )
    secrets, unreadable = list(secrets), list(unreadable)
    for path, kind in layer_paths(env, service):
        ref = snap.files.get(path)
        if ref is None:
            continue
        if kind == "secrets":
            secrets.append([path, ref.oid])
            continue
        doc_data = None if path in broken else snap.document(path).data
        if path in broken or not isinstance(doc_data, (dict, type(None))):
            unreadable.append([path, ref.oid])
        elif doc_data is not None:
            data = merge(data, doc_data)
    memo[env] = (data, secrets, unreadable)
    return memo[env]


def _digest(merged: _Merged) -> str:
    data, secrets, unreadable = merged
    payload = {"data": data, "secrets": secrets, "unreadable": unreadable}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{PAIR_DIGEST}\n{text}".encode()).hexdigest()


def config_digests(snap: Snapshot) -> tuple[dict[str, dict[str, str]], str | None]:
    """The digest of every pair of `snap`, by service then environment; and, instead, why there
    are none when cfgctl.yaml cannot be read."""
    try:
        pairs = snap.pairs()
        manifest = snap.manifest
        chains = {env: manifest.chain(env) for env in {e for _, e in pairs}}
    except CfgctlError as exc:
        return {}, str(exc)
    # Every config file parsed once, on every core when there are many (and cached by blob id).
    broken = check_files(snap, Report())
    out: dict[str, dict[str, str]] = {}
    memo: dict[str, _Merged] = {}
    current = None
    for service, env in pairs:
        if service != current:  # one service's merges at a time in memory
            current, memo = service, {}
        merged = _merged(snap, service, chains[env], broken, memo)
        out.setdefault(service, {})[env] = _digest(merged)
    return out, None


def total_digest(digests: dict[str, dict[str, str]]) -> str:
    """One digest for the whole configuration: of every pair's, in order."""
    h = hashlib.sha256()
    for service in sorted(digests):
        for env in sorted(digests[service]):
            h.update(f"{service}@{env} {digests[service][env]}\n".encode())
    return h.hexdigest()


def differences(recorded: dict[str, dict[str, str]], found: dict[str, dict[str, str]]) -> list[str]:
    """The pairs whose digests differ, `service@env` with what differs, sorted."""
    flat_a = {(s, e): d for s, envs in recorded.items() for e, d in envs.items()}
    flat_b = {(s, e): d for s, envs in found.items() for e, d in envs.items()}
    out = []
    for key in sorted(flat_a.keys() | flat_b.keys()):
        name = f"{key[0]}@{key[1]}"
        if key not in flat_b:
            out.append(f"{name}: in the manifest, not in the bundle")
        elif key not in flat_a:
            out.append(f"{name}: in the bundle, not in the manifest")
        elif flat_a[key] != flat_b[key]:
            out.append(
                f"{name}: digest {flat_a[key][:12]} in the manifest, {flat_b[key][:12]} "
                "rendered from the bundle"
            )
    return out


def schema_registry(snap: Snapshot) -> dict[str, Any]:
    """The schemas of `snap`: every version's file and blob id, the services' pins, a digest."""
    registry = snap.schemas
    schemas = {
        name: {
            str(v): {"path": ref.path, "blob": registry.files[ref.path].oid}
            for v, ref in sorted(versions.items())
        }
        for name, versions in sorted(registry.versions.items())
    }
    try:
        services = {s: e.schema for s, e in sorted(snap.manifest.services.items())}
    except CfgctlError:
        services = {}
    return {"digest": registry.digest(), "schemas": schemas, "services": services}


def plaintext_secrets(store: GitStore, git_dir: Path) -> list[tuple[str, str]]:
    """(path, blob id) of every `.secrets.yaml` file, in any commit reachable from any ref,
    that is not SOPS-encrypted (or cannot be read to tell)."""
    from cfgctl.operate.backupgit import named_blobs

    found = []
    for path, oid in named_blobs(git_dir, SECRETS_SUFFIX):
        blob = store.repo.get(oid)
        if blob is None:
            continue  # a folder named *.secrets.yaml, or a submodule
        data = getattr(blob, "data", None)
        if not isinstance(data, bytes):
            continue
        try:
            tree = parse(data, path).data
        except CfgctlError:
            tree = "unreadable"
        if tree and not is_encrypted(tree):
            found.append((path, oid))
    return found

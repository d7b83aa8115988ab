"""The static proof of `scan-code --fix`: each moved value, read through the SDK from every
affected environment's rendered configuration, equals the literal it replaces, type included
(`30` is not `30.0`, `"1"` is not `1`).

    rendered, proofs = prove_values(trial, "payments", ["staging", "prod"], fields, by_key)

`rendered` holds each environment's configuration as YAML bytes, in memory only (it may hold
secrets): `--verify` hands it to the tests through a memory-backed file.
"""

from __future__ import annotations

from typing import Any

from cfgctl.codescan.findings import Finding
from cfgctl.codescan.modelgen import Field, KeyPath, build_model
from cfgctl.errors import CheckFailed
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlwrite import dump_plain
from cfgctl.sdk import loads

__all__ = ["prove_values"]


def _read(settings: Any, key: str) -> Any:
    value = settings
    for part in key.split("."):
        value = getattr(value, part)
    return value


def prove_values(
    trial: Snapshot,
    service: str,
    envs: list[str],
    fields: dict[KeyPath, Field],
    by_key: dict[str, Finding],
) -> tuple[dict[str, bytes], list[str]]:
    model = build_model(fields)
    rendered: dict[str, bytes] = {}
    proofs = []
    for env in envs:
        text = dump_plain(trial.render(service, env).data).encode()
        settings: Any = loads(text, model, source=f"{service}@{env}")
        for key, f in sorted(by_key.items()):
            value = _read(settings, key)
            if value != f.value or type(value) is not type(f.value):
                shown = "another secret" if f.kind == "secret" else repr(value)
                raise CheckFailed(
                    f"{service}@{env}: settings.{key} would read {shown}, the code's literal "
                    f"at {f.location} is {f.shown!r}: nothing written",
                    hint="an environment overrides the key: choose another key (--key ID=KEY)",
                )
        rendered[env] = text
        proofs.append(
            f"{service}@{env}: {len(by_key)} key{'s' * (len(by_key) != 1)} read through the SDK "
            "equal the literals they replace"
        )
    return rendered, proofs

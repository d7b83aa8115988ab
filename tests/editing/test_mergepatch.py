"""A JSON merge patch of one layer file (`cfgctl.editing.mergepatch`): RFC 7396 semantics,
comments and quoting kept, validated as `cfgctl set` validates, secrets refused; on a real
repository, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from cfgctl.diagnostics import DiagnosedFailure
from cfgctl.editing.mergepatch import SecretInPatch, patch_in_snapshot
from cfgctl.repo.snapshot import Snapshot
from tests.support.gitrepo import ConfigRepo

PROD = "config/prod/payments.yaml"


def _patch(repo: ConfigRepo, patch: dict[str, Any], env: str = "prod") -> tuple[Any, str]:
    snap = Snapshot.at(repo.workdir, "HEAD", use_cache=False)
    result, after = patch_in_snapshot(snap, "payments", env, patch)
    return result, after.decode()


def test_objects_merge_null_removes_and_comments_stay(example_repo: ConfigRepo) -> None:
    before = example_repo.read(PROD)
    result, after = _patch(
        example_repo, {"db": {"pool_size": 60, "host": None}, "features": {"refunds_v2": True}}
    )
    assert after.startswith("replicas: 6           # card traffic peaks at lunch time\n")
    assert "  pool_size: 60\n" in after and "payments-db.prod.internal" not in after
    assert after.endswith("features:\n  refunds_v2: true\n")
    assert (result.set, result.removed) == (["db.pool_size", "features.refunds_v2"], ["db.host"])
    assert result.changed and not result.created
    assert example_repo.read(PROD) == before  # nothing written


def test_equal_values_are_left_as_written_and_types_compare_strictly(
    example_repo: ConfigRepo,
) -> None:
    example_repo.commit(
        {PROD: example_repo.read(PROD) + 'tags: ["a", "b"]\nlabel: "on"\n'}, "quoted"
    )
    same, text = _patch(example_repo, {"replicas": 6, "label": "on", "tags": ["a", "b"]})
    assert not same.changed and same.set == []
    typed, text = _patch(example_repo, {"replicas": 6.0, "label": "yes", "tags": ["b"]})
    assert typed.set == ["replicas", "label", "tags"]
    assert "label: 'yes'" in text  # a string YAML 1.1 would read as a boolean stays a string


def test_a_new_layer_file_and_the_refusals(example_repo: ConfigRepo) -> None:
    created, text = _patch(example_repo, {"replicas": 3}, env="staging")
    assert created.created and created.path == "config/staging/payments.yaml"
    assert text == "replicas: 3\n"
    nothing, _ = _patch(example_repo, {"replicas": None}, env="staging")
    assert not nothing.changed
    with pytest.raises(DiagnosedFailure) as failed:
        _patch(example_repo, {"replicas": "many"})
    assert [d.path for d in failed.value.diagnostics] == ["replicas"]
    with pytest.raises(SecretInPatch) as secret:
        _patch(example_repo, {"db": {"password": "pl41n-v4lue"}})
    assert secret.value.keys == ["db.password"] and "pl41n" not in str(secret.value)


def test_keys_a_secrets_layer_sets_are_refused(example_repo: ConfigRepo) -> None:
    sops_like = "api:\n  key: ENC[AES256_GCM,data:xyz]\nsops:\n  version: 3.9.0\n"
    example_repo.commit({"config/prod/payments.secrets.yaml": sops_like}, "a secrets layer")
    for patch in ({"api": {"key": "plain"}}, {"api": "flat"}, {"api": {"key": {"x": 1}}}):
        with pytest.raises(SecretInPatch):
            _patch(example_repo, patch)

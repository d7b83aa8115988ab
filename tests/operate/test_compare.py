"""Effective configurations side by side (cfgctl.operate.compare): keys in order, lists as one
value, a mapping facing a scalar, the layer and line of each value, secrets masked and never
claimed equal when they cannot be compared."""

from __future__ import annotations

from typing import Any

from cfgctl.operate.compare import compare_rendered, value_paths
from cfgctl.repo.snapshot import Snapshot
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import set_secret


def _rows(repo: ConfigRepo, *envs: str, everything: bool = False) -> dict[str, Any]:
    snap = Snapshot.at(repo.workdir, "HEAD", use_cache=False)
    rendered = [snap.render("payments", env) for env in envs]
    return {
        r.to_dict()["key"]: r.to_dict() for r in compare_rendered(rendered, everything=everything)
    }


def test_value_paths_walk_mappings_only() -> None:
    data = {"a": {"b": 1, "c": [1, 2]}, "d": {}, "e": None}
    assert list(value_paths(data)) == [("a", "b"), ("a", "c"), ("d",), ("e",)]
    assert list(value_paths({})) == []


def test_lists_are_one_value_and_a_mapping_may_face_a_scalar(example_repo: ConfigRepo) -> None:
    example_repo.commit(
        {
            "config/staging/payments.yaml": "features: [a, b]\n",
            "config/prod/payments.yaml": "features: [a]\ndb: external\n",
        },
        "shapes",
    )
    rows = _rows(example_repo, "staging", "prod")
    assert rows["features"]["status"] == "differs"
    assert [c["value"] for c in rows["features"]["cells"]] == [["a", "b"], ["a"]]
    # staging's db is a mapping, prod's a string: each key of one side is absent on the other
    assert rows["db"]["cells"] == [
        {"present": False},
        {"present": True, "value": "external", "env": "prod", "layer": "service",
         "file": "config/prod/payments.yaml", "line": 2, "column": 5},
    ]  # fmt: skip
    assert rows["db.host"]["cells"][1] == {"present": False}
    everything = _rows(example_repo, "staging", "prod", everything=True)
    assert list(everything)[:2] == ["replicas", "server.host"]  # the first side's order
    assert everything["server.port"]["status"] == "same"


def test_secrets_are_masked_and_compared_by_what_the_reader_holds(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    set_secret(run_cli, secret_repo, "pw-prod-1f2e")
    secret_repo.commit({}, "a secret in prod", add_all=True)
    rows = _rows(secret_repo, "prod", "prod-eu", everything=True)
    password = rows["db.password"]
    # prod-eu inherits prod's secrets file: the same ciphertext, so the same value
    assert password["status"] == "same" and password["secret"] is True
    assert [c["value"] for c in password["cells"]] == ["***", "***"]
    assert password["cells"][0]["layer"] == "secrets"
    result = run_cli(
        "secrets", "set", "payments", "db.password", "--env", "prod-eu",
        input="pw-eu-9c8d-0a1b", cwd=secret_repo.workdir,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    secret_repo.commit({}, "another secret in prod-eu", add_all=True)
    rows = _rows(secret_repo, "prod", "prod-eu")
    assert rows["db.password"]["status"] == "secret"  # not known: never claimed equal
    assert "pw-" not in str(rows)

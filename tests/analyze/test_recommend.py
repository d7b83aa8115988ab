"""`cfgctl analyze recommend`: a value proposed from a real history of changes (Git commits the
agent delivered at known times, a latency series that follows the settings), or a plain no."""

from __future__ import annotations

import json

import pygit2
import pytest

from tests.analyze.world import SCHEMA, Settings, World, make_world
from tests.support.cli import run_cli

WORKERS: list[Settings] = [
    {"workers": 12},
    {"workers": 16, "log_level": "debug"},
    {"workers": 6},
    {"workers": 20},
    {"timeout_ms": 1200},
    {"workers": 10},
    {"workers": 24},
    {"workers": 4},
]


def _faster_with_workers(s: Settings) -> float:
    return 200.0 - 4.0 * float(s["workers"])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def monotone_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("monotone"), WORKERS, _faster_with_workers)


def _recommend(world: World, *args: str) -> tuple[int, str, str]:
    result = run_cli(
        "-C", str(world.root), "analyze", "recommend", "payments", "--env", "prod",
        "--metric", "latency", "--audit", str(world.audit), *args,
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def test_monotone_data_proposes_the_best_value_seen(monotone_world: World) -> None:
    status, stdout, stderr = _recommend(monotone_world, "--format", "json")
    assert status == 0, stderr
    data = json.loads(stdout)
    assert data["recommended"] is True and data["key"] == "workers" and data["proposal"] == 24
    chosen = data["chosen"]
    assert chosen["model"] == "monotone" and chosen["current"] == 4
    assert chosen["rho"] < -0.8 and chosen["p_value"] < 1e-3
    assert chosen["n"] == 14 and chosen["distinct"] == 8
    assert 100 < chosen["expected"] < 108
    assert chosen["interval"][0] <= chosen["expected"] <= chosen["interval"][1]
    assert -90 < chosen["effect"] < -70 and chosen["effect_interval"][1] < 0  # latency falls
    others = {k["key"]: k for k in data["keys"]}
    assert "too little history: 2 points" in others["timeout_ms"]["reason"]
    assert "log_level" not in others  # not a number
    text = _recommend(monotone_world)[1]
    assert "payments@prod, latency (higher_is_worse): set workers to 24 (now 4)" in text
    assert "why: higher values go with a lower latency (Spearman rho -0.9" in text
    assert data["branch"] is None


def test_the_proposal_stays_inside_the_schema(tmp_path_factory: pytest.TempPathFactory) -> None:
    world = make_world(tmp_path_factory.mktemp("clamp"), WORKERS, _faster_with_workers)
    tight = json.loads(json.dumps(SCHEMA))
    tight["properties"]["workers"]["maximum"] = 15
    world.repo.commit({"schemas/svc.schema.json": json.dumps(tight)}, "workers: at most 15")
    status, stdout, _ = _recommend(world, "--key", "workers", "--format", "json")
    data = json.loads(stdout)
    assert status == 0 and data["proposal"] == 15
    assert "the best value seen, 24, is outside the schema's bounds: 15 is" in data["reason"]
    assert data["chosen"]["bounds"]["maximum"] == 15 and data["chosen"]["bounds"]["type"] == [
        "integer"
    ]


def test_noise_gets_no_recommendation(tmp_path_factory: pytest.TempPathFactory) -> None:
    world = make_world(tmp_path_factory.mktemp("noise"), WORKERS, lambda s: 150.0, seed=3)
    status, stdout, _ = _recommend(world, "--format", "json")
    data = json.loads(stdout)
    assert status == 0 and data["recommended"] is False and data["proposal"] is None
    assert data["reason"] == "no key's history supports a recommendation"
    workers = next(k for k in data["keys"] if k["key"] == "workers")
    assert (
        workers["proposal"] is None and "no evidence the metric depends on it" in workers["reason"]
    )
    status, text, _ = _recommend(world, "--key", "workers")
    assert status == 0 and "no recommendation for workers: no evidence" in text


def test_a_curve_with_a_minimum_inside(tmp_path_factory: pytest.TempPathFactory) -> None:
    timeouts = [2700, 500, 2200, 1000, 2500, 1600, 800, 2000, 1300, 2900]

    def bowl(s: Settings) -> float:
        return 100.0 + 0.00005 * (float(s["timeout_ms"]) - 1600.0) ** 2  # type: ignore[arg-type]

    changes: list[Settings] = [{"timeout_ms": t} for t in timeouts]
    world = make_world(tmp_path_factory.mktemp("bowl"), changes, bowl)
    status, stdout, _ = _recommend(world, "--key", "timeout_ms", "--format", "json")
    chosen = json.loads(stdout)["chosen"]
    assert status == 0 and chosen["model"] == "gaussian process", chosen["reason"]
    assert 1300 <= chosen["proposal"] <= 1900 and chosen["proposal"] % 100 == 0
    assert chosen["effect"] < 0 and chosen["interval"][0] < chosen["expected"]


def test_branch_commits_the_proposal_and_leaves_the_current_branch(
    monotone_world: World,
) -> None:
    repo = monotone_world.repo.repo
    head = str(repo.head.target)
    before = monotone_world.repo.read("config/prod/payments.yaml")
    status, stdout, stderr = _recommend(monotone_world, "--branch", "tune/workers")
    assert status == 0, stderr
    assert "committed on branch tune/workers" in stdout
    assert str(repo.head.target) == head and repo.head.shorthand == "main"
    assert monotone_world.repo.read("config/prod/payments.yaml") == before
    commit = repo.revparse_single("tune/workers").peel(pygit2.Commit)
    assert str(commit.parents[0].id) == head
    blob = commit.tree["config/prod/payments.yaml"]
    text = repo[blob.id].peel(pygit2.Blob).data.decode()
    assert "workers: 24 # threads serving requests" in text  # the comment's column kept
    assert text.startswith("# payments in prod: tuned by hand\n")
    assert "workers 4 -> 24" in commit.message and "Spearman rho" in commit.message
    again = _recommend(monotone_world, "--branch", "tune/workers")
    assert again[0] == 2 and "branch 'tune/workers' exists already" in again[2]
    current = _recommend(monotone_world, "--branch", "main")
    assert current[0] == 2 and "exists already" in current[2]
    assert str(repo.head.target) == head


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "log_level"], "payments@prod log_level is not numeric"),
        (["--key", "workrs"], "did you mean 'workers'"),
        (["--window", "soon"], "--window soon: not a duration"),
    ],
)
def test_bad_input_is_exit_2(monotone_world: World, args: list[str], message: str) -> None:
    status, stdout, stderr = _recommend(monotone_world, *args)
    assert status == 2 and message in stderr and "Traceback" not in stdout + stderr


def test_unknown_service_env_or_metric(monotone_world: World) -> None:
    root, audit = str(monotone_world.root), str(monotone_world.audit)
    for args, message in [
        (["paymnts", "--env", "prod", "--metric", "latency"], "did you mean 'payments'"),
        (["payments", "--env", "qa", "--metric", "latency"], "qa"),
        (["payments", "--env", "prod", "--metric", "latncy"], "did you mean 'latency'"),
    ]:
        result = run_cli("-C", root, "analyze", "recommend", *args, "--audit", audit)
        assert result.exit_code == 2 and message in result.stderr, result.output

"""The head watcher and the single flight of answers, on a real repository and a real loop."""

from __future__ import annotations

import asyncio

import pytest

from cfgctl.server.longpoll import HeadWatcher, parse_wait
from cfgctl.server.problems import Problem
from cfgctl.server.repository import ServedRepo
from cfgctl.server.settings import ServerSettings
from tests.support.gitrepo import ConfigRepo


def _served(repo: ConfigRepo) -> ServedRepo:
    return ServedRepo.open(ServerSettings(repo=repo.workdir, insecure_local=True))


def test_one_ref_read_wakes_every_waiter_once_the_branch_moves(example_repo: ConfigRepo) -> None:
    served = _served(example_repo)

    async def scenario() -> list[str]:
        watcher = HeadWatcher(served.read_head, interval=60)  # polled by hand below
        woken: list[str] = []

        async def waiter() -> None:
            await watcher.changed.wait()
            woken.append(watcher.head)

        tasks = [asyncio.ensure_future(waiter()) for _ in range(100)]
        await asyncio.sleep(0)
        assert watcher.poll() is False  # nothing new: nobody wakes
        await asyncio.sleep(0)
        assert woken == []
        new = example_repo.commit({"config/staging/_defaults.yaml": "replicas: 1\n"}, "new")
        assert watcher.poll() is True
        await asyncio.gather(*tasks)
        assert watcher.poll() is False
        return [new, *woken]

    try:
        new, *woken = asyncio.run(scenario())
    finally:
        served.close()
    assert woken == [new] * 100


def test_concurrent_askers_share_one_computation_and_its_problem(
    example_repo: ConfigRepo,
) -> None:
    served = _served(example_repo)
    calls: list[str] = []

    def compute() -> str:
        calls.append("x")
        return "answer"

    def refuse() -> str:
        calls.append("p")
        raise Problem.not_found("no such thing")

    async def scenario() -> tuple[list[str], list[BaseException | str]]:
        answers = await asyncio.gather(*(served.once("k", compute) for _ in range(50)))
        again = await served.once("k", compute)
        refused = await asyncio.gather(
            *(served.once("p", refuse) for _ in range(20)), return_exceptions=True
        )
        await asyncio.gather(served.once("p", refuse), return_exceptions=True)
        return [*answers, again], refused

    try:
        answers, refused = asyncio.run(scenario())
    finally:
        served.close()
    assert answers == ["answer"] * 51
    assert all(isinstance(r, Problem) and r.kind == "not-found" for r in refused)
    assert calls == ["x", "p"]  # once each, for every asker, then kept


def test_wait_accepts_durations_within_the_limit() -> None:
    assert parse_wait("60s", 120) == 60
    assert parse_wait("500ms", 120) == 0.5
    assert parse_wait("2m", 120) == 120
    assert parse_wait("1.5", 120) == 1.5


@pytest.mark.parametrize("bad", ["", "-1s", "0", "121s", "soon", "1e9"])
def test_wait_refuses_the_rest(bad: str) -> None:
    with pytest.raises(Problem) as caught:
        parse_wait(bad, 120)
    assert caught.value.kind == "bad-request"

"""Many layers migrated on worker processes give what one process gives, refusals included."""

from __future__ import annotations

import pytest

from cfgctl.errors import InputError, Location
from cfgctl.operate.layeredit import PARALLEL_FROM, LayerJob, migrate_layer, migrate_layers
from cfgctl.operate.migration import Migration, Operation
from cfgctl.repo.yamlio import JsonPath, parse

HERE = Location("schemas/web.v2.migration.yaml", 4, 5)
MIGRATION = Migration(
    "web",
    1,
    2,
    HERE.path,
    (
        Operation("move", ("replicas",), HERE, to=("scale", "replicas")),
        Operation("rename", ("db", "pool_size"), HERE, to=("db", "pool_max")),
    ),
)
MOVED: dict[JsonPath, JsonPath] = {
    ("scale", "replicas"): ("replicas",),
    ("db", "pool_max"): ("db", "pool_size"),
}


def _job(i: int, text: str) -> LayerJob:
    """Every other layer read already by the caller; the rest read by the workers."""
    rel = f"config/prod/s{i}.yaml"
    read = parse(text, rel) if i % 2 else None
    return LayerJob(rel, text.encode(), read, (MIGRATION,), MOVED)


def test_workers_give_what_one_process_gives() -> None:
    jobs = [
        _job(i, f"# s{i}\nreplicas: {i % 7 + 1}  # per region\ndb:\n  pool_size: {i}\n")
        if i % 5
        else _job(i, "name: untouched\n")
        for i in range(PARALLEL_FROM + 20)
    ]
    migrated = migrate_layers(jobs)
    parallel = migrated.new
    serial = {job.rel: doc for job in jobs if (doc := migrate_layer(job)) is not None}
    assert sorted(parallel) == sorted(serial) and len(parallel) == len(jobs) - len(jobs) // 5
    for rel, doc in serial.items():
        assert parallel[rel].text == doc.text and parallel[rel].data == doc.data
    unread = [job for job in jobs if job.old is None]
    assert sorted(migrated.read) == sorted(job.rel for job in unread)
    for job in unread:  # what the workers read is handed back, as a parse in place gives it
        assert migrated.read[job.rel].data == parse(job.before, job.rel).data
    assert parallel["config/prod/s1.yaml"].text == (
        "# s1\ndb:\n  pool_max: 1\nscale:\n  replicas: 2  # per region\n"
    )


def test_a_refusal_in_a_worker_is_raised_with_its_location() -> None:
    jobs = [_job(i, f"replicas: {i}\n") for i in range(PARALLEL_FROM + 5)]
    jobs[PARALLEL_FROM] = _job(PARALLEL_FROM, "replicas: 1\nscale: {replicas: 2}\n")
    with pytest.raises(InputError, match="is set already") as caught:
        migrate_layers(jobs)
    assert caught.value.location == HERE

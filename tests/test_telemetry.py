"""cfgctl.telemetry's pieces that need no process: trace contexts, trailers, span files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from cfgctl._spanfile import SpanFiles, line
from cfgctl.agent.windows import commit_trailers
from cfgctl.telemetry import (
    Traceparent,
    read_traceparent_file,
    trailer_traceparent,
    with_trailer,
)

GOOD = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "garbage",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",  # no flags
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # version ff
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # zero span id
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",  # not hex
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        GOOD + " " * 200,  # too long to be one
        42,
    ],
)
def test_a_malformed_traceparent_is_refused_quietly(text: object) -> None:
    assert Traceparent.parse(text) is None


def test_a_traceparent_reads_and_prints_back() -> None:
    found = Traceparent.parse(f"  {GOOD.upper()}  ")
    assert found is not None and str(found) == GOOD
    assert (found.trace_id, found.span_id) == (
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
    )


def test_the_trailer_joins_an_existing_trailer_block() -> None:
    message = (
        "Raise the pool\n\nFor the sale.\n\nDeploy-After: 2026-12-01T02:00:00Z\nEmergency: true\n"
    )
    traced = with_trailer(message, GOOD)
    trailers = commit_trailers(traced)
    assert trailers == {
        "deploy-after": "2026-12-01T02:00:00Z",
        "emergency": "true",
        "traceparent": GOOD,
    }
    assert traced.startswith("Raise the pool\n\nFor the sale.\n\n")
    assert trailer_traceparent(traced) == GOOD
    # a second trace context replaces the first
    other = GOOD.replace("b7ad", "c8be")
    assert commit_trailers(with_trailer(traced, other))["traceparent"] == other
    assert with_trailer(traced, other).count("Traceparent:") == 1


def test_the_trailer_makes_a_block_of_its_own() -> None:
    assert with_trailer("Set replicas", GOOD) == f"Set replicas\n\nTraceparent: {GOOD}\n"
    # a last paragraph that is prose stays prose
    prose = "Subject\n\nNote: this is prose,\nnot a trailer block at all"
    assert commit_trailers(with_trailer(prose, GOOD)) == {"traceparent": GOOD}
    assert with_trailer("Subject", "broken") == "Subject"
    assert trailer_traceparent("Subject\n\nTraceparent: broken") is None


def test_the_traceparent_file_belongs_to_one_content(tmp_path: Path) -> None:
    target = tmp_path / "app.yaml"
    side = tmp_path / ".app.yaml.traceparent"
    content = b"replicas: 3\n"
    digest = "sha256:" + __import__("hashlib").sha256(content).hexdigest()
    side.write_text(json.dumps({"traceparent": GOOD, "commit": "ab" * 20, "digest": digest}))
    assert read_traceparent_file(target, content) == (GOOD, "ab" * 20)
    assert read_traceparent_file(target, b"replicas: 4\n") is None  # edited by hand since
    side.write_text("{not json")
    assert read_traceparent_file(target, content) is None
    side.write_text(json.dumps({"traceparent": "bad", "digest": digest}))
    assert read_traceparent_file(target, content) is None


def _span(n: int) -> dict[str, object]:
    return line(
        trace_id="ab" * 16,
        span_id=f"{n:016x}",
        parent_id=None,
        name="x" * 200,
        service="cfgctl-cli",
        start_ns=n,
        end_ns=n + 1,
    )


def test_span_files_rotate_and_stay_bounded(tmp_path: Path) -> None:
    files = SpanFiles(tmp_path, "cfgctl-cli", max_file=4096, max_total=16384)
    for n in range(400):
        assert files.write([_span(n)])
    written = sorted(tmp_path.glob("cfgctl-cli-*.jsonl"))
    assert len(written) > 2  # continued in .1, .2, ...
    assert all(p.stat().st_size <= 4096 for p in written)
    assert sum(p.stat().st_size for p in written) <= 16384
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in written)
    lines = [json.loads(row) for p in written for row in p.read_text().splitlines()]
    assert lines[-1]["span_id"] == f"{399:016x}"  # the newest are kept


def test_an_unwritable_folder_is_one_warning(tmp_path: Path) -> None:
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("cfgctl.telemetry")
    logger.addHandler(handler)  # the CLI's tests leave `cfgctl` not propagating to caplog
    try:
        blocker = tmp_path / "file"
        blocker.write_text("")
        files = SpanFiles(blocker / "traces", "cfgctl-agent")
        assert not files.write([_span(1)])
        assert not files.write([_span(2)])
    finally:
        logger.removeHandler(handler)
    assert len([m for m in seen if "cannot write span files" in m]) == 1
    assert not (blocker / "traces").exists()

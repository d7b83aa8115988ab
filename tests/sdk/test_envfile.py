"""`.env` files: what `cfgctl render --format env` writes reads back into the same model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cfgctl.repo.formats import env_lines
from cfgctl.sdk import load, loads
from cfgctl.sdk.envfile import env_name, parse_env
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo


@dataclass(frozen=True)
class Inner:
    name: str
    count: int = 0


@dataclass(frozen=True)
class Outer:
    inner: Inner
    inner_name: str = ""  # INNER_NAME both ways: the model decides, the nested field wins
    note: str | None = None
    flag: bool = False
    ratio: float = 0.0
    words: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def test_env_name_matches_render() -> None:
    assert env_name(("db", "pool_size")) == "DB_POOL_SIZE"
    assert env_name(("feature-flags", "new.ui")) == "FEATURE_FLAGS_NEW_UI"
    assert env_lines({"feature-flags": {"new.ui": 1}}) == ["FEATURE_FLAGS_NEW_UI=1"]


def test_the_model_decides_what_a_name_means() -> None:
    data, lines = parse_env("INNER_NAME=x\nINNER_COUNT=3\nNOTE=\nUNKNOWN=1\n", "a.env", Outer)
    assert data == {"inner": {"name": "x", "count": "3"}, "note": None, "unknown": "1"}
    assert lines[("inner", "count")] == 2


def test_comments_export_quotes_and_empty_values() -> None:
    text = (
        "# a comment\n"
        "\n"
        "export INNER_NAME='it''s'  # inline comment\n"
        'WORDS=\'["a b", "c"]\'\n'
        "COUNTS={}\n"
        "COUNTS_X=2\n"
        "FLAG=true\n"
        "RATIO=0.5\n"
        "NOTE=''\n"
    )
    outer = loads(text, Outer, format="env")
    assert outer == Outer(
        inner=Inner("its"),
        flag=True,
        ratio=0.5,
        words=["a b", "c"],
        counts={"x": 2},
        note=None,
    )


def test_a_quoted_value_may_span_lines() -> None:
    outer = loads("INNER_NAME='line one\nline two'\nINNER_COUNT=1\n", Outer, format="env")
    assert outer.inner == Inner("line one\nline two", 1)


_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=30)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    name=_text,
    count=st.integers(-(10**12), 10**12),
    note=st.none() | _text.filter(bool),
    flag=st.booleans(),
    ratio=st.floats(allow_nan=False, allow_infinity=False),
    words=st.lists(_text, max_size=3),
    counts=st.dictionaries(st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True), st.integers()),
)
@example(name="a\rb\x85c\u2028", count=0, note="#x", flag=False, ratio=1e16, words=[], counts={})
def test_render_env_reads_back(
    name: str,
    count: int,
    note: str | None,
    flag: bool,
    ratio: float,
    words: list[str],
    counts: dict[str, int],
) -> None:
    # Mapping keys are lower case: render upper-cases them, so their case cannot come back.
    outer = Outer(Inner(name, count), "", note, flag, ratio, words, counts)
    data: Any = dataclasses.asdict(outer)
    del data["inner_name"]  # render refuses two keys giving one variable name
    text = "".join(line + "\n" for line in env_lines(data))
    assert loads(text, Outer, format="env") == outer


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    timeout_seconds: int


@dataclass(frozen=True)
class Db:
    host: str
    port: int
    pool_size: int


@dataclass(frozen=True)
class Payments:
    replicas: int
    server: Server
    db: Db
    features: dict[str, bool]
    log: dict[str, str]
    public_url: str | None = None


def test_render_as_env_and_as_json_load_the_same(
    tmp_path: Path, run_cli: RunCli, example_repo: ConfigRepo
) -> None:
    for fmt in ("env", "json"):
        result = run_cli(
            "render", "payments", "--env", "prod", "--format", fmt, cwd=example_repo.workdir
        )
        assert result.exit_code == 0, result.stderr
        (tmp_path / f"payments.{fmt}").write_text(result.stdout)
    from_env = load(tmp_path / "payments.env", Payments)
    assert from_env == load(tmp_path / "payments.json", Payments)
    assert from_env.db == Db("payments-db.prod.internal", 5432, 40)
    assert from_env.features == {"refunds_v2": False}

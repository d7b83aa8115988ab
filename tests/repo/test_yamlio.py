from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cfgctl.errors import InputError
from cfgctl.repo.yamlio import Document, parse
from cfgctl.repo.yamlwrite import dump_plain, dump_roundtrip, load_roundtrip


def test_values_and_positions() -> None:
    doc = parse(
        "a: 1\nb:\n  c: [x, 'no', 2020-01-01]\n  d: ~\ne: 0x1F\nf: 1_000\ng: .inf\n", "f.yaml"
    )
    assert doc.data == {
        "a": 1,
        "b": {"c": ["x", "no", "2020-01-01"], "d": None},
        "e": 31,
        "f": 1000,
        "g": math.inf,
    }
    assert doc.position(("b", "c", 2)) == (3, 16)
    assert doc.position(("b", "c"), key=True) == (3, 3)
    assert doc.nearest_position(("b", "zz", 3)) == (3, 3)
    assert doc.warnings == []


def test_yaml11_booleans_are_strings_with_a_warning() -> None:
    doc = parse("on_call: on\nquoted: 'off'\n", "f.yaml")
    assert doc.data == {"on_call": "on", "quoted": "off"}
    [(path, message)] = doc.warnings
    assert path == ("on_call",) and "YAML 1.1 read it as true" in message


def test_other_yaml11_surprises_warn() -> None:
    doc = parse("mode: 0755\nmode12: 0o755\nduration: 1:30\nzero: 0\n", "f.yaml")
    assert doc.data == {"mode": 755, "mode12": 493, "duration": "1:30", "zero": 0}
    messages = dict(doc.warnings)
    assert "YAML 1.1 read it as octal 493" in messages[("mode",)]
    assert "base-60" in messages[("duration",)]
    assert set(messages) == {("mode",), ("duration",)}


def test_flow_scalars_libyaml_rejects_are_read_as_yaml_12() -> None:
    assert parse("servers: [cache-1:11211, b]\n", "f.yaml").data == {
        "servers": ["cache-1:11211", "b"]
    }


def test_number_like_words_stay_text() -> None:
    assert parse("a: _\nb: .\nc: 0x\nd: -_\n", "f.yaml").data == {
        "a": "_",
        "b": ".",
        "c": "0x",
        "d": "-_",
    }


def test_empty_documents() -> None:
    assert parse("", "f").data is None
    assert parse("# only a comment\n", "f").data is None


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("a: 1\na: 2\n", "f.yaml:2:1", "duplicate key 'a' (first defined on line 1)"),
        ("a:\n\tb: 1\n", "f.yaml:2:1", "tab character in indentation"),
        ("a: b\n---\nc: d\n", "f.yaml:2:1", "holds more than one YAML document"),
        ("a: !Ref x\n", "f.yaml:1:4", "unsupported tag !Ref"),
        ("? [a]\n: 1\n", "f.yaml:1:3", "a key must be a plain value"),
        ("- &a [*a]\n", "f.yaml:1:3", "an alias refers to the node that contains it"),
        ("a: b: c\n", "f.yaml:1:5", "mapping values are not allowed here"),
        ("a: [1, 2\n", "f.yaml:2:1", "invalid YAML"),
        ("[" * 3000 + "]" * 3000, "f.yaml:1:801", "nesting deeper than 800 levels"),
        ("x: " + "[" * 30000 + "]" * 30000, "f.yaml:1:804", "nesting deeper than 800 levels"),
        (" " * 2000 + "a: 1\n", "f.yaml:1:1", "nesting deeper than 800 levels"),
        (
            "x: [[[x'y, " + "[" * 30000 + "]" * 30003,
            "f.yaml:1:809",
            "nesting deeper than 800 levels",
        ),
    ],
)
def test_bad_yaml(text: str, where: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse(text, "f.yaml")
    assert str(info.value.location) == where
    assert words in info.value.message


@pytest.mark.slow
def test_alias_bomb_is_refused() -> None:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    with pytest.raises(InputError) as info:
        parse("\n".join(lines) + "\n", "bomb.yaml")
    assert "alias bomb" in info.value.message


def test_binary_and_non_utf8() -> None:
    with pytest.raises(InputError, match="binary file"):
        parse(b"\x00\x01\x02", "b.yaml")
    with pytest.raises(InputError, match="not valid UTF-8") as info:
        parse(b"a: 1\nb: \xff\n", "b.yaml")
    assert str(info.value.location) == "b.yaml:2"


def test_roundtrip_keeps_comments_and_order() -> None:
    text = "# top\nz: 1  # zed\na:\n  - x   # item\n  - y\n"
    data = load_roundtrip(text, "f.yaml")
    data["z"] = 2
    assert dump_roundtrip(data) == "# top\nz: 2  # zed\na:\n  - x   # item\n  - y\n"


# Strings: printable text; ruamel.yaml 0.19 cannot round-trip U+0085 and other line breaks in
# plain safe dumps, and keys ":0"-like are fine since we only dump through dump_plain here.
_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85\ufeff"),
    max_size=12,
)
_scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | _text | st.floats(allow_nan=False)
)
_data = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_text, _data, max_size=5))
@example({"a": "no"})
@example({"k": "2020-01-01"})
@example({":0": 1})
@example({"a": "_", "b": ".", "c": "0x", "d": "-_"})
def test_parse_reads_back_what_is_dumped(data: dict[str, Any]) -> None:
    assert parse(dump_plain(data), "gen.yaml").data == data


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_input_gives_data_or_input_error(raw: bytes | str) -> None:
    outcome: Document | InputError
    try:
        outcome = parse(raw, "fuzz.yaml")
    except InputError as exc:
        outcome = exc
    if isinstance(outcome, InputError):
        assert outcome.location is not None
        assert outcome.location.path == "fuzz.yaml"
    else:
        assert isinstance(outcome, Document)


# printable text: YAML refuses control characters and the noncharacters U+FFFE and U+FFFF in a
# stream (JSON escapes them; the fast path reads such a .json file where the YAML reader refused
# it, which is JSON's verdict)
TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    max_size=8,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES, st.sampled_from([None, 2]))
def test_a_json_file_reads_as_the_yaml_reader_reads_it(value: Any, indent: int | None) -> None:
    import json

    text = json.dumps(value, indent=indent, ensure_ascii=False)
    fast, slow = parse(text, "s.schema.json"), parse(text, "s.schema.yaml")
    assert type(fast.data) is type(slow.data) and fast.data == slow.data


@pytest.mark.parametrize(
    "text",
    ['{"a": 1, "a": 2}', '{"a": NaN}', '{"a": 1,}', "[" * 900 + "]" * 900, '{"<<": {"a": 1}}'],
    ids=["duplicate", "nan", "trailing-comma", "deep", "merge-key"],
)
def test_what_is_not_plain_json_gets_the_yaml_readers_verdict(text: str) -> None:
    def verdict(source: str) -> object:
        try:
            return parse(text, source).data
        except InputError as exc:
            return ("refused", exc.message, exc.location.line if exc.location else None)

    assert verdict("s.json") == verdict("s.yaml")

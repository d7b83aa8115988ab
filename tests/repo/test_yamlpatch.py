"""Line edits of YAML texts: every result reads back as the data asked for, or is refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfgctl.repo.yamlio import copy_data, parse
from cfgctl.repo.yamlpatch import edit_text, patch_text
from cfgctl.repo.yamlwrite import dump_plain

TEXT = """\
# top comment
replicas: 3   # how many
server:
  port: 8080  # the port
  max_connections: 1000

  tls:
    enabled: true
log: {level: info, format: json}   # flow
hosts:
- a
- b
# trailing comment
"""


def _patched(text: str, change: Any, moved: Any = None) -> tuple[str, Any]:
    old = parse(text, "t.yaml").data
    new = copy_data(old)
    change(new)
    out = patch_text(text, "t.yaml", old, new, moved)
    assert out is not None
    assert parse(out, "t.yaml").data == new
    return out, new


def test_a_scalar_changes_in_place_and_its_comment_stays() -> None:
    out, _ = _patched(TEXT, lambda d: d["server"].__setitem__("port", 9090))
    assert out == TEXT.replace("port: 8080  # the port", "port: 9090  # the port")


def test_a_value_inside_a_flow_mapping_changes_and_the_rest_of_the_line_stays() -> None:
    out, _ = _patched(TEXT, lambda d: d["log"].__setitem__("level", "warning"))
    assert out == TEXT.replace("{level: info,", "{level: warning,")


def test_a_removed_key_takes_its_block_and_nothing_else() -> None:
    def drop(d: dict[str, Any]) -> None:
        del d["server"]["tls"]
        del d["hosts"]

    out, _ = _patched(TEXT, drop)
    assert "tls" not in out and "- a" not in out
    assert out.startswith("# top comment\n") and out.endswith("# trailing comment\n")
    assert "max_connections: 1000\n" in out


def test_a_moved_value_carries_its_lines_and_comment_into_a_new_mapping() -> None:
    def move(d: dict[str, Any]) -> None:
        d["scale"] = {"replicas": d.pop("replicas")}

    out, _ = _patched(TEXT, move, {("scale", "replicas"): ("replicas",)})
    assert "scale:\n  replicas: 3   # how many\n" in out
    assert out.count("replicas") == 1


def test_a_rename_in_place_keeps_position_and_comment() -> None:
    def rename(d: dict[str, Any]) -> None:
        d["server"] = {("max" if k == "port" else k): v for k, v in d["server"].items()}

    out, _ = _patched(TEXT, rename)
    assert "\n  max: 8080  # the port\n  max_connections" in out


def test_new_keys_go_to_the_end_of_their_mapping_in_its_indentation() -> None:
    text = "a:\n    b: 1\n    c: 2\nz: 0\n"
    out, _ = _patched(text, lambda d: d["a"].__setitem__("new", {"x": [1, 2]}))
    assert out.startswith("a:\n    b: 1\n    c: 2\n    new:\n")
    assert out.endswith("z: 0\n")


def test_windows_line_endings_stay() -> None:
    text = "a: 1\r\nb:\r\n  c: 2\r\n"
    out, _ = _patched(text, lambda d: d["b"].__setitem__("d", 3))
    assert out == "a: 1\r\nb:\r\n  c: 2\r\n  d: 3\r\n"


def test_anchors_and_document_markers_are_left_to_the_round_trip() -> None:
    for text in ("a: &x 1\nb: *x\n", "---\na: 1\n", "a: 1\n...\n", "<<: {a: 1}\nb: 2\n"):
        old = parse(text, "t.yaml").data
        new = {**old, "c": 3}
        assert patch_text(text, "t.yaml", old, new) is None
        assert parse(edit_text(text.encode(), "t.yaml", old, new), "t.yaml").data == new


def test_an_edit_inside_a_flow_mapping_that_adds_a_key_falls_back_and_keeps_the_comment() -> None:
    old = parse(TEXT, "t.yaml").data
    new = copy_data(old)
    new["log"]["sampling"] = 0.5
    assert patch_text(TEXT, "t.yaml", old, new) is None
    out = edit_text(TEXT.encode(), "t.yaml", old, new).decode()
    assert parse(out, "t.yaml").data == new
    assert "# the port" in out


# --- generated documents and changes ---------------------------------------------------------

_keys = st.sampled_from(["a", "b", "c", "db", "port", "name", "x_y", "level"])
_scalars = st.one_of(
    st.integers(-5, 5000),
    st.booleans(),
    st.none(),
    st.sampled_from(["on", "text", "a b", "#x", "1.5", "", "x: y", "'q'", "true"]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_keys, inner, min_size=1, max_size=4)
    ),
    max_leaves=12,
)
_docs = st.dictionaries(_keys, _values, min_size=1, max_size=5)


def _commented(data: dict[str, Any]) -> str:
    lines = dump_plain(data).splitlines()
    return "".join(
        f"{line}   # c{i}\n" if line.rstrip().endswith(":") else f"{line}\n"
        for i, line in enumerate(lines)
    )


@pytest.mark.slow  # a property test over 1 s
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_docs, _docs, st.data())
def test_generated_edits_read_back_exactly_or_are_refused(
    old: dict[str, Any], other: dict[str, Any], data: st.DataObject
) -> None:
    text = _commented(old)
    base = parse(text, "t.yaml").data
    new = copy_data(base)
    for key, value in other.items():
        action = data.draw(st.sampled_from(["set", "delete", "merge", "skip"]))
        if action == "set":
            new[key] = value
        elif action == "delete":
            new.pop(key, None)
        elif action == "merge" and isinstance(new.get(key), dict) and isinstance(value, dict):
            new[key].update(value)
    out = patch_text(text, "t.yaml", base, new)
    if out is not None:
        assert parse(out, "t.yaml").data == new
        kept = [k for k in base if k in new and base[k] == new[k]]
        for key in kept:  # an untouched top-level key keeps its comment
            line = next(x for x in text.splitlines() if x.startswith(f"{key}:"))
            assert line in out.splitlines()
    assert parse(edit_text(text.encode(), "t.yaml", base, new), "t.yaml").data == new

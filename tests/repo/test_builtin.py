"""cfgctl's own files judged by jsonschema-rs alone (`builtin.RS_JUDGED`) get the reference's
verdict: the schemas hold only what both read alike, and the verdicts agree on real files and on
every mutation hypothesis makes of them."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfgctl.repo._ecma import rs_portable
from cfgctl.repo.builtin import RS_JUDGED, SCHEMAS, TEMPLATES, own_validator, own_violations
from cfgctl.repo.yamlio import parse

ROOT = Path(__file__).resolve().parents[2]
KINDS = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))


def _keywords(node: Any, out: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("const", "enum", "default", "examples"):
                continue
            if key == "properties" and isinstance(value, dict):
                for sub in value.values():
                    _keywords(sub, out)
                continue
            if key in ("pattern", "format", "multipleOf") and not isinstance(value, dict):
                out.append((key, value))
            if key == "patternProperties" and isinstance(value, dict):
                out.extend(("pattern", p) for p in value)
            _keywords(value, out)
    elif isinstance(node, list):
        for item in node:
            _keywords(item, out)
    return out


@pytest.mark.parametrize("kind", sorted(RS_JUDGED))
def test_the_fast_kinds_hold_only_what_both_validators_read_alike(kind: str) -> None:
    found = _keywords(json.loads((SCHEMAS / f"{kind}.schema.json").read_text()), [])
    assert all(rs_portable(v) for k, v in found if k == "pattern"), found
    assert not [v for k, v in found if k == "multipleOf"]
    assert {v for k, v in found if k == "format"} <= {"date-time"}


def test_every_shipped_schema_is_judged_fast() -> None:
    # A new kind is added to RS_JUDGED once the test above passes for it; one it cannot pass is
    # left to the reference by removing it here too, knowingly.
    assert set(KINDS) == RS_JUDGED


def _yaml_blocks() -> list[Any]:
    docs = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for block in re.findall(r"```ya?ml\n(.*?)```", page.read_text(), flags=re.S):
            try:
                data = parse(block, page.name).data
            except Exception:  # noqa: BLE001  a block that is not whole YAML: not a sample
                continue
            if isinstance(data, dict):
                docs.append(data)
    return docs


def _samples() -> dict[str, list[Any]]:
    """Real files of each kind: the shipped template, deploy/'s agent, the docs' YAML blocks
    (each under every kind whose schema the reference finds it valid for)."""
    files = {
        "cfgctl": [TEMPLATES / "default" / "cfgctl.yaml"],
        "policy": [TEMPLATES / "default" / "policy.yaml"],
        "agent": [ROOT / "deploy" / "agent.example.yaml"],
        "template": list(TEMPLATES.glob("*/templates/*/template.yaml")),
    }
    out: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    for kind, paths in files.items():
        out[kind] += [parse(p.read_bytes(), str(p)).data for p in paths]
    for data in _yaml_blocks():
        for kind in KINDS:
            if not own_validator(kind).validate(data):
                out[kind].append(data)
    return out


SAMPLES = _samples()


def test_every_kind_has_real_samples() -> None:
    assert {kind: len(found) > 0 for kind, found in SAMPLES.items()} == dict.fromkeys(KINDS, True)


def _same_verdict(kind: str, data: Any) -> None:
    fast = not own_violations(kind, data)
    reference = not own_validator(kind).validate(data)
    assert fast == reference, (kind, data)


@pytest.mark.parametrize("kind", KINDS)
def test_the_real_samples_are_valid_both_ways(kind: str) -> None:
    for data in SAMPLES[kind]:
        _same_verdict(kind, data)


_DATES = st.sampled_from(
    [
        "2026-12-20T00:00:00Z",
        "2026-12-20t00:00:00z",
        "2026-12-20T00:00:00+01:00",
        "2026-12-20T00:00:00.123456-05:30",
        "2026-12-20 00:00:00Z",
        "2026-12-20T00:00:00",
        "2026-12-31T23:59:60Z",
        "2026-02-30T00:00:00Z",
        "2026-12-20T24:00:00Z",
        "2026-12-20",
        "20261220T000000Z",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
    st.sampled_from(["30s", "1h30m", "2d", "yaml", "json", "@acme/team", "base", "prod", "*"]),
    _DATES,
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _mutate(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    data = copy.deepcopy(data)
    if not path:
        return value if how == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "add" and isinstance(parent[last], dict):
        parent[last]["x_unknown"] = value
    else:
        parent[last] = value
    return data


@pytest.mark.slow  # a property test over seven kinds
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_mutation_gets_the_reference_verdict(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    sample = data.draw(st.sampled_from(SAMPLES[kind]))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(sample)))
        how = data.draw(st.sampled_from(["replace", "delete", "add"]))
        sample = _mutate(sample, path, how, data.draw(_VALUES))
    _same_verdict(kind, sample)


def test_a_valid_own_file_is_checked_without_importing_jsonschema() -> None:
    code = (
        "import sys\n"
        "from cfgctl.repo.builtin import check_own_file, TEMPLATES\n"
        "from cfgctl.repo.yamlio import parse\n"
        "for kind in ('cfgctl', 'policy'):\n"
        "    doc = parse((TEMPLATES / 'default' / f'{kind}.yaml').read_bytes(), kind)\n"
        "    assert check_own_file(doc, kind) == [], kind\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'jsonschema'))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_an_invalid_own_file_still_gets_the_reference_words() -> None:
    data = parse("source: {url: 5}\n", "agent.yaml").data
    found = own_violations("agent", data)
    assert found
    assert found == own_validator("agent").validate(data)

"""Export then import: every format gives the same values back, to its standard reader and to
`cfgctl import` into an empty environment (hypothesis over configurations valid for a schema)."""

from __future__ import annotations

import base64
import io
import json
import tomllib
from pathlib import Path
from typing import Any

import jproperties
import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfgctl.changes.diff import same_data
from cfgctl.errors import InputError
from cfgctl.operate.export import export_service
from cfgctl.operate.flatkeys import dotted_key, env_name, leaves, spring_name
from cfgctl.operate.formats_in import read_source
from cfgctl.operate.formats_out import FORMATS, scalar_text, write_format
from cfgctl.operate.imports import plan_import
from cfgctl.operate.schematypes import SchemaView
from cfgctl.operate.unflatten import typed_data
from cfgctl.repo.render import lookup
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import parse
from cfgctl.repo.yamlwrite import dump_plain
from tests.support.gitrepo import ConfigRepo

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "port": {"type": "integer"},
        "ratio": {"type": "number"},
        "debug": {"type": "boolean"},
        "level": {"enum": ["debug", "info"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "db": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "host": {"type": "string"},
                "pool_size": {"type": "integer"},
                "ports": {"type": "array", "items": {"type": "integer"}},
            },
        },
        "features": {"type": "object", "additionalProperties": {"type": "boolean"}},
    },
}
MANIFEST = "version: 1\nenvironments:\n  src: {}\n  empty: {}\nservices:\n  svc: {schema: svc}\n"
SUFFIX = {
    "yaml": "yaml",
    "json": "json",
    "toml": "toml",
    "env": "env",
    "properties": "properties",
    "spring": "env",
    "configmap": "yaml",
    "secret": "yaml",
    "helm-values": "yaml",
    "consul-kv": "json",
}

# Text as configurations hold it: any printable character, spaces, quotes, backslashes, line
# breaks, tabs, `#`, `=`, `${...}`, non-ASCII and astral characters.
text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
ints = st.integers(-(2**53), 2**53)
floats = st.floats(allow_nan=False, allow_infinity=False)
names = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)
configs = st.fixed_dictionaries(
    {},
    optional={
        "name": text,
        "port": ints,
        "ratio": floats,
        "debug": st.booleans(),
        "level": st.sampled_from(["debug", "info"]),
        "tags": st.lists(text, max_size=3),
        "db": st.fixed_dictionaries(
            {},
            optional={"host": text, "pool_size": ints, "ports": st.lists(ints, max_size=3)},
        ),
        "features": st.dictionaries(names, st.booleans(), max_size=3),
    },
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exchange") / "cfg"
    ConfigRepo.init(root).commit(
        {"cfgctl.yaml": MANIFEST, "schemas/svc.schema.json": json.dumps(SCHEMA)}, "init"
    )
    return root


# Losses `cfgctl import` restores with the schema's types; any other loss may change a value.
RESTORED = {"types", "lists"}


@pytest.mark.slow  # a property test over 1 s
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=configs, fmt=st.sampled_from(FORMATS))
def test_export_then_import_into_an_empty_environment_gives_the_same_configuration(
    repo: Path, tmp_path: Path, data: dict[str, Any], fmt: str
) -> None:
    snap = Snapshot.from_worktree(repo, use_cache=False)
    snap = snap.with_files({"config/src/svc.yaml": dump_plain(data).encode()}, cached=False)
    exported = export_service(snap, "svc", "src", fmt)
    lost = {loss.kind for loss in exported.losses}
    file = tmp_path / f"svc-{fmt}.{SUFFIX[fmt]}"
    file.write_bytes(exported.data)
    source = read_source(file, fmt, prefix=None)
    if fmt == "secret":  # its values go encrypted into a secrets layer: read, not written here
        ref = snap.schema_of("svc")
        view = SchemaView(snap.schemas.document(ref.path), snap.schema_resolver(ref))
        back = typed_data(source, view, {})[0]
    else:
        plan = plan_import(snap, "svc", [(source, "empty")])
        back = snap.with_files(plan.writes, cached=False).render("svc", "empty").data
    if lost <= RESTORED:
        assert same_data(back, data), (fmt, exported.data.decode())
    else:  # a format that cannot hold every value said so (empty lists and mappings in
        # properties and spring): what it holds comes back
        assert lost <= RESTORED | {"empty"}, lost
        for path, value in leaves(data, index_lists=False):
            if value not in ([], {}):
                assert same_data(lookup(back, path)[1], value), (path, exported.data.decode())


# Any nested data (no schema): the standard reader of each format gets every value back as
# the text cfgctl wrote it (or, for the typed formats, as the value itself).
keys = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, text)
nested = st.recursive(
    st.dictionaries(keys, scalars, max_size=3),
    lambda inner: st.dictionaries(keys, st.one_of(scalars, inner, st.lists(scalars, max_size=2))),
    max_leaves=8,
)


def _read_back(fmt: str, raw: bytes) -> dict[str, str]:
    """What the format's standard reader makes of the file: name -> text."""
    if fmt in ("env", "spring"):
        values = dotenv_values(stream=io.StringIO(raw.decode()), interpolate=False)
        return {k: v or "" for k, v in values.items()}
    if fmt == "properties":
        props = jproperties.Properties()
        props.load(raw, "utf-8")
        return {k: v for k, (v, _) in props.items()}
    doc = parse(raw, fmt).data
    if fmt == "consul-kv":
        doc = json.loads(raw)
        return {e["key"]: base64.b64decode(e["value"]).decode() for e in doc}
    if fmt == "secret":
        return {k: base64.b64decode(v).decode() for k, v in doc["data"].items()}
    return dict(doc["data"])


def _expected(fmt: str, data: dict[str, Any]) -> dict[str, str]:
    if fmt == "env":
        return {env_name(p, None): scalar_text(v) for p, v in leaves(data, index_lists=False)}
    if fmt == "spring":
        return {
            spring_name(p, None): scalar_text(v)
            for p, v in leaves(data, index_lists=True)
            if not isinstance(v, (list, dict))
        }
    if fmt == "properties":
        return {
            dotted_key(p): scalar_text(v)
            for p, v in leaves(data, index_lists=True)
            if not isinstance(v, (list, dict))
        }
    if fmt == "consul-kv":
        pairs = leaves(data, index_lists=False)
        return {"config/s,e/" + "/".join(map(str, p)): scalar_text(v) for p, v in pairs}
    return {dotted_key(p): scalar_text(v) for p, v in leaves(data, index_lists=False)}


@settings(max_examples=40, deadline=None)
@given(data=nested, fmt=st.sampled_from(FORMATS))
def test_the_standard_reader_of_each_format_gets_the_values_back(
    data: dict[str, Any], fmt: str
) -> None:
    try:
        written = write_format(data, fmt, service="s", env="e", prefix=None)
    except InputError as exc:  # two keys giving one name: refused, never written wrong
        message = exc.message
    else:
        message = ""
    if message:
        assert "both give" in message, message
        return
    raw = written.data
    if fmt in ("yaml", "helm-values"):
        assert same_data(parse(raw, "out.yaml").data or {}, data)
    elif fmt == "json":
        assert same_data(json.loads(raw), data)
    elif fmt == "toml":
        assert ("null-dropped" in {x.kind for x in written.losses}) or same_data(
            tomllib.loads(raw.decode()), data
        )
    else:
        assert _read_back(fmt, raw) == _expected(fmt, data), raw.decode()

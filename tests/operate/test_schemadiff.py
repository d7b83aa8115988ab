"""`cfgctl schema diff NAME@N NAME@M`: the changes between two versions of a schema, and the
migration skeleton it drafts (renames inferred from shapes, ambiguity left to a person)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgctl.operate.migration import apply_to_effective, read_migration
from cfgctl.operate.schemadiff import diff_schemas
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.validator import SchemaValidator
from cfgctl.repo.yamlio import parse
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo

MANIFEST = """\
version: 1
environments:
  base: {}
services:
  payments: {schema: web@1}
"""
V1 = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "db": {
            "type": "object",
            "properties": {"pool_size": {"type": "integer", "minimum": 1, "maximum": 500}},
        },
        "host": {"type": "string", "format": "hostname", "description": "old words"},
        "old.key": {"type": "string", "maxLength": 5},
        "timeout": {"type": "integer"},
        "port": {"type": "string"},
        "log": {"type": "object", "properties": {"level": {"enum": ["info", "warn"]}}},
        "legacy": {"type": "object", "properties": {"flag": {"type": "boolean"}}},
        "a": {"type": "number", "minimum": 0},
        "b": {"type": "number", "minimum": 0},
        "name": {"type": "string"},
    },
}
V2 = {
    "type": "object",
    "additionalProperties": False,
    "required": ["replicas", "region"],
    "$defs": {"pool": {"type": "integer", "minimum": 1, "maximum": 500}},
    "properties": {
        "db": {
            "type": "object",
            "properties": {
                "pool": {"type": "object", "properties": {"max": {"$ref": "#/$defs/pool"}}}
            },
        },
        "hostname": {"type": "string", "format": "hostname", "description": "new words"},
        "new.key": {"type": "string", "maxLength": 5},
        "timeout": {"type": "string", "pattern": "^[0-9]+ms$"},
        "port": {"type": "integer"},
        "log": {"type": "object", "properties": {"level": {"enum": ["info", "warning"]}}},
        "c": {"type": "number", "minimum": 0},
        "name": {"type": "string", "maxLength": 63},
        "replicas": {"type": "integer", "default": 2},
        "region": {"type": "string"},
    },
}


@pytest.fixture
def repo(tmp_path: Path) -> ConfigRepo:
    repo = ConfigRepo.init(tmp_path / "cfg")
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/web.schema.json": json.dumps(V1),
            "schemas/web.v2.schema.json": json.dumps(V2),
            "schemas/web.v4.schema.json": json.dumps(V2),
            "config/base/payments.yaml": "port: '8080'\n",
        },
        "init",
    )
    return repo


def test_changes_renames_and_the_skeleton(repo: ConfigRepo, run_cli: RunCli) -> None:
    result = run_cli("schema", "diff", "web@1", "web@2", "-f", "json", cwd=repo.workdir)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    changes = {(c["kind"], c["path"], c.get("detail", "")) for c in data["changes"]}
    assert {
        ("moved", "db.pool_size", ""),
        ("renamed", "host", ""),  # the description differs: ignored
        ("renamed", "old.key", ""),
        ("removed", "legacy", "object"),
        ("removed", "legacy.flag", "boolean"),
        ("added", "region", "string"),
        ("type", "timeout", "type"),
        ("changed", "name", "maxLength"),
        ("changed", "log.level", "enum"),
        ("changed", "timeout", "pattern"),
    } <= changes
    assert data["operations"] == [  # shallowest first; a and b are ambiguous: no remove
        {"op": "rename", "from": "host", "to": "hostname"},
        {"op": "rename", "from": '"old.key"', "to": '"new.key"'},
        {"op": "move", "from": "db.pool_size", "to": "db.pool.max"},
        {"op": "remove", "path": "legacy"},
        {"op": "default", "path": "replicas", "value": 2},
        {"op": "convert", "path": "port", "to": "int"},
        {"op": "convert", "path": "timeout", "to": "duration"},
    ]
    notes = "\n".join(data["notes"])
    assert "ambiguous: a, b removed and c added with the same shape" in notes
    assert "TODO: region is required in web@2 and has no default" in notes
    assert 'log.level no longer allows ["warn"]' in notes
    assert "{op: map, path: log.level, values: {warn: warning}}" in notes
    skeleton = parse(data["skeleton"], "s.yaml")
    assert skeleton.data["from"] == 1 and skeleton.data["to"] == 2
    migration = read_migration(skeleton, "web", 2)  # what cfgctl migrate reads
    assert [op.op for op in migration.operations][:3] == ["rename", "rename", "move"]
    text = run_cli("schema", "diff", "web@1", "web@2", cwd=repo.workdir).stdout
    assert "  > moved db.pool_size -> db.pool.max" in text
    assert "  ~ name: maxLength null -> 63" in text
    assert "migration skeleton (--write puts it in schemas/web.v2.migration.yaml):" in text


def test_write_puts_a_valid_migration_file_and_never_overwrites(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = repo.workdir
    result = run_cli("schema", "diff", "web@1", "web@2", "--write", cwd=cwd)
    assert result.exit_code == 0, result.output
    assert "wrote schemas/web.v2.migration.yaml" in result.stderr.replace(str(cwd) + "/", "")
    written = repo.read("schemas/web.v2.migration.yaml")
    assert written.startswith("# schemas/web.v2.migration.yaml: from web@1 to web@2")
    assert run_cli("validate", cwd=cwd).exit_code == 0  # checks the migration file's schema
    again = run_cli("schema", "diff", "web@1", "web@2", "--write", cwd=cwd)
    assert again.exit_code == 2 and "exists already: nothing written" in again.stderr
    assert repo.read("schemas/web.v2.migration.yaml") == written
    out = cwd.parent / "draft.yaml"
    assert run_cli("schema", "diff", "web@1", "web@2", "--out", str(out), cwd=cwd).exit_code == 0
    assert out.read_text() == written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("web@2", "web@1"), "web@2 is not older than web@1: name the older version first"),
        (("web@2", "web@2"), "web@2 is not older than web@2"),
        (("web@1", "web@3"), "schema 'web' has no version 3 (it has 1, 2, 4)"),
        (("nope@1", "nope@2"), "schema 'nope' not found in schemas/"),
        (("web@1", "other@2"), "web@1 and other@2 are two schemas"),
        (("web@x", "web@2"), "bad schema version 'web@x'"),
        (("web@0", "web@2"), "bad schema version in 'web@0'"),
        (("web@1", "web@4", "--write"), "a migration file goes one version up"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    repo: ConfigRepo, run_cli: RunCli, args: tuple[str, ...], message: str
) -> None:
    result = run_cli("schema", "diff", *args, cwd=repo.workdir)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("error:") == 1
    assert not (repo.workdir / "schemas/web.v4.migration.yaml").exists()


def test_refs_to_another_file_and_all_of_are_followed(repo: ConfigRepo, run_cli: RunCli) -> None:
    common = {"$defs": {"port": {"type": "integer", "minimum": 1, "maximum": 65535}}}
    v3 = {
        "allOf": [
            {
                "properties": {
                    "server": {"properties": {"port": {"$ref": "common.json#/$defs/port"}}}
                }
            }
        ],
        "properties": {"name": {"type": "string", "maxLength": 63}},
    }
    v4 = {
        "properties": {
            "server": {"properties": {"listen_port": {"$ref": "common.json#/$defs/port"}}},
            "name": {"type": "string", "maxLength": 63},
        }
    }
    repo.write(
        {
            "schemas/common.json": json.dumps(common),
            "schemas/web.v3.schema.json": json.dumps(v3),
            "schemas/web.v4.schema.json": json.dumps(v4),
        }
    )
    data = json.loads(
        run_cli("schema", "diff", "web@3", "web@4", "-f", "json", cwd=repo.workdir).stdout
    )
    assert data["operations"] == [
        {"op": "rename", "from": "server.port", "to": "server.listen_port"}
    ]


# --- the inference, proved over generated schemas ---------------------------------------------

NAMES = st.lists(st.sampled_from(list("abcdefghij")), min_size=2, max_size=6, unique=True)


def _snap(v1: dict[str, Any], v2: dict[str, Any]) -> Snapshot:
    files = {
        "cfgctl.yaml": MANIFEST,
        "schemas/web.schema.json": json.dumps(v1),
        "schemas/web.v2.schema.json": json.dumps(v2),
    }
    refs = {p: FileRef.of_bytes(p, text.encode()) for p, text in files.items()}
    return Snapshot(Path("/nonexistent-repo"), refs)


@settings(max_examples=40, deadline=None)
@given(names=NAMES, data=st.data())
def test_a_renamed_property_of_a_unique_shape_is_inferred_and_migrates(
    names: list[str], data: st.DataObject
) -> None:
    # Properties of distinct shapes (each its own minimum), one nested; one of them renamed.
    props = {n: {"type": "integer", "minimum": i} for i, n in enumerate(names)}
    props[names[0]] = {"type": "object", "properties": {"x": {"type": "string", "maxLength": 3}}}
    old = data.draw(st.sampled_from(names))
    new = old.upper()
    v1 = {"type": "object", "additionalProperties": False, "properties": props}
    renamed = {(new if k == old else k): v for k, v in props.items()}
    v2 = {"type": "object", "additionalProperties": False, "properties": renamed}
    result = diff_schemas(_snap(v1, v2), "web@1", "web@2")
    assert result.operations == [{"op": "rename", "from": old, "to": new}]
    config = {n: ({"x": "ab"} if n == names[0] else i + 1) for i, n in enumerate(names)}
    assert SchemaValidator(v1, uri="urn:v1").validate(config) == []
    migration = read_migration(parse(result.skeleton, "m.yaml"), "web", 2)
    assert SchemaValidator(v2, uri="urn:v2").validate(apply_to_effective(migration, config)) == []


@settings(max_examples=30, deadline=None)
@given(names=NAMES)
def test_two_candidates_of_one_shape_are_never_guessed(names: list[str]) -> None:
    same = {"type": "integer", "minimum": 0}
    v1 = {"properties": {n: same for n in names}}
    v2 = {"properties": {n.upper(): same for n in names}}
    result = diff_schemas(_snap(v1, v2), "web@1", "web@2")
    assert result.operations == []  # no rename guessed, and no remove of what may be renamed
    assert len(result.notes) == 1 and result.notes[0].startswith("ambiguous: ")


def test_a_complete_skeleton_migrates_the_service(tmp_path: Path, run_cli: RunCli) -> None:
    v1 = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "host": {"type": "string", "format": "hostname"},
            "port": {"type": "string"},
            "legacy": {"type": "object"},
        },
    }
    v2 = {
        "type": "object",
        "additionalProperties": False,
        "required": ["replicas"],
        "properties": {
            "hostname": {"type": "string", "format": "hostname"},
            "port": {"type": "integer"},
            "replicas": {"type": "integer", "minimum": 1, "default": 2},
        },
    }
    repo = ConfigRepo.init(tmp_path / "cfg")
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/web.schema.json": json.dumps(v1),
            "schemas/web.v2.schema.json": json.dumps(v2),
            "config/base/payments.yaml": "# payments\nhost: pay.internal  # the host\nport: '8080'\n"
            "legacy: {x: 1}\n",
        },
        "init",
    )
    cwd = repo.workdir
    assert run_cli("schema", "diff", "web@1", "web@2", "--write", cwd=cwd).exit_code == 0
    migrated = run_cli("migrate", "payments", cwd=cwd)
    assert migrated.exit_code == 0, migrated.output
    assert re.fullmatch(
        r"# payments\nhostname: pay\.internal +# the host\nport: 8080\nreplicas: 2\n",
        repo.read("config/base/payments.yaml"),
    )
    assert run_cli("validate", cwd=cwd).exit_code == 0

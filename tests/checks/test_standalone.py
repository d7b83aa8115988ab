from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import RunCli

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "port"],
    "properties": {
        "name": {"type": "string"},
        "port": {"$ref": "defs/common.json#/$defs/port"},
        "contact": {"type": "string", "format": "email"},
    },
}


def _setup(tmp_path: Path) -> Path:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "common.json").write_text(
        json.dumps({"$defs": {"port": {"type": "integer", "maximum": 65535}}})
    )
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    return schema


def test_documents_against_a_schema_with_local_refs(tmp_path: Path, run_cli: RunCli) -> None:
    schema = _setup(tmp_path)
    good = tmp_path / "good.yaml"
    good.write_text("name: a\nport: 80\ncontact: ops@example.com\n")
    good_json = tmp_path / "good.json"
    good_json.write_text('{"name": "b", "port": 81}')
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: a\n# comment\nport: 70000\ncontact: not-an-email\n")
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: x\n")

    ok = run_cli("validate", "--schema", str(schema), str(good), str(good_json), cwd=tmp_path)
    assert ok.exit_code == 0, ok.output

    result = run_cli(
        "validate", "--schema", str(schema), str(good), str(bad), str(missing), cwd=tmp_path
    )
    assert result.exit_code == 1
    assert f"{bad}:3:7: error: port: expected a number at most 65535, got 70000" in result.stderr
    assert f'{bad}:4:10: error: contact: "not-an-email" is not a valid email' in result.stderr
    assert f"{missing}:1:1: error: (root): missing required key 'port'" in result.stderr
    assert "3 files" in result.stdout


def test_broken_schema_and_documents(tmp_path: Path, run_cli: RunCli) -> None:
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "objekt"}')
    doc = tmp_path / "d.yaml"
    doc.write_text("a: 1\n")
    result = run_cli("validate", "--schema", str(schema), str(doc))
    assert result.exit_code == 2  # a broken schema the command needs: as inside a repository
    assert f"{schema}:1:10: error: invalid schema: type:" in result.stderr

    schema.write_text('{"$ref": "https://example.com/remote.json"}')
    remote = run_cli("validate", "--schema", str(schema), str(doc))
    assert remote.exit_code == 1  # for validate, a broken reference is a diagnostic
    assert "offline only" in remote.stderr and "Traceback" not in remote.stderr

    schema.write_text('{"type": "object"}')
    doc.write_text("a: [\n")
    parse_error = run_cli("validate", "--schema", str(schema), str(doc), "--format", "json")
    assert parse_error.exit_code == 1
    [diag] = json.loads(parse_error.stdout)["diagnostics"]
    assert diag["file"] == str(doc) and diag["line"] == 2

    unreadable = run_cli("validate", "--schema", str(schema), str(tmp_path / "nope.yaml"))
    assert unreadable.exit_code == 1 and "cannot read" in unreadable.stderr

    no_docs = run_cli("validate", "--schema", str(schema))
    assert no_docs.exit_code == 2


@pytest.mark.slow
def test_many_documents_use_worker_processes(tmp_path: Path, run_cli: RunCli) -> None:
    schema = _setup(tmp_path)
    docs = []
    for i in range(260):
        doc = tmp_path / f"d{i}.yaml"
        doc.write_text(f"name: n{i}\nport: {i if i != 250 else 'x'}\n")
        docs.append(str(doc))
    result = run_cli("validate", "--schema", str(schema), *docs)
    assert result.exit_code == 1
    assert result.stderr.count("error:") == 1
    assert f"{tmp_path / 'd250.yaml'}:2:7: error: port: expected integer" in result.stderr


def test_multi_document_yaml_and_toml(tmp_path: Path, run_cli: RunCli) -> None:
    schema = _setup(tmp_path)
    stream = tmp_path / "all.yaml"
    stream.write_text("name: a\nport: 1\n---\nname: b\nport: nope\n---\n")
    toml = tmp_path / "c.toml"
    toml.write_text('name = "c"\nport = 99999\n')
    result = run_cli("validate", "--schema", str(schema), str(stream), str(toml))
    assert result.exit_code == 1
    assert (
        f'{stream}:5:7: error: port: expected integer, got string "nope" (document 2)'
        in result.stderr
    )
    assert f"{toml}: error: port: expected a number at most 65535, got 99999" in result.stderr


def test_relative_refs_under_a_remote_id_are_served_from_the_schema_folder(
    tmp_path: Path, run_cli: RunCli
) -> None:
    (tmp_path / "common.json").write_text(
        json.dumps(
            {"$id": "https://acme.dev/schemas/common.json", "$defs": {"port": {"type": "integer"}}}
        )
    )
    schema = tmp_path / "main.json"
    schema.write_text(
        json.dumps(
            {
                "$id": "https://acme.dev/schemas/main.json",
                "properties": {"port": {"$ref": "common.json#/$defs/port"}},
            }
        )
    )
    doc = tmp_path / "d.yaml"
    doc.write_text("port: x\n")
    result = run_cli("validate", "--schema", str(schema), str(doc))
    assert result.exit_code == 1, result.output
    assert f"{doc}:1:7: error: port: expected integer" in result.stderr


def test_secret_values_are_masked_and_json_is_strict(tmp_path: Path, run_cli: RunCli) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps(
            {
                "properties": {
                    "password": {"type": "string", "minLength": 20, "x-cfgctl-secret": True}
                }
            }
        )
    )
    doc = tmp_path / "d.yaml"
    doc.write_text("password: short-LEAK\n")
    result = run_cli("validate", "--schema", str(schema), str(doc))
    assert result.exit_code == 1
    assert "short-LEAK" not in result.output
    assert (
        "password: the value breaks the schema (minLength); it holds a secret: not shown"
        in result.stderr
    )
    bad_json = tmp_path / "d.json"
    bad_json.write_text('{"password": "a",\n "x": 1,}')
    strict = run_cli("validate", "--schema", str(schema), str(bad_json))
    assert strict.exit_code == 1
    assert f"{bad_json}:2:9: error: invalid JSON" in strict.stderr
    bad_json.write_text('{"a": 1, "a": 2}')
    dup = run_cli("validate", "--schema", str(schema), str(bad_json))
    assert "duplicate key 'a'" in dup.stderr
    bad_json.write_text("[" * 100000 + "]" * 100000)
    deep = run_cli("validate", "--schema", str(schema), str(bad_json))
    assert deep.exit_code == 1 and "nesting too deep" in deep.stderr

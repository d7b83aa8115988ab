"""`cfgctl schema generate MODULE:CLASS`: the model's schema, usable by `cfgctl validate`."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

from cfgctl.errors import InputError
from cfgctl.sdk import ConfigError, import_model, load, model_schema
from tests.sdk.models import Settings, SettingsModel
from tests.support.cli import RunCli

MODULE = '''\
from dataclasses import dataclass, field
from typing import Annotated, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Database:
    """Where the service keeps its payments."""

    host: Annotated[str, Field(description="Host name of the primary.", min_length=1)]
    pool_size: Annotated[int, Field(ge=1, le=500, description="Connections in the pool.")] = 10
    port: Annotated[int, annotated_types.Gt(0), annotated_types.Lt(65536)] = 5432


@dataclass(frozen=True)
class Settings:
    db: Database
    mode: Literal["dev", "prod"] = "dev"
    tags: list[str] = field(default_factory=list)


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    port: int = Field(8080, description="Where to listen.")


NOT_A_MODEL = 42
'''


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module of models in tmp_path (the current folder of the CLI), under a fresh name."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # generate adds the current folder
    name = f"svc_settings_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(MODULE)
    return name


def test_generate_writes_defaults_descriptions_and_constraints(
    tmp_path: Path, run_cli: RunCli, service: str
) -> None:
    result = run_cli("schema", "generate", f"{service}:Settings", "-o", "s.json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "wrote s.json" in result.stderr
    schema = json.loads((tmp_path / "s.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Settings" and schema["required"] == ["db"]
    assert schema["properties"]["mode"] == {
        "default": "dev",
        "enum": ["dev", "prod"],
        "title": "Mode",
        "type": "string",
    }
    db = schema["$defs"]["Database"]
    assert db["description"] == "Where the service keeps its payments."
    assert db["properties"]["pool_size"] == {
        "default": 10,
        "description": "Connections in the pool.",
        "maximum": 500,
        "minimum": 1,
        "title": "Pool Size",
        "type": "integer",
    }
    assert db["properties"]["host"]["minLength"] == 1
    assert db["properties"]["port"]["exclusiveMinimum"] == 0
    assert db["properties"]["port"]["exclusiveMaximum"] == 65536
    assert "additionalProperties" not in schema  # a dataclass accepts extra keys


def test_generate_to_stdout_with_a_title_and_forbidden_extras(
    tmp_path: Path, run_cli: RunCli, service: str
) -> None:
    result = run_cli("schema", "generate", f"{service}:Strict", "--title", "web", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["title"] == "web" and schema["additionalProperties"] is False
    assert schema["properties"]["port"]["description"] == "Where to listen."


def test_cfgctl_validate_agrees_with_load(tmp_path: Path, run_cli: RunCli, service: str) -> None:
    assert run_cli("schema", "generate", f"{service}:Settings", "-o", "s.json", cwd=tmp_path)
    good = tmp_path / "good.yaml"
    good.write_text("db:\n  host: db.internal\n  pool_size: 20\nmode: prod\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("db:\n  host: db.internal\n  pool_size: 900\nmode: prod\n")

    ok = run_cli("validate", "--schema", "s.json", "good.yaml", cwd=tmp_path)
    assert ok.exit_code == 0, ok.stderr
    failed = run_cli("validate", "--schema", "s.json", "bad.yaml", cwd=tmp_path)
    assert failed.exit_code == 1
    assert "bad.yaml:3:14: error: db.pool_size: expected a number at most 500, got 900" in (
        failed.stderr
    )

    model = import_model(f"{service}:Settings")
    assert load(good, model).db.pool_size == 20
    with pytest.raises(ConfigError) as info:
        load(bad, model)
    assert info.value.key == "db.pool_size"
    assert str(info.value.location) == f"{bad}:3:14"


@pytest.mark.parametrize(
    ("spec", "message", "hint"),
    [
        ("{mod}", "is not MODULE:CLASS", "payments.settings:Settings"),
        ("{mod}:", "is not MODULE:CLASS", "payments.settings:Settings"),
        ("no_such_module_xyz:Settings", "no module 'no_such_module_xyz' importable", "PYTHONPATH"),
        ("{mod}:Missing", "has no Missing", "its models: Database, Settings, Strict"),
        ("{mod}:NOT_A_MODEL", "is a int, not a dataclass or pydantic model", "@dataclass"),
        ("broken_{mod}:Settings", "failed: ZeroDivisionError: division by zero", "traceback"),
        ("needs_{mod}:Settings", "failed: No module named 'not_installed_xyz'", "install"),
    ],
)
def test_bad_specs_exit_2_without_traceback(
    tmp_path: Path, run_cli: RunCli, service: str, spec: str, message: str, hint: str
) -> None:
    (tmp_path / f"broken_{service}.py").write_text("1 / 0\n")
    (tmp_path / f"needs_{service}.py").write_text("import not_installed_xyz\n")
    result = run_cli("schema", "generate", spec.format(mod=service), cwd=tmp_path)
    assert result.exit_code == 2
    assert "error: " in result.stderr and message in result.stderr
    assert "hint: " in result.stderr and hint in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_a_model_pydantic_cannot_describe() -> None:
    from collections.abc import Callable
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class WithCallable:
        hook: Callable[[int], int]

    # A local class's string annotations cannot be resolved: refused as load refuses it (a
    # module-level one: tests/sdk/test_schema_agreement.py, "no JSON Schema for").
    with pytest.raises(InputError, match=r"pydantic cannot build .*WithCallable"):
        model_schema(WithCallable)


def test_the_library_call() -> None:
    schema = model_schema(SettingsModel, title="payments")
    assert schema["title"] == "payments" and schema["description"] == (
        "Settings of the payments service."
    )
    assert model_schema(Settings)["$defs"]["Database"]["properties"]["password"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
        "title": "Password",
    }

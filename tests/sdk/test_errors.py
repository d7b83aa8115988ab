"""Errors of load(): every bad key named as a dotted path, with file:line:col, exit code 2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel

from cfgctl.errors import InputError
from cfgctl.sdk import ConfigError, load, loads
from tests.sdk.models import Settings, SettingsModel


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_wrong_type_names_the_key_the_value_and_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "db:\n  host: h\n  pool_size: lots\n")
    with pytest.raises(ConfigError) as info:
        load(path, Settings)
    exc = info.value
    assert isinstance(exc, InputError) and exc.exit_code == 2
    assert exc.key == "db.pool_size"
    assert str(exc) == (
        f"{path}:3:14: db.pool_size: Input should be a valid integer, "
        "unable to parse string as an integer, got 'lots'"
    )
    assert exc.hint is not None and "tests.sdk.models.Settings" in exc.hint


def test_every_error_is_listed(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "db:\n  pool_size: 0\nmode: test\ntags: [a, 2]\n")
    with pytest.raises(ConfigError) as info:
        load(path, Settings)
    problems = {p.key: p for p in info.value.problems}
    assert set(problems) == {"db.host", "db.pool_size", "mode", "tags[1]"}
    assert problems["db.host"].message == "required key is missing"
    assert problems["db.pool_size"].message == "Input should be greater than or equal to 1, got 0"
    assert problems["mode"].message == "Input should be 'dev' or 'prod', got 'test'"
    assert (problems["mode"].location.line, problems["mode"].location.column) == (3, 7)
    assert problems["tags[1]"].location.line == 4
    text = str(info.value)
    assert text.startswith(f"{path}: 4 invalid values for tests.sdk.models.Settings:")
    assert f"\n  {path}:3:7: mode: Input should be 'dev' or 'prod'" in text


def test_a_missing_required_key_of_a_pydantic_model(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.json", '{\n  "mode": "prod"\n}\n')
    with pytest.raises(ConfigError) as info:
        load(path, SettingsModel)
    assert info.value.key == "db"
    assert "db: required key is missing" in str(info.value)
    assert info.value.location is not None and info.value.location.line == 1  # the mapping


def test_a_union_failing_every_member_is_one_line() -> None:
    @dataclass(frozen=True)
    class Either:
        port: int | str

    with pytest.raises(ConfigError) as info:
        loads("port: [1, 2]\n", Either)
    [problem] = info.value.problems
    assert problem.key == "port"
    assert problem.message == "Input should be a valid integer or a valid string"


def test_a_secret_value_is_never_repeated() -> None:
    with pytest.raises(ConfigError) as info:
        loads("db: {host: h, password: [hunter2-secret]}\n", Settings)
    assert info.value.key == "db.password"
    assert "hunter2" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        loads("db: {host: h, pool_size: hunter2-secret}\n", Settings)
    assert "got 'hunter2-secret'" in str(info.value)  # not a secret key: shown, to help


def test_env_errors_point_at_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.env", "DB_HOST=h\n\nDB_POOL_SIZE=many\n")
    with pytest.raises(ConfigError) as info:
        load(path, Settings)
    assert info.value.key == "db.pool_size"
    assert str(info.value).startswith(f"{path}:3: db.pool_size: Input should be a valid integer")


@pytest.mark.parametrize(
    ("name", "text", "message", "where"),
    [
        ("c.yaml", "db: {host: h\n", "", ":2:"),
        ("c.yaml", "db: {host: h}\ndb: {host: i}\n", "duplicate key", ":2:1"),
        ("c.yaml", "- a\n- b\n", "the top level is a list, not a mapping", ":1:1"),
        ("c.json", '{"db": {"host": "h",}}', "invalid JSON", ":1:"),
        ("c.json", '{"a": 1, "a": 2}', "duplicate key 'a'", ""),
        ("c.toml", "db = {host = \n", "invalid TOML", ""),
        ("c.env", "DB HOST=x\n", "not a NAME=value line", ":1"),
        ("c.env", "DB_HOST=a b\n", "unquoted spaces", ":1"),
        ("c.env", "DB_HOST='open\n", "quote is never closed", ":1"),
        ("c.env", "TAGS='[\"a\",'\n", "invalid JSON", ":1"),
        ("c.ini", "[db]\n", "cannot tell the format from the extension .ini", ""),
        ("c.yaml", "\0\0binary", "", ""),
    ],
)
def test_unreadable_files_are_input_errors(
    tmp_path: Path, name: str, text: str, message: str, where: str
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as info:
        load(path, Settings)
    exc = info.value
    assert not isinstance(exc, ConfigError)
    assert exc.exit_code == 2 and exc.hint
    assert message in exc.message
    assert str(exc.location).startswith(f"{path}{where}")


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load(tmp_path / "nowhere.yaml", Settings)
    assert info.value.message == "no such configuration file"
    assert str(info.value.location) == str(tmp_path / "nowhere.yaml")
    assert info.value.hint is not None and "check the path" in info.value.hint


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").mkdir()
    with pytest.raises(InputError, match="cannot read it"):
        load(tmp_path / "c.yaml", Settings)


def test_an_unknown_format_name() -> None:
    with pytest.raises(InputError, match="unknown format 'ini'") as info:
        loads("a = 1", Settings, format="ini")
    assert info.value.hint == "use one of env, json, toml, yaml"


@dataclass
class Mutable:
    port: int = 1


@dataclass(frozen=True)
class HoldsMutable:
    inner: list[Mutable]


class MutableModel(BaseModel):
    port: int = 1


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (dict, "builtins.dict is not a model"),
        (Settings(db=None), "an instance of Settings is not a model"),  # type: ignore[arg-type]
        (Mutable, "model tests.sdk.test_errors.Mutable is not frozen"),
        (HoldsMutable, "model tests.sdk.test_errors.Mutable is not frozen"),
        (MutableModel, "model tests.sdk.test_errors.MutableModel is not frozen"),
    ],
)
def test_models_that_are_refused(tmp_path: Path, model: object, message: str) -> None:
    path = _write(tmp_path, "c.yaml", "port: 1\n")
    with pytest.raises(InputError) as info:
        load(path, model)  # type: ignore[arg-type]
    assert info.value.message.startswith(message)
    assert info.value.hint and ("frozen" in info.value.hint or "dataclass" in info.value.hint)


def test_a_model_naming_a_class_local_to_a_function() -> None:
    # This module has `from __future__ import annotations`: "Part" is a string nobody can resolve.
    @dataclass(frozen=True)
    class Part:
        size: int

    @dataclass(frozen=True)
    class Whole:
        part: Part

    with pytest.raises(InputError, match=r"pydantic cannot build .*Whole: name 'Part'") as info:
        loads("part: {size: 1}\n", Whole)
    assert info.value.hint is not None and "module level" in info.value.hint


def test_the_refused_value_is_not_chained_to_the_error() -> None:
    """pydantic's own error holds the value it refused (a secret, maybe): a service that logs
    a ConfigError with its cause must not print it."""
    with pytest.raises(ConfigError) as caught:
        loads("db: {host: h, pool_size: Sup3r-S3cret-Value}", SettingsModel)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__

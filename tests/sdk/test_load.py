"""load() and loads() of every format into frozen dataclasses and pydantic models."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pydantic
import pytest

from cfgctl.sdk import load, loads
from tests.sdk.models import Database, Settings, SettingsModel

YAML = """\
db:
  host: db.internal
  pool_size: 20
  replicas: [r1, r2]
mode: prod
timeout_s: 2.5
tags: [a, b]
limits: {cpu: 2, memory: 512}
"""
DATA = {
    "db": {"host": "db.internal", "pool_size": 20, "replicas": ["r1", "r2"]},
    "mode": "prod",
    "timeout_s": 2.5,
    "tags": ["a", "b"],
    "limits": {"cpu": 2, "memory": 512},
}
TOML = """\
mode = "prod"
timeout_s = 2.5
tags = ["a", "b"]

[db]
host = "db.internal"
pool_size = 20
replicas = ["r1", "r2"]

[limits]
cpu = 2
memory = 512
"""
ENV = """\
# as `cfgctl render --format env` writes it
DB_HOST=db.internal
DB_POOL_SIZE=20
DB_REPLICAS='["r1","r2"]'
export MODE=prod
TIMEOUT_S=2.5
TAGS='["a","b"]'
LIMITS_CPU=2
LIMITS_MEMORY=512
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("config.yaml", YAML),
        ("config.yml", YAML),
        ("config.json", json.dumps(DATA)),
        ("config.toml", TOML),
        ("config.env", ENV),
        (".env", ENV),
    ],
)
def test_every_format_gives_the_same_dataclass(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    settings = load(path, Settings)
    assert type(settings) is Settings and type(settings.db) is Database
    assert settings == Settings(
        db=Database(host="db.internal", pool_size=20, replicas=("r1", "r2")),
        mode="prod",
        timeout_s=2.5,
        tags=["a", "b"],
        limits={"cpu": 2, "memory": 512},
    )
    assert isinstance(settings.db.pool_size, int)
    assert settings.db.replicas == ("r1", "r2")  # the declared tuple, not a list


@pytest.mark.parametrize("name", ["config.yaml", "config.json"])
def test_pydantic_model(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(YAML if name.endswith(".yaml") else json.dumps(DATA))
    settings = load(str(path), SettingsModel)
    assert type(settings) is SettingsModel
    assert settings.db.pool_size == 20 and settings.limits == {"cpu": 2, "memory": 512}
    assert settings.model_dump()["db"]["replicas"] == ("r1", "r2")


def test_defaults_and_optional(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("db: {host: h}\n")
    settings = load(tmp_path / "c.yaml", Settings)
    assert settings.db.pool_size == 10
    assert settings.mode == "dev"
    assert settings.timeout_s is None and settings.db.password is None
    assert settings.tags == [] and settings.limits == {} and settings.debug is False


def test_the_result_is_immutable(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(YAML)
    settings = load(tmp_path / "c.yaml", Settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.db.pool_size = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.mode = "dev"  # type: ignore[misc]
    model = load(tmp_path / "c.yaml", SettingsModel)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        model.db.pool_size = 1
    assert settings.db.pool_size == 20 and model.db.pool_size == 20


def test_loads_from_text() -> None:
    assert loads(YAML, Settings).db.replicas == ("r1", "r2")
    assert loads(json.dumps(DATA), SettingsModel, format="json").mode == "prod"
    assert loads(TOML.encode(), Settings, format="toml").limits == {"cpu": 2, "memory": 512}
    assert loads(ENV, Settings, format="env").db.pool_size == 20


def test_format_given_for_a_file_without_extension(tmp_path: Path) -> None:
    (tmp_path / "settings").write_text(YAML)
    assert load(tmp_path / "settings", Settings, format="yaml").db.host == "db.internal"


def test_an_empty_yaml_file_is_an_empty_mapping(tmp_path: Path) -> None:
    @dataclasses.dataclass(frozen=True)
    class AllDefaults:
        port: int = 8080

    (tmp_path / "c.yaml").write_text("# nothing set yet\n")
    assert load(tmp_path / "c.yaml", AllDefaults) == AllDefaults(8080)


def test_dataclass_ignores_extra_keys_and_forbidding_model_refuses_them(tmp_path: Path) -> None:
    from cfgctl.sdk import ConfigError

    (tmp_path / "c.yaml").write_text("db: {host: h, colour: blue}\nextra: 1\n")
    assert load(tmp_path / "c.yaml", Settings).db.host == "h"
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "c.yaml", SettingsModel)
    assert {p.key for p in info.value.problems} == {"db.colour", "extra"}


@dataclasses.dataclass(frozen=True)
class WithDerived:
    host: str
    port: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", f"http://{self.host}:{self.port}")


@dataclasses.dataclass(frozen=True)
class Holder:
    servers: list[WithDerived]
    by_name: dict[str, WithDerived]


def test_objects_are_the_users_own_with_what_post_init_added() -> None:
    holder = loads("servers: [{host: a, port: 1}]\nby_name: {b: {host: b, port: 2}}\n", Holder)
    assert type(holder.servers[0]) is WithDerived and type(holder.by_name["b"]) is WithDerived
    assert holder.servers[0].url == "http://a:1"  # type: ignore[attr-defined]
    assert holder.by_name["b"].url == "http://b:2"  # type: ignore[attr-defined]
    assert holder == Holder([WithDerived("a", 1)], {"b": WithDerived("b", 2)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        holder.servers[0].port = 3  # type: ignore[misc]

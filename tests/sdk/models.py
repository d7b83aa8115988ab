"""Models the SDK tests load configurations into: a frozen dataclass tree and a pydantic twin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Database:
    """The database the service talks to."""

    host: str
    pool_size: Annotated[int, Field(ge=1, le=500, description="Connections in the pool.")] = 10
    replicas: tuple[str, ...] = ()
    password: str | None = None


@dataclass(frozen=True)
class Settings:
    db: Database
    mode: Literal["dev", "prod"] = "dev"
    timeout_s: float | None = None
    tags: list[str] = field(default_factory=list)
    limits: Mapping[str, int] = field(default_factory=dict)
    debug: bool = False


class DatabaseModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    pool_size: int = Field(10, ge=1, le=500, description="Connections in the pool.")
    replicas: tuple[str, ...] = ()


class SettingsModel(BaseModel):
    """Settings of the payments service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    db: DatabaseModel
    mode: Literal["dev", "prod"] = "dev"
    timeout_s: float | None = None
    tags: list[str] = []
    limits: dict[str, int] = {}


@dataclass(frozen=True)
class Pair:
    """Two values a writer always keeps equal: a reader seeing them differ saw half an update."""

    a: int
    b: int
    label: str = ""


@dataclass(frozen=True)
class Twins:
    pair: Pair
    other: int = 0

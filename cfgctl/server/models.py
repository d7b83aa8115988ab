"""The response bodies, described for the OpenAPI document (routes send the bytes they built)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ConfigDocument",
    "EnvironmentItem",
    "EnvironmentPage",
    "ProvenanceRow",
    "RemoteStatus",
    "SchemaDocument",
    "SchemaItem",
    "SchemaPage",
    "ServiceItem",
    "ServicePage",
    "StatusDocument",
    "TemplatePage",
]


class ServiceItem(BaseModel):
    name: str
    schema_: str = Field(alias="schema")  # `schema` would shadow BaseModel.schema
    owners: list[str]


class ServicePage(BaseModel):
    items: list[ServiceItem]
    next_cursor: str | None


class EnvironmentItem(BaseModel):
    name: str
    inherits: str | None
    protected: bool
    abstract: bool


class EnvironmentPage(BaseModel):
    items: list[EnvironmentItem]
    next_cursor: str | None


class SchemaItem(BaseModel):
    name: str
    versions: list[int]
    latest: int
    files: list[str]
    services: dict[str, list[str]]


class SchemaPage(BaseModel):
    items: list[SchemaItem]
    next_cursor: str | None


class SchemaDocument(BaseModel):
    name: str
    version: int
    file: str
    schema_: dict[str, Any] | bool = Field(alias="schema")


class TemplatePage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class ProvenanceRow(BaseModel):
    key: str
    path: list[str | int]
    env: str
    layer: str
    file: str
    line: int | None
    column: int | None
    commit: str | None
    author: str | None
    date: str | None


class ConfigDocument(BaseModel):
    service: str
    env: str
    schema_: str | None = Field(alias="schema")
    config: dict[str, Any]
    # with ?invalid=true, a configuration that fails its schema: the diagnostics, as
    # `cfgctl validate --format json` lists them (absent when it passes)
    errors: list[dict[str, Any]] | None = None
    provenance: list[ProvenanceRow] | None = None


class RemoteStatus(BaseModel):
    """Remote mode: the remote served and how its fetches go (shared by every worker)."""

    url: str  # credentials in it shown as ***
    branch: str
    poll_seconds: float
    last_success: str | None  # the last successful fetch (ISO 8601), None before any
    last_attempt: str | None
    error: str | None  # why the last fetch failed; None when it succeeded


class HealthDocument(BaseModel):
    status: str  # "ok"


class StatusDocument(BaseModel):
    version: str
    branch: str
    head: str
    waiting: int  # long polls held now (in this worker)
    remote: RemoteStatus | None = None  # null when serving a local repository

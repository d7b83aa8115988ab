"""`cfgctl schema generate` and `cfgctl.sdk.load` judge a model alike: a model the one refuses,
the other refuses too (exit 2, the same reason), and a model the one accepts, the other accepts."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from cfgctl.errors import InputError
from cfgctl.sdk import import_model, load
from tests.support.cli import RunCli

MODULE = """\
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Frozen:
    port: int = 8080
    tags: frozenset[str] = frozenset()
    extra: Any = None


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    port: int = 8080


@dataclass
class Mutable:
    port: int = 8080


class MutableModel(BaseModel):
    port: int = 8080


@dataclass
class Inner:
    host: str = "db"


@dataclass(frozen=True)
class NestedMutable:
    db: Inner = field(default_factory=Inner)


@dataclass(frozen=True)
class WithCallable:
    hook: Callable[[int], int] = abs


class Opaque:
    pass


class WithArbitraryType(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    thing: Opaque | None = None


@dataclass(frozen=True)
class Unresolved:
    db: "NoSuchClass | None" = None  # noqa: F821
"""

ACCEPTED = ["Frozen", "FrozenModel"]
REFUSED = {
    "Mutable": "is not frozen",
    "MutableModel": "is not frozen",
    "NestedMutable": "is not frozen",
    "WithCallable": "no JSON Schema",
    "WithArbitraryType": "no JSON Schema",
    "Unresolved": "NoSuchClass",
}


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    name = f"svc_models_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(MODULE)
    (tmp_path / "empty.yaml").write_text("{}\n")
    return name


@pytest.mark.parametrize("model", [*ACCEPTED, *REFUSED])
def test_generate_and_load_agree(tmp_path: Path, run_cli: RunCli, models: str, model: str) -> None:
    generated = run_cli("schema", "generate", f"{models}:{model}", cwd=tmp_path)
    cls = import_model(f"{models}:{model}")
    try:
        load(tmp_path / "empty.yaml", cls)
        loaded: str | None = None
    except InputError as exc:
        loaded = f"{exc.message} {exc.hint}"
    if model in ACCEPTED:
        assert generated.exit_code == 0, generated.output
        assert loaded is None
    else:
        assert generated.exit_code == 2, generated.output
        assert REFUSED[model] in generated.stderr
        assert loaded is not None, f"load accepted {model}, schema generate refused it"
        assert REFUSED[model] in loaded

"""`load` and `loads`: a configuration file into an instance of the service's own model.

@dataclass(frozen=True)
class Settings:
    db: DB
    mode: Literal["dev", "prod"] = "dev"

settings = load("config/prod/payments.yaml", Settings)
settings.db.pool_size          # an int, read at the cost of a plain attribute
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from cfgctl.sdk.files import parse_text, read_file
from cfgctl.sdk.typed import adapter, convert

__all__ = ["load", "loads"]

T = TypeVar("T")


def load(path: str | os.PathLike[str], model: type[T], *, format: str | None = None) -> T:
    """Read the file at `path` into an instance of `model`, a frozen dataclass or pydantic model.

    The format comes from the extension (`.yaml`, `.yml`, `.json`, `.toml`, `.env`) unless
    `format` is given. Raises `ConfigError` (an `InputError`, exit 2) naming every bad key with
    its file:line:col, and `InputError` for a missing or unparsable file or an unusable model.
    """
    adapter(model)  # a bad model is reported before any file is read
    return convert(read_file(Path(path), model, format), model)


def loads(
    text: str | bytes, model: type[T], *, format: str = "yaml", source: str = "<string>"
) -> T:
    """Like `load`, from text in `format` (yaml, json, toml or env); `source` names it in errors.

    >>> loads("db: {pool_size: 5}", Settings).db.pool_size
    5
    """
    adapter(model)
    return convert(parse_text(text, format, source, model), model)

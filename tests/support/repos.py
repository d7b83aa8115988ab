"""The configuration repositories most tests start from."""

from __future__ import annotations

from pathlib import Path

from cfgctl.repo.builtin import TEMPLATES
from tests.support.gitrepo import ConfigRepo

MANIFEST = """\
version: 1
environments:
  base: {}
  staging: {inherits: base}
  prod: {inherits: base}
services:
  payments: {schema: svc}
"""

SCHEMA = """\
{
  "type": "object",
  "required": ["port"],
  "additionalProperties": false,
  "properties": {
    "port": {"type": "integer", "minimum": 1},
    "host": {"type": "string"},
    "db": {"type": "object", "properties": {"password": {"type": "string", "x-cfgctl-secret": true},
                                             "pool": {"type": "integer"}}},
    "tags": {"type": "array", "items": {"type": "string"}}
  }
}
"""


def make_example_repo(path: Path) -> ConfigRepo:
    """The example repository `cfgctl init` creates, committed."""
    return ConfigRepo.from_template(path, TEMPLATES / "default")


def make_small_repo(path: Path) -> ConfigRepo:
    """One service (payments), three environments, a schema with a secret key."""
    repo = ConfigRepo.init(path)
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/svc.schema.json": SCHEMA,
            "config/base/_defaults.yaml": "port: 8080\nhost: base.internal\n",
            "config/prod/payments.yaml": "# prod\nhost: prod.internal  # the prod host\n",
        },
        "init",
    )
    return repo

"""Deterministic benchmark data: a layered config repository, standalone documents, rendered docs.

    repo = ensure_repo(1000)            # benchmarks/out/repo-1000/, committed with pygit2
    docs = ensure_docs(3000)            # benchmarks/out/docs-3000/: schema + 3,000 YAML documents
    rendered = ensure_rendered(repo)    # benchmarks/out/rendered-1000/: 3,000 effective configs

Everything comes from `random.Random` seeded by a fixed seed and the file's name, so the same
parameters give byte-identical files. A data set is regenerated only when its folder lacks a
`.params.json` naming the same parameters (and generator version); otherwise it is reused.

The repository has 3 environments (base; staging and prod inheriting base) and N services using
one web-service schema that `$ref`s a shared common.schema.json. Each layer file only ever holds
objects that are complete for their own `required` keys, and the schema has no constraint across
properties, so the deep merge of the layers (what cfgctl validates) is valid by construction.
"""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ENVS",
    "OUT",
    "Docs",
    "Repo",
    "ensure_docs",
    "ensure_rendered",
    "ensure_repo",
]

GENERATOR_VERSION = 3  # 3: the index settled after the files (no racily clean entries)
SEED = 20240611
OUT = Path(__file__).resolve().parent / "out"
ENVS = ("base", "staging", "prod")
SCHEMA_NAME = "web-service"
# A fixed commit time keeps the repository's commit ids stable from one generation to the next.
COMMIT_TIME = 1_700_000_000

# --- the schemas -----------------------------------------------------------------------------

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_C = "common.schema.json#/$defs/"

COMMON_SCHEMA: dict[str, Any] = {
    "$schema": _DRAFT,
    "title": "Definitions shared by the service schemas",
    "$defs": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "hostname": {"type": "string", "format": "hostname", "maxLength": 253},
        "duration": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
        "email": {"type": "string", "format": "email"},
        "url": {"type": "string", "format": "uri"},
        "cpu": {"type": "string", "pattern": "^[0-9]+m$"},
        "memory": {"type": "string", "pattern": "^[0-9]+(Mi|Gi)$"},
        "resources": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"cpu": {"$ref": "#/$defs/cpu"}, "memory": {"$ref": "#/$defs/memory"}},
        },
        "log": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "level": {"enum": ["debug", "info", "warning", "error"]},
                "format": {"enum": ["text", "json"]},
                "sampling": {"type": "number", "minimum": 0, "maximum": 1},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "probe": {
            "type": "object",
            "required": ["path"],
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "pattern": "^/"},
                "port": {"$ref": "#/$defs/port"},
                "interval": {"$ref": "#/$defs/duration"},
                "timeout": {"$ref": "#/$defs/duration"},
                "failure_threshold": {"type": "integer", "minimum": 1, "maximum": 10},
            },
        },
        "owner": {
            "type": "object",
            "required": ["team", "email"],
            "additionalProperties": False,
            "properties": {
                "team": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                "email": {"$ref": "#/$defs/email"},
                "slack": {"type": "string", "pattern": "^#[a-z0-9-]+$"},
                "runbook": {"$ref": "#/$defs/url"},
            },
        },
    },
}

WEB_SCHEMA: dict[str, Any] = {
    "$schema": _DRAFT,
    "title": "web-service: an HTTP service with its database, cache, probes and alerts",
    "type": "object",
    "required": ["service", "replicas", "server", "log", "owner"],
    "additionalProperties": False,
    "properties": {
        "service": {
            "type": "object",
            "required": ["name", "tier"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                "tier": {"enum": ["critical", "standard", "batch"]},
                "description": {"type": "string", "maxLength": 200},
                "version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"},
            },
        },
        "replicas": {"type": "integer", "minimum": 1, "maximum": 500},
        "owner": {"$ref": _C + "owner"},
        "public_url": {"$ref": _C + "url"},
        "server": {
            "type": "object",
            "required": ["port"],
            "additionalProperties": False,
            "properties": {
                "bind_address": {"type": "string", "format": "ipv4"},
                "port": {"$ref": _C + "port"},
                "timeout": {"$ref": _C + "duration"},
                "max_connections": {"type": "integer", "minimum": 1, "maximum": 100000},
                "tls": {
                    "type": "object",
                    "required": ["enabled"],
                    "additionalProperties": False,
                    "properties": {
                        "enabled": {"type": "boolean"},
                        "cert_path": {"type": "string", "pattern": "^/"},
                        "min_version": {"enum": ["1.2", "1.3"]},
                    },
                },
                "cors_origins": {"type": "array", "items": {"$ref": _C + "url"}},
            },
        },
        "log": {"$ref": _C + "log"},
        "database": {
            "type": "object",
            "required": ["host", "port", "name"],
            "additionalProperties": False,
            "properties": {
                "host": {"$ref": _C + "hostname"},
                "port": {"$ref": _C + "port"},
                "name": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"},
                "user": {"type": "string", "minLength": 1},
                "pool": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "min": {"type": "integer", "minimum": 0, "maximum": 100},
                        "max": {"type": "integer", "minimum": 1, "maximum": 500},
                        "idle_timeout": {"$ref": _C + "duration"},
                    },
                },
                "read_replicas": {
                    "type": "array",
                    "maxItems": 8,
                    "items": {"$ref": _C + "hostname"},
                },
                "ssl_mode": {"enum": ["disable", "require", "verify-ca", "verify-full"]},
            },
        },
        "cache": {
            "type": "object",
            "required": ["backend"],
            "additionalProperties": False,
            "properties": {
                "backend": {"enum": ["redis", "memcached", "none"]},
                "nodes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["host", "port"],
                        "additionalProperties": False,
                        "properties": {
                            "host": {"$ref": _C + "hostname"},
                            "port": {"$ref": _C + "port"},
                            "weight": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                    },
                },
                "ttl": {"$ref": _C + "duration"},
                "max_entries": {"type": "integer", "minimum": 0},
            },
        },
        "features": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            "additionalProperties": {"type": "boolean"},
        },
        "resources": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "requests": {"$ref": _C + "resources"},
                "limits": {"$ref": _C + "resources"},
            },
        },
        "healthcheck": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"liveness": {"$ref": _C + "probe"}, "readiness": {"$ref": _C + "probe"}},
        },
        "env": {
            "type": "object",
            "patternProperties": {"^[A-Z][A-Z0-9_]*$": {"type": ["string", "number", "boolean"]}},
            "additionalProperties": False,
        },
        "dependencies": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["name", "url"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
                    "url": {"$ref": _C + "url"},
                    "timeout": {"$ref": _C + "duration"},
                    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                    "critical": {"type": "boolean"},
                },
            },
        },
        "alerts": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "emails": {"type": "array", "minItems": 1, "items": {"$ref": _C + "email"}},
                "pagerduty": {"type": "boolean"},
                "error_rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "p99_latency_ms": {"type": "integer", "minimum": 1},
            },
        },
        "tags": {
            "type": "array",
            "maxItems": 12,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9:-]*$"},
        },
    },
}


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2) + "\n"


# --- a small YAML writer with comments and mixed quoting -------------------------------------

_PLAIN = re.compile(r"^[A-Za-z/][A-Za-z0-9_.,/@:() -]*[A-Za-z0-9_./)]$|^[A-Za-z]$")
# Strings that start with a digit yet never resolve to a number or a date: durations, sizes, semver.
_PLAIN_DIGITS = re.compile(r"^[0-9]+(ms|s|m|h|Mi|Gi)$|^[0-9]+\.[0-9]+\.[0-9]+$")
_FLOW_ITEM = re.compile(r"^[A-Za-z0-9/][A-Za-z0-9_./@-]*$")
_RESERVED = frozenset(
    {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", "nan", "inf"}
)
_COMMENTS = (
    "tuned after the load test",
    "see the runbook",
    "keep in sync with the dashboard",
    "TODO: revisit next quarter",
    "per the SRE review",
    "raised during the incident",
    "do not lower without asking the owners",
    "matches the upstream default",
    "set by the platform team",
    "temporary, remove after the migration",
)


def _plain_ok(text: str) -> bool:
    if _PLAIN_DIGITS.match(text):
        return True
    return (
        bool(_PLAIN.match(text))
        and text.lower() not in _RESERVED
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
    )


def _scalar(value: Any, rng: random.Random) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    roll = rng.random()
    if _plain_ok(text) and roll < 0.85:
        return text
    if roll < 0.93 and "'" not in text:
        return f"'{text}'"
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


class _Writer:
    def __init__(self, rng: random.Random, comment_rate: float = 0.12) -> None:
        self.rng = rng
        self.rate = comment_rate
        self.lines: list[str] = []

    def _tail(self) -> str:
        if self.rng.random() < self.rate:
            return "  # " + self.rng.choice(_COMMENTS)
        return ""

    def mapping(self, data: dict[str, Any], indent: int, first_prefix: str | None = None) -> None:
        pad = " " * indent
        for i, (key, value) in enumerate(data.items()):
            lead = first_prefix if (i == 0 and first_prefix is not None) else pad
            self.entry(lead, key, value, indent)

    def entry(self, lead: str, key: str, value: Any, indent: int) -> None:
        if isinstance(value, dict):
            if not value:
                self.lines.append(f"{lead}{key}: {{}}")
            elif len(value) <= 2 and self.rng.random() < 0.25 and _flowable(value):
                inner = ", ".join(f"{k}: {_scalar(v, self.rng)}" for k, v in value.items())
                self.lines.append(f"{lead}{key}: {{{inner}}}{self._tail()}")
            else:
                self.lines.append(f"{lead}{key}:{self._tail()}")
                self.mapping(value, indent + 2)
        elif isinstance(value, list):
            if not value:
                self.lines.append(f"{lead}{key}: []")
            elif all(isinstance(v, str) and _FLOW_ITEM.match(v) for v in value) and (
                self.rng.random() < 0.4
            ):
                self.lines.append(f"{lead}{key}: [{', '.join(value)}]{self._tail()}")
            else:
                self.lines.append(f"{lead}{key}:{self._tail()}")
                self.sequence(value, indent + 2)
        else:
            self.lines.append(f"{lead}{key}: {_scalar(value, self.rng)}{self._tail()}")

    def sequence(self, items: list[Any], indent: int) -> None:
        pad = " " * indent
        for item in items:
            if isinstance(item, dict) and item:
                self.mapping(item, indent + 2, first_prefix=pad + "- ")
            else:
                self.lines.append(f"{pad}- {_scalar(item, self.rng)}")


def _flowable(value: dict[str, Any]) -> bool:
    return all(
        not isinstance(v, (dict, list)) and (not isinstance(v, str) or _FLOW_ITEM.match(v))
        for v in value.values()
    )


def to_yaml(
    sections: list[tuple[str, Any]], rng: random.Random, header: list[str] | None = None
) -> str:
    """Block-style YAML of top-level `sections`, with a header, section comments and end-of-line
    comments, and a mix of plain, single- and double-quoted strings."""
    w = _Writer(rng)
    for line in header or []:
        w.lines.append(f"# {line}")
    for i, (key, value) in enumerate(sections):
        if i and isinstance(value, (dict, list)) and rng.random() < 0.3:
            w.lines.append("")
        if isinstance(value, (dict, list)) and rng.random() < 0.25:
            w.lines.append(f"# {key}: {rng.choice(_COMMENTS)}")
        w.entry("", key, value, 0)
    return "\n".join(w.lines) + "\n"


# --- realistic content ----------------------------------------------------------------------

_DOMAINS = (
    "payments", "search", "catalog", "checkout", "billing", "identity", "inventory", "orders",
    "shipping", "pricing", "reviews", "recommend", "notify", "ledger", "fraud", "media",
    "profile", "session", "analytics", "export", "import", "reports", "tax", "loyalty",
    "gateway", "geo", "cart", "wishlist", "promo", "support", "audit", "consent",
)  # fmt: skip
_ROLES = (
    "api", "worker", "gateway", "scheduler", "indexer", "sync", "web", "admin", "consumer",
    "publisher", "proxy", "cron",
)  # fmt: skip
_TEAMS = (
    "core-platform", "checkout", "growth", "search-relevance", "identity", "data-eng",
    "fulfilment", "risk", "mobile", "sre",
)  # fmt: skip
_FEATURES = (
    "new_checkout", "fuzzy_matching", "refunds_v2", "dark_launch", "async_export",
    "strict_validation", "beta_ui", "rate_limit_v2", "bulk_api", "audit_trail", "geo_routing",
    "smart_retry", "partial_refunds", "cache_warmup", "edge_render", "grpc_transport",
)  # fmt: skip
_DESCRIPTIONS = (
    "Handles {d} requests from the storefront",
    "Background processing for {d}",
    "Public API of the {d} domain, behind the gateway",
    "Keeps {d} data in sync with the warehouse",
    "Internal admin endpoints for {d} (read-mostly)",
)
_REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")


def service_names(n: int) -> list[str]:
    rng = random.Random(f"{SEED}:names")
    names = []
    for i in range(n):
        names.append(f"{rng.choice(_DOMAINS)}-{rng.choice(_ROLES)}-{i:05d}")
    return names


def _duration(rng: random.Random, lo: int, hi: int, unit: str = "s") -> str:
    return f"{rng.randint(lo, hi)}{unit}"


@dataclass(frozen=True)
class _Profile:
    """What stays the same for one service across its environments."""

    name: str
    domain: str
    team: str
    tier: str
    port: int
    db_name: str


def _profile(name: str) -> _Profile:
    rng = random.Random(f"{SEED}:profile:{name}")
    domain = name.split("-", 1)[0]
    return _Profile(
        name=name,
        domain=domain,
        team=rng.choice(_TEAMS),
        tier=rng.choice(("critical", "standard", "standard", "batch")),
        port=rng.choice((8080, 8000, 9000, 3000)) + rng.randint(0, 99),
        db_name=f"{domain}_{rng.choice(('main', 'core', 'app', 'store'))}",
    )


def _host(p: _Profile, env: str, what: str, i: int | None = None) -> str:
    suffix = "" if i is None else f"-{i}"
    return f"{p.domain}-{what}{suffix}.{env}.internal.example.com"


def _sections(p: _Profile, env: str, rng: random.Random) -> dict[str, Callable[[], Any]]:
    """Every optional top-level section, as makers (only the chosen ones draw random numbers)."""

    def database() -> dict[str, Any]:
        d: dict[str, Any] = {
            "host": _host(p, env, "db"),
            "port": rng.choice((5432, 3306, 5433)),
            "name": p.db_name,
            "user": f"{p.domain}_app",
            "pool": {"min": rng.randint(1, 5), "max": rng.randint(10, 80)},
            "ssl_mode": rng.choice(("require", "verify-ca", "verify-full")),
        }
        if rng.random() < 0.5:
            d["pool"]["idle_timeout"] = _duration(rng, 1, 10, "m")
        if rng.random() < 0.6:
            d["read_replicas"] = [_host(p, env, "db-ro", i) for i in range(rng.randint(1, 3))]
        return d

    def cache() -> dict[str, Any]:
        return {
            "backend": rng.choice(("redis", "memcached")),
            "nodes": [
                {"host": _host(p, env, "cache", i), "port": 6379, "weight": rng.randint(1, 10)}
                for i in range(rng.randint(1, 3))
            ],
            "ttl": _duration(rng, 30, 900),
            "max_entries": rng.choice((10000, 50000, 100000)),
        }

    def features() -> dict[str, bool]:
        keys = rng.sample(_FEATURES, rng.randint(2, 6))
        return {k: rng.random() < 0.5 for k in keys}

    def resources() -> dict[str, Any]:
        cpu = rng.choice((100, 250, 500))
        mem = rng.choice((128, 256, 512))
        return {
            "requests": {"cpu": f"{cpu}m", "memory": f"{mem}Mi"},
            "limits": {"cpu": f"{cpu * 4}m", "memory": f"{mem * 2}Mi"},
        }

    def healthcheck() -> dict[str, Any]:
        return {
            "liveness": {
                "path": "/healthz",
                "port": p.port,
                "interval": _duration(rng, 5, 30),
                "timeout": _duration(rng, 1, 5),
                "failure_threshold": rng.randint(2, 5),
            },
            "readiness": {"path": "/ready", "interval": _duration(rng, 2, 10)},
        }

    def env_vars() -> dict[str, Any]:
        out: dict[str, Any] = {
            "REGION": rng.choice(_REGIONS),
            "WORKERS": rng.randint(2, 16),
            "DEBUG": env == "staging",
            "UPSTREAM_URL": f"https://{rng.choice(_DOMAINS)}.{env}.example.com/v1",
        }
        if rng.random() < 0.5:
            out["GREETING"] = "Hello, world: it's a test"
        return out

    def dependencies() -> list[dict[str, Any]]:
        out = []
        for dep in rng.sample(_DOMAINS, rng.randint(1, 3)):
            item: dict[str, Any] = {
                "name": f"{dep}-api",
                "url": f"https://{dep}-api.{env}.internal.example.com:8443/v2",
                "timeout": _duration(rng, 100, 3000, "ms"),
                "retries": rng.randint(0, 5),
            }
            if rng.random() < 0.5:
                item["critical"] = rng.random() < 0.5
            out.append(item)
        return out

    def alerts() -> dict[str, Any]:
        return {
            "emails": [f"{p.team}@example.com", f"oncall+{p.domain}@example.com"][
                : rng.randint(1, 2)
            ],
            "pagerduty": env == "prod" or p.tier == "critical",
            "error_rate": rng.choice((0.01, 0.02, 0.05)),
            "p99_latency_ms": rng.choice((250, 500, 800, 1200)),
        }

    def tags() -> list[str]:
        return [f"team:{p.team}", f"tier:{p.tier}", p.domain, f"env:{env}"][: rng.randint(2, 4)]

    def log() -> dict[str, Any]:
        return {
            "level": rng.choice(("debug", "info", "warning")),
            "fields": {"service": p.name, "team": p.team},
        }

    def public_url() -> str:
        host = "example.com" if env == "prod" else f"{env}.example.com"
        return f"https://{p.domain}.{host}/{p.name.split('-')[1]}"

    return {
        "database": database,
        "cache": cache,
        "features": features,
        "resources": resources,
        "healthcheck": healthcheck,
        "env": env_vars,
        "dependencies": dependencies,
        "alerts": alerts,
        "tags": tags,
        "log": log,
        "public_url": public_url,
    }


def _service_section(p: _Profile, rng: random.Random) -> dict[str, Any]:
    return {
        "name": p.name,
        "tier": p.tier,
        "description": rng.choice(_DESCRIPTIONS).format(d=p.domain),
        "version": f"{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
    }


def _owner_section(p: _Profile, rng: random.Random) -> dict[str, Any]:
    out = {"team": p.team, "email": f"{p.team}@example.com", "slack": f"#{p.team}"}
    if rng.random() < 0.5:
        out["runbook"] = f"https://wiki.example.com/runbooks/{p.name}"
    return out


def _server_section(p: _Profile, env: str, rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"port": p.port, "timeout": _duration(rng, 5, 60)}
    if rng.random() < 0.6:
        out["max_connections"] = rng.choice((500, 1000, 2000, 5000))
    if env != "staging" or rng.random() < 0.5:
        out["tls"] = {
            "enabled": True,
            "cert_path": f"/etc/tls/{p.name}.pem",
            "min_version": rng.choice(("1.2", "1.3")),
        }
    if rng.random() < 0.4:
        out["cors_origins"] = ["https://www.example.com", "https://admin.example.com"]
    return out


def _compose(
    required: list[tuple[str, Any]],
    optional: dict[str, Callable[[], Any]],
    rng: random.Random,
    header: list[str],
    lines: tuple[int, int] = (30, 60),
) -> str:
    """YAML of the required sections plus optional ones until it has 30-60 lines."""
    target = rng.randint(*lines)
    sections = list(required)
    text = to_yaml(sections, random.Random(rng.random()), header)
    for key in rng.sample(sorted(optional), len(optional)):
        if text.count("\n") >= target:
            break
        trial = [*sections, (key, optional[key]())]
        trial_text = to_yaml(trial, random.Random(rng.random()), header)
        if trial_text.count("\n") <= lines[1]:
            sections, text = trial, trial_text
    return text


def service_file(name: str, env: str) -> str:
    """config/ENV/NAME.yaml: the service's own layer in one environment."""
    p = _profile(name)
    rng = random.Random(f"{SEED}:file:{env}:{name}")
    required: list[tuple[str, Any]] = []
    if env == "base":
        required += [("service", _service_section(p, rng)), ("owner", _owner_section(p, rng))]
    else:
        required.append(("replicas", rng.randint(1, 3) * (3 if env == "prod" else 1)))
    required.append(("server", _server_section(p, env, rng)))
    header = [f"{name} in {env}" + (": the service's own settings" if env == "base" else "")]
    if env != "base":
        header.append(f"Overrides config/base/{name}.yaml where {env} differs.")
    return _compose(required, _sections(p, env, rng), rng, header)


def standalone_doc(i: int) -> str:
    """A complete web-service document, valid on its own (every required key present)."""
    name = f"{_DOMAINS[i % len(_DOMAINS)]}-{_ROLES[(i // len(_DOMAINS)) % len(_ROLES)]}-{i:05d}"
    p = _profile(name)
    env = ENVS[i % 3]
    rng = random.Random(f"{SEED}:doc:{i}")
    required: list[tuple[str, Any]] = [
        ("service", _service_section(p, rng)),
        ("replicas", rng.randint(1, 12)),
        ("owner", _owner_section(p, rng)),
        ("server", _server_section(p, env, rng)),
        ("log", {"level": rng.choice(("info", "warning")), "format": "json"}),
    ]
    optional = _sections(p, env, rng)
    del optional["log"]
    return _compose(required, optional, rng, [f"{p.name} ({env}), standalone document"])


_DEFAULTS = {
    "base": """\
# Defaults of every service in every environment.
replicas: 2
server:
  bind_address: 0.0.0.0
  port: 8080
  timeout: 30s  # the load balancer gives up at 60s
  max_connections: 1000
log:
  level: info
  format: json
  sampling: 1.0
resources:
  requests: {cpu: 100m, memory: 128Mi}
  limits:
    cpu: 500m
    memory: "512Mi"
healthcheck:
  liveness: {path: /healthz, interval: 10s}
  readiness:
    path: '/ready'
    interval: 5s
""",
    "staging": """\
# Staging: one replica, verbose logs.
replicas: 1
log:
  level: debug
  sampling: 0.5
env:
  ENVIRONMENT: staging
  FEATURE_FLAGS_URL: "https://flags.staging.example.com"
""",
    "prod": """\
# Production: more replicas, quieter logs, paging on.
replicas: 3
log:
  level: warning
alerts:
  pagerduty: true
  error_rate: 0.01
env:
  ENVIRONMENT: production
  FEATURE_FLAGS_URL: "https://flags.example.com"
""",
}


def manifest_text(names: list[str]) -> str:
    lines = [
        f"# cfgctl manifest, generated by benchmarks/generate.py ({len(names)} services).",
        "version: 1",
        "",
        "environments:",
        "  base: {}",
        "  staging: {inherits: base}",
        "  prod: {inherits: base, protected: true}",
        "",
        "services:",
    ]
    for name in names:
        team = _profile(name).team
        lines.append(f'  {name}: {{schema: {SCHEMA_NAME}, owners: ["@acme/{team}"]}}')
    return "\n".join(lines) + "\n"


# --- data sets on disk ----------------------------------------------------------------------


def _params_ok(folder: Path, params: dict[str, Any]) -> bool:
    try:
        return bool(json.loads((folder / ".params.json").read_text()) == params)
    except (OSError, ValueError):
        return False


def _fresh(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _done(folder: Path, params: dict[str, Any]) -> None:
    (folder / ".params.json").write_text(json.dumps(params, indent=2) + "\n")


def _log(message: str) -> None:
    print(f"[generate] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Repo:
    root: Path
    services: list[str]
    envs: tuple[str, ...]
    head: str

    @property
    def pairs(self) -> int:
        return len(self.services) * len(self.envs)


def ensure_repo(services: int) -> Repo:
    """benchmarks/out/repo-N/: the config repository of N services, three commits on `main`:
    the generated config; an edit of config/base/_defaults.yaml that reaches every pair
    (HEAD~2..HEAD~1); an edit of one service file (HEAD~1..HEAD)."""
    import pygit2

    root = OUT / f"repo-{services}"
    names = service_names(services)
    params = {"kind": "repo", "services": services, "version": GENERATOR_VERSION, "seed": SEED}
    if _params_ok(root, params):
        head = str(pygit2.Repository(str(root)).head.target)
        return Repo(root, names, ENVS, head)
    _log(f"writing a repository of {services} services x {len(ENVS)} environments to {root}")
    _fresh(root)
    files: dict[str, str] = {
        ".gitignore": ".cfgctl/\n",
        "cfgctl.yaml": manifest_text(names),
        "schemas/common.schema.json": schema_text(COMMON_SCHEMA),
        f"schemas/{SCHEMA_NAME}.schema.json": schema_text(WEB_SCHEMA),
    }
    for env in ENVS:
        files[f"config/{env}/_defaults.yaml"] = _DEFAULTS[env]
        for name in names:
            files[f"config/{env}/{name}.yaml"] = service_file(name, env)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    repo = pygit2.init_repository(str(root), bare=False, initial_head="main")
    sig = pygit2.Signature("cfgctl bench", "bench@example.com", COMMIT_TIME, 0)
    repo.index.add_all()
    repo.index.write()
    first = repo.create_commit(
        "HEAD", sig, sig, f"Generated config of {services} services", repo.index.write_tree(), []
    )
    # A second commit: base's _defaults.yaml, on a key no service overrides (every pair changes).
    defaults = "config/base/_defaults.yaml"
    text = (root / defaults).read_text()
    (root / defaults).write_text(text.replace("max_connections: 1000", "max_connections: 2000"))
    repo.index.add(defaults)
    repo.index.write()
    sig1 = pygit2.Signature("cfgctl bench", "bench@example.com", COMMIT_TIME + 1800, 0)
    first = repo.create_commit(
        "HEAD", sig1, sig1, "base: 2000 connections", repo.index.write_tree(), [first]
    )
    # A third commit: one service file.
    changed = f"config/prod/{names[0]}.yaml"
    text = (root / changed).read_text()
    (root / changed).write_text(re.sub(r"(?m)^replicas: \d+", "replicas: 12", text, count=1))
    repo.index.add(changed)
    repo.index.write()
    sig2 = pygit2.Signature("cfgctl bench", "bench@example.com", COMMIT_TIME + 3600, 0)
    second = repo.create_commit(
        "HEAD", sig2, sig2, f"{names[0]}: 12 replicas in prod", repo.index.write_tree(), [first]
    )
    # As a repository in use has it: the index written after its files. One written in the same
    # second as them holds "racily clean" entries, which every `git status` hashes again (0.19 s
    # instead of 0.09 s at 10,000 services); `git status` would rewrite it, libgit2 does not.
    time.sleep(1.1)
    repo.index.add_all()
    repo.index.write()
    _done(root, params)
    return Repo(root, names, ENVS, str(second))


@dataclass(frozen=True)
class Docs:
    folder: Path
    schema: Path
    documents: list[Path]


def ensure_docs(count: int) -> Docs:
    """benchmarks/out/docs-N/: web-service.schema.json (+ the common schema it refers to by
    relative $ref) and N standalone YAML documents under docs/."""
    folder = OUT / f"docs-{count}"
    params = {"kind": "docs", "docs": count, "version": GENERATOR_VERSION, "seed": SEED}
    documents = [folder / "docs" / f"doc-{i:05d}.yaml" for i in range(count)]
    schema = folder / f"{SCHEMA_NAME}.schema.json"
    if not _params_ok(folder, params):
        _log(f"writing {count} standalone documents to {folder}")
        _fresh(folder)
        (folder / "docs").mkdir()
        schema.write_text(schema_text(WEB_SCHEMA))
        (folder / "common.schema.json").write_text(schema_text(COMMON_SCHEMA))
        for i, path in enumerate(documents):
            path.write_text(standalone_doc(i))
        _done(folder, params)
    return Docs(folder, schema, documents)


def ensure_rendered(repo: Repo) -> Docs:
    """benchmarks/out/rendered-N/: the effective configuration of every (service, env) of `repo`,
    rendered by cfgctl itself and written as YAML, for the peer to validate. The schema is the
    repository's own file (its relative $ref to common.schema.json resolves beside it)."""
    from ruamel.yaml import YAML

    from cfgctl import Snapshot

    folder = OUT / f"rendered-{len(repo.services)}"
    params = {
        "kind": "rendered",
        "services": len(repo.services),
        "head": repo.head,
        "version": GENERATOR_VERSION,
    }
    documents = [
        folder / "docs" / env / f"{name}.yaml" for name in repo.services for env in repo.envs
    ]
    schema = repo.root / "schemas" / f"{SCHEMA_NAME}.schema.json"
    if not _params_ok(folder, params):
        _log(f"rendering {repo.pairs} effective configurations into {folder}")
        _fresh(folder)
        for env in repo.envs:
            (folder / "docs" / env).mkdir(parents=True)
        snap = Snapshot.from_worktree(repo.root, use_cache=False)
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        for name in repo.services:
            for env in repo.envs:
                buf = io.StringIO()
                yaml.dump(snap.render(name, env).data, buf)
                (folder / "docs" / env / f"{name}.yaml").write_text(buf.getvalue())
        _done(folder, params)
    return Docs(folder, schema, documents)

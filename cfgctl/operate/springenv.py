"""Spring Cloud Config's `Environment`: what `GET /{application}/{profile}[/{label}]` of a Spring
Cloud Config Server answers, so a Spring Boot service that points
`spring.config.import=configserver:` at cfgctl's server reads its configuration unchanged.

    spring_environment("payments", ["prod"], "main", "3f2a9c4...", effective, "cfgctl:...")
    -> {"name": "payments", "profiles": ["prod"], "label": "main", "version": "3f2a9c4...",
        "state": null, "propertySources": [{"name": "cfgctl:...", "source": {"db.pool_size": 40}}]}

One property source, the effective configuration flattened as Spring names properties
(`db.hosts[0]`, `labels[app.kubernetes.io/name]`). Not one source per cfgctl layer: Spring merges
sources key by key, so a list that a later layer shortens would keep the earlier layer's extra
items (`hosts[2]`), and the service would run with a configuration cfgctl never validated. An
empty mapping or list has no property to hold it and is left out (Spring has none either).
"""

from __future__ import annotations

from typing import Any

from cfgctl.operate.flatkeys import dotted_key, leaves

__all__ = ["spring_environment", "spring_source"]


def spring_source(data: Any) -> dict[str, Any]:
    """The flattened properties of `data`, in document order."""
    return {
        dotted_key(path): value
        for path, value in leaves(data, index_lists=True)
        if value != {} and value != []
    }


def spring_environment(
    name: str,
    profiles: list[str],
    label: str | None,
    version: str | None,
    data: Any,
    source_name: str,
) -> dict[str, Any]:
    """The `Environment` JSON of Spring Cloud Config for one service's effective configuration."""
    return {
        "name": name,
        "profiles": profiles,
        "label": label,
        "version": version,
        "state": None,
        "propertySources": [{"name": source_name, "source": spring_source(data)}],
    }

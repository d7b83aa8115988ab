"""Spring Cloud Config's Environment JSON, checked against the shape of Spring's documentation
(the JSON Schema of the Environment object, and the example answer of `/{app}/{profile}/{label}`)."""

from __future__ import annotations

import jsonschema

from cfgctl.operate.springenv import spring_environment, spring_source
from tests.support.spring import ENVIRONMENT


def test_the_effective_configuration_as_one_spring_property_source() -> None:
    data = {
        "server": {"port": 8082, "timeout_seconds": 30},
        "db": {"hosts": ["a", "b"], "pool_size": 40, "password": "***"},
        "labels": {"app.kubernetes.io/name": "payments"},
        "features": {},
        "tags": [],
        "debug": None,
    }
    env = spring_environment("payments", ["prod"], "main", "3f2a9c4", data, "cfgctl:payments/prod")
    jsonschema.validate(env, ENVIRONMENT)
    assert env["name"] == "payments" and env["version"] == "3f2a9c4" and env["state"] is None
    (source,) = env["propertySources"]
    assert source["source"] == {
        "server.port": 8082,
        "server.timeout_seconds": 30,
        "db.hosts[0]": "a",
        "db.hosts[1]": "b",
        "db.pool_size": 40,
        "db.password": "***",
        "labels[app.kubernetes.io/name]": "payments",
        "debug": None,
    }
    assert list(spring_source({"b": 1, "a": {"c": 2}})) == ["b", "a.c"]  # document order

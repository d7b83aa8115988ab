"""The Service page validates in the browser with @cfworker/json-schema (no eval: the CSP allows
none), the server with its own validator. web/test/service/agreement.json records, for a
schema using every keyword the forms meet, which values each document's errors concern (JSON
pointers, as the server's check-failed problems give them): this test holds the server to it,
web/test/service/validator.test.ts the browser's validator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfgctl.repo.keypath import json_pointer
from cfgctl.repo.validator import SchemaValidator

AGREEMENT = Path(__file__).resolve().parents[2] / "web" / "test" / "service" / "agreement.json"
DATA = json.loads(AGREEMENT.read_text())


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_the_server_finds_the_recorded_errors(case: dict[str, object]) -> None:
    validator = SchemaValidator(DATA["schema"], uri="file:///agreement.schema.json")
    found = {
        json_pointer(v.path if v.missing is None else (*v.path, v.missing))
        for v in validator.validate(case["document"])
    }
    assert sorted(found) == case["pointers"]

"""`cfgctl secrets check` on files it cannot parse: each one an error with file:line (a YAML
error must not hide a plain-text token and let the check pass), never a value in the output."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo

pytestmark = pytest.mark.slow  # the real sops binary

TOKEN = "ghp_" + "unparsableTokenZyxwvu0123456789abcd"
VALUE = "Unparsable-secret-value-0004"
SECRET_VALUES.update({TOKEN, VALUE})

BROKEN = {
    "unclosed flow": (f"api_token: {TOKEN}\nports: [80, 443\n", 3),
    "tab indentation": (f"api_token: {TOKEN}\nlimits:\n\tcpu: 2\n", 3),
    "unclosed quote": (f'name: search\napi_token: "{TOKEN}\nreplicas: 2\n', None),
    "duplicate key": (f"api_token: {TOKEN}\napi_token: {TOKEN}\n", 2),
    "bad indentation": (f"db:\n  host: x\n api_token: {TOKEN}\n", 3),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_an_unparsable_plain_file_is_an_error_with_its_line(
    case: str, secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    text, line = BROKEN[case]
    secret_repo.write({"config/staging/search.yaml": text})
    result = run_cli("secrets", "check", cwd=secret_repo.workdir)
    assert result.exit_code == 1, result.output
    found = re.search(r"config/staging/search\.yaml:(\d+):\d+: error: ", result.stderr)
    assert found, result.stderr
    if line is not None:
        assert int(found[1]) == line, result.stderr
    assert "not checked for secrets" in result.stderr
    assert TOKEN not in result.output and TOKEN[4:20] not in result.output
    as_json = run_cli("secrets", "check", "--format", "json", cwd=secret_repo.workdir)
    assert as_json.exit_code == 1
    codes = {(d["file"], d["code"]) for d in json.loads(as_json.stdout)["diagnostics"]}
    assert ("config/staging/search.yaml", "yaml") in codes
    assert TOKEN not in as_json.output


def test_an_unparsable_secrets_file_is_an_error_with_its_line(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    secret_repo.write(
        {"config/staging/payments.secrets.yaml": f"db:\n  password: {VALUE}\n  user: [x\n"}
    )
    result = run_cli("secrets", "check", cwd=secret_repo.workdir)
    assert result.exit_code == 1, result.output
    assert re.search(
        r"config/staging/payments\.secrets\.yaml:\d+:\d+: error: invalid YAML", result.stderr
    ), result.stderr
    assert VALUE not in result.output

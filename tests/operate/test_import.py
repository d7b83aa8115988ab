"""`cfgctl import`: typed by the schema, only the differences, comments kept, secrets
encrypted, layers inferred; a bad file is one located error and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo

PROD = "config/prod/payments.yaml"


def _render(run_cli: RunCli, repo: ConfigRepo, env: str, service: str = "payments") -> dict:  # type: ignore[type-arg]
    result = run_cli("-C", str(repo.workdir), "render", service, "--env", env, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _import(run_cli: RunCli, repo: ConfigRepo, file: Path, *args: str) -> tuple[int, str]:
    result = run_cli("-C", str(repo.workdir), "import", str(file), "--service", "payments", *args)
    return result.exit_code, result.output


def test_only_the_differences_are_written_and_comments_stay(
    example_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    file = tmp_path / "application-prod.properties"
    file.write_text(
        "# from the old Spring service\n"
        "replicas=6\n"  # what prod's layer sets already
        "db.pool_size=50\n"  # changed
        "db.port=5432\n"  # what base gives: not written
        "log.level=warning\n"  # what prod/_defaults.yaml gives: not written
        "features.refunds_v2=true\n"  # new, typed by the schema
        "db.host=payments-db.internal\n"  # what base gives, while prod's layer says another
    )
    dry = _import(run_cli, example_repo, file, "--env", "prod", "--dry-run")
    assert dry[0] == 0 and "would write 1 file(s)" in dry[1]
    assert example_repo.read(PROD).count("pool_size: 40") == 1
    code, output = _import(run_cli, example_repo, file, "--env", "prod")
    assert code == 0, output
    text = example_repo.read(PROD)
    assert "replicas: 6           # card traffic peaks at lunch time" in text
    assert "pool_size: 50" in text and "refunds_v2: true" in text
    assert "port:" not in text and "level:" not in text and "host:" not in text
    assert f"{PROD}: unset db.host" in output and f"{PROD}: set db.pool_size" in output
    assert "set replicas" not in output  # the layer holds that value already
    got = _render(run_cli, example_repo, "prod")
    assert got["db"] == {"host": "payments-db.internal", "port": 5432, "pool_size": 50}
    assert got["features"] == {"refunds_v2": True} and got["log"]["level"] == "warning"


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.json", '{"replicas": 2,}\n', "bad.json:1:16"),
        ("bad.toml", "replicas = = 2\n", "bad.toml:1:12"),
        ("bad.yaml", "replicas: [1, 2\n", "bad.yaml:"),
        ("bad.env", "REPLICAS=2\nnot a variable line\n", "bad.env:2"),
        ("bad.properties", "replicas=2\ndb.host=\\uZZZZ\n", "bad.properties:2"),
        ("types.properties", "db.host=x\nreplicas=many\n", "types.properties:2"),
        ("types.env", "DB_POOL_SIZE=1.5\n", "types.env:1"),
        ("unknown.env", "REPLICAS=2\nNO_SUCH_KEY=1\n", "unknown.env:2"),
        (
            "list.properties",
            "features.a=true\nserver.port=8080\nreplicas[1]=2\n",
            "list.properties:3",
        ),
        ("cm.yaml", "apiVersion: v1\nkind: ConfigMap\ndata:\n  replicas: 2\n", "cm.yaml:4:13"),
        ("kv.json", '[{"key": "replicas", "value": "%%%"}]', "kv.json"),
    ],
)
def test_a_bad_file_is_one_located_error_and_nothing_is_written(
    example_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path, name: str, content: str, where: str
) -> None:
    file = tmp_path / name
    file.write_text(content)
    before = example_repo.read_bytes(PROD)
    code, output = _import(run_cli, example_repo, file, "--env", "prod")
    assert code == 2, output
    assert where in output and "Traceback" not in output
    assert len([line for line in output.splitlines() if ": error: " in line]) == 1
    assert example_repo.read_bytes(PROD) == before
    assert not (example_repo.workdir / "config/prod/payments.secrets.yaml").exists()


def test_a_result_that_fails_validation_writes_nothing(
    example_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    file = tmp_path / "app.properties"
    file.write_text("replicas=500\n")  # the schema's maximum is 100
    before = example_repo.read_bytes("config/base/payments.yaml")
    code, output = _import(run_cli, example_repo, file, "--env", "base")
    assert code == 1 and "replicas" in output and "nothing written" in output
    assert example_repo.read_bytes("config/base/payments.yaml") == before


def test_secrets_go_encrypted_into_the_secrets_layer(
    secret_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    password, token = "imported-pass-w0rd-1", "ghp_" + "A1b2C3d4" * 5
    SECRET_VALUES.update({password, token})
    file = tmp_path / "prod.env"
    # DB_PASSWORD: marked secret by the schema; SERVER_HOST: a token by its looks
    file.write_text(f"DB_PASSWORD={password}\nSERVER_HOST={token}\nREPLICAS=7\n")
    code, output = _import(run_cli, secret_repo, file, "--env", "prod")
    assert code == 0, output
    rel = "config/prod/payments.secrets.yaml"
    assert f"{rel}: set db.password" in output and f"{rel}: set server.host" in output
    for path in secret_repo.workdir.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert password.encode() not in path.read_bytes(), path
            assert token.encode() not in path.read_bytes(), path
    assert "replicas: 7" in secret_repo.read(PROD)
    got = run_cli(
        "-C",
        str(secret_repo.workdir),
        "get",
        "payments",
        "db.password",
        "--env",
        "prod",
        "--reveal",
    )
    assert got.stdout.strip() == password
    # secrets only, into an environment without a plain layer: none is created
    secret_repo.write({"config/prod-eu/payments.yaml": None})
    only = tmp_path / "prod-eu.env"
    only.write_text(f"DB_PASSWORD={password}x\n")
    SECRET_VALUES.add(password + "x")
    code, output = _import(run_cli, secret_repo, only, "--env", "prod-eu")
    assert code == 0, output
    assert "config/prod-eu/payments.secrets.yaml: set db.password" in output
    assert not (secret_repo.workdir / "config/prod-eu/payments.yaml").exists()


def test_a_kubernetes_secret_goes_whole_into_the_secrets_layer(
    secret_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    import base64

    weak = "hunter2-weak"  # no credential by its looks: a Secret's values are secret by intent
    SECRET_VALUES.add(weak)
    exported = run_cli(
        "-C", str(secret_repo.workdir), "export", "payments", "--env", "prod", "-f", "secret"
    )
    assert exported.exit_code == 0, exported.output
    old = base64.b64encode(b"0.0.0.0").decode()
    staged = tmp_path / "prod-secret.yaml"
    staged.write_text(exported.stdout.replace(old, base64.b64encode(weak.encode()).decode()))
    code, output = _import(run_cli, secret_repo, staged, "--env", "prod")
    assert code == 0, output
    assert output.count(": set ") == 1, output  # only what differs from what prod inherits
    assert "config/prod/payments.secrets.yaml: set server.host" in output
    assert weak not in output and weak not in secret_repo.read(PROD)
    got = run_cli(
        "-C",
        str(secret_repo.workdir),
        "get",
        "payments",
        "server.host",
        "--env",
        "prod",
        "--reveal",
    )
    assert got.stdout.strip() == weak


def test_secrets_without_a_sops_rule_are_refused(
    small_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    file = tmp_path / "prod.properties"
    file.write_text("db.password=nothing-to-see-here-1\nport=9090\n")
    SECRET_VALUES.add("nothing-to-see-here-1")
    code, output = _import(run_cli, small_repo, file, "--env", "prod")
    assert code == 2 and "no rule with age keys" in output and "nothing written" in output
    assert "port" not in small_repo.read(PROD)


def test_infer_layers_factors_common_values_into_the_common_ancestor(
    small_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    staging = tmp_path / "application-staging.properties"
    prod = tmp_path / "application-prod.properties"
    staging.write_text("port=8080\nhost=staging.internal\ntags[0]=eu\ntags[1]=web\ndb.pool=5\n")
    prod.write_text("port=8080\nhost=prod.internal\ntags[0]=eu\ntags[1]=web\ndb.pool=20\n")
    result = run_cli(
        "-C",
        str(small_repo.workdir),
        "import",
        "--infer-layers",
        f"{staging}=staging",
        f"{prod}=prod",
        "--service",
        "payments",
    )
    assert result.exit_code == 0, result.output
    base = small_repo.read("config/base/payments.yaml")
    assert "tags:" in base and "host" not in base and "pool" not in base
    assert "port" not in base  # base/_defaults.yaml gives it already
    assert small_repo.read("config/staging/payments.yaml") == (
        "host: staging.internal\ndb:\n  pool: 5\n"
    )
    assert "# prod\n" in small_repo.read(PROD) and "pool: 20" in small_repo.read(PROD)
    for env, host, pool in (("staging", "staging.internal", 5), ("prod", "prod.internal", 20)):
        assert _render(run_cli, small_repo, env) == {
            "port": 8080,
            "host": host,
            "tags": ["eu", "web"],
            "db": {"pool": pool},
        }
    bad = run_cli(
        "-C", str(small_repo.workdir), "import", "--infer-layers", str(prod), "-s", "payments"
    )
    assert bad.exit_code == 2 and "is not FILE=ENV" in bad.stderr


def test_a_prefix_selects_the_variables(
    example_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    file = tmp_path / "staging.env"
    file.write_text(
        "# docker compose's\nexport APP_REPLICAS=4\nAPP_FEATURES_DARK_MODE=true\nPATH=/bin\n"
    )
    code, output = _import(run_cli, example_repo, file, "--env", "staging", "--prefix", "app")
    assert code == 0, output
    assert "skipped (not under the prefix): PATH" in output
    got = _render(run_cli, example_repo, "staging")
    assert got["replicas"] == 4 and got["features"]["dark_mode"] is True
    none = tmp_path / "none.env"
    none.write_text("PATH=/bin\n")
    code, output = _import(run_cli, example_repo, none, "--env", "staging", "--prefix", "app")
    assert code == 2 and "no key of" in output and "under the prefix" in output


def test_a_comma_separated_list_is_a_list_as_spring_reads_it(
    small_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    file = tmp_path / "application-staging.properties"
    file.write_text("tags=eu, web,  blue\n")
    code, output = _import(run_cli, small_repo, file, "--env", "staging")
    assert code == 0, output
    assert _render(run_cli, small_repo, "staging")["tags"] == ["eu", "web", "blue"]

"""`cfgctl template list|show|upgrade`, and the record `new service` keeps: a template's newer
version re-applied as a three-way merge that keeps the service's own changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pygit2
import pytest

from cfgctl.repo.yamlio import parse
from tests.support.cli import RunCli, run_cli
from tests.support.gitrepo import ConfigRepo
from tests.support.repos import make_example_repo

T = "templates/web-service"
BASE_V2 = """\
# {{ name }}: created from the web-service template.
server:
  port: {{ port }}
  timeout_seconds: {{ timeout }}   # seconds
log: {level: info}
"""
PROD_V2 = "replicas: 3\n"
EU_V2 = "# EU: {{ name }}\nserver: {host: eu.{{ name }}.internal}\n"


def _spec_v2(text: str) -> str:
    text = text.replace("version: 1 ", "version: 2 ")
    return text.replace(
        "  owners:", "  timeout: {type: number, default: 5, description: Seconds.}\n  owners:"
    )


def _build(path: Path) -> ConfigRepo:
    """billing made from web-service version 1 (port 9000) and committed; then the template's
    version 2 committed: a new parameter, a new key, a changed value, a new file."""
    repo = make_example_repo(path)
    result = run_cli(
        "new", "service", "billing", "-t", "web-service", "--set", "owners=@acme/billing",
        "--set", "port=9000", cwd=repo.workdir,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    repo.commit({}, "billing", add_all=True)
    repo.commit(
        {
            f"{T}/template.yaml": _spec_v2(repo.read(f"{T}/template.yaml")),
            f"{T}/files/config/base/{{{{ name }}}}.yaml": BASE_V2,
            f"{T}/files/config/prod/{{{{ name }}}}.yaml": PROD_V2,
            f"{T}/files/config/prod-eu/{{{{ name }}}}.yaml": EU_V2,
        },
        "web-service template version 2",
    )
    return repo


@pytest.fixture(scope="module")
def _made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("made") / "cfg").workdir


@pytest.fixture
def made(_made_once: Path, tmp_path: Path) -> ConfigRepo:
    """A copy of the module's repository (building it costs ~0.4 s; a copy ~20 ms)."""
    target = tmp_path / "cfg"
    shutil.copytree(_made_once, target, ignore=shutil.ignore_patterns(".cfgctl"))
    return ConfigRepo(target, pygit2.Repository(str(target)))


def _record(repo: ConfigRepo, service: str) -> object:
    return parse(repo.read("cfgctl.yaml"), "cfgctl.yaml").data["services"][service].get("template")


def _snapshot(repo: ConfigRepo) -> dict[str, bytes]:
    return {
        p.relative_to(repo.workdir).as_posix(): p.read_bytes()
        for p in repo.workdir.rglob("*")
        if p.is_file() and ".git" not in p.parts and ".cfgctl" not in p.parts
    }


def test_new_service_records_the_template_version_and_parameters(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    result = run_cli(
        "new", "service", "billing", "-t", "web-service", "--set", "owners=@acme/billing",
        cwd=example_repo.workdir,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _record(example_repo, "billing") == {
        "name": "web-service",
        "version": 1,
        "parameters": {"owners": "@acme/billing", "port": 8080, "replicas": 2},
    }
    assert run_cli("validate", cwd=example_repo.workdir).exit_code == 0


def test_list_and_show_print_the_typed_parameters(made: ConfigRepo, run_cli: RunCli) -> None:
    cwd = made.workdir
    listing = run_cli("template", "list", cwd=cwd)
    assert listing.exit_code == 0, listing.output
    assert "web-service  version 2  schema web-service" in listing.stdout
    assert "used by billing @1  (behind: cfgctl template upgrade billing)" in listing.stdout
    [row] = json.loads(run_cli("template", "list", "-f", "json", cwd=cwd).stdout)
    assert row["services"] == [{"service": "billing", "version": 1, "behind": True}]
    shown = run_cli("template", "show", "web-service", cwd=cwd)
    assert shown.exit_code == 0, shown.output
    assert "port: integer  default 8080, minimum 1, maximum 65535" in shown.stdout
    assert "owners: string  required, pattern" in shown.stdout
    assert "The owning team, e.g. @acme/web." in shown.stdout
    data = json.loads(run_cli("template", "show", "web-service", "-f", "json", cwd=cwd).stdout)
    assert data["version"] == 2
    assert {p["name"]: p["required"] for p in data["parameters"]} == {
        "port": False, "replicas": False, "timeout": False, "owners": True,
    }  # fmt: skip
    assert "config/prod-eu/{{ name }}.yaml" in data["files"]
    old = run_cli("template", "show", "web-service", "--rev", "HEAD~1", "-f", "json", cwd=cwd)
    assert json.loads(old.stdout)["version"] == 1
    missing = run_cli("template", "show", "web-servce", cwd=cwd)
    assert missing.exit_code == 2 and "did you mean 'web-service'" in missing.stderr


def test_a_broken_template_is_listed_with_its_line_and_exit_1(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    example_repo.write({"templates/bad/template.yaml": "schema: web-service\nversion: 0\n"})
    result = run_cli("template", "list", cwd=example_repo.workdir)
    assert result.exit_code == 1
    assert "bad  invalid: templates/bad/template.yaml:2:10:" in result.stdout
    assert "web-service  version 1" in result.stdout  # the others are still listed


def test_upgrade_merges_and_keeps_the_services_own_changes(
    made: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = made.workdir
    made.write(
        {
            "config/base/billing.yaml": "# billing, by hand\nserver:\n  port: 9000   # ours\n"
            "  host: billing.internal\nfeatures: {beta: true}\n",
        }
    )
    result = run_cli("template", "upgrade", "billing", cwd=cwd)
    assert result.exit_code == 0, result.output
    assert "upgraded billing: template web-service @1 -> @2" in result.stdout
    assert made.read("config/base/billing.yaml") == (
        "# billing, by hand\nserver:\n  port: 9000   # ours\n  timeout_seconds: 5   # seconds\n"
        "  host: billing.internal\nlog: {level: info}\nfeatures: {beta: true}\n"
    )  # a new key goes after the key before it in the template's output
    assert made.read("config/prod/billing.yaml") == PROD_V2  # untouched since made: the new file
    assert made.read("config/prod-eu/billing.yaml") == (
        "# EU: billing\nserver: {host: eu.billing.internal}\n"
    )
    assert _record(made, "billing") == {
        "name": "web-service",
        "version": 2,
        "parameters": {"owners": "@acme/billing", "port": 9000, "replicas": 2, "timeout": 5},
    }
    assert run_cli("validate", cwd=cwd).exit_code == 0
    again = run_cli("template", "upgrade", "billing", cwd=cwd)
    assert again.exit_code == 0 and "nothing to do" in again.stdout


def test_a_conflict_is_refused_with_every_key_and_nothing_written(
    made: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = made.workdir
    made.write(
        {
            "config/prod/billing.yaml": "replicas: 5   # busy\n",
            "config/base/billing.yaml": "server:\n  port: 9000\nlog: {level: debug}\n",
        }
    )
    before = _snapshot(made)
    result = run_cli("template", "upgrade", "billing", cwd=cwd)
    assert result.exit_code == 1
    assert (
        "config/prod/billing.yaml:1:11: error: replicas: the service has 5, the template "
        "changes 2 to 3"
    ) in result.stderr
    # both added `log`: merged key by key, and the values of `level` differ
    assert (
        "config/base/billing.yaml:3:14: error: log.level: the service has 'debug', the template "
        "changes absent to 'info'"
    ) in result.stderr
    assert "refused: 2 conflicts between billing's own changes" in result.stderr
    assert "--ours" in result.stderr and _snapshot(made) == before
    ours = run_cli("template", "upgrade", "billing", "--ours", cwd=cwd)
    assert ours.exit_code == 0, ours.output
    assert made.read("config/prod/billing.yaml") == "replicas: 5   # busy\n"
    assert "log: {level: debug}" in made.read("config/base/billing.yaml")


def test_theirs_takes_the_templates_value_and_keeps_the_comment(
    made: ConfigRepo, run_cli: RunCli
) -> None:
    made.write({"config/prod/billing.yaml": "replicas: 5   # busy\n"})
    result = run_cli("template", "upgrade", "billing", "--theirs", cwd=made.workdir)
    assert result.exit_code == 0, result.output
    assert made.read("config/prod/billing.yaml") == "replicas: 3   # busy\n"


def test_dry_run_shows_the_effect_and_writes_nothing(made: ConfigRepo, run_cli: RunCli) -> None:
    before = _snapshot(made)
    result = run_cli("template", "upgrade", "billing", "--dry-run", cwd=made.workdir)
    assert result.exit_code == 0, result.output
    assert "would upgrade billing" in result.stdout
    assert "config/base/billing.yaml: added server.timeout_seconds; added log" in result.stdout
    assert "~ replicas: 2 -> 3" in result.stdout and "work tree -> after the upgrade" in (
        result.stdout
    )
    assert _snapshot(made) == before
    data = json.loads(
        run_cli(
            "template", "upgrade", "billing", "--dry-run", "-f", "json", cwd=made.workdir
        ).stdout
    )
    assert data["written"] is False and data["from"] == 1 and data["to"] == 2
    assert data["old_version_commit"] == str(made.repo.revparse_single("HEAD~1").id)


def test_set_changes_a_parameter_and_the_schema_pin_follows_the_template(
    made: ConfigRepo, run_cli: RunCli
) -> None:
    spec = made.read(f"{T}/template.yaml").replace("version: 2 ", "version: 3 ")
    made.commit(
        {f"{T}/template.yaml": spec.replace("schema: web-service\n", "schema: web-service@2\n")},
        "version 3 pins the schema",
    )
    result = run_cli("template", "upgrade", "billing", "--set", "port=9100", cwd=made.workdir)
    assert result.exit_code == 0, result.output
    assert "cfgctl.yaml: schema web-service -> web-service@2" in result.stdout
    assert "  port: 9100" in made.read("config/base/billing.yaml")
    services = parse(made.read("cfgctl.yaml"), "cfgctl.yaml").data["services"]
    assert services["billing"]["schema"] == "web-service@2"
    assert services["billing"]["template"]["parameters"]["port"] == 9100


@pytest.mark.parametrize(
    ("change", "args", "code", "message"),
    [
        ("no-record", (), 2, "billing has no template record in cfgctl.yaml"),
        ("no-history", (), 2, "no commit reachable from HEAD holds version 7"),
        ("older", (), 2, "is at version 2, older than the version 9"),
        ("invalid", (), 1, "refused: the upgrade would fail validation"),
        ("none", ("--set", "colour=red"), 2, "template 'web-service' has no parameter 'colour'"),
        ("none", ("--ours", "--theirs"), 2, "--ours and --theirs exclude each other"),
        ("secret", (), 2, "a template cannot merge an encrypted file"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    made: ConfigRepo, run_cli: RunCli, change: str, args: tuple[str, ...], code: int, message: str
) -> None:
    manifest = made.read("cfgctl.yaml")
    record = "template: {name: web-service, version: 1, "
    if change == "no-record":
        made.write({"cfgctl.yaml": manifest.replace("\n    template:", "\n    x-template:")})
    elif change in ("no-history", "older"):
        version = "7" if change == "no-history" else "9"
        made.write({"cfgctl.yaml": manifest.replace(record, record.replace("1", version))})
        if change == "no-history":  # version 8 in the work tree; 7 was never committed
            spec = made.read(f"{T}/template.yaml").replace("version: 2 ", "version: 8 ")
            made.write({f"{T}/template.yaml": spec})
    elif change == "invalid":
        made.commit({f"{T}/files/config/prod/{{{{ name }}}}.yaml": "replicas: 0\n"}, "bad")
    elif change == "secret":
        made.commit({f"{T}/files/config/prod/{{{{ name }}}}.secrets.yaml": "a: 1\n"}, "secret")
    before = _snapshot(made)
    result = run_cli("template", "upgrade", "billing", *args, cwd=made.workdir)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stderr.count("error:") == 1
    assert _snapshot(made) == before


def test_a_record_written_by_hand_without_defaults_upgrades(
    made: ConfigRepo, run_cli: RunCli
) -> None:
    manifest = made.read("cfgctl.yaml")
    recorded = "parameters: {owners: '@acme/billing', port: 9000, replicas: 2}"
    assert recorded in manifest
    made.write({"cfgctl.yaml": manifest.replace(recorded, "parameters: {port: 9000}")})
    missing = run_cli("template", "upgrade", "billing", cwd=made.workdir)
    assert missing.exit_code == 2 and "pass --set owners=VALUE" in missing.stderr
    args = ("template", "upgrade", "billing", "--set", "owners=@acme/billing")
    result = run_cli(*args, cwd=made.workdir)
    assert result.exit_code == 0, result.output
    assert made.read("config/prod/billing.yaml") == PROD_V2  # replicas: the old default, 2
    assert _record(made, "billing") == {
        "name": "web-service",
        "version": 2,
        "parameters": {"owners": "@acme/billing", "port": 9000, "replicas": 2, "timeout": 5},
    }

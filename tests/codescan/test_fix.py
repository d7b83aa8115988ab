"""`cfgctl scan-code --fix`: literals of a real sample service moved into the example repository,
proven equal, all or nothing; each refusal leaves every file as it was."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import SECRET_VALUES, run_cli
from tests.support.drip import pid_alive
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import Key

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "payments-service"
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"


def _service(tmp_path: Path) -> Path:
    code = tmp_path / "svc"
    shutil.copytree(SAMPLE, code, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return code


def _ids(code: Path) -> dict[str, str]:
    result = run_cli("scan-code", "payments_app", "--format", "json", cwd=code)
    assert result.exit_code == 0, result.output
    return {f["key"]: f["id"] for f in json.loads(result.stdout)["findings"]}


def _state(repo: ConfigRepo, code: Path) -> dict[str, bytes]:
    files = [p for root in (repo.workdir, code) for p in root.rglob("*") if p.is_file()]
    return {
        str(p): p.read_bytes() for p in files if ".git" not in p.parts and ".cfgctl" not in p.parts
    }


def _fix(repo: ConfigRepo, code: Path, *args: str) -> tuple[int, str]:
    result = run_cli(
        "-C",
        str(repo.workdir),
        "scan-code",
        "payments_app",
        "--fix",
        "-s",
        "payments",
        *args,
        cwd=code,
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_dry_run_shows_every_diff_and_writes_nothing(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    code = _service(tmp_path)
    ids = _ids(code)
    before = _state(example_repo, code)
    status, output = _fix(example_repo, code, "--select", ids["processor.url"], "--dry-run")
    assert status == 0, output
    assert '-PROCESSOR_URL = "https://processor.example.com/v1/charges"' in output
    assert "+PROCESSOR_URL = settings.processor.url  # the processor's charge endpoint" in output
    assert "+from payments_app.cfgctl_settings import settings" in output
    assert "+++ b/config/base/payments.yaml" in output and "+  url: https://processor" in output
    assert (
        "+++ b/schemas/web-service.v2.schema.json" in output
        and '"default": "https://processor' in output
    )
    assert "+class ProcessorSettings:" in output
    assert "payments@prod-eu: 1 key read through the SDK equal the literals they replace" in output
    assert _state(example_repo, code) == before


@pytest.mark.slow
def test_two_literals_move_and_the_tests_pass_before_and_after(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    code = _service(tmp_path)
    ids = _ids(code)
    chosen = [ids["processor.url"], ids["processor.request_timeout"]]
    status, output = _fix(
        example_repo, code, "--select", chosen[0], "--select", chosen[1], "--verify", PYTEST
    )
    assert status == 0, output
    assert f"before the change: {PYTEST} passed" in output
    assert f"after the change (payments@base): {PYTEST} passed" in output
    source = (code / "payments_app/processor.py").read_text()
    assert (
        "REQUEST_TIMEOUT = settings.processor.request_timeout  # seconds before a charge" in source
    )
    assert "backoff_seconds: float = 0.5" in source  # not selected: untouched
    layer = (example_repo.workdir / "config/base/payments.yaml").read_text()
    assert "# payments: card payments and refunds." in layer  # comments kept
    assert "  request_timeout: 20\n" in layer
    schema = json.loads((example_repo.workdir / "schemas/web-service.v2.schema.json").read_text())
    timeout = schema["properties"]["processor"]["properties"]["request_timeout"]
    assert timeout["type"] == "integer" and timeout["default"] == 20
    assert "REQUEST_TIMEOUT" in timeout["description"]
    assert run_cli("validate", cwd=example_repo.workdir).exit_code == 0
    rendered = run_cli(
        "get", "payments", "processor.url", "--env", "prod-eu", cwd=example_repo.workdir
    )
    assert rendered.stdout.strip() == "https://processor.example.com/v1/charges"
    # `cfgctl schema generate` reads the model it wrote (importing it reads no file).
    generated = subprocess.run(
        [sys.executable, "-m", "cfgctl", "schema", "generate", "payments_app.cfgctl_settings:Settings"],
        cwd=code, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    url = json.loads(generated.stdout)["$defs"]["ProcessorSettings"]["properties"]["url"]
    assert url["default"] == "https://processor.example.com/v1/charges"
    # Moving a third one extends the model and keeps the first two.
    status, output = _fix(example_repo, code, "--select", ids["processor.backoff_seconds"])
    assert status == 0, output
    model = (code / "payments_app/cfgctl_settings.py").read_text()
    assert "backoff_seconds: float = 0.5" in model and "request_timeout: int = 20" in model
    # The model belongs to payments, and is written whole again: never taken over, never
    # written over a hand edit.
    (code / "payments_app/extra.py").write_text("RETRY_DELAY_SECONDS = 9\n")
    extra = _ids(code)["extra.retry_delay_seconds"]
    status, output = _fix(example_repo, code, "--select", extra, "-s", "search")
    assert status == 2 and "is the model of 'payments', not of 'search'" in output, output
    (code / "payments_app/cfgctl_settings.py").write_text(model + "# mine\n")
    status, output = _fix(example_repo, code, "--select", extra)
    assert status == 2 and "was changed by hand" in output, output


def test_a_secret_moves_encrypted_and_is_never_written_in_plain(
    secret_repo: ConfigRepo, tmp_path: Path, alice: Key
) -> None:
    password = "Hs7-kw2Qp9xZ-Lm4"
    SECRET_VALUES.add(password)
    code = _service(tmp_path)
    (code / "payments_app/db.py").write_text(f'DB_PASSWORD = "{password}"\nDB_POOL_SIZE = 7\n')
    ids = _ids(code)
    before = _state(secret_repo, code)
    # Into prod alone, staging would read no password where the code had one: refused.
    status, output = _fix(secret_repo, code, "--select", ids["db.password"], "--env", "prod")
    assert status == 2 and "payments@base is not below --env prod" in output, output
    assert _state(secret_repo, code) == before
    added = run_cli(
        "secrets", "recipients", "add", alice.recipient, "--env", "base", cwd=secret_repo.workdir
    )
    assert added.exit_code == 0, added.output
    status, output = _fix(secret_repo, code, "--select", ids["db.password"], "--dry-run")
    assert status == 0 and password not in output, output
    assert "-DB_PASSWORD = ********" in output
    status, output = _fix(secret_repo, code, "--select", ids["db.password"])
    assert status == 0, output
    assert "(secret, encrypted)" in output
    for path, data in _state(secret_repo, code).items():
        assert password.encode() not in data, path
    assert (secret_repo.workdir / "config/base/payments.secrets.yaml").read_bytes().count(
        b"ENC["
    ) >= 1
    model = (code / "payments_app/cfgctl_settings.py").read_text()
    assert "password: str | None = field(default=None, repr=False)" in model
    shown = run_cli(
        "get", "payments", "db.password", "--env", "prod-eu", "--reveal", cwd=secret_repo.workdir
    )
    assert shown.stdout.strip() == password


def test_refusals_leave_every_file_as_it_was(example_repo: ConfigRepo, tmp_path: Path) -> None:
    code = _service(tmp_path)
    ids = _ids(code)
    before = _state(example_repo, code)
    cases = [
        (["--select", "CS00000000"], 2, "no finding CS00000000"),
        (
            ["--select", ids["processor.url"], "--key", f"{ids['processor.url']}=replicas"],
            2,
            "replicas exists in schemas/web-service.v2.schema.json as integer",
        ),
        (
            [
                "--select",
                ids["processor.request_timeout"],
                "--key",
                f"{ids['processor.request_timeout']}=db.pool_size",
            ],
            2,
            "payments@base sets db.pool_size = 10 already",
        ),
        (
            ["--select", ids["processor.url"], "--key", f"{ids['processor.url']}=server.url"],
            2,
            "server is defined by a $ref or allOf",
        ),
        (
            ["--select", ids["processor.url"], "--key", f"{ids['processor.url']}=a.class"],
            2,
            "cannot be a Python attribute",
        ),
        (["--select", ids["processor.url"], "--verify", "false"], 1, "fails before any change"),
        (["--select", ids["processor.url"], "--verify", "no-such-command-xyz"], 2, "no command"),
        (
            ["--select", ids["processor.url"], "--verify", "sh -c 'test -z \"$CFGCTL_CONFIG\"'"],
            1,
            "fails after the change",
        ),
        (["--select", ids["processor.url"], "--env", "nowhere"], 2, "unknown environment"),
        (["--select", ids["processor.url"], "--verify", " "], 2, "--verify is empty"),
        (["--select", ids["processor.url"], "--verify-timeout", "nan"], 2, "not a number of"),
    ]
    for args, status, message in cases:
        got, output = _fix(example_repo, code, *args)
        assert (got, message in output) == (status, True), (args, output)
        assert _state(example_repo, code) == before, args
    (code / "payments_app/cfgctl_settings.py").write_text("SETTINGS = 1\n")
    got, output = _fix(example_repo, code, "--select", ids["processor.url"])
    assert got == 2 and "was not written by cfgctl scan-code --fix" in output


def test_an_id_of_a_literal_changed_since_the_scan_is_unknown(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    code = _service(tmp_path)
    ids = _ids(code)
    source = code / "payments_app/processor.py"
    source.write_text(source.read_text().replace("REQUEST_TIMEOUT = 20", "REQUEST_TIMEOUT = 25"))
    got, output = _fix(example_repo, code, "--select", ids["processor.request_timeout"])
    assert got == 2 and "may have changed since the scan" in output
    assert "REQUEST_TIMEOUT = 25" in source.read_text()


def test_a_failing_repository_write_puts_the_code_back(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    """The fault injected between the code's write and the repository's: the tests' second run
    replaces the layer cfgctl is about to write with a folder, so that write fails."""
    code = _service(tmp_path)
    ids = _ids(code)
    layer = example_repo.workdir / "config/base/payments.yaml"
    sabotage = f"sh -c 'if [ -n \"$CFGCTL_CONFIG\" ]; then rm {layer} && mkdir {layer}; fi'"
    source = (code / "payments_app/processor.py").read_bytes()
    got, output = _fix(example_repo, code, "--select", ids["processor.url"], "--verify", sabotage)
    assert got == 2 and "cannot write the fix" in output and "every file is as it was" in output
    assert (code / "payments_app/processor.py").read_bytes() == source
    assert not (code / "payments_app/cfgctl_settings.py").exists()
    schema = (example_repo.workdir / "schemas/web-service.v2.schema.json").read_text()
    assert "processor" not in schema


def test_a_key_that_would_break_another_service_of_the_schema_is_refused(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    """orders shares payments' schema and sets features.x to a boolean: declaring features.x an
    integer for payments' literal would break orders, so nothing is written, and why is shown."""
    manifest = (example_repo.workdir / "cfgctl.yaml").read_text()
    example_repo.commit(
        {
            "cfgctl.yaml": manifest.replace(
                "services:\n", "services:\n  orders: {schema: web-service}\n"
            ),
            "config/base/orders.yaml": "features:\n  x: true\n",
        },
        "orders",
    )
    code = _service(tmp_path)
    ids = _ids(code)
    before = _state(example_repo, code)
    timeout = ids["processor.request_timeout"]
    got, output = _fix(example_repo, code, "--select", timeout, "--key", f"{timeout}=features.x")
    assert got == 1 and "would fail validation" in output, output
    assert "config/base/orders.yaml" in output and "orders@" in output
    assert _state(example_repo, code) == before


@pytest.mark.slow
def test_sigterm_while_the_tests_run_puts_the_code_back_and_stops_them(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    """A real cfgctl process, terminated while its --verify runs after the code was written:
    the code is as it was, the model gone, the tests' process group killed, no rendered
    configuration left in memory-backed storage."""
    code = _service(tmp_path)
    ids = _ids(code)
    pidfile = tmp_path / "verify.pid"
    handed = tmp_path / "verify.config"  # the memory-backed file the verify command was given
    script = tmp_path / "verify.sh"
    script.write_text(
        "#!/bin/sh\n"
        'if [ -n "$CFGCTL_CONFIG" ]; then echo "$CFGCTL_CONFIG" > ' + str(handed) + "; "
        "echo $$ > " + str(pidfile) + "; exec sleep 60; fi\n"
    )
    script.chmod(0o755)
    source = (code / "payments_app/processor.py").read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cfgctl", "-C", str(example_repo.workdir), "scan-code",
         "payments_app", "--fix", "-s", "payments", "--select", ids["processor.url"],
         "--verify", str(script)],
        cwd=code, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    verify_pid = int(pidfile.read_text())
    proc.terminate()
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert b"Traceback" not in stderr
    assert (code / "payments_app/processor.py").read_bytes() == source
    assert not (code / "payments_app/cfgctl_settings.py").exists()
    # Killed with its group; on a loaded machine its new parent may not have reaped it yet.
    assert not pid_alive(verify_pid)
    given = Path(handed.read_text().strip())
    assert given.name.startswith("cfgctl-fix-") and not given.exists()  # removed on the way out


def test_a_latin_1_or_bom_file_is_rewritten_in_its_own_encoding(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    code = _service(tmp_path)
    latin = code / "payments_app/legacy.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nCAF\xc9_TIMEOUT = 33  # caf\xe9\n")
    bom = code / "payments_app/bom.py"
    bom.write_bytes(b"\xef\xbb\xbfQUEUE_TIMEOUT = 44\n")
    ids = _ids(code)
    status, output = _fix(
        example_repo,
        code,
        "--select",
        ids["legacy.caf_timeout"],
        "--select",
        ids["queue.timeout"],
    )
    assert status == 0, output
    assert latin.read_bytes().endswith(
        b"CAF\xc9_TIMEOUT = settings.legacy.caf_timeout  # caf\xe9\n"
    )
    assert (
        bom.read_bytes().startswith(b"\xef\xbb\xbf")
        and b"settings.queue.timeout" in bom.read_bytes()
    )


# SIGTERM lands in the instant `Popen` has started the verify command but not yet returned it
# (injected from the standard library's side: a Popen that signals its own process on the way
# out), with SIGTERM's default action in place (the run before any change) or a handler raising
# KeyboardInterrupt (cfgctl's, while it writes code).
_SIGNAL_AS_IT_STARTS = """
import os, signal, subprocess, sys
from cfgctl.codescan.apply import run_verify

def interrupt(signum, frame):
    raise KeyboardInterrupt

class Popen(subprocess.Popen):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        print(self.pid, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

subprocess.Popen = Popen
if sys.argv[1] == "handler":
    signal.signal(signal.SIGTERM, interrupt)
try:
    run_verify("sleep 60", config=None)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("sigterm", ["default", "handler"])
def test_a_signal_while_the_tests_start_still_stops_them(tmp_path: Path, sigterm: str) -> None:
    """Without holding the signal until the process is known, the interrupt left `sleep 60`
    running after cfgctl had gone; with SIGTERM's default action, cfgctl died at once and left
    it too (both tried)."""
    done = subprocess.run(
        [sys.executable, "-c", _SIGNAL_AS_IT_STARTS, sigterm],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    pid, outcome = done.stdout.split()
    assert outcome == "interrupted" and done.returncode == 0, done.stderr
    assert not pid_alive(int(pid))


@pytest.mark.slow
def test_the_tests_inherit_an_ignored_sigterm(tmp_path: Path) -> None:
    """Under nohup-like ignoring, the verify command ignores SIGTERM as it would without
    cfgctl: holding the signal while it starts does not replace that."""
    script = (
        "import signal, sys\n"
        "from cfgctl.codescan.apply import run_verify\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print(run_verify('grep SigIgn /proc/self/status', config=None).output)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    ignored = int(done.stdout.split()[1], 16)
    assert ignored & (1 << (signal.SIGTERM - 1)), done.stdout

"""The code rewrite of `scan-code --fix`: only the literals change (proven on real code), and in
FastAPI and Flask handlers the value comes from a shared watch, so a hot reload reaches them."""

from __future__ import annotations

import importlib
import sys
import sysconfig
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from cfgctl.codescan.findings import Finding
from cfgctl.codescan.rewrite import prove_substitution, rewrite
from cfgctl.codescan.scan import scan_paths
from cfgctl.errors import InputError
from cfgctl.sdk import stop_all
from tests.support.cli import run_cli
from tests.support.gitrepo import ConfigRepo

MODEL = "app.cfgctl_settings"


def _findings(path: Path, min_score: float = 0.0) -> list[tuple[Finding, str]]:
    found = scan_paths([path], min_score=min_score, history=False).findings
    return [(f, f.key) for f in found]


def test_only_the_literals_change_comments_quotes_and_layout_stay(tmp_path: Path) -> None:
    source = tmp_path / "client.py"
    source.write_text(
        textwrap.dedent(
            '''\
            """Doc."""
            from __future__ import annotations

            import requests  # the HTTP client

            CAFÉ_HOST = 'café.internal'   # odd spacing, single quotes, a non-ASCII column
            TIMEOUT = (5 * 60)  # parenthesised, folded


            def fetch(url, retries=3):
                # a comment in the body
                return requests.get(url, timeout=30,
                                    headers={'a': "b"})
            '''
        )
    )
    text = source.read_text()
    reps = _findings(source, min_score=0.5)
    assert len(reps) >= 3
    new = rewrite(text, reps, MODEL)
    prove_substitution(text, new, reps, MODEL)
    assert "import requests  # the HTTP client\nfrom app.cfgctl_settings import settings\n" in new
    assert "CAFÉ_HOST = settings." in new and "# odd spacing, single quotes" in new
    assert "TIMEOUT = (settings.client.timeout)  # parenthesised, folded" in new
    assert "                    headers={'a': \"b\"})" in new
    with pytest.raises(InputError, match="differs from the original"):
        prove_substitution(text, new.replace("headers=", "hdrs="), reps, MODEL)


def test_a_module_that_has_a_settings_name_gets_another(tmp_path: Path) -> None:
    source = tmp_path / "views.py"
    source.write_text("from django.conf import settings\nCACHE_TTL = 300\n")
    reps = _findings(source)
    new = rewrite(source.read_text(), reps, MODEL)
    assert "from app.cfgctl_settings import settings as cfgctl_settings" in new
    assert "CACHE_TTL = cfgctl_settings." in new
    prove_substitution(source.read_text(), new, reps, MODEL)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["smtplib", "ftplib", "imaplib", "http/client", "logging/handlers"]
)
def test_every_finding_of_a_standard_library_module_rewrites_and_proves(name: str) -> None:
    path = Path(sysconfig.get_paths()["stdlib"]) / f"{name}.py"
    reps = _findings(path)
    assert len(reps) >= 5
    text = path.read_text(encoding="utf-8")
    prove_substitution(text, rewrite(text, reps, MODEL), reps, MODEL)


# --- FastAPI and Flask: a dependency on a shared watch ---------------------------------------------

FASTAPI_APP = """\
from fastapi import FastAPI

app = FastAPI()


def policy(backoff_seconds: float) -> dict[str, float]:
    return {"backoff": backoff_seconds}


@app.get("/retry")
def retry(attempt: int = 1):
    return policy(backoff_seconds=0.25)
"""

FLASK_APP = """\
from flask import Flask

app = Flask(__name__)


def policy(backoff_seconds: float) -> dict[str, float]:
    return {"backoff": backoff_seconds}


@app.route("/retry")
def retry():
    return policy(backoff_seconds=0.25)
"""


@pytest.fixture
def web_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    code = tmp_path / "svc"
    (code / "webapp").mkdir(parents=True)
    (code / "webapp" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(code))
    yield code
    stop_all()
    for module in [m for m in sys.modules if m == "webapp" or m.startswith("webapp.")]:
        del sys.modules[module]


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _served(get: object, wanted: float) -> float:
    import time

    deadline = time.monotonic() + 10
    while True:
        value = float(get())  # type: ignore[operator]
        if value == wanted or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


@pytest.mark.parametrize("kind", ["fastapi", "flask"])
def test_a_handler_reads_the_current_configuration_and_follows_reloads(
    kind: str, web_project: Path, example_repo: ConfigRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = web_project / "webapp" / "api.py"
    source.write_text(FASTAPI_APP if kind == "fastapi" else FLASK_APP)
    found = run_cli("scan-code", "webapp", "--format", "json", "--min-score", "0", cwd=web_project)
    import json

    ident = next(f["id"] for f in json.loads(found.stdout)["findings"] if f["value"] == 0.25)
    result = run_cli(
        "-C", str(example_repo.workdir), "scan-code", "webapp", "--fix", "-s", "payments",
        "--select", ident, cwd=web_project,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    code = source.read_text()
    if kind == "fastapi":
        assert (
            "def retry(attempt: int = 1, settings: Settings = Depends(settings_provider)):" in code
        )
        assert "from fastapi import Depends" in code
        assert "policy(backoff_seconds=settings.api.backoff_seconds)" in code
    else:
        assert "policy(backoff_seconds=settings_provider().api.backoff_seconds)" in code
    config = web_project / "payments.yaml"
    rendered = run_cli("render", "payments", "--env", "prod", cwd=example_repo.workdir)
    config.write_text(rendered.stdout)
    monkeypatch.setenv("CFGCTL_CONFIG", str(config))
    api = importlib.import_module("webapp.api")
    if kind == "fastapi":
        from fastapi.testclient import TestClient

        client = TestClient(api.app)

        def get() -> float:
            return float(client.get("/retry").json()["backoff"])
    else:
        flask_client = api.app.test_client()

        def get() -> float:
            return float(flask_client.get("/retry").get_json()["backoff"])

    assert get() == 0.25
    _write_atomically(
        config, rendered.stdout.replace("backoff_seconds: 0.25", "backoff_seconds: 0.5")
    )
    assert _served(get, 0.5) == 0.5


def _rewritten(tmp_path: Path, code: str) -> str:
    source = tmp_path / "web.py"
    source.write_text(textwrap.dedent(code))
    reps = [(f, f.key) for f in scan_paths([source], history=False).findings if f.value == 7]
    assert reps, "the literal 7 is a finding"
    new = rewrite(source.read_text(), reps, MODEL)
    prove_substitution(source.read_text(), new, reps, MODEL)  # compiles, and only 7 moved
    return new


def test_fastapi_handlers_keep_their_own_names_and_their_defaults_stay_module_level(
    tmp_path: Path,
) -> None:
    new = _rewritten(
        tmp_path,
        """
        import requests
        from fastapi import Depends, FastAPI
        from app.config import Settings
        from app.conf import settings
        app = FastAPI()

        @app.get("/three")
        def three(retries: int = 3):
            return requests.get(settings["url"], timeout=7)
        """,
    )
    # The module's own `settings` and `Settings` stay theirs: cfgctl's come under other names.
    assert "from app.cfgctl_settings import Settings as CfgctlSettings, settings_provider" in new
    assert (
        "def three(retries: int = 3, cfgctl_settings: CfgctlSettings = "
        "Depends(settings_provider)):" in new
    )
    assert 'requests.get(settings["url"], timeout=cfgctl_settings.http.timeout)' in new
    assert new.count("from fastapi import Depends") == 1
    default = _rewritten(
        tmp_path,
        """
        import requests
        from fastapi import FastAPI
        app = FastAPI()

        @app.get("/x")
        def x(timeout: int = 7):
            return requests.get("https://example.com/x", timeout=timeout)
        """,
    )
    assert "def x(timeout: int = settings." in default  # a default runs where the def does


def test_a_handler_parameter_named_like_ours_is_never_shadowed(tmp_path: Path) -> None:
    """The reviewer's duplicate argument: a handler taking `settings` gets `cfgctl_settings`;
    one taking both names is refused (nothing written), never given a duplicate."""
    new = _rewritten(
        tmp_path,
        """
        import requests
        from fastapi import Depends, FastAPI
        app = FastAPI()

        @app.get("/one")
        def one(settings=Depends(object)):
            return requests.get("https://example.com", timeout=7)
        """,
    )
    assert (
        "def one(settings=Depends(object), cfgctl_settings: Settings = Depends(settings_provider)):"
        in new
    )
    with pytest.raises(InputError, match="has a parameter cfgctl_settings already"):
        _rewritten(
            tmp_path,
            """
            import requests
            from fastapi import Depends, FastAPI
            app = FastAPI()

            @app.get("/one")
            def one(settings=None, cfgctl_settings=None):
                return requests.get("https://example.com", timeout=7)
            """,
        )

"""The web dashboard's files: `/` (index.html) and `/_dashboard/assets/NAME`.

    GET /                            index.html: no-cache, a strict Content-Security-Policy
    GET /_dashboard/assets/NAME      a built asset (hashed name): cached for a year, immutable

The bundle is built from web/ by scripts/build-web.sh (`make install`) into
cfgctl/server/dashboard/, which the wheel carries: nothing here needs Node. The assets live under
`/_dashboard/`: no service can be named `_dashboard` (a leading `_` names an environment's
`_defaults.yaml`), so neither the API (`/api/v1/...`) nor the Spring Cloud Config routes at the
root (`/{application}/{profile}[/{label}]`, registered after these) are shadowed. The pages are
routed in the browser by the URL's fragment (`/#/overview`): the server serves `/` only.

When the bundle is not built, `/` answers 503 with a page (or, to a client asking for JSON, a
problem document) saying how to build it.
"""

from __future__ import annotations

import gzip
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.responses import Response

from cfgctl.server.problems import Problem

__all__ = ["ASSET_PREFIX", "CSP", "DASHBOARD_DIR", "Bundle", "router"]

DASHBOARD_DIR = Path(__file__).parent / "dashboard"
ASSET_PREFIX = "/_dashboard/assets/"
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
_COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".html", ".map", ".txt")
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cfgctl: the dashboard is not built</title>
</head><body><main><h1>The dashboard is not built</h1>
<p>This cfgctl was installed without its web dashboard ({where} is missing).
The API is served as usual under <a href="/api/v1/docs">/api/v1/</a>.</p>
<p>Build it from a checkout of cfgctl (needs Node.js 20 and npm):
<code>make install</code>, or <code>bash scripts/build-web.sh</code>; then restart
<code>cfgctl serve</code>.</p></main></body></html>
"""
router = APIRouter(include_in_schema=False)


@dataclass
class Bundle:
    """The built dashboard in one folder, read once: index.html and assets/, by name."""

    folder: Path
    _files: dict[str, tuple[bytes, bytes | None]] = field(default_factory=dict)

    @property
    def built(self) -> bool:
        return (self.folder / "index.html").is_file()

    def index(self) -> bytes:
        return (self.folder / "index.html").read_bytes()

    def asset(self, name: str) -> tuple[bytes, bytes | None] | None:
        """(bytes, gzipped bytes or None) of assets/NAME; None when there is no such file."""
        if name in self._files:
            return self._files[name]
        if not _NAME.fullmatch(name) or ".." in name:
            return None
        path = self.folder / "assets" / name
        if not path.is_file():
            return None
        data = path.read_bytes()
        packed = gzip.compress(data, 6) if name.endswith(_COMPRESSIBLE) else None
        if len(self._files) < 1000:
            self._files[name] = (data, packed)
        return data, packed


def _bundle(request: Request) -> Bundle:
    bundle: Bundle | None = getattr(request.app.state, "dashboard", None)
    if bundle is None:
        bundle = request.app.state.dashboard = Bundle(DASHBOARD_DIR)
    return bundle


@router.get("/")
async def index(request: Request, accept: Annotated[str | None, Header()] = None) -> Response:
    """The dashboard's page; 503 with how to build it when it is not built."""
    bundle = _bundle(request)
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    if bundle.built:
        return Response(bundle.index(), media_type="text/html; charset=utf-8", headers=headers)
    where = "cfgctl/server/dashboard/index.html"
    if "text/html" not in (accept or ""):
        raise Problem(
            "environment",
            f"the web dashboard is not built ({where} is missing)",
            hint="build it from a checkout of cfgctl: make install (or bash scripts/build-web.sh)",
        )
    page = NOT_BUILT.format(where=where)
    return Response(page, 503, headers, media_type="text/html; charset=utf-8")


@router.get(ASSET_PREFIX + "{name}")
async def asset(
    request: Request, name: str, accept_encoding: Annotated[str | None, Header()] = None
) -> Response:
    """A built asset; its name carries its content hash, so it is cached for a year."""
    found = _bundle(request).asset(name)
    if found is None:
        raise Problem.not_found(
            f"no dashboard asset {name[:100]!r}",
            hint="reload the page: the dashboard may have been rebuilt since it was loaded",
        )
    data, packed = found
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media.startswith("text/") or media in ("application/javascript", "image/svg+xml"):
        media += "; charset=utf-8"
    headers = {
        **SECURITY_HEADERS,
        "Cache-Control": "public, max-age=31536000, immutable",
        "Vary": "Accept-Encoding",
    }
    if packed is not None and "gzip" in (accept_encoding or ""):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type=media, headers=headers)
    return Response(data, media_type=media, headers=headers)

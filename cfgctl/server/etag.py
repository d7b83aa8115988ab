"""Strong ETags of response bodies, and the answer to `If-None-Match`.

    body = encode({"items": [...]})
    tag = etag_of(body)                 # '"3f2a..."': the body's SHA-256, in quotes
    if not_modified(request.headers.get("if-none-match"), tag): answer 304

A strong ETag names the exact bytes: the body is encoded one way only (`encode`), so the same
content has the same tag in every worker process and after a restart.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.responses import Response

__all__ = ["encode", "etag_of", "headers_for", "not_modified", "respond"]


def encode(doc: Any) -> bytes:
    """`doc` as the JSON bytes of a response body (compact, key order kept, UTF-8)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def headers_for(commit: str) -> dict[str, str]:
    """The headers of every read at `commit` (its ETag apart)."""
    return {"Cfgctl-Commit": commit, "Cache-Control": "private, no-cache"}


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (or is `*`). Weak tags (`W/"..."`) compare by
    their opaque part, as RFC 9110 has If-None-Match do."""
    if not if_none_match:
        return False
    for raw in if_none_match.split(","):
        tag = raw.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def respond(if_none_match: str | None, body: bytes, etag: str, headers: dict[str, str]) -> Response:
    """200 with `body`, or 304 (no body, same headers) when `If-None-Match` names `etag`."""
    headers = {"ETag": etag, **headers}
    if not_modified(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)

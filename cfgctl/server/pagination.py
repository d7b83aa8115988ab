"""Lists in pages: `?limit=N&cursor=C`, items in name order, the next page in a Link header.

    page = paginate(items, limit=50, cursor=None, url=request.url)
    page.document   # {"items": [...], "next_cursor": "..." | None}
    page.link       # '<...?limit=50&cursor=...>; rel="next"' or None

The cursor is opaque to clients (base64url of the last name on the page), so a page boundary
holds when names are added or removed between two requests: nothing is skipped or repeated
that existed throughout.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import URL

from cfgctl.server.problems import Problem

__all__ = ["Page", "paginate"]


@dataclass(frozen=True)
class Page:
    document: dict[str, Any]
    link: str | None


def _encode(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        if _encode(name) == cursor:
            return name
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise Problem.bad_request(
        f"cursor={cursor!r} is not a cursor this server gave",
        hint="pass the next_cursor of the previous page, or leave cursor out",
    )


def paginate(items: Sequence[dict[str, Any]], *, limit: int, cursor: str | None, url: URL) -> Page:
    """The page of `items` (each with a `name`, sorted by it) after `cursor`."""
    start = 0
    if cursor:
        after = _decode(cursor)
        start = next((i for i, item in enumerate(items) if item["name"] > after), len(items))
    chosen = list(items[start : start + limit])
    more = start + limit < len(items)
    next_cursor = _encode(chosen[-1]["name"]) if more and chosen else None
    link = None
    if next_cursor is not None:
        link = f'<{url.include_query_params(limit=limit, cursor=next_cursor)}>; rel="next"'
    return Page({"items": chosen, "next_cursor": next_cursor}, link)

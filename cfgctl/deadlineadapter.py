"""A total deadline for every request of a `requests` session (github3.py's, etcd3gw's).

requests' `timeout=` bounds the connect and each read, not the whole answer: a server that drips
a byte a second holds a call forever. Mounted on a session, `DeadlineAdapter` runs each `send`
inside a `cfgctl.deadline.Deadline`: its pool hands every connection it lends to that deadline,
which shuts the socket when the time is up; the request then fails as `DeadlineTimeout` (a
`requests.exceptions.Timeout`) with "no complete answer within N s".

    session.mount("https://", DeadlineAdapter(total=30.0, max_retries=retry))

Retries (urllib3's `Retry`) happen inside the same deadline: a connection lent after it has
passed is not tried, so the retries end quickly too. A streamed request (`stream=True`: etcd's
watch) is left to its own timeouts: it is meant to last.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import EmptyPoolError
from urllib3.exceptions import HTTPError as Urllib3Error

from cfgctl.deadline import Deadline, Held, current, held

__all__ = ["DeadlineAdapter", "DeadlineTimeout"]


class DeadlineTimeout(requests.exceptions.Timeout):
    """The request did not finish within the adapter's total deadline."""


class _Connection(Held, HTTPConnection):
    pass


class _SecureConnection(Held, HTTPSConnection):
    pass


class _Lending:
    """Mixin for a urllib3 pool: every connection it lends is held by the thread's deadline; a
    retry after the deadline is not tried."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        deadline = current()
        if deadline is not None and deadline.expired:
            raise EmptyPoolError(None, "the total deadline has passed")  # type: ignore[arg-type]
        return held(conn)


class _Pool(_Lending, HTTPConnectionPool):
    ConnectionCls = _Connection


class _SecurePool(_Lending, HTTPSConnectionPool):
    ConnectionCls = _SecureConnection


class DeadlineAdapter(HTTPAdapter):
    """An `HTTPAdapter` whose every request ends within `total` seconds (retries included)."""

    def __init__(self, *, total: float, **kwargs: Any) -> None:
        self.total = total
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _SecurePool}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("stream"):  # a stream (etcd's watch) is read for as long as it lasts
            return super().send(request, *args, **kwargs)
        with Deadline(self.total) as deadline:
            try:
                response = super().send(request, *args, **kwargs)
                response.content  # noqa: B018  the body is read inside the deadline
            except (requests.RequestException, Urllib3Error) as exc:
                if deadline.expired:
                    raise DeadlineTimeout(
                        f"timed out: no complete answer within {self.total:g} s", request=request
                    ) from exc
                raise
            if deadline.expired:
                raise DeadlineTimeout(
                    f"timed out: no complete answer within {self.total:g} s", request=request
                )
            return response

# Excerpt of sentry-sdk 2.75.0, sentry_sdk/transport.py (lines 1-100, 196-280, 379-418, 553-653),
# MIT licence: see tests/codescan/corpus/LICENSES.md (sentry-sdk).
# Trimmed for the cfgctl scan-code corpus, otherwise unchanged: "# [...]" marks left-out lines.
import asyncio
import gzip
import io
import json
import logging
import os
import socket
import ssl
import time
import warnings
from abc import ABC, abstractmethod
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from urllib.request import getproxies

try:
    import brotli  # type: ignore
except ImportError:
    brotli = None

try:
    import httpcore
except (ImportError, AttributeError):
    httpcore = None  # type: ignore[assignment,unused-ignore]

try:
    import h2  # noqa: F401

    HTTP2_ENABLED = httpcore is not None
except ImportError:
    HTTP2_ENABLED = False

try:
    import anyio  # noqa: F401

    ASYNC_TRANSPORT_AVAILABLE = httpcore is not None
except ImportError:
    ASYNC_TRANSPORT_AVAILABLE = False

from typing import TYPE_CHECKING, Dict, List, cast

import certifi
import urllib3

import sentry_sdk
from sentry_sdk.consts import EndpointType
from sentry_sdk.envelope import Envelope, Item, PayloadRef
from sentry_sdk.utils import (
    Dsn,
    capture_internal_exceptions,
    logger,
    mark_sentry_task_internal,
)
from sentry_sdk.worker import AsyncWorker, BackgroundWorker, Worker

if TYPE_CHECKING:
    from typing import (
        Any,
        Callable,
        DefaultDict,
        Iterable,
        Mapping,
        Optional,
        Self,
        Tuple,
        Type,
        Union,
    )

    from urllib3.poolmanager import PoolManager, ProxyManager

    from sentry_sdk._types import Event, EventDataCategory

KEEP_ALIVE_SOCKET_OPTIONS = []
for option in [
    (socket.SOL_SOCKET, lambda: getattr(socket, "SO_KEEPALIVE"), 1),  # noqa: B009
    (socket.SOL_TCP, lambda: getattr(socket, "TCP_KEEPIDLE"), 45),  # noqa: B009
    (socket.SOL_TCP, lambda: getattr(socket, "TCP_KEEPINTVL"), 10),  # noqa: B009
    (socket.SOL_TCP, lambda: getattr(socket, "TCP_KEEPCNT"), 6),  # noqa: B009
]:
    try:
        KEEP_ALIVE_SOCKET_OPTIONS.append((option[0], option[1](), option[2]))
    except AttributeError:
        # a specific option might not be available on specific systems,
        # e.g. TCP_KEEPIDLE doesn't exist on macOS
        pass


def _get_httpcore_header_value(response: "Any", header: str) -> "Optional[str]":
    """Case-insensitive header lookup for httpcore-style responses."""
    header_lower = header.lower()
    return next(
        (
            val.decode("ascii")
            for key, val in response.headers
            if key.decode("ascii").lower() == header_lower
        ),
        None,
    )

# [...]
def _parse_rate_limits(
    header: str, now: "Optional[datetime]" = None
) -> "Iterable[Tuple[Optional[EventDataCategory], datetime]]":
    if now is None:
        now = datetime.now(timezone.utc)

    for limit in header.split(","):
        try:
            parameters = limit.strip().split(":")
            retry_after_val, categories = parameters[:2]

            retry_after = now + timedelta(seconds=int(retry_after_val))
            for category in categories and categories.split(";") or (None,):
                yield category, retry_after  # type: ignore
        except (LookupError, ValueError):
            continue


class HttpTransportCore(Transport):
    """Shared base class for sync and async transports."""

    TIMEOUT = 30  # seconds

    def __init__(self: "Self", options: "Dict[str, Any]") -> None:
        from sentry_sdk.consts import VERSION

        Transport.__init__(self, options)
        assert self.parsed_dsn is not None
        self.options: "Dict[str, Any]" = options
        self._worker = self._create_worker(options)
        self._auth = self.parsed_dsn.to_auth("sentry.python/%s" % VERSION)
        self._disabled_until: "Dict[Optional[EventDataCategory], datetime]" = {}
        # We only use this Retry() class for the `get_retry_after` method it exposes
        self._retry = urllib3.util.Retry()
        self._discarded_events: "DefaultDict[Tuple[EventDataCategory, str], int]" = (
            defaultdict(int)
        )
        self._last_client_report_sent = time.time()

        self._pool = self._make_pool()

        # Backwards compatibility for deprecated `self.hub_class` attribute
        self._hub_cls = sentry_sdk.Hub

        experiments = options.get("_experiments", {})
        compression_level = experiments.get(
            "transport_compression_level",
            experiments.get("transport_zlib_compression_level"),
        )
        compression_algo = experiments.get(
            "transport_compression_algo",
            (
                "gzip"
                # if only compression level is set, assume gzip for backwards compatibility
                # if we don't have brotli available, fallback to gzip
                if compression_level is not None or brotli is None
                else "br"
            ),
        )

        if compression_algo == "br" and brotli is None:
            logger.warning(
                "You asked for brotli compression without the Brotli module, falling back to gzip -9"
            )
            compression_algo = "gzip"
            compression_level = None

        if compression_algo not in ("br", "gzip"):
            logger.warning(
                "Unknown compression algo %s, disabling compression", compression_algo
            )
            self._compression_level = 0
            self._compression_algo = None
        else:
            self._compression_algo = compression_algo

        if compression_level is not None:
            self._compression_level = compression_level
        elif self._compression_algo == "gzip":
            self._compression_level = 9
        elif self._compression_algo == "br":
            self._compression_level = 4

    def _create_worker(self: "Self", options: "Dict[str, Any]") -> "Worker":
        raise NotImplementedError()
# [...]
    def _handle_response(
        self: "Self",
        response: "Union[urllib3.BaseHTTPResponse, httpcore.Response]",
        envelope: "Optional[Envelope]",
    ) -> None:
        self._update_rate_limits(response)

        if response.status == 413:
            size_exceeded_message = (
                "HTTP 413: Event dropped due to exceeded envelope size limit"
            )
            response_message = getattr(
                response, "data", getattr(response, "content", None)
            )
            if response_message is not None:
                size_exceeded_message += f" (body: {response_message})"

            logger.error(size_exceeded_message)
            self._handle_request_error(
                envelope=envelope, loss_reason="status_413", record_reason="send_error"
            )

        elif response.status == 429:
            # if we hit a 429.  Something was rate limited but we already
            # acted on this in `self._update_rate_limits`.  Note that we
            # do not want to record event loss here as we will have recorded
            # an outcome in relay already.
            self.on_dropped_event("status_429")
            pass

        elif response.status >= 300 or response.status < 200:
            logger.error(
                "Unexpected status code: %s (body: %s)",
                response.status,
                getattr(response, "data", getattr(response, "content", None)),
            )
            self._handle_request_error(
                envelope=envelope, loss_reason="status_{}".format(response.status)
            )

# [...]
    def _get_httpcore_pool_options(
        self: "Self", http2: bool = False
    ) -> "Dict[str, Any]":
        """Shared pool options for httpcore-based transports (Http2 and Async)."""
        options: "Dict[str, Any]" = {
            "http2": http2,
            "retries": 3,
        }

        socket_options: "Optional[List[Tuple[int, int, int | bytes]]]" = None

        if self.options["socket_options"] is not None:
            socket_options = self.options["socket_options"]

        if socket_options is None:
            socket_options = []

        used_options = {(o[0], o[1]) for o in socket_options}
        for default_option in KEEP_ALIVE_SOCKET_OPTIONS:
            if (default_option[0], default_option[1]) not in used_options:
                socket_options.append(default_option)

        if socket_options is not None:
            options["socket_options"] = socket_options

        ssl_context = ssl.create_default_context()
        ssl_context.load_verify_locations(
            self.options["ca_certs"]
            or os.environ.get("SSL_CERT_FILE")
            or os.environ.get("REQUESTS_CA_BUNDLE")
            or certifi.where()
        )
        cert_file = self.options["cert_file"] or os.environ.get("CLIENT_CERT_FILE")
        key_file = self.options["key_file"] or os.environ.get("CLIENT_KEY_FILE")
        if cert_file is not None:
            ssl_context.load_cert_chain(cert_file, key_file)

        options["ssl_context"] = ssl_context
        return options

    def _resolve_proxy(self: "Self") -> "Optional[str]":
        """Resolve proxy URL from options and environment. Returns proxy URL or None."""
        if self.parsed_dsn is None:
            return None

        no_proxy = self._in_no_proxy(self.parsed_dsn)
        proxy = None

        # try HTTPS first
        https_proxy = self.options["https_proxy"]
        if self.parsed_dsn.scheme == "https" and (https_proxy != ""):
            proxy = https_proxy or (not no_proxy and getproxies().get("https"))

        # maybe fallback to HTTP proxy
        http_proxy = self.options["http_proxy"]
        if not proxy and (http_proxy != ""):
            proxy = http_proxy or (not no_proxy and getproxies().get("http"))

        return proxy or None

    @property
    def _timeout_extensions(self: "Self") -> "Dict[str, Any]":
        return {
            "timeout": {
                "pool": self.TIMEOUT,
                "connect": self.TIMEOUT,
                "write": self.TIMEOUT,
                "read": self.TIMEOUT,
            }
        }

    def _get_pool_options(self: "Self") -> "Dict[str, Any]":
        raise NotImplementedError()

    def _in_no_proxy(self: "Self", parsed_dsn: "Dsn") -> bool:
        no_proxy = getproxies().get("no")
        if not no_proxy:
            return False
        for host in no_proxy.split(","):
            host = host.strip()
            if parsed_dsn.host.endswith(host) or parsed_dsn.netloc.endswith(host):
                return True
        return False

    def _make_pool(
        self: "Self",
    ) -> "Union[PoolManager, ProxyManager, httpcore.SOCKSProxy, httpcore.HTTPProxy, httpcore.ConnectionPool, httpcore.AsyncSOCKSProxy, httpcore.AsyncHTTPProxy, httpcore.AsyncConnectionPool]":
        raise NotImplementedError()

    def _request(
        self: "Self",
        method: str,
        endpoint_type: "EndpointType",
        body: "Any",
        headers: "Mapping[str, str]",
    ) -> "Union[urllib3.BaseHTTPResponse, httpcore.Response]":
        raise NotImplementedError()

    def kill(self: "Self") -> None:
        logger.debug("Killing HTTP transport")
        self._worker.kill()
# [...]

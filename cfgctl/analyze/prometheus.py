"""Metrics from a Prometheus server: its HTTP API's range queries (`/api/v1/query_range`).

    source = PrometheusSource("http://127.0.0.1:9090")
    source.series('rate(http_requests_total{job="api"}[1m])', start, end, step=15)

One `Series` per time series of the answer, named by its labels
(`http_requests_total{job="api",instance="a:80"}`; the query itself when it has none). NaN and
infinite samples are left out (counted in `dropped`), and so is a series with no finite sample.
A query that matches nothing gives `[]`: the caller decides what no data means.

Errors: Prometheus unreachable (refused, timed out, not HTTP) is an `EnvError` (exit 3) naming
the URL; a query Prometheus refuses (`bad_data`, `execution`: bad PromQL, too many points) an
`InputError` (exit 2) with Prometheus' own message; any other error answer an `EnvError`.
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import numpy as np

from cfgctl._version import __version__
from cfgctl.analyze.placeholders import fill_promql
from cfgctl.analyze.series import Series
from cfgctl.deadline import DeadlineExceeded, fetch
from cfgctl.errors import EnvError, InputError

__all__ = ["PrometheusSource"]

MAX_BYTES = 256 << 20
_QUERY_ERRORS = ("bad_data", "execution")  # the query's fault; the rest is the server's
_URL_HINT = "is Prometheus running and listening there? (source.prometheus.url in analytics.yaml)"


class PrometheusSource:
    """Range queries against the Prometheus at `url` (a path prefix such as
    `http://host/prometheus` is kept); `timeout` in seconds bounds each query as a whole
    (connect to last byte)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018  (a port out of range or not a number raises here)
        except ValueError as exc:
            raise InputError(
                f"{url!r} is not a URL: {exc}",
                hint="write it as http://HOST:9090 (source.prometheus.url in analytics.yaml)",
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"{url!r} is not an http(s) URL of a Prometheus server",
                hint="write it as http://HOST:9090 (source.prometheus.url in analytics.yaml)",
            )
        if parts.username is not None or parts.password is not None:
            host = parts.hostname + (f":{parts.port}" if parts.port else "")
            raise InputError(
                f"the Prometheus URL holds credentials ({parts.scheme}://***@{host}...)",
                hint="put no user or password in the URL: cfgctl does not send them",
            )
        if timeout <= 0:
            raise InputError(f"timeout {timeout} is not positive", hint="give seconds, > 0")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"PrometheusSource({self.url!r})"

    def render(self, template: str, values: Mapping[str, str]) -> str:
        """The query of `template` for one target: its placeholders filled in as PromQL."""
        return fill_promql(template, values)

    def series(self, query: str, start: float, end: float, step: float) -> list[Series]:
        """Every series `query` gives from `start` to `end` (Unix seconds), one point a `step`
        seconds; [] when it matches nothing."""
        if not (math.isfinite(start) and math.isfinite(end)) or end < start:
            raise InputError(f"bad time range {start}..{end}", hint="start <= end, Unix seconds")
        if not math.isfinite(step) or step <= 0:
            raise InputError(f"step {step} is not positive", hint="give seconds, > 0")
        form = {
            "query": query,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step:g}",
            "timeout": f"{self.timeout:g}s",
        }
        answer = self._post("/api/v1/query_range", form, query)
        return _matrix(answer, query, self.url)

    def _post(self, path: str, form: dict[str, str], query: str) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": f"cfgctl/{__version__}",
            },
            method="POST",
        )
        try:  # the whole exchange within `timeout`: a server dripping bytes is cut off
            answer = fetch(request, timeout=self.timeout, max_bytes=MAX_BYTES)
        except urllib.error.URLError as exc:
            raise EnvError(
                f"cannot reach Prometheus at {self.url}: {_reason(exc.reason)}", hint=_URL_HINT
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise EnvError(
                f"cannot reach Prometheus at {self.url}: {_reason(exc)}", hint=_URL_HINT
            ) from None
        return self._decode(answer.body, answer.status, query)

    def _decode(self, body: bytes, status: int, query: str) -> Any:
        """The JSON of a successful answer; the error of any other."""
        if len(body) > MAX_BYTES:
            raise InputError(
                f"the answer of Prometheus at {self.url} is larger than {MAX_BYTES >> 20} MiB",
                hint="query fewer series (aggregate with sum by (...)) or a larger step",
            )
        try:
            answer = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            answer = None
        if not isinstance(answer, dict) or answer.get("status") not in ("success", "error"):
            raise EnvError(
                f"{self.url} answered HTTP {status} with no Prometheus API answer",
                hint="is the URL that of the Prometheus server (as in its /graph page, without "
                "/graph)?",
            )
        if answer["status"] == "success" and status < 300:
            return answer
        kind = str(answer.get("errorType", "unknown"))
        error = str(answer.get("error", f"HTTP {status}"))
        if kind in _QUERY_ERRORS:
            raise InputError(
                f"Prometheus refused the query {query[:200]!r}: {error} ({kind})",
                hint="fix the query (metrics[].query in analytics.yaml); try it in "
                f"{self.url}/graph",
            )
        raise EnvError(
            f"Prometheus at {self.url} failed the query: {error} ({kind}, HTTP {status})",
            hint="try again later, or a shorter range or larger step if it timed out",
        )


def _reason(reason: object) -> str:
    if isinstance(reason, DeadlineExceeded):
        return str(reason)
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _name(labels: dict[str, str], query: str) -> str:
    """`metric{a="1",b="2"}` as Prometheus prints it; the query when there are no labels."""
    metric = labels.get("__name__", "")
    rest = ",".join(
        f"{k}={json.dumps(v, ensure_ascii=False)}"
        for k, v in sorted(labels.items())
        if k != "__name__"
    )
    if rest:
        return f"{metric}{{{rest}}}"
    return metric or query


def _matrix(answer: dict[str, Any], query: str, url: str) -> list[Series]:
    data = answer.get("data")
    result = data.get("result") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("resultType") != "matrix"
        or not isinstance(result, list)
    ):
        raise EnvError(
            f"Prometheus at {url} answered a range query without a matrix",
            hint="is it a Prometheus (or compatible) server?",
        )
    out: list[Series] = []
    for item in result:
        try:
            labels = {str(k): str(v) for k, v in item.get("metric", {}).items()}
            points = [(float(t), float(v)) for t, v in item.get("values") or []]
        except (AttributeError, TypeError, ValueError):
            raise EnvError(
                f"Prometheus at {url} answered a malformed series", hint="is it Prometheus?"
            ) from None
        kept = [(t, v) for t, v in points if math.isfinite(v)]
        if not kept:
            continue
        times = np.array([t for t, _ in kept], dtype=np.float64)
        values = np.array([v for _, v in kept], dtype=np.float64)
        order = np.argsort(times, kind="stable")
        out.append(
            Series(_name(labels, query), values[order], times[order], len(points) - len(kept))
        )
    return out

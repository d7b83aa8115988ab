"""Agents report back: after each pass, what every target runs and how it is, POSTed to the
configuration server (`cfgctl serve`), so `GET /api/v1/rollouts/{commit}` can tell which
targets reached a commit and which are stuck.

    reporter = Reporter(config.report, status=lambda: status_document(config, agent.state))
    reporter.submit(result)        # after a pass: queued, sent by a thread of its own
    reporter.close()               # at stop: the last report is sent (within its timeout)

agent.yaml: `report: {url: https://cfg.internal, token_env: CFGCTL_REPORT_TOKEN, id: web-1}`;
the body goes to `{url}/api/v1/agents/{id}/report` as JSON, with `Authorization: Bearer TOKEN`
when `token_env` is set (the token is never logged). A report is what `/status` serves (commits,
states, errors, canary verdicts: never a configuration value) with the pass's outcome. Sending
never holds a pass up: a slow or unreachable server costs the reporting thread its timeout, a
newer report replaces one not yet sent, and a failure is logged once until it recovers.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cfgctl.agent.config import ReportSpec
from cfgctl.deadline import fetch
from cfgctl.repo.timespec import utc_iso

__all__ = ["Reporter"]

log = logging.getLogger("cfgctl.agent")


class Reporter:
    def __init__(self, spec: ReportSpec, status: Callable[[], dict[str, Any]]) -> None:
        self.spec, self.status = spec, status
        self.endpoint = f"{spec.url.rstrip('/')}/api/v1/agents/{spec.id}/report"
        self._pending: bytes | None = None
        self._wake = threading.Condition()
        self._closing = False
        self._failing = False
        self.sent = 0  # reports the server accepted (for /status and tests)
        self._thread = threading.Thread(target=self._run, name="cfgctl-report", daemon=True)
        self._thread.start()

    def submit(self, outcome: dict[str, Any]) -> None:
        """Queue a report of the agent's state now and `outcome` (the pass's result)."""
        body = {
            "agent": self.spec.id,
            "time": utc_iso(datetime.now(UTC)),
            "pass": outcome,
            **self.status(),
        }
        data = json.dumps(body, sort_keys=True).encode()
        with self._wake:
            self._pending = data
            self._wake.notify()

    def close(self, timeout: float | None = None) -> None:
        """Send what is queued, then stop (waiting at most `timeout`, default the spec's)."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join(self.spec.timeout if timeout is None else timeout)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._closing:
                    self._wake.wait()
                data, self._pending = self._pending, None
                closing = self._closing
            if data is not None:
                self._send(data)
            if closing:
                return

    def _send(self, data: bytes) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "cfgctl-agent"}
        token = os.environ.get(self.spec.token_env or "", "")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")
        try:  # the whole exchange within the spec's timeout (a dripping server is cut off)
            answer = fetch(request, timeout=self.spec.timeout, max_bytes=65536)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, timed out
            self._failed(str(getattr(exc, "reason", exc)))
            return
        if not 200 <= answer.status < 300:
            self._failed(f"HTTP {answer.status}")
            return
        self.sent += 1
        if self._failing:
            log.info("reports reach %s again", self.endpoint)
        self._failing = False

    def _failed(self, why: str) -> None:
        if not self._failing:  # once until it recovers, not at every pass
            log.warning("cannot report to %s: %s", self.endpoint, why)
        self._failing = True

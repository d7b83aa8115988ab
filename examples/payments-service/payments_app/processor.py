"""Charges cards through the card processor's HTTP API."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

PROCESSOR_URL = "https://processor.example.com/v1/charges"  # the processor's charge endpoint
REQUEST_TIMEOUT = 20  # seconds before a charge is given up

Opener = Callable[..., Any]


def charge(amount_cents: int, card_token: str, opener: Opener = urllib.request.urlopen) -> dict[str, Any]:
    """Charge `amount_cents` to the card; the processor's answer as a dict."""
    if amount_cents <= 0:
        raise ValueError("an amount must be positive")
    body = json.dumps({"amount": amount_cents, "card": card_token}).encode()
    request = urllib.request.Request(PROCESSOR_URL, data=body, method="POST")
    with opener(request, timeout=REQUEST_TIMEOUT) as response:
        return json.loads(response.read())


def retry_delays(attempts: int = 4, backoff_seconds: float = 0.5) -> list[float]:
    """The waits between attempts: doubling from `backoff_seconds`."""
    return [backoff_seconds * 2**i for i in range(attempts - 1)]

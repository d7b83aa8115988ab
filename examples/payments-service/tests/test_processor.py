"""The processor client's tests: what it sends, where, and how long it waits."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from payments_app import processor


class FakeResponse(io.BytesIO):
    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_a_charge_posts_to_the_processor_with_its_timeout() -> None:
    seen: dict[str, Any] = {}

    def opener(request: Any, timeout: float) -> FakeResponse:
        seen.update(url=request.full_url, timeout=timeout, body=json.loads(request.data))
        return FakeResponse(b'{"status": "ok"}')

    assert processor.charge(1250, "tok_visa", opener=opener) == {"status": "ok"}
    assert seen == {
        "url": "https://processor.example.com/v1/charges",
        "timeout": 20,
        "body": {"amount": 1250, "card": "tok_visa"},
    }


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        processor.charge(-1, "tok_visa", opener=lambda *a, **k: None)


def test_retries_back_off() -> None:
    assert processor.retry_delays() == [0.5, 1.0, 2.0]

"""Fixtures the server tests share."""

from tests.support.guarded import guarded  # noqa: F401  the token-guarded server

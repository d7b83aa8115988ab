"""A progress indicator on stderr for work that takes more than a second, on a terminal only."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["progress"]

DELAY_SECONDS = 1.0


@contextlib.contextmanager
def progress(label: str, quiet: bool = False) -> Iterator[None]:
    """Show a spinner with `label` if the block is still running after a second. Never in a
    pipe, with CI set, or when `quiet` (machine-readable output)."""
    if quiet or not sys.stderr.isatty() or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        yield
        return
    from rich.console import Console
    from rich.status import Status

    status = Status(f"{label}…", console=Console(stderr=True))
    timer = threading.Timer(DELAY_SECONDS, status.start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        status.stop()

"""How the console script ends: what the interpreter's own ending does that matters, without
the rest.

When `main()` returns, CPython tears itself down: it clears every module and frees every object
one by one. For a command that imported Git, YAML, jsonschema and typer that is 30-40 ms here,
a fifth of a one-file `diff` or `validate --changed-since`, and it serves nothing: the operating
system frees the memory at once. `end(code)` does what matters of that ending, in its order,
then leaves with `os._exit`:

1. Threads that are not daemons still run: the interpreter's own ending waits for them, so
   `end` raises SystemExit and lets it (the server, the agent and `watch` end theirs first).
2. The atexit handlers (the trace exporter's last flush, logging's, temporary files' clean-up).
3. stdout and stderr flushed (unless closed). One that can no longer be written makes the exit
   status 120, whatever it was, as the interpreter has it.

What it does not do: flush a file object the program left open with unwritten data in its buffer
(the interpreter's teardown would, when it frees it). cfgctl closes every file it writes.

The exit status is `sys.exit`'s: None is 0, an int itself, anything else printed to stderr and 1.
"""

from __future__ import annotations

import atexit
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["end"]


def end(code: object) -> NoReturn:
    """Leave the process with the exit status `sys.exit(code)` would give."""
    threading = sys.modules.get("threading")
    if threading is not None and any(
        thread.is_alive() and not thread.daemon
        for thread in threading.enumerate()
        if thread is not threading.main_thread()
    ):
        raise SystemExit(code)
    status = _status(code)
    atexit._run_exitfuncs()  # as the interpreter does; CPython has no public name for it
    if not (_flushed(sys.stdout) & _flushed(sys.stderr)):  # both, as the interpreter does
        status = 120
    os._exit(status)


def _flushed(stream: object) -> bool:
    """Flush `stream` unless it is gone or closed (the interpreter skips those); False when
    that fails."""
    if stream is None or getattr(stream, "closed", False):
        return True
    try:
        stream.flush()  # type: ignore[attr-defined]
    except (OSError, ValueError):
        return False
    return True


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        # a C long, as the interpreter reads it: one that does not fit is -1
        return (code if -(2**63) <= code < 2**63 else -1) & 0xFF
    try:
        if sys.stderr is not None:
            sys.stderr.write(f"{code}\n")
    except (OSError, ValueError):
        pass
    return 1

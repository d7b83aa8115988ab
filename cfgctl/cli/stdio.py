"""Writing an answer when the output may be gone: a reader that went away (exit 141), a closed
stream or a full disk (exit 3, said on stderr). Imports only `sys`: the fast path uses it.
"""

from __future__ import annotations

import sys

__all__ = ["write_answer"]


def write_answer(text: str, on_stdout: bool = True) -> int:
    """Write `text`; 0, or the exit code of why it could not be written: 141 for a reader that
    went away, 3 for a closed stream or a full disk (the environment), said on stderr."""
    stream = sys.stdout if on_stdout else sys.stderr
    try:
        if stream is None:
            raise OSError(9, "Bad file descriptor")
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        return 141
    except OSError as exc:
        try:
            if sys.stderr is not None:
                sys.stderr.write(f"cfgctl: error: cannot write the output: {exc.strerror or exc}\n")
                sys.stderr.write("  hint: check the disk and where the output goes\n")
        except OSError:
            pass
        return 3
    return 0

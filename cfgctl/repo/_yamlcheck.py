"""The YAML 1.2 validity check of `cfgctl.repo._yamlbuild`: libfyaml, a parser built for
conformance (it agrees with every verdict of the official yaml-test-suite), is the arbiter of
what is invalid; libyaml and ruamel.yaml's pure parser accept a few invalid constructs.

The arbiter costs ~90 µs a typical document (a third of a whole parse), so it runs only on a
document that holds one of the constructs where the fast parsers are lax: a tab, a directive, a
comment glued to a token, a flow collection or a quoted scalar over several lines, a `-` or `?`
alone in a flow collection, a block scalar opening on blank lines. Typical config files hold
none of them and pay the scan alone: ~10 µs for a 1.2 KB file, 2% of its parse (the flow checks
run only where a `[` or `{` is).

libfyaml judges and never reads: its Python bindings (1.0.0b2) keep no positions or scalar styles,
merge duplicate keys silently, crash on `loads_all` and print warnings to stderr, so the data
always comes from ruamel.yaml. The valid documents ruamel.yaml still refuses or misreads are the
GAPS of tests/repo/test_yaml_suite.py.

Private to cfgctl.repo; imports nothing heavy (libfyaml is imported when a document is suspect).
"""

from __future__ import annotations

import re
from typing import Any

from cfgctl.errors import InputError, Location

# (a character whose presence lets a check apply, the check): each pattern starts with that
# literal character, so that the regular-expression engine scans for it at C speed (a pattern
# starting with a character set or an alternation costs ten times as much).
_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # a comment glued to a token (`"x"#c`, `]#c`, `>#c`) or a `#` inside a plain scalar
    ("#", re.compile(r"""#(?:(?<=[^\s'"]#)|(?<=\S['"]#))""")),
    # a quoted scalar over several lines (an opening quote not closed on its line)
    ('"', re.compile(r'"(?<![^\s\[{,:]")(?:[^"\\\n]|\\.)*$', re.M)),
    ("'", re.compile(r"'(?<![^\s\[{,:]')[^'\n]*$", re.M)),
    # a block scalar opening on blank lines
    ("|", re.compile(r"\|[-+0-9]*[ ]*\n[ ]*\n")),
    (">", re.compile(r">[-+0-9]*[ ]*\n[ ]*\n")),
)


# In flow context only (so only where a `[` or `{` is): `[-]`, `[-, -]`, `[?x]`, and collections
# over several lines (their indentation).
_FLOW_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[", re.compile(r"\[(?:[^\]}\n]*\n|[ ]*[-?])")),
    ("{", re.compile(r"\{(?:[^\]}\n]*\n|[ ]*[-?])")),
    ("-", re.compile(r"-[ ]*[,\]}]")),
    (",", re.compile(r",[ ]*[-?]")),
)


def suspect(text: str) -> bool:
    """Whether `text` holds a construct where libyaml or ruamel.yaml may accept invalid YAML."""
    if "\t" in text or "\n%" in text or text.startswith("%"):  # tabs; directives (%YAML, %TAG)
        return True
    if any(char in text and pattern.search(text) is not None for char, pattern in _CHECKS):
        return True
    if "[" not in text and "{" not in text:
        return False
    return any(char in text and pattern.search(text) is not None for char, pattern in _FLOW_CHECKS)


def check(text: str, source: str) -> None:
    """InputError with file:line:col when libfyaml finds `text` invalid YAML 1.2."""
    import libfyaml  # type: ignore[import-untyped]  # ~5 ms, and only for a suspect document

    try:
        result = libfyaml.loads(text, collect_diag=True)
    except ValueError:  # "No documents found in input": an empty stream is valid
        return
    found = _diagnostic(result)
    if found is not None:
        message, line, col = found
        hint = "fix the YAML at this position: check quotes, brackets, comments and indentation"
        if "tab" in message.lower() and "indent" in message.lower():
            message = "tab character in indentation"
            hint = "YAML allows only spaces for indentation: replace the tabs with spaces"
        raise InputError(
            f"invalid YAML: {message}", location=Location(source, line, col), hint=hint
        )


def _diagnostic(result: Any) -> tuple[str, int, int] | None:
    """The first error libfyaml collected (it returns them instead of the document), or None."""
    try:
        items = result.to_python()
    except (TypeError, ValueError):  # a complex key: a document, not a diagnostic list
        return None
    if not isinstance(items, list) or not items:
        return None
    first = items[0]
    if not (
        isinstance(first, dict) and {"message", "line", "column", "start_mark"} <= first.keys()
    ):
        return None
    if not str(first.get("file", "")).startswith("<memory-"):
        return None
    return str(first["message"]), int(first["line"]), int(first["column"])

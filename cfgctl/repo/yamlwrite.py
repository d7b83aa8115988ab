"""YAML for writing: round-trip editing that keeps comments, order, quoting and the file's
indentation (`load_roundtrip`, `dump_roundtrip`), and plain block YAML for output (`dump_plain`)
that quotes what a YAML 1.1 reader would misread.

    data = load_roundtrip(path.read_bytes(), "config/prod/payments.yaml")
    data["db"]["pool_size"] = 20
    atomic_write(path, dump_roundtrip(data, like=old_text).encode())
"""

from __future__ import annotations

import io
import itertools
from typing import Any

import ruamel.yaml

from cfgctl.repo._yamlbuild import OCTAL_11, SEXAGESIMAL_11, YAML11_BOOLS
from cfgctl.repo.yamlio import decode, parse

__all__ = ["dump_plain", "dump_roundtrip", "indents", "is_ambiguous", "load_roundtrip"]


def _roundtrip_yaml() -> ruamel.yaml.YAML:
    yaml = ruamel.yaml.YAML()  # round-trip: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load_roundtrip(data: bytes | str, source: str) -> Any:
    """Load for editing: ruamel.yaml's CommentedMap, which keeps comments and order."""
    parse(data, source)  # the strict rules first, with their messages
    return _roundtrip_yaml().load(decode(data, source))


def indents(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) of a YAML text, ruamel's defaults (2, 4, 2)
    when it shows none."""
    mapping = sequence = offset = None
    lines = text.splitlines()
    for prev, line in itertools.pairwise(lines):
        head = prev.rstrip()
        if not head.endswith(":") or head.lstrip().startswith("#"):
            continue
        base = len(prev) - len(prev.lstrip(" "))
        body = line.lstrip(" ")
        step = len(line) - len(body) - base
        if not body or body.startswith("#") or step < 0:
            continue
        if body.startswith("- "):
            if offset is None:
                offset = step
                dash_body = body[2:]
                sequence = step + 2 + (len(dash_body) - len(dash_body.lstrip(" ")))
        elif mapping is None and step > 0:
            mapping = step
        if mapping is not None and offset is not None:
            break
    return (mapping or 2, sequence or 4, offset if offset is not None else 2)


def dump_roundtrip(data: Any, *, like: str = "") -> str:
    """Dump round-trip data; with `like`, in that text's indentation and line endings."""
    yaml = _roundtrip_yaml()
    mapping, sequence, offset = indents(like)
    yaml.indent(mapping=mapping, sequence=max(sequence, offset + 2), offset=offset)
    stream = io.StringIO()
    yaml.dump(data, stream)
    out = stream.getvalue()
    if "\r\n" in like:
        out = out.replace("\r\n", "\n").replace("\n", "\r\n")
    return out


def is_ambiguous(text: str) -> bool:
    """Whether a YAML 1.1 reader would take this plain string for a boolean, number or null."""
    return bool(
        text in YAML11_BOOLS
        or OCTAL_11.match(text)
        or SEXAGESIMAL_11.match(text)
        or text.lower() in ("null", "~", "true", "false", "")
    )


def dump_plain(data: Any) -> str:
    """Plain block-style YAML for output (render), keys in their order."""
    yaml = ruamel.yaml.YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.allow_unicode = True
    yaml.representer.add_representer(str, _represent_str)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


_UNICODE_BREAKS = frozenset("\x85\u2028\u2029")


def _represent_str(representer: Any, data: str) -> Any:
    # Quote what YAML 1.1 readers (PyYAML, kubectl, Flux) would read as a boolean or number;
    # the line breaks of Unicode (NEL, LS, PS) only double quotes escape (single quotes would
    # write them raw, and a reader folds them into spaces).
    if _UNICODE_BREAKS.intersection(data):
        style: str | None = '"'
    else:
        style = "'" if is_ambiguous(data) else None
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)

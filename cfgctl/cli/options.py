"""Options and arguments that several commands share, and the output formats they offer."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

__all__ = [
    "CheckFormatOpt",
    "EnvOpt",
    "Format",
    "FormatOpt",
    "KeyArg",
    "MarkdownFormat",
    "Rev",
    "ServiceArg",
    "TextOrJson",
]


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class MarkdownFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


Rev = Annotated[
    str | None,
    typer.Option(
        "--rev", metavar="REV", help="Read the repository at this Git revision (no checkout)."
    ),
]
EnvOpt = Annotated[str, typer.Option("--env", "-e", metavar="ENV", help="The environment.")]
ServiceArg = Annotated[
    str, typer.Argument(metavar="SERVICE", help="The service, as named in cfgctl.yaml.")
]
KeyArg = Annotated[
    str,
    typer.Argument(metavar="KEY", help="A dotted key path: db.pool_size, hosts[0].name."),
]
FormatOpt = Annotated[TextOrJson, typer.Option("--format", "-f")]
# The format of a check's report (validate, secrets check): GitHub annotations too.
CheckFormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="text, json, or github annotations.")
]

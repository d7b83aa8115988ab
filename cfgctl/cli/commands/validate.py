"""`cfgctl validate`: the repository, the pairs a change touches, or documents against a schema."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import CheckFormatOpt, Format, Rev
from cfgctl.cli.progress import progress
from cfgctl.cli.reporters import REPORTER_BY_NAME
from cfgctl.cli.state import STATE
from cfgctl.errors import InputError

if TYPE_CHECKING:
    from cfgctl.diagnostics import Report

__all__ = ["ValidateRequest", "app", "validate"]

app = typer.Typer(rich_markup_mode=None)


@dataclass(frozen=True)
class ValidateRequest:
    """What to validate: documents against `schema`, or the repository (at `rev`; only what
    changed since `changed_since`)."""

    rev: str | None = None
    schema: Path | None = None
    documents: tuple[Path, ...] = ()
    changed_since: str | None = None

    def __post_init__(self) -> None:
        if self.schema is None and self.documents:
            raise InputError(
                "documents given without --schema",
                hint="cfgctl validate --schema SCHEMA.json DOC...; no argument validates the repo",
            )
        if self.schema is not None and not self.documents:
            raise InputError("--schema needs documents to validate", hint="--schema S.json a.yaml")


def run_validation(request: ValidateRequest, quiet: bool) -> tuple[Report, str]:
    """The report, and the config repository's folder in its Git repository ("" if none)."""
    if request.schema is not None:
        from cfgctl.checks.standalone import validate_documents

        with progress("validating documents", quiet):
            return validate_documents(request.schema, list(request.documents)), ""
    from cfgctl.checks.validate import validate_changes, validate_snapshot
    from cfgctl.server.checksuite import repository_checks

    snap = STATE.snapshot(request.rev)
    with progress("validating", quiet):
        if request.changed_since is not None:
            since = STATE.snapshot(request.changed_since)
            report = validate_changes(snap, since, checks=repository_checks())
        else:
            report = validate_snapshot(snap, checks=repository_checks())
    return report, snap.git_prefix


SchemaOpt = Annotated[
    Path | None,
    typer.Option(
        "--schema",
        "--schemafile",
        metavar="SCHEMA",
        help="Standalone mode: validate the DOCUMENTS (YAML or JSON) against this "
        "schema file, as check-jsonschema does.",
        dir_okay=False,
    ),
]
DocumentsArg = Annotated[
    list[Path] | None,
    typer.Argument(metavar="DOC", help="YAML, JSON or TOML documents, with --schema."),
]
ChangedSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--changed-since",
        metavar="REV",
        help="Validate only the service/environment pairs whose inputs changed since "
        "this revision (and the changed files); everything when a shared schema changed.",
    ),
]


@app.command()
def validate(
    rev: Rev = None,
    fmt: CheckFormatOpt = Format.text,
    schema: SchemaOpt = None,
    documents: DocumentsArg = None,
    changed_since: ChangedSinceOpt = None,
) -> None:
    """Validate the repository: cfgctl.yaml, every schema, every YAML file, and the effective
    configuration of every service in every environment against its schema.

    Each problem is printed as `path:line:col: error: message` on stderr, pointing at the
    layer that set the offending value (for a missing key: the file where it should go).
    Exit 0 when there is no error (warnings allowed), 1 otherwise.

    With --schema SCHEMA DOC..., validate any documents against one schema instead.
    """
    request = ValidateRequest(rev, schema, tuple(documents or ()), changed_since)
    report, prefix = run_validation(request, quiet=fmt is not Format.text)
    REPORTER_BY_NAME[fmt.value]().validation(report, path_prefix=prefix)
    raise typer.Exit(0 if report.ok else 1)

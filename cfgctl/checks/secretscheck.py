"""The secrets part of validation on its own (`cfgctl secrets check`).

report = secrets_report(validate_snapshot(snap))
"""

from __future__ import annotations

from dataclasses import replace

from cfgctl.diagnostics import Diagnostic, Report

__all__ = ["SECRET_CODES", "secrets_report"]

SECRET_CODES = frozenset(
    {
        "secret-plaintext",
        "secret-placement",
        "secret-scan",
        "secret-mac",
        "secret-recipients",
        "secrets-unchecked",
    }
)


def secrets_report(full: Report) -> Report:
    """The diagnostics of `full` about secrets: encryption, MACs, recipients, plaintext; and
    every config file that cannot be parsed (code `yaml`, file:line): nothing in it could be
    checked, and a plain-text token may hide there."""
    report = Report(
        [d for d in full.diagnostics if d.code in SECRET_CODES]
        + [_unchecked(d) for d in full.diagnostics if _unparsable(d)]
    )
    report.checked_files = full.checked_files
    return report.finish()


def _unparsable(d: Diagnostic) -> bool:
    return d.code == "yaml" and d.severity == "error" and d.location.path.startswith("config/")


def _unchecked(d: Diagnostic) -> Diagnostic:
    why = "until it parses, its values are not checked for secrets"
    return replace(d, hint=f"{d.hint}; {why}" if d.hint else why)

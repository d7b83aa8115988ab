"""The secrets part of validation on its own (`cfgctl secrets check`).

report = secrets_report(validate_snapshot(snap))
"""

from __future__ import annotations

from cfgctl.diagnostics import Report

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
    """The diagnostics of `full` about secrets: encryption, MACs, recipients, plaintext."""
    report = Report([d for d in full.diagnostics if d.code in SECRET_CODES])
    report.checked_files = full.checked_files
    return report.finish()

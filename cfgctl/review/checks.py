"""The review's check of the repository: policy.yaml against its schema and the manifest.

report = validate_snapshot(snap, checks=[check_policy])
"""

from __future__ import annotations

from cfgctl.diagnostics import Diagnostic
from cfgctl.repo.snapshot import Snapshot
from cfgctl.review.policyfile import lint_policy

__all__ = ["check_policy"]


def check_policy(snap: Snapshot, files: set[str] | None) -> list[Diagnostic]:
    """`lint_policy` as a `RepositoryCheck` (policy.yaml is always checked, whatever `files`)."""
    return lint_policy(snap)

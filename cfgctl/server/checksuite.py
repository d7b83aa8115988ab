"""The checks `cfgctl validate` (and `GET /api/v1/validate`) run beyond schemas, files and pairs:
composed here, above every package they come from (the validation engine imports none of them).

    report = validate_snapshot(snap, checks=repository_checks())
"""

from __future__ import annotations

from cfgctl.checks.codeowners import check_codeowners_current
from cfgctl.checks.credentials import check_credentials
from cfgctl.checks.protocol import RepositoryCheck
from cfgctl.review.checks import check_policy
from cfgctl.secrets.checks import check_encrypted_files
from cfgctl.server.rbacfile import check_rbac

__all__ = ["repository_checks"]


def repository_checks() -> list[RepositoryCheck]:
    """policy.yaml, rbac.yaml, CODEOWNERS, the sops files, credentials in plain files."""
    return [
        check_policy,
        check_rbac,
        check_codeowners_current,
        check_encrypted_files,
        check_credentials,
    ]

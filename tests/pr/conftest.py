"""The secrets fixtures (real age keys, the real sops) for the pull-request tests too."""

from tests.secrets.conftest import alice, secret_repo

__all__ = ["alice", "secret_repo"]

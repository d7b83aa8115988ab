"""What `agent run` and `agent once` check at start, before the first pass: a configuration
that would silently deliver less than it says is an error here, not a log line later.

    check_at_start(config, agent.mirror)   # EnvError (exit 3) / InputError (exit 2), file:line

- `age_key_file` names a readable age identity (else exit 3): without it every secret of the
  targets would fail, pass after pass.
- Every environment of `windows:` exists in cfgctl.yaml of the source (else exit 2, with the
  agent.yaml line and "did you mean"): a typo there silently removes a production window.
- Every environment (and service) a freeze of the source's policy.yaml names exists: the
  agent honours those freezes. Reported at policy.yaml's line.

The source is read once here (fetched into the agent's mirror); when it cannot be fetched at
start, the passes report that, and the windows are checked by the first pass that reads it.
"""

from __future__ import annotations

import logging

from cfgctl.agent.config import AgentConfig
from cfgctl.agent.source import Feed, SourceError
from cfgctl.agent.windows import unknown_window_environment
from cfgctl.errors import CfgctlError, EnvError, InputError
from cfgctl.repo.snapshot import Snapshot
from cfgctl.review.impact import POLICY
from cfgctl.review.policyfile import lint_policy

__all__ = ["check_age_key", "check_at_start", "check_source_names"]

log = logging.getLogger("cfgctl.agent")

_AGE_IDENTITY = b"AGE-SECRET-KEY-"


def check_at_start(config: AgentConfig, mirror: Feed) -> None:
    check_age_key(config)
    try:
        tip = mirror.fetch()
    except SourceError as exc:
        mirror.hold(exc)  # the first pass reports it, without waiting for the remote again
        log.warning("at start, the source cannot be read (%s): checked at the first pass", exc)
        return
    mirror.hold(tip)
    try:
        snap = mirror.snapshot(tip)
    except SourceError as exc:
        log.warning("at start, the source cannot be read (%s): checked at the first pass", exc)
        return
    check_source_names(config, snap)


def check_age_key(config: AgentConfig) -> None:
    """EnvError (exit 3) at agent.yaml's line when `age_key_file` is missing, unreadable or
    holds no age identity."""
    path = config.age_key_file
    if path is None:
        return
    where = config.origins.get("age_key_file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EnvError(
            f"age_key_file {path}: {exc.strerror or exc}: the agent could not decrypt any secret",
            location=where,
            hint="create it with `cfgctl secrets keygen`, or fix the path in agent.yaml",
        ) from None
    if _AGE_IDENTITY not in data:
        raise EnvError(
            f"age_key_file {path} holds no age identity (AGE-SECRET-KEY-...)",
            location=where,
            hint="point age_key_file at the private key file `cfgctl secrets keygen` wrote",
        )


def check_source_names(config: AgentConfig, snap: Snapshot) -> None:
    """InputError when a window (at its agent.yaml line) or a freeze of policy.yaml (at its
    line) names an environment the source's cfgctl.yaml does not have."""
    try:
        manifest = snap.manifest
    except CfgctlError:
        return  # a broken manifest: every target is refused by the pass, with the reason
    at = (snap.commit or "")[:12] or snap.label
    unknown = unknown_window_environment(config.windows, manifest)
    if unknown is not None:
        env, hint = unknown
        raise InputError(
            f"windows: {env!r} is no environment of cfgctl.yaml at {at}: "
            "its windows would hold nothing",
            location=config.origins.get(f"windows.{env}"),
            hint=hint,
        )
    if POLICY not in snap.files:
        return
    for problem in lint_policy(snap):
        if (problem.path or "").startswith("freeze."):
            raise InputError(
                f"{POLICY} at {at}: {problem.message} (the agent honours its freezes)",
                location=problem.location,
                hint=problem.hint,
            )

"""What the `cfgctl analyze` commands read from their options: durations, the --out file,
analytics.yaml and the repository. Imports are lazy: the CLI starts without them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfgctl.analyze.config import AnalyticsConfig
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["analytics_and_repository", "check_out", "positive", "read_analytics"]


def positive(text: str, option: str) -> float:
    """A positive duration in seconds; exit 2 naming the option otherwise."""
    from cfgctl.errors import InputError
    from cfgctl.repo.timespec import parse_duration

    try:
        seconds = parse_duration(text).total_seconds()
    except InputError as exc:
        raise InputError(f"{option} {text}: {exc.message}", hint=exc.hint) from None
    if seconds <= 0:
        raise InputError(f"{option} {text}: not a positive duration", hint="e.g. 30m or 7d")
    return seconds


def check_out(path: Path) -> None:
    """--out names a file in a folder that exists (nothing is created but the file)."""
    from cfgctl.errors import InputError

    if path.is_dir():
        raise InputError(f"--out {path}: a folder", hint="name the HTML file to write")
    if not path.parent.is_dir():
        raise InputError(
            f"--out {path}: the folder {path.parent} does not exist",
            hint="create it first, or name a file in a folder that exists",
        )


def analytics_and_repository(config: Path | None) -> tuple[AnalyticsConfig, Snapshot | None]:
    """analytics.yaml (--config, else the repository's) and the repository when there is one
    (with --config, the report is made outside a repository too: without commit messages)."""
    from cfgctl.analyze.config import analytics_of, load_analytics
    from cfgctl.cli.state import STATE
    from cfgctl.errors import CfgctlError, InputError

    snap = None
    try:
        snap = STATE.snapshot()
    except CfgctlError:
        if config is None:
            raise
    analytics = load_analytics(config) if config else analytics_of(snap) if snap else None
    if analytics is None:
        raise InputError(
            "this repository has no analytics.yaml", hint="docs/analytics.md says what it holds"
        )
    return analytics, snap


def read_analytics(config: Path | None) -> AnalyticsConfig:
    """analytics.yaml: --config, else the repository's; InputError when there is none."""
    from cfgctl.analyze.config import analytics_of, load_analytics
    from cfgctl.cli.state import STATE
    from cfgctl.errors import InputError

    analytics = load_analytics(config) if config else analytics_of(STATE.snapshot())
    if analytics is None:
        raise InputError(
            "this repository has no analytics.yaml", hint="docs/analytics.md says what it holds"
        )
    return analytics

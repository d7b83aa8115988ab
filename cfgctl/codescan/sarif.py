"""`cfgctl scan-code --format sarif`: a run as SARIF 2.1.0, the log GitHub code scanning takes
from `github/codeql-action/upload-sarif` (actions/scan-code).

    log = to_sarif(result, version=__version__, base=repo_root)
    sys.stdout.write(dumps(log))

One run; two rules, `hardcoded-config` (level note, or warning from a score of 0.8) and
`hardcoded-secret` (error; `security-severity` 7.5, tagged `security`, CWE-798). Each result
points at the literal (`region`, columns in code points, end exclusive as in `Finding`) by a
path relative to `base` (`uriBaseId` `%SRCROOT%`, percent-encoded), and carries the finding's id
as its `partialFingerprints` so an alert stays one alert while lines above it move. A secret's
value is never written: messages show `Finding.shown` and are scrubbed of the raw value. Files
not scanned are the invocation's `toolExecutionNotifications` (warnings, with their location).

GitHub refuses a run of more than 25,000 results: past that the most important (secrets, then
the highest scores) are kept and a notification says how many were left out and what to do.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from cfgctl.codescan.findings import Finding, ScanResult, Skipped

__all__ = [
    "CONFIG_RULE",
    "FINGERPRINT",
    "MAX_RESULTS",
    "SCHEMA_URI",
    "SECRET_RULE",
    "dumps",
    "level_of",
    "to_sarif",
]

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/cfgctl/cfgctl"
HELP_URI = f"{INFORMATION_URI}/blob/main/docs/reference.md#sarif"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "cfgctlFindingId/v1"
"""The `partialFingerprints` key: versioned, so a change of the id's recipe can be a new key."""
MAX_RESULTS = 25_000
"""GitHub code scanning's hard limit of results in one run."""
WARNING_SCORE = 0.8
"""A configuration finding scoring this or more is a warning; below, a note."""
SECRET_SEVERITY = "7.5"
"""GitHub's `security-severity` of a hard-coded secret: 7.0-8.9 shows as High."""
CONFIG_RULE = "hardcoded-config"
SECRET_RULE = "hardcoded-secret"
_SHOWN_CHARS = 60

_FIX = "cfgctl scan-code PATH --fix --service NAME --select ID"


def _help(what: str, where: str, after: str) -> dict[str, str]:
    text = (
        f"{what} Move it into the service's configuration ({where}) and read it from there: "
        f"`{_FIX}`, where ID is the finding id in the alert (CS followed by 8 hex digits) and "
        f"NAME the service in cfgctl.yaml. {after}"
    )
    markdown = (
        f"{what}\n\n"
        f"Move it into the service's configuration ({where}), where it is validated, reviewed "
        "and delivered without a code change:\n\n"
        f"```sh\n{_FIX}\n```\n\n"
        "`ID` is the finding id shown in the alert (`CS` and 8 hex digits; it stays the same "
        "while lines above the literal move), `NAME` the service in `cfgctl.yaml`. Run "
        "`cfgctl scan-code PATH` first to see every finding and its id.\n\n"
        f"{after}"
    )
    return {"text": text, "markdown": markdown}


def _rules() -> list[dict[str, Any]]:
    config = {
        "id": CONFIG_RULE,
        "name": "HardcodedConfiguration",
        "shortDescription": {"text": "Hard-coded configuration value"},
        "fullDescription": {
            "text": "A literal in code that looks like configuration (a size, a timeout, a URL, "
            "a flag): changing it takes a code change and a deploy instead of a reviewed "
            "configuration edit."
        },
        "defaultConfiguration": {"level": "note"},
        "helpUri": HELP_URI,
        "help": _help(
            "This literal looks like configuration.",
            "config/ENV/SERVICE.yaml",
            "A value that is not configuration can be left: dismiss the alert, or raise "
            "`--min-score`.",
        ),
        "properties": {
            "tags": ["maintainability", "configuration"],
            "precision": "medium",
            "problem.severity": "recommendation",
        },
    }
    secret = {
        "id": SECRET_RULE,
        "name": "HardcodedSecret",
        "shortDescription": {"text": "Hard-coded secret"},
        "fullDescription": {
            "text": "A literal in code that looks like a credential (a password, a token, a "
            "key): whoever reads the code or its history can use it, and rotating it takes a "
            "code change."
        },
        "defaultConfiguration": {"level": "error"},
        "helpUri": HELP_URI,
        "help": _help(
            "This literal looks like a secret.",
            "the SOPS-encrypted config/ENV/SERVICE.secrets.yaml",
            "The value stays in the Git history of the code: rotate it after moving it.",
        ),
        "properties": {
            "tags": ["security", "external/cwe/cwe-798"],
            "precision": "medium",
            "problem.severity": "error",
            "security-severity": SECRET_SEVERITY,
        },
    }
    return [config, secret]


_NOTIFICATIONS = [
    {
        "id": "skipped-file",
        "name": "SkippedFile",
        "shortDescription": {"text": "A file was not scanned (it does not parse, or is binary)."},
        "defaultConfiguration": {"level": "warning"},
    },
    {
        "id": "results-left-out",
        "name": "ResultsLeftOut",
        "shortDescription": {"text": "Findings were left out to stay within GitHub's limit."},
        "defaultConfiguration": {"level": "warning"},
    },
]


def level_of(finding: Finding) -> str:
    """`error` for a secret; `warning` for configuration scoring 0.8 or more, else `note`."""
    if finding.kind == "secret":
        return "error"
    return "warning" if finding.score >= WARNING_SCORE else "note"


def _scrub(text: str, finding: Finding) -> str:
    """The text with a secret's raw value masked wherever it occurs (a reason might quote it)."""
    if finding.kind != "secret":
        return text
    raw = finding.value if isinstance(finding.value, str) else json.dumps(finding.value)
    if len(raw) < 4:  # too short to mask without mangling the words around it
        return text
    return text.replace(raw, str(finding.shown))


def _shown(finding: Finding) -> str:
    if finding.kind == "secret":
        return str(finding.shown)
    text = json.dumps(finding.shown, ensure_ascii=False, default=repr)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _message(finding: Finding) -> str:
    what = "secret" if finding.kind == "secret" else "configuration"
    where = ".secrets.yaml" if finding.kind == "secret" else "configuration"
    reasons = "; ".join(finding.reasons) or "no reason given"
    text = (
        f"Hard-coded {what}: {finding.key} = {_shown(finding)} ({finding.type}), score "
        f"{finding.score:.2f}: {reasons}. Move it to {where}: cfgctl scan-code "
        f"{shlex.quote(finding.path)} --fix --service NAME --select {finding.id}"
    )
    return _scrub(text, finding)


def _artifact(path: str, base: Path | None) -> dict[str, Any]:
    """A path as an artifactLocation: relative to `%SRCROOT%` (`base`), POSIX, percent-encoded;
    an absolute path outside `base` as an absolute file URI."""
    native = Path(path)
    if native.is_absolute():
        root = None if base is None else base.absolute()
        if root is None or not native.is_relative_to(root):
            return {"uri": native.as_uri()}
        native = native.relative_to(root)
    posix = PurePosixPath(native.as_posix())
    return {"uri": quote(str(posix), safe="/"), "uriBaseId": SRCROOT}


def _location(path: str, base: Path | None, region: dict[str, int]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(path, base)}
    if region:
        physical["region"] = region
    return {"physicalLocation": physical}


def _result(finding: Finding, base: Path | None) -> dict[str, Any]:
    secret = finding.kind == "secret"
    region = {
        "startLine": finding.line,
        "startColumn": finding.col,
        "endLine": finding.end_line,
        "endColumn": finding.end_col,
    }
    return {
        "ruleId": SECRET_RULE if secret else CONFIG_RULE,
        "ruleIndex": 1 if secret else 0,
        "level": level_of(finding),
        "rank": round(min(max(finding.score, 0.0), 1.0) * 100, 1),
        "message": {"text": _message(finding)},
        "locations": [_location(finding.path, base, region)],
        "partialFingerprints": {FINGERPRINT: finding.id},
        "properties": {
            "findingId": finding.id,
            "key": _scrub(finding.key, finding),
            "type": finding.type,
            "kind": finding.kind,
            "score": round(finding.score, 3),
        },
    }


def _kept(findings: list[Finding], limit: int) -> list[Finding]:
    """The findings to report, in their order: all of them, or the `limit` most important."""
    if len(findings) <= limit:
        return findings
    ranked = sorted(range(len(findings)), key=lambda i: _priority(findings[i]))
    keep = set(ranked[:limit])
    return [f for i, f in enumerate(findings) if i in keep]


def _priority(finding: Finding) -> tuple[bool, float]:
    return (finding.kind != "secret", -finding.score)


def _skipped(skipped: Skipped, base: Path | None) -> dict[str, Any]:
    region = {"startLine": skipped.line} if skipped.line else {}
    return {
        "level": "warning",
        "message": {"text": f"{skipped.path}: not scanned: {skipped.reason}"},
        "locations": [_location(skipped.path, base, region)],
        "descriptor": {"id": "skipped-file", "index": 0},
    }


def _left_out(count: int, limit: int) -> dict[str, Any]:
    return {
        "level": "warning",
        "message": {
            "text": f"{count} findings were left out: GitHub code scanning takes at most "
            f"{limit:,} results a run (secrets and the highest scores were kept). Raise "
            "--min-score or scan fewer paths to see them here."
        },
        "descriptor": {"id": "results-left-out", "index": 1},
    }


def to_sarif(
    result: ScanResult,
    *,
    version: str,
    base: Path | None = None,
    max_results: int = MAX_RESULTS,
) -> dict[str, Any]:
    """The SARIF 2.1.0 log of one `scan-code` run.

    `base` is the source root (`%SRCROOT%`, the repository's top folder, where upload-sarif
    resolves paths): an absolute finding path under it is made relative to it, a relative path
    is taken as relative to it already. Given, it is recorded as the run's `originalUriBaseIds`.
    """
    kept = _kept(result.findings, max_results)
    notifications = [_skipped(s, base) for s in result.skipped]
    if len(kept) < len(result.findings):
        notifications.append(_left_out(len(result.findings) - len(kept), max_results))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "cfgctl",
                "version": version,
                "semanticVersion": version,
                "informationUri": INFORMATION_URI,
                "rules": _rules(),
                "notifications": _NOTIFICATIONS,
            }
        },
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, base) for f in kept],
        "properties": {"files": result.files, "lines": result.lines},
    }
    if base is not None:
        root = base.absolute().as_uri()
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root if root.endswith("/") else root + "/"}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def dumps(log: dict[str, Any]) -> str:
    """The log as text: indented, ASCII only (any terminal, locale or pipe carries it)."""
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"

"""Reporters: one report, several renderings (check-jsonschema's `REPORTER_BY_NAME`).

    REPORTER_BY_NAME[fmt.value]().validation(report, path_prefix=snap.git_prefix)

`json` is always `json.dumps(report.to_dict())` on stdout, never rich; `text` puts diagnostics on
stderr and the summary or the listing on stdout; `github` writes workflow annotations; `markdown`
what a pull-request comment holds. A command offers only the formats its report has.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from cfgctl.cli.output import out, pairs_text, print_diagnostic, print_json

if TYPE_CHECKING:
    from cfgctl.changes.diff import DiffResult
    from cfgctl.diagnostics import Report
    from cfgctl.review.plan import Plan

__all__ = [
    "REPORTER_BY_NAME",
    "GithubReporter",
    "JsonReporter",
    "MarkdownReporter",
    "Reporter",
    "TextReporter",
    "emit",
]

_DIFF_STYLES = {"+": "green", "-": "red", "~": "yellow"}


class Reporter:
    """The renderings of the reports; a format lacks those its commands do not offer."""

    name: ClassVar[str]

    def validation(self, report: Report, *, what: str = "checked", path_prefix: str = "") -> None:
        raise NotImplementedError(f"{self.name} does not render a validation report")

    def diff(self, result: DiffResult) -> None:
        raise NotImplementedError(f"{self.name} does not render a diff")

    def plan(self, plan: Plan) -> None:
        raise NotImplementedError(f"{self.name} does not render a plan")


class TextReporter(Reporter):
    name = "text"

    def validation(self, report: Report, *, what: str = "checked", path_prefix: str = "") -> None:
        for d in report.diagnostics:
            print_diagnostic(d)
        out.print(summary(report, what), style="green" if report.ok else "red")

    def diff(self, result: DiffResult) -> None:
        from cfgctl.changes.report import text_lines

        for line in text_lines(result):
            stripped = line.lstrip()
            style = _DIFF_STYLES[stripped[0]] if stripped[:2] in ("+ ", "- ", "~ ") else None
            out.print(line, style=style)

    def plan(self, plan: Plan) -> None:
        for line in plan.text_lines():
            out.print(line)


class JsonReporter(Reporter):
    name = "json"

    def validation(self, report: Report, *, what: str = "checked", path_prefix: str = "") -> None:
        print_json(report.to_dict())

    def diff(self, result: DiffResult) -> None:
        print_json(result.to_list())

    def plan(self, plan: Plan) -> None:
        print_json(plan.to_dict())


class MarkdownReporter(Reporter):
    name = "markdown"

    def diff(self, result: DiffResult) -> None:
        from cfgctl.changes.report import markdown

        sys.stdout.write(markdown(result))

    def plan(self, plan: Plan) -> None:
        sys.stdout.write(plan.markdown())


class GithubReporter(Reporter):
    """One workflow annotation per diagnostic on stdout, paths from the Git root (the config
    repository's folder in it is `path_prefix`), then the summary."""

    name = "github"

    def validation(self, report: Report, *, what: str = "checked", path_prefix: str = "") -> None:
        for d in report.diagnostics:
            loc = d.location
            # GitHub resolves annotation paths from the root of the Git repository.
            props = [f"file={_github_escape(path_prefix + loc.path, prop=True)}"]
            if loc.line:
                props.append(f"line={loc.line}")
            if loc.column:
                props.append(f"col={loc.column}")
            message = d.message + pairs_text(d) + (f" (hint: {d.hint})" if d.hint else "")
            sys.stdout.write(f"::{d.severity} {','.join(props)}::{_github_escape(message)}\n")
        sys.stdout.write(summary(report, what) + "\n")


REPORTER_BY_NAME: dict[str, type[Reporter]] = {
    r.name: r for r in (TextReporter, JsonReporter, MarkdownReporter, GithubReporter)
}


def emit(fmt: str, data: Any, text: Callable[[], object]) -> None:
    """A small result: `data` as JSON for `--format json`, else `text()` prints it."""
    if fmt == "json":
        print_json(data)
    else:
        text()


def summary(report: Report, what: str) -> str:
    parts = [f"{report.checked_files} files"]
    if report.checked_pairs:
        parts.append(f"{report.checked_pairs} service/environment pairs")
    counts = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    verdict = "ok" if report.ok else "failed"
    return f"{verdict}: {what} {' and '.join(parts)}; {counts}"


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text

"""The labelled corpora of `cfgctl scan-code` and their measure, shared by the corpus test
(tests/codescan/test_corpus.py) and benchmarks/codescan_bench.py.

    from benchmarks.codescan_corpus import HOLDOUT, cfgctl_lines, evaluate, ruff_lines
    evaluate(cfgctl_lines())      # {"precision": 0.9, "recall": 0.7, "f1": ..., "fp": [...], ...}
    evaluate(ruff_lines())        # the same measure for ruff's PLR2004 (magic numbers)
    evaluate(cfgctl_lines(corpus=HOLDOUT), HOLDOUT)   # the held-out corpus

Two corpora, the same layout and labelling rules: CORPUS (tests/codescan/corpus/), the one
scan-code's scoring was tuned on, and HOLDOUT (tests/codescan/corpus_holdout/), other packages
labelled by hand before any scanner ran on them and never tuned on: its figures say how the
tuning generalises. Every function takes the corpus folder (`corpus=`, CORPUS by default).

A corpus is excerpts of real services, CLIs and clients from PyPI; its labels.yaml names, by
hand, the lines that hold a configuration literal (the rules at the top of the tuned-on one).
The measure is line-level: a tool's finding on a labelled line is a true positive, on any other
line a false positive; a labelled line with no finding is a false negative. Every tool is given
the same files, and a file's key is its path relative to the corpus folder ("gunicorn/config.py").
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "codescan" / "corpus"
HOLDOUT = CORPUS.with_name("corpus_holdout")
LABELS = CORPUS / "labels.yaml"  # the tuned-on corpus's; a corpus's own: corpus / "labels.yaml"
CATEGORIES = frozenset(
    {"port", "host", "url", "timeout", "size", "count", "flag", "level", "path", "secret", "name"}
    | {"other"}
)

FindingsByLine = dict[str, set[int]]


@dataclass(frozen=True)
class Label:
    file: str  # relative to the corpus folder, posix
    line: int  # 1-based
    literal: str  # the literal's source text on that line
    category: str


def corpus_files(corpus: Path = CORPUS) -> list[Path]:
    """Every Python file of the corpus, sorted."""
    return sorted(corpus.rglob("*.py"))


def key_of(path: Path | str, corpus: Path = CORPUS) -> str:
    """A path as the corpus names it: relative to its folder, with forward slashes."""
    return Path(path).resolve().relative_to(corpus.resolve()).as_posix()


def load_labels(corpus: Path = CORPUS) -> dict[str, list[Label]]:
    """labels.yaml, file by file (a file with no configuration literal has an empty list)."""
    data = YAML(typ="safe").load((corpus / "labels.yaml").read_text(encoding="utf-8"))
    return {
        name: [
            Label(name, int(e["line"]), str(e["literal"]), str(e["category"]))
            for e in entries or []
        ]
        for name, entries in data["files"].items()
    }


def labelled_lines(corpus: Path = CORPUS) -> FindingsByLine:
    return {name: {lab.line for lab in labels} for name, labels in load_labels(corpus).items()}


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def evaluate(findings_by_line: FindingsByLine, corpus: Path = CORPUS) -> dict[str, Any]:
    """Precision, recall and F1 of a tool's findings (file -> lines) against the labels.

    precision is None when the tool reported nothing; `false_positives` and `false_negatives`
    list "file:line" in corpus order; `by_category` has the recall of each label category."""
    labels = load_labels(corpus)
    unknown = sorted(set(findings_by_line) - set(labels))
    if unknown:
        raise ValueError(f"findings for files outside the corpus labels: {', '.join(unknown)}")
    fps: list[str] = []
    fns: list[str] = []
    tp = 0
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for name, file_labels in labels.items():
        reported = findings_by_line.get(name, set())
        truth = {lab.line: lab.category for lab in file_labels}
        for line, category in truth.items():
            total[category] += 1
            if line in reported:
                tp += 1
                found[category] += 1
            else:
                fns.append(f"{name}:{line}")
        fps.extend(f"{name}:{line}" for line in sorted(reported - truth.keys()))
    fns.sort(key=_order)
    precision = _ratio(tp, tp + len(fps))
    recall = _ratio(tp, tp + len(fns)) or 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {
        "labelled": tp + len(fns),
        "reported": tp + len(fps),
        "tp": tp,
        "fp": len(fps),
        "fn": len(fns),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positives": fps,
        "false_negatives": fns,
        "by_category": {
            c: {"labelled": total[c], "found": found[c], "recall": found[c] / total[c]}
            for c in sorted(total)
        },
    }


def _order(item: str) -> tuple[str, int]:
    name, line = item.rsplit(":", 1)
    return name, int(line)


def cfgctl_lines(min_score: float | None = None, corpus: Path = CORPUS) -> FindingsByLine:
    """The lines `cfgctl scan-code` reports on the corpus at `min_score` (its default when None):
    configuration and secrets alike, both are literals to move out of the code."""
    from cfgctl.codescan.findings import DEFAULT_MIN_SCORE
    from cfgctl.codescan.scan import scan_paths

    score = DEFAULT_MIN_SCORE if min_score is None else min_score
    # The folder, not its files: named files under tests/ are skipped as test files.
    result = scan_paths([corpus], min_score=score, history=False)
    if result.files != len(corpus_files(corpus)):
        raise RuntimeError(f"scan-code read {result.files} corpus files: {result.skipped}")
    out: FindingsByLine = {}
    for f in result.findings:
        out.setdefault(key_of(f.path, corpus), set()).add(f.line)
    return out


def cfgctl_scores(corpus: Path = CORPUS) -> dict[str, dict[int, float]]:
    """Every literal scan-code scores on the corpus (--min-score 0): file -> line -> the best
    score on that line, to measure other thresholds without scanning again."""
    from cfgctl.codescan.scan import scan_paths

    out: dict[str, dict[int, float]] = {}
    for f in scan_paths([corpus], min_score=0.0, history=False).findings:
        lines = out.setdefault(key_of(f.path, corpus), {})
        lines[f.line] = max(f.score, lines.get(f.line, 0.0))
    return out


def at_threshold(scores: dict[str, dict[int, float]], min_score: float) -> FindingsByLine:
    return {
        name: {line for line, score in lines.items() if score >= min_score}
        for name, lines in scores.items()
    }


def tool(name: str) -> str:
    """A console script of the running Python's environment (the project's .venv), else PATH's."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: `make install` installs the dev extra")
    return found


def ruff_command(files: list[Path]) -> list[str]:
    """ruff's magic-number rule alone, without the project's configuration."""
    return [
        tool("ruff"),
        "check",
        "--isolated",
        "--select",
        "PLR2004",
        "--output-format",
        "json",
        "--no-cache",
        "--exit-zero",
        *map(str, files),
    ]


def parse_ruff(stdout: str) -> dict[str, set[int]]:
    """ruff's JSON report as absolute file -> lines."""
    out: dict[str, set[int]] = {}
    for item in json.loads(stdout):
        out.setdefault(str(Path(item["filename"]).resolve()), set()).add(item["location"]["row"])
    return out


def detect_secrets_command(files: list[Path]) -> list[str]:
    return [tool("detect-secrets"), "scan", *map(str, files)]


def parse_detect_secrets(stdout: str, cwd: Path) -> dict[str, set[int]]:
    """detect-secrets' baseline JSON as absolute file -> lines."""
    return {
        str((cwd / name).resolve()): {r["line_number"] for r in results}
        for name, results in json.loads(stdout)["results"].items()
    }


def _run(argv: list[str], cwd: Path) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {proc.returncode}:\n{proc.stderr}")
    return proc.stdout


def _as_corpus(found: dict[str, set[int]], corpus: Path) -> FindingsByLine:
    return {key_of(path, corpus): lines for path, lines in found.items()}


def ruff_lines(corpus: Path = CORPUS) -> FindingsByLine:
    """ruff PLR2004 on the corpus files."""
    return _as_corpus(parse_ruff(_run(ruff_command(corpus_files(corpus)), corpus)), corpus)


def detect_secrets_lines(corpus: Path = CORPUS) -> FindingsByLine:
    """detect-secrets (its default plugins) on the corpus files."""
    found = _run(detect_secrets_command(corpus_files(corpus)), corpus)
    return _as_corpus(parse_detect_secrets(found, corpus), corpus)

"""The labelled corpora of scan-code: every excerpt parses and names its package and licence, every
label points at its literal, the measure counts right, and scan-code meets its quality goal
(precision >= 0.8 at recall >= 0.6, default --min-score) on the corpus it was tuned on
(tests/codescan/corpus/). The held-out corpus (tests/codescan/corpus_holdout/) is checked for its
integrity alone: its figures are a measure, reported by benchmarks/codescan_bench.py, never a goal
to tune the scanner for."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from benchmarks.codescan_corpus import (
    CATEGORIES,
    CORPUS,
    HOLDOUT,
    cfgctl_lines,
    corpus_files,
    evaluate,
    key_of,
    labelled_lines,
    load_labels,
)

# Each corpus with the least labels it holds.
CORPORA = [pytest.param(CORPUS, 300, id="tuned-on"), pytest.param(HOLDOUT, 200, id="held-out")]


def header_of(corpus: Path) -> re.Pattern[str]:
    """The first two lines of an excerpt of `corpus`: package, version, path, lines, licence."""
    return re.compile(
        r"# Excerpt of (?P<package>\S+) (?P<version>[\w.]+), (?P<path>\S+\.py)"
        r" \(lines [\d, -]+\),\n"
        r"# (?P<licence>MIT|BSD-2-Clause|BSD-3-Clause|Apache-2.0) licence: "
        rf"see tests/codescan/{corpus.name}/LICENSES\.md \((?P=package)\)\.\n"
    )


@pytest.mark.parametrize(("corpus", "least"), CORPORA)
def test_every_excerpt_parses_and_names_its_package_and_licence(corpus: Path, least: int) -> None:
    licences = (corpus / "LICENSES.md").read_text(encoding="utf-8")
    files = corpus_files(corpus)
    assert len(files) >= 10
    lines = 0
    header_re = header_of(corpus)
    for path in files:
        text = path.read_text(encoding="utf-8")
        ast.parse(text, filename=str(path))
        lines += text.count("\n")
        header = header_re.match(text)
        assert header, f"{key_of(path, corpus)}: no licence header"
        package, version, licence = header["package"], header["version"], header["licence"]
        assert f"| {package} | {version} | {licence} |" in licences, key_of(path, corpus)
        assert f"\n## {package} {version} ({licence})\n" in licences, key_of(path, corpus)
        assert not path.name.startswith("test_"), "no test files of the projects"
    assert 2000 <= lines <= 5000


def test_the_held_out_corpus_shares_no_package_with_the_tuned_on_one() -> None:
    def packages(corpus: Path) -> set[str]:
        return {p.name.lower() for p in corpus.iterdir() if p.is_dir()}

    assert packages(CORPUS).isdisjoint(packages(HOLDOUT))


@pytest.mark.parametrize(("corpus", "least"), CORPORA)
def test_every_label_points_at_its_literal(corpus: Path, least: int) -> None:
    labels = load_labels(corpus)
    assert sorted(labels) == [key_of(p, corpus) for p in corpus_files(corpus)], (
        "one entry per corpus file"
    )
    for name, entries in labels.items():
        lines = (corpus / name).read_text(encoding="utf-8").splitlines()
        numbers = [e.line for e in entries]
        assert numbers == sorted(set(numbers)), f"{name}: lines repeated or out of order"
        for e in entries:
            assert 1 <= e.line <= len(lines), f"{name}:{e.line}: past the end"
            assert e.literal in lines[e.line - 1], f"{name}:{e.line}: no {e.literal} there"
            assert e.category in CATEGORIES, f"{name}:{e.line}: category {e.category}"
    assert sum(map(len, labels.values())) >= least


def test_evaluate_counts_lines() -> None:
    truth = labelled_lines()
    perfect = evaluate(truth)
    assert (perfect["precision"], perfect["recall"], perfect["f1"]) == (1.0, 1.0, 1.0)
    assert perfect["fp"] == perfect["fn"] == 0

    some = {name: set(sorted(lines)[: len(lines) // 2]) for name, lines in truth.items()}
    some["httpie/client.py"] = {1, 2}  # a file with no configuration: two false positives
    result = evaluate(some)
    found = sum(map(len, some.values())) - 2
    assert (result["tp"], result["fp"], result["fn"]) == (found, 2, perfect["tp"] - found)
    assert result["precision"] == found / (found + 2)
    assert result["recall"] == found / perfect["tp"]
    assert result["false_positives"] == ["httpie/client.py:1", "httpie/client.py:2"]

    nothing = evaluate({})
    assert nothing["precision"] is None and nothing["recall"] == 0.0 and nothing["f1"] is None
    with pytest.raises(ValueError, match="outside the corpus"):
        evaluate({"elsewhere.py": {1}})


def test_evaluate_measures_against_the_corpus_it_is_given() -> None:
    held_out = labelled_lines(HOLDOUT)
    perfect = evaluate(held_out, HOLDOUT)
    assert (perfect["precision"], perfect["recall"], perfect["fp"]) == (1.0, 1.0, 0)
    assert perfect["labelled"] == sum(map(len, held_out.values()))
    with pytest.raises(ValueError, match="outside the corpus"):
        evaluate(held_out)  # the held-out files are not in the tuned-on labels


@pytest.mark.skipif(
    importlib.util.find_spec("cfgctl.codescan.scan") is None,
    reason="cfgctl.codescan.scan cannot be imported: the scanner is not there to measure",
)
def test_scan_code_meets_its_quality_goal_on_the_corpus() -> None:
    result = evaluate(cfgctl_lines())
    shown = {k: result[k] for k in ("tp", "fp", "fn", "precision", "recall")}
    assert result["precision"] is not None and result["precision"] >= 0.8, shown
    assert result["recall"] >= 0.6, shown

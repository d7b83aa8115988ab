"""The labelled corpus of scan-code (tests/codescan/corpus/): every excerpt parses and names its
package and licence, every label points at its literal, the measure counts right, and scan-code
meets its quality goal on it (precision >= 0.8 at recall >= 0.6, default --min-score)."""

from __future__ import annotations

import ast
import importlib.util
import re

import pytest

from benchmarks.codescan_corpus import (
    CATEGORIES,
    CORPUS,
    cfgctl_lines,
    corpus_files,
    evaluate,
    key_of,
    labelled_lines,
    load_labels,
)

HEADER = re.compile(
    r"# Excerpt of (?P<package>\S+) (?P<version>[\w.]+), (?P<path>\S+\.py) \(lines [\d, -]+\),\n"
    r"# (?P<licence>MIT|BSD-2-Clause|BSD-3-Clause|Apache-2.0) licence: "
    r"see tests/codescan/corpus/LICENSES\.md \((?P=package)\)\.\n"
)


def test_every_excerpt_parses_and_names_its_package_and_licence() -> None:
    licences = (CORPUS / "LICENSES.md").read_text(encoding="utf-8")
    files = corpus_files()
    assert len(files) >= 10
    lines = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        ast.parse(text, filename=str(path))
        lines += text.count("\n")
        header = HEADER.match(text)
        assert header, f"{key_of(path)}: no licence header"
        package, version, licence = header["package"], header["version"], header["licence"]
        assert f"| {package} | {version} | {licence} |" in licences, key_of(path)
        assert f"\n## {package} {version} ({licence})\n" in licences, key_of(path)
        assert not path.name.startswith("test_"), "no test files of the projects"
    assert 2000 <= lines <= 5000


def test_every_label_points_at_its_literal() -> None:
    labels = load_labels()
    assert sorted(labels) == [key_of(p) for p in corpus_files()], "one entry per corpus file"
    for name, entries in labels.items():
        lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
        numbers = [e.line for e in entries]
        assert numbers == sorted(set(numbers)), f"{name}: lines repeated or out of order"
        for e in entries:
            assert 1 <= e.line <= len(lines), f"{name}:{e.line}: past the end"
            assert e.literal in lines[e.line - 1], f"{name}:{e.line}: no {e.literal} there"
            assert e.category in CATEGORIES, f"{name}:{e.line}: category {e.category}"
    assert sum(map(len, labels.values())) >= 300


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


@pytest.mark.skipif(
    importlib.util.find_spec("cfgctl.codescan.scan") is None,
    reason="cfgctl.codescan.scan cannot be imported: the scanner is not there to measure",
)
def test_scan_code_meets_its_quality_goal_on_the_corpus() -> None:
    result = evaluate(cfgctl_lines())
    shown = {k: result[k] for k in ("tp", "fp", "fn", "precision", "recall")}
    assert result["precision"] is not None and result["precision"] >= 0.8, shown
    assert result["recall"] >= 0.6, shown

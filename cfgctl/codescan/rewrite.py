"""Code rewritten to read a value from the configuration: each selected literal replaced by
`settings.<key>`, and one import of `settings` added, with LibCST so that every other byte of the
file (comments, formatting, quotes) stays as it was.

    new = rewrite(text, [(finding, "db.pool_size"), ...], "app.cfgctl_settings")
    prove_substitution(text, new, replaced)     # InputError unless only those literals changed

`prove_substitution` reads both versions with `ast`, puts each literal back where its
`settings.<key>` stands and removes the import: the two trees must then be equal, which proves
the change is the substitution and nothing else.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from cfgctl.codescan.findings import Finding
from cfgctl.codescan.literals import fold
from cfgctl.errors import InputError

__all__ = ["Replacement", "prove_substitution", "rewrite", "settings_name"]

Replacement = tuple[Finding, str]  # (the finding, its key)


def settings_name(tree: ast.Module) -> str:
    """`settings`, unless the module uses that name already (Django's, say): `cfgctl_settings`."""
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.alias):
            name = node.asname or node.name.split(".")[0]
        elif isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = node.name
        if name == "settings":
            return "cfgctl_settings"
    return "settings"


class _Replace(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, wanted: dict[tuple[int, int, int, int], str]) -> None:
        super().__init__()
        self.wanted = wanted
        self.done: set[tuple[int, int, int, int]] = set()

    def on_leave(self, original: Any, updated: Any) -> Any:
        if not isinstance(original, cst.BaseExpression):
            return updated
        where: CodeRange = self.get_metadata(PositionProvider, original)
        span = (where.start.line, where.start.column, where.end.line, where.end.column)
        expr = self.wanted.get(span)
        if expr is None or span in self.done:
            return updated
        self.done.add(span)
        new = cst.parse_expression(expr)
        return new.with_changes(lpar=updated.lpar, rpar=updated.rpar)


def _import_index(module: cst.Module, first_line: int, wrapper: MetadataWrapper) -> int:
    """Where the import goes: after the last top-level import above the first use, else after
    the docstring and `from __future__` imports."""
    positions = wrapper.resolve(PositionProvider)
    index = 0
    for i, stmt in enumerate(wrapper.module.body):
        line = positions[stmt].start.line
        if line >= first_line:
            break
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
        ):
            index = i + 1
        elif (
            i == 0
            and isinstance(stmt, cst.SimpleStatementLine)
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
        ):
            index = 1  # the docstring
    return index


def rewrite(text: str, replacements: Sequence[Replacement], model_module: str) -> str:
    """`text` with each finding's literal replaced by `<settings>.<key>` and the import added."""
    try:
        module = cst.parse_module(text)
        tree = ast.parse(text)
    except (cst.ParserSyntaxError, SyntaxError) as exc:
        raise InputError(f"cannot rewrite: {exc}", hint="scan again: the file changed") from exc
    name = settings_name(tree)
    wanted = {
        (f.line, f.col - 1, f.end_line, f.end_col - 1): f"{name}.{key}" for f, key in replacements
    }
    wrapper = MetadataWrapper(module)
    transformer = _Replace(wanted)
    new = wrapper.visit(transformer)
    missing = [
        f
        for f, _ in replacements
        if (f.line, f.col - 1, f.end_line, f.end_col - 1) not in transformer.done
    ]
    if missing:
        f = missing[0]
        raise InputError(
            f"{f.location}: the literal of {f.id} is not where the scan found it",
            hint="the file changed since the scan: run cfgctl scan-code again",
        )
    alias = "" if name == "settings" else f" as {name}"
    statement = cst.parse_statement(f"from {model_module} import settings{alias}\n")
    index = _import_index(module, min(f.line for f, _ in replacements), wrapper)
    body = list(new.body)
    body.insert(index, statement)
    return new.with_changes(body=body).code


class _PutBack(ast.NodeTransformer):
    def __init__(self, values: dict[str, Any], name: str) -> None:
        self.values = values
        self.name = name

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        dotted = ast.unparse(node)
        head, _, key = dotted.partition(".")
        if head == self.name and key in self.values:
            return ast.Constant(self.values[key])
        return self.generic_visit(node)


def _normal(tree: ast.Module) -> str:
    """The tree with constant expressions folded the way the scan reads them (`-5`, `5 * 60`)."""

    class _Fold(ast.NodeTransformer):
        def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
            value = fold(node)
            return ast.Constant(value) if value is not None else self.generic_visit(node)

        def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
            value = fold(node)
            return ast.Constant(value) if value is not None else self.generic_visit(node)

    return ast.dump(_Fold().visit(tree))


def prove_substitution(
    before: str, after: str, replacements: Sequence[Replacement], model_module: str
) -> None:
    """`InputError` unless `after` is `before` with exactly these literals replaced and one import
    added (compared as syntax trees)."""
    old, new = ast.parse(before), ast.parse(after)
    name = settings_name(old)
    values = {key: f.value for f, key in replacements}
    new.body = [
        s
        for s in new.body
        if not (
            isinstance(s, ast.ImportFrom)
            and s.module == model_module
            and s.names[0].name == "settings"
        )
    ]
    restored = _PutBack(values, name).visit(new)
    if _normal(restored) != _normal(old):
        raise InputError(
            "the rewritten code differs from the original by more than the moved literals",
            hint="this is a bug in cfgctl: nothing was written; please report it with the file",
        )

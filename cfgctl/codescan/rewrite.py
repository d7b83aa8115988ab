"""Code rewritten to read a value from the configuration, with LibCST so that every other byte of
the file (comments, formatting, quotes) stays as it was.

    new = rewrite(text, [(finding, "db.pool_size"), ...], "app.cfgctl_settings")
    prove_substitution(text, new, replaced, "app.cfgctl_settings")

Each literal becomes `settings.<key>`, `settings` imported once from the model module (loaded
on first use). Where the module serves HTTP, a literal inside a route handler reads the current
configuration of a shared `watch` instead, so a hot reload reaches it: in FastAPI the handler
gets a dependency, `settings: Settings = Depends(settings_provider)`; in Flask the view calls
`settings_provider()`.

`prove_substitution` reads both versions with `ast`, puts each literal back where its
`settings.<key>` (or `settings_provider().<key>`) stands, and drops what the rewrite added (the
imports, the dependency parameters): the two trees must then be equal, which proves the change
is the substitution and nothing else.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from cfgctl.codescan.findings import Finding
from cfgctl.codescan.syntax import fold
from cfgctl.errors import InputError

__all__ = ["PROVIDER", "Replacement", "prove_substitution", "rewrite"]

Replacement = tuple[Finding, str]  # (the finding, its key)
PROVIDER = "settings_provider"
_ROUTES = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "route", "api_route",
     "websocket"}
)  # fmt: skip


def _imported(tree: ast.Module, module: str, name: str) -> str | None:
    """The name under which the module imports `name` from `module` already, or None."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0:
            for alias in node.names:
                if alias.name == name:
                    return alias.asname or alias.name
    return None


def _bound_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


@dataclass(frozen=True)
class _Names:
    """The names the rewritten module uses, none taken by something else of the module."""

    settings: str  # the model's `settings` (and a FastAPI handler's parameter)
    klass: str  # the model's `Settings`
    provider: str  # the model's `settings_provider`
    depends: str  # FastAPI's `Depends`
    imported: frozenset[str]  # of the model's names, those the module imports already
    has_depends: bool  # the module imports FastAPI's Depends already


def _names(tree: ast.Module, model_module: str) -> _Names:
    bound = _bound_names(tree)

    def pick(name: str, other: str, module: str = model_module) -> str:
        return _imported(tree, module, name) or (other if name in bound else name)

    imported = frozenset(
        n for n in ("settings", "Settings", PROVIDER) if _imported(tree, model_module, n)
    )
    return _Names(
        pick("settings", "cfgctl_settings"),
        pick("Settings", "CfgctlSettings"),
        pick(PROVIDER, f"cfgctl_{PROVIDER}"),
        pick("Depends", "cfgctl_depends", "fastapi"),
        imported,
        _imported(tree, "fastapi", "Depends") is not None,
    )


def framework(tree: ast.Module) -> str | None:
    """`fastapi` or `flask` when the module imports one of them."""
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in ("fastapi", "flask"):
                return top
    return None


def _is_route(function: cst.FunctionDef) -> bool:
    for deco in function.decorators:
        call = deco.decorator
        if (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in _ROUTES
        ):
            return True
    return False


class _Replace(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(
        self, wanted: dict[tuple[int, int, int, int], str], web: str | None, names: _Names
    ) -> None:
        super().__init__()
        self.wanted = wanted
        self.web = web
        self.names = names
        self.done: set[tuple[int, int, int, int]] = set()
        self.routes: list[bool] = []  # per enclosing function: a route handler
        self.used: list[bool] = []  # per enclosing function: it reads the dependency
        self.header = 0  # inside parameters or decorators: evaluated where the def runs
        self.needed: set[str] = set()  # what the module must import from the model

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        route = self.web is not None and _is_route(node)
        if route and self.web == "fastapi":
            taken = [p.name.value for p in (*node.params.params, *node.params.kwonly_params)]
            if self.names.settings in taken:
                raise InputError(
                    f"{node.name.value}() has a parameter {self.names.settings} already: "
                    "cfgctl cannot add its dependency",
                    hint="rename that parameter, or leave this finding out",
                )
        self.routes.append(route)
        self.used.append(False)

    def visit_Parameters(self, node: cst.Parameters) -> None:
        self.header += 1

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self.header += 1

    def _leave_function(self, updated: cst.FunctionDef) -> Any:
        self.routes.pop()
        if not self.used.pop() or self.web != "fastapi":
            return updated
        param = cst.Param(
            cst.Name(self.names.settings),
            annotation=cst.Annotation(cst.Name(self.names.klass)),
            default=cst.parse_expression(f"{self.names.depends}({self.names.provider})"),
        )
        params = updated.params
        if params.star_arg is not cst.MaybeSentinel.DEFAULT or params.kwonly_params:
            return updated.with_changes(
                params=params.with_changes(kwonly_params=[*params.kwonly_params, param])
            )
        return updated.with_changes(params=params.with_changes(params=[*params.params, param]))

    def _expression(self, key: str) -> str:
        if self.header or not (self.routes and self.routes[-1]):
            self.needed.add("settings")
            return f"{self.names.settings}.{key}"
        self.used[-1] = True
        if self.web == "fastapi":
            self.needed.update(("Settings", PROVIDER))
            return f"{self.names.settings}.{key}"
        self.needed.add(PROVIDER)
        return f"{self.names.provider}().{key}"

    def on_leave(self, original: Any, updated: Any) -> Any:
        if isinstance(original, cst.FunctionDef):
            return self._leave_function(updated)
        if isinstance(original, (cst.Parameters, cst.Decorator)):
            self.header -= 1
            return updated
        if not isinstance(original, cst.BaseExpression):
            return updated
        where: CodeRange = self.get_metadata(PositionProvider, original)
        span = (where.start.line, where.start.column, where.end.line, where.end.column)
        key = self.wanted.get(span)
        if key is None or span in self.done:
            return updated
        self.done.add(span)
        new = cst.parse_expression(self._expression(key))
        return new.with_changes(lpar=updated.lpar, rpar=updated.rpar)


def _import_index(first_line: int, wrapper: MetadataWrapper) -> int:
    """Where the imports go: after the last top-level import above the first use, else after
    the docstring and `from __future__` imports."""
    positions = wrapper.resolve(PositionProvider)
    index = 0
    for i, stmt in enumerate(wrapper.module.body):
        if positions[stmt].start.line >= first_line:
            break
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
            index = i + 1
        elif (
            i == 0
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
        ):
            index = 1  # the docstring
    return index


def _imports(transformer: _Replace, model_module: str) -> list[str]:
    names = transformer.names
    aliases = {"settings": names.settings, "Settings": names.klass, PROVIDER: names.provider}
    wanted = sorted(transformer.needed - names.imported)
    lines = []
    if wanted:
        shown = [n if aliases[n] == n else f"{n} as {aliases[n]}" for n in wanted]
        lines.append(f"from {model_module} import {', '.join(shown)}\n")
    if "Settings" in transformer.needed and not names.has_depends:
        alias = "" if names.depends == "Depends" else f" as {names.depends}"
        lines.append(f"from fastapi import Depends{alias}\n")
    return lines


def rewrite(text: str, replacements: Sequence[Replacement], model_module: str) -> str:
    """`text` with each finding's literal replaced, and the imports added."""
    try:
        module = cst.parse_module(text)
        tree = ast.parse(text)
    except (cst.ParserSyntaxError, SyntaxError) as exc:
        raise InputError(f"cannot rewrite: {exc}", hint="scan again: the file changed") from exc
    wanted = {(f.line, f.col - 1, f.end_line, f.end_col - 1): key for f, key in replacements}
    wrapper = MetadataWrapper(module)
    transformer = _Replace(wanted, framework(tree), _names(tree, model_module))
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
    added = [cst.parse_statement(line) for line in _imports(transformer, model_module)]
    if not added:
        return new.code
    index = _import_index(min(f.line for f, _ in replacements), wrapper)
    return new.with_changes(body=[*new.body[:index], *added, *new.body[index:]]).code


# --- the proof ----------------------------------------------------------------------------------


class _PutBack(ast.NodeTransformer):
    """`settings.<key>` and `settings_provider().<key>` back to their literals; the dependency
    parameters the rewrite added removed."""

    def __init__(self, values: dict[str, Any], names: _Names) -> None:
        self.values = values
        self.heads = {names.settings, f"{names.provider}()"}
        self.dependency = f"{names.depends}({names.provider})"

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        head, _, key = ast.unparse(node).partition(".")
        if head in self.heads and key in self.values:
            return ast.Constant(self.values[key])
        return self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        args = node.args
        added = [
            i
            for i, d in enumerate(args.kw_defaults)
            if d is not None and ast.unparse(d) == self.dependency
        ]
        for i in reversed(added):
            del args.kwonlyargs[i], args.kw_defaults[i]
        if args.defaults and ast.unparse(args.defaults[-1]) == self.dependency:
            args.defaults.pop()
            args.args.pop()
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]


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
    """`InputError` unless `after` is `before` with exactly these literals replaced and the
    rewrite's own imports and parameters added, compared as syntax trees."""
    try:
        compile(after, "<rewritten>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # a duplicate argument, say: ast.parse takes it
        raise InputError(
            f"the rewritten code would not compile: {exc}",
            hint="leave this finding out, or rename what it collides with; nothing was written",
        ) from exc
    old, new = ast.parse(before), ast.parse(after)
    names = _names(old, model_module)
    kept = {ast.dump(s) for s in old.body if isinstance(s, ast.ImportFrom)}
    new.body = [
        s
        for s in new.body
        if not (
            isinstance(s, ast.ImportFrom)
            and s.module in (model_module, "fastapi")
            and ast.dump(s) not in kept
        )
    ]
    restored = _PutBack({key: f.value for f, key in replacements}, names).visit(new)
    if _normal(restored) != _normal(old):
        raise InputError(
            "the rewritten code differs from the original by more than the moved literals",
            hint="this is a bug in cfgctl: nothing was written; please report it with the file",
        )

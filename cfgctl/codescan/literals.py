"""Every literal of a module with the context that tells configuration from code: the name it is
bound to or passed as, the call it feeds, the scope it sits in, and what rules it out.

    for lit in literals(tree):
        lit.value, lit.name, lit.call, lit.negative    # 30, "timeout", "requests.get", None

Context climbs through what does not change a value's meaning: `int("30")`, `timedelta(seconds=30)`,
`-5`, `5 * 60` (folded to 300), a `(host, port)` tuple, a dict under a named key. What rules a
literal out is named in `negative`: an index, a `range()` bound, a comparison, arithmetic with a
variable, string formatting, a message (print, logging, exceptions), a dict key, a docstring, an
annotation, a dunder (`__version__`), the variable name of `os.environ.get("X", ...)`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from cfgctl.codescan.calls import (
    CLI_OPTIONS,
    ENV_GETTERS,
    KEY_METHODS,
    PASS_THROUGH,
    SETTING_CALLS,
    SETTINGS_CLASS,
    SETTINGS_OWNERS,
    group_of_call,
    message_of,
)
from cfgctl.codescan.syntax import NOT, call_name, folded, target_name

__all__ = ["Literal", "literals"]


@dataclass(frozen=True)
class Literal:
    value: Any
    line: int
    col: int  # 0-based, UTF-8 bytes (ast's offsets)
    end_line: int
    end_col: int
    name: str | None  # the nearest name it is bound to or passed as
    how: str  # assigned, keyword, default, dict, env, fallback (of a settings getter), option,
    # setting, local, state, return, positional, element, none
    call: str | None  # the dotted name of the call it feeds
    arg: str | int | None  # the keyword or position in that call
    scope: tuple[str, ...]  # enclosing classes and functions
    outer: tuple[str, ...]  # the names around `name`: the dict keys above it, the assignment
    negative: str | None  # why it is not configuration, when something says so


_CREDENTIAL_PAIRS = frozenset({"auth", "basic_auth", "http_auth", "credentials", "login"})


class _Ctx(NamedTuple):
    name: str | None = None
    how: str = "none"
    call: str | None = None
    arg: str | int | None = None
    outer: tuple[str, ...] = ()
    negative: str | None = None


class _Walker:
    def __init__(self) -> None:
        self.out: list[Literal] = []
        self.scope: list[str] = []
        self.functions: list[str | None] = []  # the function a `return` belongs to
        self.classes: list[tuple[str, bool]] = []  # (name, holds settings) of enclosing classes

    # --- the walk ---------------------------------------------------------------------------------

    def visit(self, node: ast.AST, ctx: _Ctx) -> None:
        method = _DISPATCH.get(type(node))
        if method is not None:
            method(self, node, ctx)
        elif isinstance(node, ast.expr):
            value = folded(node)
            if value is not NOT:
                self.emit(node, value, ctx)
            else:
                self.children(node, ctx)
        else:
            self.children(node, ctx)

    def children(self, node: ast.AST, ctx: _Ctx) -> None:
        for child in ast.iter_child_nodes(node):
            self.visit(child, ctx)

    def emit(self, node: ast.expr, value: Any, ctx: _Ctx) -> None:
        if isinstance(value, (bytes, complex, type(None), type(...))):
            return
        self.out.append(
            Literal(
                value, node.lineno, node.col_offset, node.end_lineno or node.lineno,
                node.end_col_offset or node.col_offset, ctx.name, ctx.how, ctx.call, ctx.arg,
                tuple(self.scope), ctx.outer, ctx.negative,
            )
        )  # fmt: skip

    def body(self, stmts: list[ast.stmt], ctx: _Ctx) -> None:
        for i, stmt in enumerate(stmts):
            if (
                i == 0
                and isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            ):
                continue  # a docstring
            self.visit(stmt, ctx)

    # --- scopes -------------------------------------------------------------------------------

    def module(self, node: ast.Module, ctx: _Ctx) -> None:
        self.body(node.body, ctx)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: _Ctx) -> None:
        for deco in node.decorator_list:
            self.visit(deco, ctx)
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        with_default = positional[len(positional) - len(args.defaults) :]
        # The constructor of a settings class (uvicorn's Config) takes settings; the function's
        # name rides in `outer` (a constructor's defaults weigh more than a helper's).
        in_class = bool(self.classes) and bool(self.functions) and self.functions[-1] is None
        how = (
            "setting" if in_class and node.name == "__init__" and self.classes[-1][1] else "default"
        )
        pairs = [
            *zip(with_default, args.defaults, strict=True),
            *((a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d),
        ]
        for arg, default in pairs:
            self.visit(default, _Ctx(arg.arg, how, outer=(node.name,)))
        self.scope.append(node.name)
        self.functions.append(node.name)
        self.body(node.body, _Ctx())
        self.functions.pop()
        self.scope.pop()

    def klass(self, node: ast.ClassDef, ctx: _Ctx) -> None:
        for deco in node.decorator_list:
            self.visit(deco, ctx)
        for keyword in node.keywords:
            self.visit(keyword.value, _Ctx(keyword.arg, "keyword", negative="a class keyword"))
        bases = [call_name(b) or "" for b in node.bases]
        settings = any(
            n.lower().endswith(SETTINGS_CLASS)
            for n in [node.name, *(b.rsplit(".", 1)[-1] for b in bases)]
        )
        self.scope.append(node.name)
        self.functions.append(None)
        self.classes.append((node.name, settings))
        self.body(node.body, _Ctx())
        self.classes.pop()
        self.functions.pop()
        self.scope.pop()

    # --- bindings -----------------------------------------------------------------------------

    def assign(self, node: ast.Assign, ctx: _Ctx) -> None:
        targets = node.targets
        value = node.value
        if (
            len(targets) == 1
            and isinstance(targets[0], ast.Tuple)
            and isinstance(value, ast.Tuple)
            and len(targets[0].elts) == len(value.elts)
        ):
            for target, item in zip(targets[0].elts, value.elts, strict=True):
                self.bind(target, item)
            return
        for target in targets:
            if isinstance(target, ast.Subscript):
                self.visit(target.value, _Ctx())
        self.bind(targets[-1], value)

    def bind(self, target: ast.expr, value: ast.expr) -> None:
        name = target_name(target)
        negative = None
        if name is not None and name.startswith("__") and name.endswith("__"):
            negative = "a module dunder"
        self.visit(value, _Ctx(name, self.binding(target, name), negative=negative))

    def binding(self, target: ast.expr, name: str | None) -> str:
        """How an assignment binds: `setting` (a settings class's attribute, or the `default`
        of a class), `state` (an instance's attribute outside __init__), `local` (a function's
        variable), or `assigned` (a module's or class's name)."""
        function = self.functions[-1] if self.functions else None
        if (
            function is None
            and self.classes
            and self.scope
            and self.scope[-1] == self.classes[-1][0]
        ):
            if name in ("default", "DEFAULT", "default_value") or self.classes[-1][1]:
                return "setting"
            return "assigned"
        if function is None:
            return "assigned"
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            return "assigned" if function == "__init__" else "state"
        return "local" if isinstance(target, ast.Name) else "assigned"

    def ann_assign(self, node: ast.AnnAssign, ctx: _Ctx) -> None:
        if node.value is not None:
            self.bind(node.target, node.value)

    def aug_assign(self, node: ast.AugAssign, ctx: _Ctx) -> None:
        self.visit(node.value, _Ctx(target_name(node.target), "assigned", negative="arithmetic"))

    def keyword(self, node: ast.keyword, ctx: _Ctx) -> None:
        self.visit(node.value, ctx._replace(name=node.arg, how="keyword", arg=node.arg))

    def dict_(self, node: ast.Dict, ctx: _Ctx) -> None:
        outer = (*ctx.outer, ctx.name) if ctx.name else ctx.outer
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                self.visit(value, ctx)
                continue
            self.visit(key, _Ctx(negative="a dict key"))
            name = (
                key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
            )
            self.visit(value, _Ctx(name, "dict", ctx.call, ctx.arg, outer, ctx.negative))

    def sequence(self, node: ast.Tuple | ast.List | ast.Set, ctx: _Ctx) -> None:
        if isinstance(node, ast.Tuple) and len(node.elts) == 2 and ctx.name is None:
            host, port = node.elts  # (host, port): socket.create_connection, bind, connect
            h, p = folded(host), folded(port)
            if isinstance(h, str) and isinstance(p, int) and not isinstance(p, bool):
                self.visit(host, ctx._replace(name="host", how="element"))
                self.visit(port, ctx._replace(name="port", how="element"))
                return
        if ctx.name in _CREDENTIAL_PAIRS and len(node.elts) == 2:
            user, password = node.elts  # auth=("svc", "pa55word"): a user and its password
            if isinstance(folded(user), str) and isinstance(folded(password), str):
                self.visit(user, ctx._replace(name=f"{ctx.name}_user"))
                self.visit(password, ctx._replace(name=f"{ctx.name}_password"))
                return
        for elt in node.elts:
            self.visit(
                elt, ctx._replace(how="element") if ctx.how in ("keyword", "positional") else ctx
            )

    def return_(self, node: ast.Return, ctx: _Ctx) -> None:
        function = self.functions[-1] if self.functions else None
        value = node.value
        if value is None or (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
            return  # `return True`: a verdict of code
        self.visit(value, _Ctx(function, "return") if function else _Ctx())

    # --- uses that rule a literal out -----------------------------------------------------------

    def call(self, node: ast.Call, ctx: _Ctx) -> None:
        name = call_name(node.func)
        self.visit(node.func, _Ctx())
        if name in PASS_THROUGH:
            for arg in node.args:
                self.visit(arg, ctx)
            for keyword in node.keywords:
                inner = ctx if ctx.name else ctx._replace(name=keyword.arg, how="keyword")
                self.visit(keyword.value, inner)
            return
        if name is not None and self.env_call(node, name, ctx):
            return
        if name is not None and self.option_call(node, name, ctx):
            return
        negative = message_of(name)
        keyed = (
            name is not None
            and name.rsplit(".", 1)[-1] in KEY_METHODS
            and group_of_call(name) != "http"  # requests.get(URL): a URL, not a key
        )
        for i, arg in enumerate(node.args):
            outer = (*ctx.outer, ctx.name) if ctx.name else ctx.outer
            why = "a key" if keyed and i == 0 else negative
            self.visit(arg, _Ctx(None, "positional", name, i, outer, why))
        for keyword in node.keywords:
            inner = _Ctx(keyword.arg, "keyword", name, keyword.arg, ctx.outer, negative)
            self.visit(keyword.value, inner)

    def option_call(self, node: ast.Call, name: str, ctx: _Ctx) -> bool:
        """`parser.add_argument("--port", default=8080)`, `Option(4, type="int")`,
        `Field(default=30)`: the default is bound to the option's name, the rest is its
        definition (help, type, choices), not configuration."""
        last = name.rsplit(".", 1)[-1]
        cli = last in CLI_OPTIONS and any(
            isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("-")
            for a in node.args
        )
        if not cli and last not in SETTING_CALLS:
            return False
        option = ctx.name
        if cli:
            flags = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            dest = next((k.value for k in node.keywords if k.arg == "dest"), None)
            long = [f for f in flags if f.startswith("--")] or flags
            option = (
                dest.value
                if isinstance(dest, ast.Constant) and isinstance(dest.value, str)
                else long[0].lstrip("-").replace("-", "_")
                if long
                else None
            )
        at = 0  # the position of the default among the positional arguments
        first = node.args[0] if node.args else None
        if (
            not cli
            and len(node.args) >= 2
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and first.value.isidentifier()
        ):
            option, at = first.value, 1  # Setting("max_rows", 1000, "help"): named, then default
        definition = _Ctx(negative=f"the definition of option {option or name}")
        for i, arg in enumerate(node.args):
            default = i == at and not cli
            self.visit(arg, _Ctx(option, "option", name, i, ctx.outer) if default else definition)
        for keyword in node.keywords:
            if keyword.arg == "default" and option:
                self.visit(keyword.value, _Ctx(option, "option", name, "default", ctx.outer))
            else:
                self.visit(keyword.value, definition)
        return True

    def env_call(self, node: ast.Call, name: str, ctx: _Ctx) -> bool:
        """`os.environ.get("PORT", "8080")`, `config.get("timeout", 30)`: the default is bound
        to the variable's name; the name itself is not a value."""
        owner, _, method = name.rpartition(".")
        settings_get = method in ("get", "getint", "getfloat", "getboolean", "setdefault") and (
            owner.lower().endswith(SETTINGS_OWNERS)
        )
        if name == "getattr" and len(node.args) == 3:
            source = call_name(node.args[0]) or ""
            if source.lower().endswith(SETTINGS_OWNERS):
                self.visit(node.args[1], _Ctx(negative="a setting's name"))
                var = node.args[1].value if isinstance(node.args[1], ast.Constant) else None
                bound = var if isinstance(var, str) else ctx.name
                self.visit(node.args[2], _Ctx(bound, "fallback", f"{source}.get", 1))
                return True
        if name not in ENV_GETTERS and not settings_get:
            return False
        args = list(node.args)
        first = args[0] if args else None
        var = first.value if isinstance(first, ast.Constant) else None
        if first is not None:
            self.visit(first, _Ctx(negative="a variable's name"))
        how = "env" if name in ENV_GETTERS else "fallback"
        for arg in args[1:]:
            self.visit(arg, _Ctx(var if isinstance(var, str) else ctx.name, how, name, 1))
        for keyword in node.keywords:
            bound = var if keyword.arg in ("default", "fallback") and isinstance(var, str) else None
            self.visit(keyword.value, _Ctx(bound or keyword.arg, how, name, keyword.arg))
        return True

    def subscript(self, node: ast.Subscript, ctx: _Ctx) -> None:
        self.visit(node.value, ctx)
        self.visit(node.slice, _Ctx(negative="an index"))

    def compare(self, node: ast.Compare, ctx: _Ctx) -> None:
        for part in (node.left, *node.comparators):
            self.visit(part, _Ctx(negative="a comparison"))

    def binop(self, node: ast.BinOp, ctx: _Ctx) -> None:
        value = folded(node)
        if value is not NOT:
            self.emit(node, value, ctx)
            return
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            why = "string formatting"
        else:
            why = "arithmetic"
        self.visit(node.left, _Ctx(negative=why))
        self.visit(node.right, _Ctx(negative=why))

    def expression(self, node: ast.Expr, ctx: _Ctx) -> None:
        if not isinstance(node.value, ast.Constant):  # a bare string is a comment
            self.visit(node.value, ctx)

    def skip(self, node: ast.AST, ctx: _Ctx) -> None:
        return


def _negated(why: str) -> Callable[[_Walker, Any, _Ctx], None]:
    def handler(walker: _Walker, node: ast.AST, ctx: _Ctx) -> None:
        walker.children(node, _Ctx(negative=why))

    return handler


def _index_of(walker: _Walker, node: ast.AST, ctx: _Ctx) -> None:
    walker.children(node, _Ctx(negative="a slice bound"))


_DISPATCH: dict[type[ast.AST], Callable[[_Walker, Any, _Ctx], None]] = {
    ast.Module: _Walker.module,
    ast.FunctionDef: _Walker.function,
    ast.AsyncFunctionDef: _Walker.function,
    ast.ClassDef: _Walker.klass,
    ast.Assign: _Walker.assign,
    ast.AnnAssign: _Walker.ann_assign,
    ast.AugAssign: _Walker.aug_assign,
    ast.keyword: _Walker.keyword,
    ast.Dict: _Walker.dict_,
    ast.Tuple: _Walker.sequence,
    ast.List: _Walker.sequence,
    ast.Set: _Walker.sequence,
    ast.Return: _Walker.return_,
    ast.Call: _Walker.call,
    ast.Subscript: _Walker.subscript,
    ast.Compare: _Walker.compare,
    ast.BinOp: _Walker.binop,
    ast.JoinedStr: _Walker.skip,  # an f-string: text, not values
    ast.Slice: _index_of,
    ast.Assert: _negated("an assertion"),
    ast.Raise: _negated("an exception's message"),
    ast.match_case: _negated("a match pattern"),
    ast.Import: _Walker.skip,
    ast.ImportFrom: _Walker.skip,
    ast.Global: _Walker.skip,
    ast.Nonlocal: _Walker.skip,
    ast.arguments: _Walker.skip,
    ast.Expr: _Walker.expression,
}


def literals(tree: ast.Module) -> Iterator[Literal]:
    """Every scalar literal of the module (strings, numbers, booleans), with its context."""
    walker = _Walker()
    walker.visit(tree, _Ctx())
    yield from walker.out

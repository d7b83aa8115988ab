"""Small facts of Python's syntax tree the scan and the rewrite share: the dotted name of a call,
the name an assignment binds, the value of a constant expression.

    call_name(ast.parse("requests.get(u)").body[0].value.func)   # "requests.get"
    fold(ast.parse("5 * 60", mode="eval").body)                   # 300
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

__all__ = ["NOT", "call_name", "fold", "folded", "target_name"]

_FOLD: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Mult: operator.mul,
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Pow: operator.pow,
}

NOT = object()
"""What `folded` returns for an expression that is not a constant."""


def call_name(func: ast.expr) -> str | None:
    """`requests.get` for `requests.get(...)`, `.connect` for `self.pool.connect(...)` (a method
    of something that is not a plain dotted name)."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    elif parts:
        parts.append("")  # a call on a call or a subscript: `.method`
    else:
        return None
    return ".".join(reversed(parts))


def target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    if isinstance(target, ast.Starred):
        return target_name(target.value)
    return None


def folded(node: ast.expr) -> Any:
    """The value of a constant expression (`5 * 60`, `-1`, `2 ** 20`), or `NOT`."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = folded(node.operand)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLD:
        left, right = folded(node.left), folded(node.right)
        numbers = (int, float)
        if (
            isinstance(left, numbers)
            and isinstance(right, numbers)
            and not isinstance(left, bool)
            and not isinstance(right, bool)
            and not (isinstance(node.op, ast.Pow) and abs(right) > 64)
        ):
            return _FOLD[type(node.op)](left, right)
    return NOT


def fold(node: ast.expr) -> Any:
    """The value of a constant expression (`-5`, `5 * 60`), or None."""
    value = folded(node)
    return None if value is NOT else value

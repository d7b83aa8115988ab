#!/usr/bin/env python3
# The size limits of docs/architecture.md, measured: `python scripts/code_sizes.py .` (repository root).
"""Sizes of cfgctl/: modules (physical lines), functions (def line to end, decorators excluded),
command functions (functions in cfgctl/cli/commands/ decorated with @x.command(...)/@x.callback(...))."""
import ast, sys
from pathlib import Path
root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
pkg = root / "cfgctl"
mods, funcs, cmds = [], [], []
for p in sorted(pkg.rglob("*.py")):
    rel = p.relative_to(root).as_posix()
    text = p.read_text(encoding="utf-8")
    mods.append((len(text.splitlines()), rel))
    tree = ast.parse(text)
    def walk(node, prefix):
        for ch in ast.iter_child_nodes(node):
            if isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = ch.end_lineno - ch.lineno + 1
                name = f"{rel}:{ch.lineno} {prefix}{ch.name}"
                funcs.append((n, name))
                if "/cli/commands/" in rel and any(
                    isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                    and d.func.attr in ("command", "callback") for d in ch.decorator_list):
                    cmds.append((n, name))
                walk(ch, prefix + ch.name + ".")
            elif isinstance(ch, ast.ClassDef):
                walk(ch, prefix + ch.name + ".")
            else:
                walk(ch, prefix)
    walk(tree, "")
for label, rows in (("modules", mods), ("functions", funcs), ("command functions", cmds)):
    rows.sort(reverse=True)
    print(f"{label}: {len(rows)}; top 5:")
    for r in rows[:5]:
        print(f"  {r[0]:5d}  {r[1]}")
print("modules > 400 lines:", sum(n > 400 for n, _ in mods), [r for n, r in mods if n > 400])
print("functions > 60 lines:", sum(n > 60 for n, _ in funcs), [r for n, r in funcs if n > 60])
print("command functions > 40 lines:", sum(n > 40 for n, _ in cmds), [r for n, r in cmds if n > 40])
print("total lines:", sum(n for n, _ in mods), "modules:", len(mods))

# Second measure: the body only (first statement after the docstring to the end): the signature's
# typer parameter list and the help docstring are excluded.
def body_len(fn):
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return 0
    return body[-1].end_lineno - body[0].lineno + 1
bodies, cmd_bodies = [], []
for p in sorted(pkg.rglob("*.py")):
    rel = p.relative_to(root).as_posix()
    for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            row = (body_len(node), f"{rel}:{node.lineno} {node.name}")
            bodies.append(row)
            if "/cli/commands/" in rel and any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ("command", "callback") for d in node.decorator_list):
                cmd_bodies.append(row)
bodies.sort(reverse=True); cmd_bodies.sort(reverse=True)
print("bodies (no signature/docstring) top 3:", bodies[:3])
print("functions whose body > 60:", sum(n > 60 for n, _ in bodies))
print("command bodies top 5:", cmd_bodies[:5])
print("command bodies > 40:", sum(n > 40 for n, _ in cmd_bodies), [r for n, r in cmd_bodies if n > 40])

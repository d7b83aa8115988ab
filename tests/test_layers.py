"""The layer order of docs/architecture.md, enforced on every import of cfgctl/.

Every module is parsed with `ast`; every import counts: top-level, inside a function (lazy), under
`if TYPE_CHECKING:`, `from cfgctl import x`, relative, and `importlib.import_module("literal")`.
An import may go down the layers or stay inside its own package; never up, never sideways; and
no cycle between modules, lazy imports included.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "cfgctl"

# The order of docs/architecture.md: package -> layer. "cfgctl" is the bottom modules
# (errors, _version, diagnostics) and the lazy facade cfgctl/__init__.py. Two refinements of
# the first sketch, each forced by a real dependency: changes/ sits below checks/ (validate
# --changed-since validates what changed; secrets' merge driver compares trees as data), and
# agent/ above review/ (the agent honours the freezes of policy.yaml).
LAYERS: dict[str, int] = {
    "cfgctl": 0,
    "cfgctl.repo": 1,
    "cfgctl.changes": 2,
    "cfgctl.checks": 3,
    "cfgctl.secrets": 4,
    "cfgctl.editing": 4,
    "cfgctl.fleet": 4,
    "cfgctl.review": 5,
    "cfgctl.operate": 5,
    "cfgctl.sdk": 5,
    "cfgctl.analyze": 5,
    "cfgctl.agent": 6,
    "cfgctl.codescan": 6,
    "cfgctl.server": 7,
    "cfgctl.deploy": 7,
    "cfgctl.cli": 8,
}

# What a service imports: no Git, no JSON Schema, no CLI (see test_sdk_loads_no_heavy_stack).
SDK_ALLOWED = {
    "cfgctl",
    "cfgctl.errors",
    "cfgctl.repo",
    "cfgctl.repo.yamlio",
    "cfgctl.repo._yamlbuild",  # the private half of YAML reading (the strict constructor)
    "cfgctl.repo._yamlcheck",  # the YAML 1.2 validity check (libfyaml, imported on demand)
    "cfgctl.repo.keypath",
    "cfgctl.telemetry",  # traces: the reload callback in a span (OpenTelemetry loaded lazily)
    "cfgctl._spanfile",
    "cfgctl._otel",
    "cfgctl.deadline",  # a total deadline for the remote read's HTTP exchange
    "cfgctl.deadlineadapter",  # the same for etcd3gw's requests session
    "cfgctl.repo.sops",  # the real sops binary, run to decrypt an etcd pair's secrets layers
    # watch_etcd: etcd's JSON gateway through etcd3gw/requests, the documents and their digests
    "cfgctl.fleet",
    "cfgctl.fleet.etcd",
    "cfgctl.fleet.documents",
    "cfgctl.fleet.layout",
    "cfgctl.fleet.reader",
}
SDK_FORBIDDEN_DISTRIBUTIONS = ("pygit2", "typer", "rich", "jsonschema", "click", "github3")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    line: int
    target: str  # the imported cfgctl module (or package)
    type_checking: bool


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _resolve(name: str) -> str:
    """The module an import names: `cfgctl.repo.snapshot.Snapshot` -> `cfgctl.repo.snapshot`."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _absolute(module: str, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    package = module if _is_package(module) else module.rsplit(".", 1)[0]
    base = package.split(".")
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _call_name(func: ast.expr) -> str | None:
    """`import_module` for `importlib.import_module(...)` and `import_module(...)` alike."""
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _imports(module: str) -> Iterator[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            guarded.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.level, node.module)
            # `from cfgctl.secrets import sops` imports the module cfgctl.secrets.sops.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        elif (
            isinstance(node, ast.Call)
            and _call_name(node.func) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            targets = [node.args[0].value]
        for target in dict.fromkeys(targets):
            if target == "cfgctl" or target.startswith("cfgctl."):
                line = getattr(node, "lineno", 0)
                yield Import(module, line, _resolve(target), id(node) in guarded)


@functools.cache
def _all_imports() -> list[Import]:
    """Every cfgctl import of every module: parsed when a test first asks (~2.5 s), not at
    collection, which every pytest worker does."""
    return [imp for module in MODULES for imp in _imports(module)]


def _package(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and not _is_package(module)):
        return "cfgctl.cli" if module == "cfgctl.__main__" else "cfgctl"  # `python -m cfgctl`
    return ".".join(parts[:2])


def _layer(module: str) -> int:
    package = _package(module)
    assert package in LAYERS, f"{package} has no layer: add it to LAYERS and docs/architecture.md"
    return LAYERS[package]


def _violation(imp: Import) -> str | None:
    src, dst = _package(imp.source), _package(imp.target)
    if imp.target == "cfgctl" and imp.source != "cfgctl":
        # The facade imports every layer (lazily); inside cfgctl, import a name from its home.
        return "imports the lazy facade `cfgctl`: import from the defining module"
    if imp.source == "cfgctl" and imp.type_checking:
        return None  # the facade's re-exports, declared for type checkers only
    if src == dst:
        return None
    if _layer(imp.target) > _layer(imp.source):
        return f"upward: layer {_layer(imp.source)} ({src}) -> layer {_layer(imp.target)} ({dst})"
    if _layer(imp.target) == _layer(imp.source):
        return f"sideways: {src} -> {dst}, both layer {_layer(imp.source)}"
    return None


def test_every_package_has_a_layer() -> None:
    missing = sorted({_package(m) for m in MODULES} - LAYERS.keys())
    assert not missing, f"packages without a layer: {missing}"


def test_imports_go_down_or_stay_inside() -> None:
    bad = [
        f"{imp.source}:{imp.line} -> {imp.target}: {why}"
        for imp in _all_imports()
        if (why := _violation(imp)) is not None
    ]
    assert not bad, "imports against the layer order:\n  " + "\n  ".join(bad)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = {}
    where: dict[tuple[str, str], int] = {}
    for imp in _all_imports():
        if imp.source == imp.target or (imp.source == "cfgctl" and imp.type_checking):
            continue
        edges.setdefault(imp.source, set()).add(imp.target)
        where.setdefault((imp.source, imp.target), imp.line)
    cycles = _cycles(edges)
    report = [
        ", ".join(f"{a}:{where[a, b]} -> {b}" for a in cycle for b in cycle if (a, b) in where)
        for cycle in cycles
    ]
    assert not cycles, "import cycles:\n  " + "\n  ".join(report)


def _is_private(name: str) -> bool:
    """`_name` is private; `__name__` (a dunder) is not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_names_imported(module: str) -> Iterator[str]:
    """`from cfgctl.X import _name` in `module`, X another module: a private name borrowed.

    A private module's public names (`from cfgctl.repo._yamlbuild import OCTAL_11`) and a private
    module itself (`from cfgctl.repo import _yamlbuild`) are not private names of another module.
    """
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        base = _absolute(module, node.level, node.module)
        if base == module or not (base == "cfgctl" or base.startswith("cfgctl.")):
            continue
        for alias in node.names:
            if _is_private(alias.name) and f"{base}.{alias.name}" not in MODULES:
                yield f"{module}:{node.lineno} -> {base}.{alias.name}"


def test_no_private_name_imported_from_another_module() -> None:
    bad = [found for module in MODULES for found in _private_names_imported(module)]
    assert not bad, "private names imported from another module:\n  " + "\n  ".join(bad)


def test_sdk_imports_only_what_a_service_needs() -> None:
    runtime: dict[str, list[Import]] = {}
    for imp in _all_imports():
        if not imp.type_checking:
            runtime.setdefault(imp.source, []).append(imp)
    seen: set[str] = set()
    todo = [m for m in MODULES if _package(m) == "cfgctl.sdk"]
    bad: list[str] = []
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for imp in runtime.get(module, []):
            if _package(imp.target) == "cfgctl.sdk" or imp.target in SDK_ALLOWED:
                todo.append(imp.target)
            else:
                bad.append(f"{imp.source}:{imp.line} -> {imp.target}")
    assert not bad, "the SDK reaches beyond SDK_ALLOWED:\n  " + "\n  ".join(bad)


def test_sdk_loads_no_heavy_stack() -> None:
    code = "import cfgctl.sdk, sys; print(sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = {name.split(".")[0] for name in ast.literal_eval(out)}
    assert not loaded & set(SDK_FORBIDDEN_DISTRIBUTIONS), sorted(
        loaded & set(SDK_FORBIDDEN_DISTRIBUTIONS)
    )


def test_review_workflow_does_not_load_github3() -> None:
    """The workflow depends on the Forge protocol; only the CLI loads the GitHub client."""
    code = "import cfgctl.review.pullrequest, sys; print(sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(ast.literal_eval(out))
    assert not {"github3", "cfgctl.review.forge.github"} & loaded

"""The packages' layout: one class per name, no import cycle, smsapi at the bottom."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mockcarrier", "conformance", "smsapi", "loadtests", "reports", "benchmarks", "schemas")
BOTTOM = "smsapi"  # the protocol: everything else may import it, it imports none of them


def module_files(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name → file, for every module of the packages."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = module_files()
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_time_statements(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is imported: at module level, also inside if /
    try / with blocks and class bodies. Left out: imports inside functions (they run when
    the function is called, after every module has loaded, so they cannot deadlock an
    import; the project uses them to break cycles on purpose) and `if TYPE_CHECKING:`
    blocks (never run)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not is_type_checking(node.test):
                found += import_time_statements(node.body)
            found += import_time_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += import_time_statements(block)
            for handler in node.handlers:
                found += import_time_statements(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            found += import_time_statements(node.body)
    return found


def imported_modules(name: str, modules: dict[str, Path]) -> set[str]:
    """The project's modules that importing `name` imports directly."""
    path = modules[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in import_time_statements(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        base = package
        for _ in range(node.level - 1):  # from .. import: one package up per extra dot
            base = base.rpartition(".")[0]
        source = ".".join(p for p in (base if node.level else "", node.module or "") if p)
        # `from pkg import sub` imports the submodule pkg.sub; it needs pkg's __init__ to
        # have run only when it takes a name defined there
        subs = {f"{source}.{alias.name}" for alias in node.names} & modules.keys()
        targets.update(subs)
        if len(subs) < len(node.names):
            targets.add(source)
    return {t for t in targets if t in modules and t != name}


def import_graph(modules: dict[str, Path] = MODULES) -> dict[str, set[str]]:
    return {name: imported_modules(name, modules) for name in modules}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return found


def test_no_two_classes_of_the_packages_share_a_name() -> None:
    homes: dict[str, list[str]] = defaultdict(list)
    for name, tree in TREES.items():
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                homes[node.name].append(name)
    shared = {cls: where for cls, where in sorted(homes.items()) if len(where) > 1}
    assert shared == {}, "give each class a name that says what it is"


def test_no_import_cycle_among_the_modules() -> None:
    assert cycles(import_graph()) == []


def test_smsapi_imports_nothing_of_the_other_packages() -> None:
    above = {
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        if name.split(".")[0] == BOTTOM
        for target in targets
        if target.split(".")[0] != BOTTOM
    }
    # also imports inside functions: the bottom layer may not reach up at all
    for name, tree in TREES.items():
        if name.split(".")[0] != BOTTOM:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            above.update(f"{name} imports {r}" for r in roots & set(PACKAGES) - {BOTTOM})
    assert sorted(above) == []


def test_the_import_graph_finds_a_cycle_of_modules(tmp_path: Path) -> None:
    # admin ↔ admin_control as it was: a module-level import at the bottom of one module
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from .app import create\n")
    (package / "app.py").write_text("from . import admin\ndef create(): ...\n")
    (package / "admin.py").write_text("bp = 1\nfrom . import admin_control  # noqa\n")
    (package / "admin_control.py").write_text("from .admin import bp\n")
    (package / "lazy.py").write_text("def f():\n    from . import app\n")
    (package / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import app\n"
    )
    (package / "deep.py").write_text("from pkg import lazy, typed\n")
    graph = import_graph(module_files(tmp_path, ("pkg",)))
    assert cycles(graph) == [["pkg.admin", "pkg.admin_control"]]
    assert graph["pkg.app"] == {"pkg.admin"}  # the package itself is not needed
    assert graph["pkg.deep"] == {"pkg.lazy", "pkg.typed"}
    assert graph["pkg.lazy"] == graph["pkg.typed"] == set()


def test_the_cycle_finder_finds_a_cycle_and_only_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_resolves_relative_imports() -> None:
    graph = import_graph()
    assert "smsapi.fields" in graph["smsapi.timing"]  # from .fields import parse_time
    assert "mockcarrier.admin_api" in graph["mockcarrier.app"]  # from . import admin_api
    assert "conformance.config" in graph["conformance.checks.business"]  # from ..config

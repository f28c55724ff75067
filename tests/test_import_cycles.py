"""No import cycles between modules (docs/architecture.md), checked on grimp's import graph.

`lint-imports` (pyproject.toml, `[tool.importlinter]`) keeps the apps in their layers and
finds cycles between an app's modules; this test looks at every module of every app at
once, and holds the one exception to the letter: `<app>.services` may import `<app>.tasks`
(to schedule a task, which calls the service back) only inside a function, where the import
runs at call time, after both modules are loaded.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import grimp

APPS = ("yangquan_av", "subsidies", "trips", "routes", "operators", "core")


def is_function_level(module: str, line_number: int) -> bool:
    """Whether the import on `line_number` of `module` is indented (inside a def)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    line = Path(spec.origin).read_text(encoding="utf-8").splitlines()[line_number - 1]
    return line[:1].isspace()


def allowed(graph: grimp.ImportGraph, importer: str, imported: str) -> bool:
    """`<app>.services -> <app>.tasks` with every one of its imports inside a function."""
    app, _, name = importer.rpartition(".")
    if name != "services" or imported != f"{app}.tasks":
        return False
    details = graph.get_import_details(importer=importer, imported=imported)
    return all(is_function_level(importer, d["line_number"]) for d in details)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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
    return sorted(found)


def test_cycles_finds_a_loop_and_nothing_else() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = grimp.build_graph(*APPS, exclude_type_checking_imports=True)
    edges = {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if not allowed(graph, module, imported)
        }
        for module in graph.modules
    }
    assert cycles(edges) == []


def _imports_late() -> object:
    import json  # noqa: PLC0415 - looked for below

    return json


def test_an_import_counts_as_function_level_only_when_indented() -> None:
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    late = lines.index("    import json  # noqa: PLC0415 - looked for below")
    top = lines.index("import grimp")
    assert is_function_level(__name__, late + 1)
    assert not is_function_level(__name__, top + 1)


def test_only_services_importing_their_own_apps_tasks_may_close_a_cycle() -> None:
    graph = grimp.build_graph("trips", exclude_type_checking_imports=True)
    assert not allowed(graph, "trips.tasks", "trips.services")
    assert not allowed(graph, "trips.services", "subsidies.tasks")

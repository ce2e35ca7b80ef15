"""The house drawn from the imports: arrows point down (cli → search → indexer), no cycles, small rooms.

Read from the source with :mod:`ast`, so every import counts: those inside functions and those under
``TYPE_CHECKING`` (a type-only cycle still ties two modules together for a reader).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("indexer", "search", "cli")  # lowest first: a module may import only its own layer or lower
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_ROOM_SHARE = 0.20


@cache
def modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the three packages."""
    found: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


@cache
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text("utf-8"))


def imports_of(name: str) -> set[str]:
    """The project modules ``name`` imports, wherever the import statement stands."""
    mods = modules()
    out: set[str] = set()
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & mods.keys()
            out.update(submodules)
            if len(submodules) < len(node.names):  # a name defined in the module itself, not a submodule of it
                out.add(node.module)
    return {m for m in out if m in mods and m != name}


def layer(name: str) -> int:
    return PACKAGES.index(name.split(".")[0])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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


def room(name: str) -> str:
    """The folder a module lives in: ``search.query.parse`` → ``search/query``."""
    return "/".join(modules()[name].relative_to(REPO).parent.parts)


def test_arrows_point_down() -> None:
    upward = [f"{m} → {d}" for m in modules() for d in imports_of(m) if layer(d) > layer(m)]
    assert upward == []


def test_no_import_cycles() -> None:
    graph = {m: imports_of(m) for m in modules()}
    assert cycles(graph) == []


def test_modules_are_small() -> None:
    big = {m: n for m, p in modules().items() if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES}
    assert big == {}


def test_functions_are_short() -> None:
    long_ones = []
    for name in modules():
        if name.startswith("cli"):
            continue
        for node in ast.walk(tree(name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_ones.append(f"{name}.{node.name} ({length} lines)")
    assert long_ones == []


def test_no_room_holds_more_than_a_fifth_of_the_code() -> None:
    lines: dict[str, int] = {}
    for name, path in modules().items():
        lines[room(name)] = lines.get(room(name), 0) + len(path.read_text("utf-8").splitlines())
    total = sum(lines.values())
    crowded = {r: round(n / total, 3) for r, n in lines.items() if n / total > MAX_ROOM_SHARE}
    assert crowded == {}


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

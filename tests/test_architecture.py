"""The package's shape, as the guide draws it: no import cycles, imports only down the stages, small modules.

The import graph is read from the source with ``ast`` (nothing is imported): module-level and function-level
imports, relative imports resolved, ``from pkg import name`` taken as an import of the submodule ``pkg.name``
when there is one. Importing ``a.b.c`` from outside ``a.b`` also runs ``a/__init__`` and ``a/b/__init__``,
so those edges count for cycles too. Each failure lists every offending module or edge with file and line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "interview_mil"
SOURCE = Path(__file__).resolve().parents[1] / PACKAGE
MAX_LINES = 300

# The stages, lowest first (GUIDE.md, "The data flow"). A module may import modules of its own stage and of
# earlier ones; never of a later one, and never of another top-level part at the same rank (experiment and
# pipeline are siblings: pipeline scores audio without the experiment layer, which does not need pipeline).
# corpora sit above data: a corpus preparer builds the Interview records defined in data/.
RANK = {
    "": 0,
    "errors": 0,
    "registry": 0,
    "config": 0,
    "fileio": 0,  # the base every stage may use
    "ct2_models": 0,  # CTranslate2 Whisper folders by name: the recogniser (segmentation) and the encoder
    "data": 1,
    "corpora": 2,
    "segmentation": 3,
    "features": 4,
    "mil": 5,
    "explain": 6,
    "experiment": 7,
    "pipeline": 7,
    "demo": 8,
    "cli": 9,
    "__main__": 10,
}
BASE_RANK = 0
# mil/ is a generic MIL core (bags of vectors in, bag and instance scores out): no speech-specific stage.
FORBIDDEN = {"mil": {"corpora", "segmentation", "features", "explain", "experiment", "pipeline", "demo", "cli"}}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module of this package
    line: int
    runtime: bool  # False under ``if TYPE_CHECKING:`` (never executed)

    def where(self) -> str:
        path = module_files()[self.source].relative_to(SOURCE.parent)
        return f"{path}:{self.line}: {self.source} -> {self.target}"


def module_files() -> dict[str, Path]:
    """``{dotted module name: file}`` of every module of the package (``pkg/__init__.py`` is ``pkg``)."""
    out = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(module: str) -> bool:
    return module_files()[module].name == "__init__.py"


def _known(name: str) -> str:
    """The longest prefix of ``name`` that is a module of the package (``pkg.mod.attr`` → ``pkg.mod``)."""
    modules = module_files()
    while name not in modules:
        name = name.rpartition(".")[0]
    return name


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _with_parents(source: str, target: str) -> list[str]:
    """``target`` and the packages above it that importing it runs, leaving out the importer's own ancestors
    (already running) and the importer itself."""
    parts = target.split(".")
    chain = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    skip = _ancestors(source) | {source}
    return [m for m in chain if m == target or m not in skip]


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(module: str) -> list[Edge]:
    """Every import of a package module in ``module``'s source (anywhere in the file)."""
    modules = module_files()
    tree = ast.parse(modules[module].read_text(encoding="utf-8"))
    guarded = _type_checking_lines(tree)
    here = module if _is_package(module) else module.rpartition(".")[0]
    edges = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if origin.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                sub = f"{origin}.{alias.name}"
                targets.append(sub if sub in modules else origin)
        for target in targets:
            for imported in _with_parents(module, _known(target)):
                if imported != module:
                    edges.append(Edge(module, imported, node.lineno, node.lineno not in guarded))
    return edges


def import_graph() -> dict[str, list[Edge]]:
    return {module: imports_of(module) for module in module_files()}


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _cycle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest cycle through the first module of ``component`` (breadth-first inside it)."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return component


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_belongs_to_a_stage():
    unplaced = sorted({_stage(m) for m in module_files()} - set(RANK))
    assert not unplaced, f"top-level parts of {PACKAGE} in no stage of RANK (place them): {unplaced}"


def test_the_import_graph_sees_relative_and_function_level_imports():
    edges = {(e.source, e.target) for e in imports_of(f"{PACKAGE}.experiment.stages")}
    assert (f"{PACKAGE}.experiment.stages", f"{PACKAGE}.experiment.layout") in edges  # from .layout import
    assert (f"{PACKAGE}.experiment.stages", f"{PACKAGE}.segmentation") in edges  # inside a function


def test_the_cycle_finder_names_the_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _strongly_connected(graph) == [["a", "b", "c"]]
    assert _cycle_through(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    edges = [e for out in import_graph().values() for e in out if e.runtime]
    graph: dict[str, set[str]] = {m: set() for m in module_files()}
    for e in edges:
        graph[e.source].add(e.target)
    cycles = _strongly_connected(graph)
    report = []
    for component in cycles:
        members = set(component)
        inside = [e.where() for e in edges if e.source in members and e.target in members]
        report.append(
            f"cycle {' -> '.join(_cycle_through(graph, component))}\n  among {component}, through:\n    "
            + "\n    ".join(sorted(set(inside)))
        )
    assert not cycles, f"{len(cycles)} import cycle(s):\n" + "\n".join(report)


def test_imports_go_down_the_stages():
    bad = []
    for out in import_graph().values():
        for e in out:
            src, dst = _stage(e.source), _stage(e.target)
            if src == dst or (RANK[src] == RANK[dst] == BASE_RANK):
                continue
            if RANK[src] <= RANK[dst]:
                bad.append(f"{e.where()}  ({src or PACKAGE} may not import {dst or PACKAGE})")
            elif dst in FORBIDDEN.get(src, ()):
                bad.append(f"{e.where()}  ({src} is a generic core and may not import {dst})")
    assert not bad, f"{len(bad)} import(s) against the stage order of GUIDE.md:\n" + "\n".join(sorted(set(bad)))


def test_modules_stay_small():
    long = sorted((len(path.read_text(encoding="utf-8").splitlines()), name) for name, path in module_files().items())
    over = [f"{module_files()[name].relative_to(SOURCE.parent)}: {n} lines" for n, name in long if n > MAX_LINES]
    assert not over, f"modules over {MAX_LINES} lines (split them):\n" + "\n".join(over)

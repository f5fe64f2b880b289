"""The package's import graph keeps its layers and has no cycle (read from the source with `ast`).

Every `import` counts: at module level, inside functions (imported later, still a dependency)
and under `if TYPE_CHECKING:` (a type-only cycle still couples the two modules). Importing
`a.b.c` also runs the `__init__` of `a.b`, so those parent packages count as targets too.
docs/architecture.md draws the same layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import licensewatch

PACKAGE = Path(licensewatch.__file__).parent
ROOT = "licensewatch"

# The layers, lowest first: a package may import packages of a lower layer (and itself), never
# one of its own layer or above. Keys are `licensewatch.<key>` (a sub-package or a module).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"basic_settings"}),  # home, database URL, logging: what `settings` extends
    frozenset({"", "domain", "settings"}),  # "" is licensewatch/__init__.py (the version)
    frozenset(
        {"security", "tabular", "quick_settings"}
    ),  # secrets at rest, cell rule: below storage
    frozenset({"storage", "graph", "logging_setup"}),  # graph never touches the database
    frozenset({"services", "observability"}),
    frozenset({"sync", "intelligence"}),  # siblings: the CLI and web app hand alerts to sync
    frozenset({"web"}),
    frozenset({"cli"}),  # `serve` and `demo` start the web app
    frozenset({"__main__"}),
)
# The emulator stands apart: it imports only `domain`, and only the CLI starts it.
APART = {"emulator": {"domain"}}
APART_USERS = {"emulator": {"cli"}}
# Edges allowed against the rule above, each with its reason. Keep this empty or nearly so.
EXCEPTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True, slots=True)
class Edge:
    source: str  # module name
    target: str  # module or package name
    line: int
    how: str  # "module", "function" or "type-only"

    def __str__(self) -> str:
        return f"{self.source}:{self.line} -> {self.target} ({self.how})"


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def _targets(module: str, node: ast.ImportFrom) -> Iterator[str]:
    if node.level:
        is_package = MODULES[module].name == "__init__.py"
        base = module.split(".")[: None if is_package else -1]
        base = base[: len(base) - node.level + 1]
        prefix = ".".join([*base, *([node.module] if node.module else [])])
    else:
        prefix = node.module or ""
    for alias in node.names:
        name = f"{prefix}.{alias.name}"
        yield name if name in MODULES else prefix


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(module: str, node: ast.AST, how: str) -> Iterator[Edge]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield Edge(module, alias.name, child.lineno, how)
        elif isinstance(child, ast.ImportFrom):
            for target in _targets(module, child):
                yield Edge(module, target, child.lineno, how)
        elif isinstance(child, ast.If) and _is_type_checking(child):
            yield from _imports(module, ast.Module(body=child.body, type_ignores=[]), "type-only")
            yield from _imports(module, ast.Module(body=child.orelse, type_ignores=[]), how)
        else:
            inner = "function" if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else how
            yield from _imports(module, child, inner if how == "module" else how)


def edges() -> list[Edge]:
    """Every import of a licensewatch module by a licensewatch module."""
    found: list[Edge] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for edge in _imports(module, tree, "module"):
            if edge.target == ROOT or edge.target.startswith(ROOT + "."):
                found.append(edge)
    return found


EDGES = edges()


def unit(module: str) -> str:
    """`licensewatch.storage.models.runs` → `storage`; `licensewatch` → ``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(name: str) -> int:
    for index, names in enumerate(LAYERS):
        if name in names:
            return index
    raise AssertionError(f"licensewatch.{name} is in no layer: add it to LAYERS or APART")


def test_every_package_has_a_place() -> None:
    for module in MODULES:
        name = unit(module)
        assert name in APART or layer(name) >= 0


def test_imports_point_down_the_layers() -> None:
    wrong: list[str] = []
    for edge in EDGES:
        source, target = unit(edge.source), unit(edge.target)
        if source == target or (source, target) in EXCEPTIONS:
            continue
        if source in APART:
            allowed = target in APART[source]
        elif target in APART:
            allowed = source in APART_USERS[target]
        else:
            allowed = layer(target) < layer(source)
        if not allowed:
            wrong.append(str(edge))
    assert wrong == [], "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_graph_never_touches_the_database() -> None:
    found = [e for e in EDGES if unit(e.source) == "graph" and unit(e.target) == "storage"]
    assert [str(e) for e in found] == []


def test_exceptions_are_still_needed() -> None:
    used = {(unit(e.source), unit(e.target)) for e in EDGES}
    assert [pair for pair in EXCEPTIONS if pair not in used] == []


def _adjacency(level: str) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for edge in EDGES:
        targets = {edge.target}
        # `import a.b.c` runs a/b/__init__.py first: a dependency unless `a.b` encloses the source.
        parts = edge.target.split(".")
        for end in range(2, len(parts)):
            parent = ".".join(parts[:end])
            if not edge.source.startswith(parent + ".") and edge.source != parent:
                targets.add(parent)
        for target in targets:
            source, target = (
                (unit(edge.source), unit(target)) if level == "package" else (edge.source, target)
            )
            if target != source:
                graph.setdefault(source, set()).add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for next_node in sorted(graph.get(node, ())):
            if next_node not in index:
                visit(next_node)
                low[node] = min(low[node], low[next_node])
            elif next_node in on_stack:
                low[node] = min(low[node], index[next_node])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_modules() -> None:
    assert cycles(_adjacency("module")) == []


def test_no_cycle_between_packages() -> None:
    assert cycles(_adjacency("package")) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_function_local_and_type_only_imports_are_seen() -> None:
    # Known edges of each kind, so a parser change that stops seeing them fails here.
    hows = {(e.source, e.target): e.how for e in EDGES}
    assert hows[("licensewatch.cli.balance", "licensewatch.cli.database")] == "function"
    assert "type-only" in {e.how for e in EDGES}


def test_no_import_by_name_string() -> None:
    # A module named in a string escapes this test and fails silently when renamed. The CLI's
    # lazy COMMANDS table is the one use; tests/cli/test_cli_docs.py loads every entry.
    users = [m for m, p in MODULES.items() if "import_module(" in p.read_text(encoding="utf-8")]
    assert users == ["licensewatch.cli.lazy"]

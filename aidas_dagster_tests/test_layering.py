"""The package's house plan, read from its own imports: every import points down a floor, no two
modules import each other round a circle, and no `aidas_dagster` import hides inside a function.

Floors, lowest first: core < the floor's Dagster pieces (top-level partitions, resources, steps) <
story < voice < picture < publish < operations < definitions < cli. A module may import its own
floor and any lower one. The modules are parsed with `ast`, nothing is imported, so a failure names
the file, the line and the imported module even when the package would not import.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import aidas_dagster

PACKAGE = "aidas_dagster"
ROOT = Path(aidas_dagster.__file__).resolve().parent

# The top-level helpers are Dagster pieces every stage's definition modules use: they import only
# core, and sit on a floor of their own just above it so core stays free of Dagster partitions.
FLOORS = (
    ("core",),
    ("partitions", "resources", "steps"),
    ("story",),
    ("voice",),
    ("picture",),
    ("publish",),
    ("operations",),
    ("definitions",),
    ("cli",),
)
FLOOR_OF = {part: level for level, parts in enumerate(FLOORS) for part in parts}


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    path: Path
    line: int
    target: str  # imported module, dotted
    local: bool  # inside a function body


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> list[Import]:
    source = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            local = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                        found.append(Import(source, path, child.lineno, alias.name, in_function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = source.split(".")
                    if path.name != "__init__.py":
                        base = base[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    name = ".".join(base + ([child.module] if child.module else []))
                else:
                    name = child.module or ""
                if name == PACKAGE or name.startswith(PACKAGE + "."):
                    for alias in child.names:
                        sub = f"{name}.{alias.name}"
                        target = sub if sub in modules else name
                        found.append(Import(source, path, child.lineno, target, in_function))
            visit(child, local)

    visit(tree, False)
    return found


def floor_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself
    return FLOOR_OF.get(parts[1])


@functools.cache
def every_import() -> tuple[Import, ...]:
    modules = all_modules()
    return tuple(imp for path in modules.values() for imp in imports_of(path, modules))


def where(imp: Import) -> str:
    return f"{imp.path.relative_to(ROOT.parent)}:{imp.line} imports {imp.target}"


def test_every_module_has_a_floor():
    unplaced = [m for m in all_modules() if m != PACKAGE and floor_of(m) is None]
    assert not unplaced, f"modules on no floor (add them to FLOORS): {unplaced}"


def test_imports_point_down():
    upward = sorted({
        where(imp) + f" (floor {FLOORS[floor_of(imp.target)][0]} is above {FLOORS[floor_of(imp.source)][0]})"
        for imp in every_import()
        if floor_of(imp.target) is not None and floor_of(imp.target) > floor_of(imp.source)
    })
    assert not upward, "imports from a higher floor:\n" + "\n".join(upward)


def test_no_import_inside_a_function():
    local = sorted({where(imp) for imp in every_import() if imp.local})
    assert not local, "aidas_dagster imports inside functions (move them to the module's top):\n" + "\n".join(local)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return out


def test_no_import_circle():
    imports = every_import()
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target != imp.source:
            graph.setdefault(imp.source, set()).add(imp.target)
    circles = _cycles(graph)
    lines = []
    for circle in circles:
        members = set(circle)
        lines.append(" <-> ".join(circle))
        lines += [f"  {where(imp)}" for imp in imports if imp.source in members and imp.target in members]
    assert not circles, "import circles:\n" + "\n".join(lines)


def test_the_check_sees_an_upward_and_a_local_import(tmp_path):
    """The checks can fail: a story module importing voice inside a function is caught twice."""
    story = tmp_path / PACKAGE / "story"
    story.mkdir(parents=True)
    bad = story / "bad.py"
    bad.write_text("def f():\n    from aidas_dagster.voice.casting import cast_voices\n", encoding="utf-8")
    global ROOT
    saved = ROOT
    ROOT = tmp_path / PACKAGE
    try:
        modules = {"aidas_dagster.story.bad": bad, "aidas_dagster.voice.casting": bad}
        (imp,) = imports_of(bad, modules)
    finally:
        ROOT = saved
    assert imp.local and imp.line == 2 and imp.target == "aidas_dagster.voice.casting"
    assert floor_of(imp.target) > floor_of(imp.source)
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]

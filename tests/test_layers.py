"""The house runs one way down: every module imports only its own layer or the layers below it, there is no
import cycle, and our own modules are imported at the top of a module (never inside a function), so the
import drawing in docs/DESIGN.md is the whole truth (``python -m tests.test_layers`` prints it)."""

import ast
import pathlib
from collections import defaultdict

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "difcon_jax"

#: bottom to top; a module may import its own layer and anything below
LAYERS = [
    ["errors"],
    ["files", "deadline"],
    ["crystal"],
    ["configs", "config", "grid", "checkpoint"],
    ["data"],
    ["augment"],
    ["patterns"],
    ["models"],
    ["inference"],
    ["train"],
    ["evaluate"],
    ["match"],
    ["jobs"],
    ["cli", "__main__"],
]
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}
#: the package root is the public facade (``difcon_jax.identify``): it imports match lazily, so that
#: ``import difcon_jax.crystal`` loads nothing above the crystal layer
FACADE = "difcon_jax"


def _module_name(path: pathlib.Path) -> str:
    parts = ("difcon_jax",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph():
    """({module: {imported own modules}}, [(module, line, imported) inside functions])."""
    edges, inner = defaultdict(set), []
    for path in sorted(PACKAGE.rglob("*.py")):
        mod = _module_name(path)
        tree = ast.parse(path.read_text())
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        in_function = {id(s) for f in functions for s in ast.walk(f)}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("difcon_jax"):
                # `from pkg import submodule` depends on the submodule; `from pkg import name` on pkg itself
                subs = [f"{node.module}.{a.name}" for a in node.names if _is_module(f"{node.module}.{a.name}")]
                names = subs if len(subs) == len(node.names) else [node.module] + subs
                if node.module == FACADE:  # `from difcon_jax import x` reads as an import of the root package
                    names.append(FACADE)
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("difcon_jax")]
            for name in names:
                if _is_module(name):
                    edges[mod].add(name)
                    if id(node) in in_function:
                        inner.append((mod, node.lineno, name))
    return edges, inner


def _is_module(name: str) -> bool:
    rel = pathlib.Path(*name.split(".")[1:])
    if name == "difcon_jax":
        return True
    if name.startswith("difcon_jax.configs"):  # configs/ ships as difcon_jax.configs (pyproject package-dir)
        return name == "difcon_jax.configs" or (PACKAGE.parent / "configs" / f"{name.split('.')[-1]}.py").exists()
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


def _part(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else FACADE


def test_imports_run_one_way_down():
    edges, _ = import_graph()
    upward = [(a, b) for a, bs in edges.items() for b in bs
              if _part(a) != FACADE and _part(b) != FACADE and LEVEL[_part(b)] > LEVEL[_part(a)]]
    assert not upward, upward
    unknown = sorted({_part(m) for m in edges} - set(LEVEL) - {FACADE})
    assert not unknown, f"modules outside LAYERS: {unknown}"


def test_nothing_imports_the_facade():
    """The package root stands above every layer (it re-exports ``identify``): a module importing it
    (``from difcon_jax import checkpoint``) would make a package cycle through the root."""
    edges, _ = import_graph()
    assert sorted(a for a, bs in edges.items() if FACADE in bs and a != FACADE) == []


def test_no_import_cycle():
    edges, _ = import_graph()
    graph = {a: {b for b in bs if b != a and b != FACADE} for a, bs in edges.items()}
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, cycles


def test_own_modules_are_imported_at_the_top():
    _, inner = import_graph()
    assert [(m, line, name) for m, line, name in inner if m != FACADE] == []


def drawing() -> str:
    """The package-level import graph as Mermaid (docs/DESIGN.md), layers top to bottom."""
    edges, _ = import_graph()
    pe = defaultdict(set)
    for a, bs in edges.items():
        for b in bs:
            if _part(a) != _part(b) and FACADE not in (_part(a), _part(b)):
                pe[_part(a)].add(_part(b))
    # keep only the edges not implied through another package (transitive reduction) for a readable picture
    def reach(x, seen=None):
        seen = seen or set()
        for y in pe.get(x, ()):
            if y not in seen:
                seen.add(y)
                reach(y, seen)
        return seen
    lines = ["flowchart TD"]
    for a in sorted(pe, key=lambda p: -LEVEL[p]):
        for b in sorted(pe[a], key=lambda p: -LEVEL[p]):
            if not any(b in reach(c) for c in pe[a] if c != b):
                lines.append(f"  {a.strip('_')} --> {b}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(drawing())

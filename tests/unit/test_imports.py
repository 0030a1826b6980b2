"""The import graph of the two packages: no cycles, and the library never imports the
simulator (only the CLI, which wires the two, and the tests do)."""

import ast
from pathlib import Path

INCLUDE = Path(__file__).parents[2] / "include"
PACKAGES = ("omnichannel", "omnisim")


def module_name(path: Path) -> str:
    parts = path.relative_to(INCLUDE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every module of ours `path` imports, at the top or inside a function (an import
    hidden in a function is still a dependency)."""
    found = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + [base]
                )
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node except those under `if TYPE_CHECKING:` (imports for annotations only,
    which never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test).endswith("TYPE_CHECKING"):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def graph() -> dict[str, set[str]]:
    paths = [p for package in PACKAGES for p in (INCLUDE / package).rglob("*.py")]
    modules = {module_name(p) for p in paths}
    edges = {}
    for path in paths:
        name = module_name(path)
        edges[name] = {
            m for m in imports_of(path, modules) if m != name and not name.startswith(m + ".")
        }
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_library_never_imports_the_simulator():
    edges = graph()
    offenders = {
        module: sorted(m for m in imported if m.split(".")[0] == "omnisim")
        for module, imported in edges.items()
        if module.split(".")[0] == "omnichannel" and not module.startswith("omnichannel.cli")
    }
    assert {m: i for m, i in offenders.items() if i} == {}


def test_the_graph_sees_imports_inside_functions():
    edges = graph()
    # the CLI imports the simulator only inside its commands: the test must see those
    assert any(m.startswith("omnisim") for m in edges["omnichannel.cli.simulate"])
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_test_module_imports_another():
    tests = INCLUDE.parent / "tests"
    offenders = {}
    for path in tests.rglob("*.py"):
        for node in _runtime_nodes(ast.parse(path.read_text())):
            module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            if module.startswith("tests.") and not module.startswith("tests.helpers"):
                offenders.setdefault(str(path.relative_to(tests)), []).append(module)
    assert offenders == {}

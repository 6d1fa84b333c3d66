"""The package's layers (docs: CONTRIBUTING.md): nothing imports from a layer above its own, and no two
packages import each other. Every import counts, the lazy ones inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Bottom first. Packages on one level may import each other only one way (the cycle test below).
LAYERS: dict[str, int] = {
    "constructs_lib.errors": 0,
    "constructs_lib.aws_names": 0,
    "constructs_lib.deprecation": 0,
    "constructs_lib.files": 0,
    "constructs_lib.records": 0,
    "constructs_lib.patterns": 0,
    "constructs_lib.catalog": 1,
    "constructs_lib.rules": 2,
    "constructs_lib.table": 2,
    "constructs_lib.props": 2,
    "constructs_lib.constructs": 3,
    "constructs_lib.synth": 3,
    "constructs_lib.hook": 3,
    "constructs_lib.surfaces": 3,
    "constructs_lib.client": 3,
    "constructs_lib.cli": 4,
    "constructs_lib.runtime": 4,  # the deprecated alias of constructs_lib.client.runtime
    "stacks": 4,
    "app": 5,
}


def _unit(module: str) -> str | None:
    """The layered unit a dotted module name belongs to (its longest prefix in LAYERS)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in LAYERS:
            return name
    return None


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _imports(path: Path, *, at_run_time: bool = False) -> set[str]:
    """The modules a file imports; ``at_run_time``: not those under ``if TYPE_CHECKING:`` (for type checkers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if at_run_time:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _edges() -> set[tuple[str, str, str]]:
    """(importing unit, imported unit, importing file) for every import across units."""
    sources = [ROOT / "app.py", *(ROOT / "stacks").rglob("*.py"), *(ROOT / "constructs_lib").rglob("*.py")]
    edges = set()
    for path in sources:
        if "handlers" in path.parts:  # Lambda handler files: top-level modules of their own bundle
            continue
        importer = _unit(_module_name(path))
        if importer is None:  # constructs_lib/__init__.py: lazy public names only
            continue
        for name in _imports(path):
            imported = _unit(name)
            if imported is not None and imported != importer:
                edges.add((importer, imported, str(path.relative_to(ROOT))))
    return edges


def test_every_module_has_a_layer() -> None:
    modules = [_module_name(p) for p in (ROOT / "constructs_lib").rglob("*.py") if "handlers" not in p.parts]
    unlayered = [m for m in modules if m != "constructs_lib" and _unit(m) is None]
    assert unlayered == []


def test_no_layer_imports_from_above() -> None:
    upward = sorted(f"{source}: {importer} -> {imported}" for importer, imported, source in _edges()
                    if LAYERS[imported] > LAYERS[importer])
    assert upward == []


@pytest.mark.parametrize("level", sorted(set(LAYERS.values())))
def test_packages_on_one_level_do_not_import_each_other_both_ways(level: int) -> None:
    pairs = {(importer, imported) for importer, imported, _ in _edges()
             if LAYERS[importer] == LAYERS[imported] == level}
    assert sorted(pair for pair in pairs if pair[::-1] in pairs) == []


def test_the_rule_engine_and_the_cli_checks_do_not_need_jsii() -> None:
    """``eulagate check`` and ``plan`` run where aws-cdk-lib is not installed (pre-commit): no aws_cdk below."""
    light = ("constructs_lib.errors", "constructs_lib.aws_names", "constructs_lib.files", "constructs_lib.catalog",
             "constructs_lib.rules", "constructs_lib.table", "constructs_lib.surfaces", "constructs_lib.props")
    heavy = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "constructs_lib").rglob("*.py")
                   if _unit(_module_name(path)) in light
                   and any(name.split(".")[0] in {"aws_cdk", "jsii", "constructs", "cdk_nag"}
                           for name in _imports(path, at_run_time=True)))
    assert heavy == []


def _module_graph() -> dict[str, set[str]]:
    """Each module of the package -> the modules of the package it imports (lazy imports inside functions too;
    ``from package import name`` counts as importing the module ``package.name`` when there is one)."""
    paths = {_module_name(path): path for path in (ROOT / "constructs_lib").rglob("*.py")
             if "handlers" not in path.parts}
    return {module: {name for name in _imports(path) if name in paths and name != module}
            for module, path in paths.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
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


def test_no_module_imports_another_in_a_circle() -> None:
    """Between modules, not only packages: a circle through imports inside functions counts too."""
    assert _cycles(_module_graph()) == []


def test_the_cycle_check_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_inside_the_rule_engine_evaluation_is_below_detection_and_detection_below_the_rules() -> None:
    """``rules/evaluation`` (values, intrinsics, conditions) imports nothing of request detection or the rules;
    ``rules/detection`` nothing of the rules (the ``eula0NN`` modules, the engine, what they share)."""
    order = {"constructs_lib.rules.evaluation": 0, "constructs_lib.rules.detection": 1}
    upward = []
    for module, imported in _module_graph().items():
        level = next((rank for prefix, rank in order.items() if module.startswith(prefix)), None)
        if level is None:
            continue
        for name in imported:
            if not name.startswith("constructs_lib.rules"):
                continue
            target = next((rank for prefix, rank in order.items() if name.startswith(prefix)), 2)
            if target > level:
                upward.append(f"{module} -> {name}")
    assert sorted(upward) == []

"""The package layout shows the pipeline: imports point one way, and no module imports itself back.

    generator (diagnostics, progress, parallel, policy) <- content <- site <- pages <- output <- engine <- commands

A module may import from its own package and from those before it, never from one after it
(an import inside a function counts too); and the modules' imports make no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

LAYERS = ["generator", "content", "site", "pages", "output", "engine", "commands"]
PACKAGE = REPO / "generator"


def _name(path: Path) -> str:
    return ".".join(("generator", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    parts = module.split(".")
    if module == "generator.__main__":
        return len(LAYERS)  # the entry point: above everything
    return LAYERS.index(parts[1]) if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else 0


def _imports(path: Path) -> set[str]:
    """The generator modules a file imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("generator"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("generator") and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return {m for m in found if m in MODULES}


GRAPH = {module: _imports(path) - {module} for module, path in MODULES.items()}


def test_every_module_is_in_a_layer() -> None:
    strays = [m for m in MODULES if m.count(".") == 1 and m.split(".")[1] not in LAYERS
              and m.split(".")[1] not in ("__init__", "__main__", "diagnostics", "progress", "parallel", "policy")]
    assert not strays, f"modules outside the pipeline's packages: {strays}"


def test_imports_point_one_way() -> None:
    upward = sorted(f"{m} imports {d}" for m, deps in GRAPH.items() for d in deps
                    if _layer(d) > _layer(m) and d != "generator")
    assert not upward, "imports going back up the pipeline:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for dep in sorted(GRAPH[module] - {"generator"}):
            if state.get(dep) == 1:
                cycles.append(trail[trail.index(dep):] + [dep] if dep in trail else [module, dep])
            elif dep not in state:
                visit(dep, trail + [dep])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The walk finds imports anywhere in a file, so the checks above can fail."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from generator.engine.build import build\n    import generator.commands.cli\n")
    assert _imports(sample) == {"generator.engine.build", "generator.commands.cli"}


def test_only_the_edge_sets_the_collector_policy() -> None:
    """The stages never touch the garbage collector: the commands' policy does (generator/policy.py)."""
    touching = []
    for module, path in MODULES.items():
        if _layer(module) in range(1, LAYERS.index("commands")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            if "gc" in names:
                touching.append(module)
    assert not touching, f"stages that set the collector's policy themselves: {touching}"


def test_the_collector_policy_gives_everything_back() -> None:
    import gc

    from generator.commands.policy import CollectorPolicy

    before = gc.get_threshold()
    policy = CollectorPolicy()
    policy.started()
    kept = [object() for _ in range(10)]
    policy.settled()
    assert gc.get_freeze_count() >= 10 and gc.get_threshold() != before
    with policy.bulk():
        assert not gc.isenabled()
    assert gc.isenabled()
    policy.ended()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    del kept


def test_the_collector_policy_while_reporting_gives_everything_back() -> None:
    import gc

    from generator.commands.policy import CollectorPolicy

    before = gc.get_threshold()
    with CollectorPolicy().reporting():
        assert gc.get_freeze_count() > 0 and gc.get_threshold() != before
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before

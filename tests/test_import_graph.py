"""The package's layers: no import cycle and no upward import, counting every import.

Imports inside functions and under ``TYPE_CHECKING`` count as much as module-level ones: a
cycle or an upward dependency hidden in a function is still one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "socialsim"

# Each layer may import itself and the layers listed for it (docs/architecture.md).
ALLOWED = {
    "core": {"core"},
    "llm": {"core", "llm"},
    "agents": {"core", "llm", "agents"},
    "simulation": {"core", "llm", "agents", "simulation"},
    "analysis": {"core", "analysis"},
    "scenarios": {"core", "llm", "agents", "simulation", "analysis", "scenarios"},
    "experiments": {"core", "llm", "agents", "simulation", "analysis", "scenarios", "experiments"},
}
ENTRY_POINTS = {
    "socialsim",
    "socialsim.cli",
    "socialsim.cli_errors",
    "socialsim.cli_output",
    "socialsim.testing",
    "socialsim.__main__",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    """The layer of a module: its first package under socialsim, or "entry"."""
    if module in ENTRY_POINTS or module.startswith("socialsim.dashboard"):
        return "entry"
    return module.split(".")[1]


def _exists(module: str) -> bool:
    base = PACKAGE.parent / module.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def all_imports(path: Path) -> set[str]:
    """socialsim modules `path` imports anywhere: module level, functions, TYPE_CHECKING."""
    module = module_name(path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            target = _absolute(node, module, path.name == "__init__.py")
            if not target.startswith("socialsim"):
                continue
            found.add(target)
            for alias in node.names:  # `from socialsim.x import y` may import module x.y
                if _exists(f"{target}.{alias.name}"):
                    found.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("socialsim")}
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        graph.add_node(name)
        for target in all_imports(path):
            own_package = name.startswith(target + ".") and target != "socialsim"
            if target != name and not own_package:  # importing x.y runs x's __init__ anyway
                graph.add_edge(name, target)
    return graph


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    found = import_graph()
    assert found.number_of_edges() > 100  # the imports were read
    assert found.has_edge("socialsim.simulation.model", "socialsim.simulation.config")
    return found


def test_every_module_sits_in_a_known_layer(graph):
    unknown = sorted(m for m in graph if layer(m) not in ALLOWED and layer(m) != "entry")
    assert unknown == [], f"modules outside the layers: {unknown}"


def test_no_import_cycle_between_modules(graph):
    cycles = sorted(nx.simple_cycles(graph, length_bound=12), key=len)
    assert cycles == [], f"{len(cycles)} import cycles, e.g. {cycles[:5]}"


def test_no_upward_import(graph):
    upward = sorted(
        f"{a} -> {b}"
        for a, b in graph.edges
        if layer(a) != "entry" and layer(a) in ALLOWED and layer(b) not in ALLOWED[layer(a)]
    )
    assert upward == [], f"{len(upward)} upward imports:\n" + "\n".join(upward)


def test_the_check_sees_function_level_and_type_checking_imports(tmp_path, monkeypatch):
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from socialsim.simulation.model import SocialModel\n"
        "def f():\n    from socialsim.experiments import runner\n"
    )
    path = PACKAGE / "core" / "errors.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert all_imports(path) >= {"socialsim.simulation.model", "socialsim.experiments.runner"}


FIRST_IMPORTS = [
    "socialsim.simulation.model", "socialsim.scenarios.persuasion", "socialsim.analysis.summarize",
    "socialsim.core.registry", "socialsim.simulation.config", "socialsim.agents.policies.llm_params",
    "socialsim.experiments.runner", "socialsim.core.rundata",
]  # fmt: skip


@pytest.mark.slow
def test_modules_import_first_in_a_fresh_interpreter():
    started = {
        module: subprocess.Popen(
            [sys.executable, "-c", f"import {module}"], stderr=subprocess.PIPE, text=True
        )
        for module in FIRST_IMPORTS
    }  # each in its own interpreter, all at once
    failed = {m: p.communicate()[1][-2000:] for m, p in started.items()}
    failed = {m: err for m, err in failed.items() if started[m].returncode != 0}
    assert failed == {}

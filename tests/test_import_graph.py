"""The package's module-level imports form no cycle (each module can be imported first)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "socialsim"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """socialsim modules imported at module level (not under TYPE_CHECKING, not in functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]:
            if isinstance(sub, ast.ImportFrom) and sub.module and sub.level == 0:
                if sub.module.startswith("socialsim"):
                    found.add(sub.module)
                    for alias in sub.names:  # `from socialsim.x import y` may import module x.y
                        candidate = f"{sub.module}.{alias.name}"
                        if (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists():
                            found.add(candidate)
            elif isinstance(sub, ast.Import):
                found |= {a.name for a in sub.names if a.name.startswith("socialsim")}
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        graph.add_node(name)
        for target in top_level_imports(path):
            if target != name and not name.startswith(target + "."):  # a package's own __init__
                graph.add_edge(name, target)
    return graph


def test_no_import_cycle_between_modules():
    graph = import_graph()
    assert graph.number_of_edges() > 100  # the imports were read
    assert graph.has_edge("socialsim.simulation.model", "socialsim.simulation.config")
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"import cycles: {cycles[:5]}"


@pytest.mark.parametrize(
    "module",
    ["socialsim.simulation.model", "socialsim.scenarios.debate", "socialsim.analysis.summarize",
     "socialsim.registry", "socialsim.simulation.config", "socialsim.agents.policies.llm_params"],
)  # fmt: skip
def test_modules_import_first_in_a_fresh_interpreter(module):
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]

"""Every Python example in examples/ runs from a fresh folder and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: what each example must print (a line fragment), so a silent failure cannot pass
PROMISES = {
    "custom_policy.py": "share of agents at an extreme",
    "custom_network.py": "ring_of_cliques",
    "custom_scenario.py": "treatment: pundit's neighbours",
    "model_by_hand.py": "steps run",
    "sweep_custom_parameter.py": "agents.params.backfire_at",
    "sweep_network_structure.py": "wrote",
}


def test_every_example_has_a_promise():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(PROMISES)


@pytest.mark.parametrize("name", sorted(PROMISES))
@pytest.mark.slow
def test_example_runs(name, tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), str(tmp_path / "out")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert PROMISES[name] in done.stdout, done.stdout[-2000:]

"""Shared fixtures: small configs that run in well under a second on rule policies."""

import pytest

from socialsim.simulation.config import ExperimentConfig


@pytest.fixture
def rule_cfg(tmp_path):
    """A 60-agent independent-cascade run on a BA graph, outputs under tmp_path."""

    def make(**overrides):
        data = {
            "name": "t",
            "seed": 5,
            "steps": 4,
            "population": {"size": 60},
            "network": {"kind": "barabasi_albert", "params": {"m": 2}},
            "agents": {
                "policy": "independent_cascade",
                "params": {"p": 0.4, "initial": "seeded", "seed_fraction": 0.05},
            },
            "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
            "output": {"dir": str(tmp_path / "runs"), "report": False},
        }
        cfg = ExperimentConfig.from_dict(data)
        return cfg.with_overrides(overrides) if overrides else cfg

    return make

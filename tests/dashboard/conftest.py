"""Fixtures of the dashboard tests: a small rule config and a finished run of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

import socialsim

# Mesa's ComponentsView calls a hook after an early return, which solara's hook check (read
# when solara is imported) warns about; the served page sets the check off too.
os.environ.setdefault("SOLARA_CHECK_HOOKS", "off")

CONFIG = {
    "name": "dash",
    "seed": 3,
    "steps": 4,
    "population": {"size": 12},
    "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
    "agents": {"policy": "degroot"},
    "claims": [{"id": "c1", "text": "The claim."}],
    "output": {"report": False},
}


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A rule-policy config file."""
    path = tmp_path / "dash.yaml"
    path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    return path


@pytest.fixture
def run_dir(tmp_path: Path, config_path: Path) -> Path:
    """The run directory of the config, made by socialsim.run."""
    out = tmp_path / "run"
    socialsim.run(config_path, out=out, overrides=["agents.policy=voter"])
    return out

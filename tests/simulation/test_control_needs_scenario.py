"""A control arm needs a scenario to remove; the CLI suggests one only where there is one."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from socialsim.cli import app, main
from socialsim.core.errors import ConfigError
from socialsim.simulation.config import ExperimentConfig

BASE = {
    "name": "ctl",
    "seed": 1,
    "steps": 2,
    "population": {"size": 10},
    "network": {"kind": "ring", "params": {"k": 2}},
    "agents": {"policy": "degroot"},
}
MISINFORMATION = {"kind": "misinformation", "params": {"attackers": {"count": 1}}}
COLLABORATION = {"kind": "collaboration", "params": {"trials_per_step": 1}}


def _yaml(tmp_path, **extra) -> str:
    path = tmp_path / "c.yaml"
    cfg = ExperimentConfig.from_dict(
        {**BASE, **extra, "output": {"dir": str(tmp_path / "runs"), "report": False}}
    )
    path.write_text(cfg.to_yaml())
    return str(path)


def test_control_without_a_scenario_is_a_config_error_that_says_why():
    with pytest.raises(ConfigError, match=r"no scenario \(scenario.kind: none\)") as err:
        ExperimentConfig.from_dict({**BASE, "control": True})
    assert "both arms would be the same run" in str(err.value)
    assert "\n" not in str(err.value)
    # with a scenario it is fine, and so is a scenario-less run without control
    assert ExperimentConfig.from_dict({**BASE, "control": True, "scenario": MISINFORMATION})
    assert not ExperimentConfig.from_dict(BASE).control


def test_cli_control_flag_without_a_scenario_exits_2_and_writes_nothing(
    tmp_path, monkeypatch, capsys
):
    config = _yaml(tmp_path)
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["socialsim", "run", config, "--control", "--out", str(out)])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "both arms would be the same run" in err and len(err.splitlines()) == 1
    assert not out.exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("scenario", "suggested"),
    [(None, False), (COLLABORATION, False), (MISINFORMATION, True)],
)
@pytest.mark.slow
def test_control_is_suggested_only_for_a_scenario_with_a_manipulation(
    tmp_path, scenario, suggested
):
    plain = {"claims": [{"id": "c1", "text": "The river is poisoned."}]}  # something to update
    extra = {"scenario": scenario} if scenario else plain
    config = _yaml(tmp_path, **extra)
    result = CliRunner().invoke(app, ["run", config, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert ("add --control" in result.output) == suggested

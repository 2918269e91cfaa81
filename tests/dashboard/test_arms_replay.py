"""A treatment and its control replayed side by side: the curves, the effect, the page."""

from __future__ import annotations

import numpy as np
import pytest

import socialsim
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import load_run
from socialsim.dashboard.arms_replay import (
    ArmsReplay,
    arms_curves,
    arms_figure,
    effect_line,
    paired_seeds,
)
from socialsim.dashboard.target import resolve_target
from socialsim.simulation.config import ExperimentConfig

pytestmark = pytest.mark.slow  # module fixtures build whole runs

CONFIG = {
    "name": "pair",
    "seed": 3,
    "steps": 3,
    "population": {"size": 16},
    "network": {"kind": "barabasi_albert", "params": {"m": 2}},
    "agents": {"policy": "independent_cascade", "params": {"p": 0.5}},
    "scenario": {
        "kind": "misinformation",
        "params": {"claim": "australia_capital", "attackers": {"count": 3}},
    },
    "replicates": 2,
    "control": True,
    "output": {"report": False},
}


@pytest.fixture(scope="module")
def arms_dir(tmp_path_factory):
    """An arms directory: seeds 3 and 4, treatment and control."""
    out = tmp_path_factory.mktemp("pair") / "arms"
    return socialsim.run(ExperimentConfig.from_dict(CONFIG), out=out).dir


def _adoption(run_dir, claim):
    """Share of agents with credence >= 0.5 at each step, from the agents table itself."""
    agents = load_run(run_dir).agents
    rows = agents[agents["claim"] == claim]
    return rows.groupby("step")["credence"].apply(lambda c: float((c >= 0.5).mean()))


def test_curves_are_each_arms_adoption_and_their_difference(arms_dir):
    assert paired_seeds(arms_dir) == [3, 4]
    claim, curves = arms_curves(arms_dir, 4)
    treated = _adoption(arms_dir / "treatment" / "s4", claim)
    control = _adoption(arms_dir / "control" / "s4", claim)
    assert list(curves["step"]) == list(treated.index) == list(control.index)
    assert np.allclose(curves["treatment_adoption"], treated.to_numpy())
    assert np.allclose(curves["control_adoption"], control.to_numpy())
    assert np.allclose(curves["effect_adoption"], treated.to_numpy() - control.to_numpy())
    assert curves["effect_adoption"].abs().sum() > 0  # the attackers make a difference
    with pytest.raises(ConfigError, match="pick one of"):
        arms_curves(arms_dir, 9)


def test_replay_moves_both_arms_and_says_the_effect_so_far(arms_dir):
    model = ArmsReplay(arms_dir, 3)
    assert model.steps == 0 and len(model.curves()) == 1 and model.running
    model.step()
    model.step()
    shown = model.curves()
    assert model.steps == 2 and len(shown) == 3
    last = shown.iloc[-1]
    line = effect_line(shown)
    assert line.startswith("step 2:") and f"{last['effect_adoption']:+.0%}" in line
    while model.running:
        model.step()
    assert model.steps == model.last_step == 3
    assert model.rewound().steps == 0 and model.steps == 3
    fig = arms_figure(shown, model.claim, model.last_step)
    top, bottom = fig.axes
    assert [line.get_label() for line in top.get_lines()] == ["treatment", "control"]
    assert len(bottom.patches) == 3  # one effect bar per step shown


def test_an_arms_directory_is_a_dashboard_target(arms_dir, tmp_path):
    assert resolve_target(arms_dir).kind == "arms"
    with pytest.raises(ConfigError, match="--set applies to a config"):
        resolve_target(arms_dir, ["steps=2"])
    lone = ExperimentConfig.from_dict({**CONFIG, "control": False})
    treated_only = socialsim.run(lone, out=tmp_path / "t").dir
    with pytest.raises(ConfigError, match="no seed run in both"):
        resolve_target(treated_only)


def test_the_arms_page_shows_both_arms_and_follows_the_seed_picked(monkeypatch, arms_dir):
    solara = pytest.importorskip("solara")
    v = pytest.importorskip("ipyvuetify")
    from socialsim.dashboard import app
    from socialsim.dashboard.target import ENV_VAR, Target
    from tests.dashboard.test_app import button, texts

    monkeypatch.setenv(ENV_VAR, Target("arms", str(arms_dir)).to_env())
    _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    try:
        seed3, seed4 = (arms_curves(arms_dir, seed)[1] for seed in (3, 4))
        assert f"seed 3, {effect_line(seed3.iloc[:1])}" in texts(rc) and "Step: 0" in texts(rc)
        button(rc, "Step").click()
        assert f"seed 3, {effect_line(seed3.iloc[:2])}" in texts(rc) and "Step: 1" in texts(rc)
        rc.find(v.Select, label="seed").widget.v_model = 4
        assert f"seed 4, {effect_line(seed4.iloc[:1])}" in texts(rc) and "Step: 0" in texts(rc)
        button(rc, "Step").click()
        assert f"seed 4, {effect_line(seed4.iloc[:2])}" in texts(rc)
    finally:
        rc.close()

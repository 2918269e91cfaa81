import numpy as np
import pytest

from socialsim.core.errors import ConfigError
from socialsim.core.rundata import load_run
from socialsim.dashboard.knobs import Knobs, apply_knobs, knobs_of
from socialsim.dashboard.live import LiveModel
from socialsim.dashboard.replay import ReplayModel
from socialsim.dashboard.target import resolve_target
from socialsim.simulation.config import ExperimentConfig


def test_live_model_steps_until_the_configured_steps(config_path):
    with LiveModel(str(config_path)) as model:
        assert model.running and model.steps == 0 and model.last_step == 4
        assert model.model.run_dir is None  # the record stays in memory
        for _ in range(10):
            model.step()
        assert model.steps == 4 and not model.running
        curve = model.curve()
        assert curve["step"].tolist() == [0, 1, 2, 3, 4]
        credences = model.credences()
        assert np.isclose(curve["mean_credence"].iloc[-1], credences.mean())
        assert np.isclose(curve["adoption"].iloc[-1], (credences >= 0.5).mean())
        assert len(model.model.record().events)  # the events of the steps taken


def test_a_closed_live_model_no_longer_steps(config_path):
    model = LiveModel(str(config_path))
    model.step()
    model.close()
    assert not model.running and model.model.log.closed
    model.step()
    model.close()  # twice is harmless
    assert model.steps == 1


def test_live_model_applies_the_knobs(config_path):
    model = LiveModel(str(config_path), seed=9, size=30, network="barabasi_albert", steps=2)
    try:
        assert model.cfg.seed == 9 and model.cfg.population.size == 30
        assert model.cfg.network.kind == "barabasi_albert"
        assert model.cfg.network.params == {"m": 2}  # the other kind's parameters are dropped
        assert model.layout.n == 30 and model.credences().shape == (30,)
    finally:
        model.close()


def test_knobs_round_trip_and_erdos_renyi_mean_degree(config_path):
    cfg = ExperimentConfig.from_yaml(config_path)
    assert apply_knobs(cfg, knobs_of(cfg)).network == cfg.network
    knobs = Knobs(
        seed=1, size=40, network="erdos_renyi", network_param=6.0, policy="voter", steps=3
    )
    changed = apply_knobs(cfg, knobs)
    assert changed.network.params == {"mean_degree": 6.0, "p": None}
    assert (changed.agents.policy, changed.steps) == ("voter", 3)


def test_bad_knobs_give_a_config_error(config_path):
    with pytest.raises(ConfigError, match="k"):
        LiveModel(str(config_path), size=3)  # watts_strogatz k=4 needs more agents


def test_replay_shows_the_recorded_credences_at_each_step(run_dir):
    data = load_run(run_dir)
    agents = data.agents[data.agents["claim"] == "c1"]
    model = ReplayModel(str(run_dir))
    assert model.claim == "c1"
    seen = []
    while True:
        expected = agents[agents["step"] == model.steps].sort_values("agent")["credence"]
        assert np.allclose(model.credences(), expected.to_numpy())
        assert len(model.curve()) == len(seen) + 1
        seen.append(model.steps)
        if not model.running:
            break
        model.step()
    assert seen == sorted(agents["step"].unique().tolist()) == [0, 1, 2, 3, 4]


def test_targets(config_path, run_dir, tmp_path):
    assert resolve_target(config_path, ["steps=2"]).kind == "config"
    assert resolve_target(run_dir).kind == "replay"
    with pytest.raises(ConfigError, match="not a run or arms directory"):
        resolve_target(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_target(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="--set applies to a config"):
        resolve_target(run_dir, ["steps=2"])
    with pytest.raises(ConfigError, match="steps"):
        resolve_target(config_path, ["steps=-1"])

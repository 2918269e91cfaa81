"""Scenario step params in event mode are steps of the run's windows, not of ``steps``."""

import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.simulation.log import read_events
from socialsim.simulation.model import SocialModel
from socialsim.simulation.world import create_scenario
from socialsim.testing import small_config

from .test_persuasion import cfg as persuasion_cfg


def misinfo_cfg(tmp_path, until, **params):
    """A 20-agent degroot misinformation run in event mode, windows of 1, `steps` left at 10."""
    return ss.ExperimentConfig.from_dict(
        {
            "name": "misinfo",
            "seed": 3,
            "mode": "event",
            "until": until,
            "population": {"size": 20},
            "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "misinformation", "params": params},
            "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["jsonl"]},
        }
    )


def actions(run, kind):
    events = read_events(run.path / "events.jsonl")
    rows = events[events.kind == "action"]
    return [(step, p) for step, p in zip(rows.step, rows.payload, strict=True) if p["type"] == kind]


def test_probe_steps_past_steps_but_inside_the_windows_are_probed(tmp_path):
    run = ss.run(misinfo_cfg(tmp_path, 20, probe_steps=[15], remove_attackers_at=12))
    events = read_events(run.path / "events.jsonl")
    assert set(events.loc[events.kind == "probe", "step"]) == {15}
    assert [step for step, _ in actions(run, "removed")] == [12]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"probe_steps": [8]}, r"probe_steps: \[8\]"),
        ({"remove_attackers_at": 6}, "remove_attackers_at: 6"),
        ({"routes": ["broadcast"], "broadcast": {"step": 6}}, "broadcast.step: 6"),
        ({"memory_poison": {"source": "history", "step": 6}}, "memory_poison.step: 6"),
    ],
)
def test_misinformation_steps_past_the_windows_are_refused_naming_them(tmp_path, params, field):
    with pytest.raises(ConfigError, match=field + r".*the run's 4 event windows \(until 4 / "):
        create_scenario("misinformation", params).validate_config(misinfo_cfg(tmp_path, 4))


def test_misinformation_step_mode_still_checks_steps(tmp_path):
    config = misinfo_cfg(tmp_path, 4).with_overrides({"mode": "step", "until": None, "steps": 5})
    with pytest.raises(ConfigError, match=r"probe_steps: \[8\].*steps \(5\)"):
        create_scenario("misinformation", {"probe_steps": [8]}).validate_config(config)


def test_accumulation_counts_the_windows_for_its_exposures(tmp_path):
    config = persuasion_cfg(tmp_path, "accumulation", steps=3, texts=10)
    params = {"proposition": "trolley_switch", "texts": 10}
    create_scenario("accumulation", params).validate_config(
        config.with_overrides({"mode": "event", "until": 10})
    )
    with pytest.raises(ConfigError, match=r"texts: 10 .*the run's 5 event windows \(until 5 / "):
        create_scenario("accumulation", params).validate_config(
            config.with_overrides({"mode": "event", "until": 5})
        )


def test_feed_items_are_posted_over_the_windows():
    config = small_config(
        size=30, steps=2, claims=[], scenario="feed", params={"n_items": 60, "k": 3},
        mode="event", until=6,
    )  # fmt: skip
    with SocialModel(config) as model:
        assert model.scenario.items.posted.max() == 6

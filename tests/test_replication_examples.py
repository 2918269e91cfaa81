"""The replication examples run as their comments say, on their rule baselines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import socialsim as ss

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
def test_flooding_runs_three_arms_with_the_studys_design(tmp_path):
    cfg = ss.ExperimentConfig.from_yaml(
        EXAMPLES / "replicate_flooding.yaml",
        overrides=["agents.policy=independent_cascade", "output.report=false"],
    )
    p = cfg.scenario.params
    assert p["attackers"]["instructions"] == "none" and p["elicitation"] == "probe"
    assert p["memory_poison"]["source"] == "history" and cfg.control == "instrument"
    arms = ss.run(cfg, out=tmp_path)
    assert set(arms.runs) == {"treatment", "control", "instrument"}
    treated = arms.runs["treatment"][0]
    injected = treated.events[treated.events.kind == "injection"]
    assert (injected["payload.route"] == "memory").sum() > 0  # memories from real messages
    assert {e["measure"] for e in arms.summary["instrument_effects"]}
    reach = "claims.eiffel_tower_rome.adoption_benign.final_reach"
    effect = next(e for e in arms.summary["effects"] if e["measure"] == reach)
    assert effect["difference"] > 0


@pytest.mark.slow
def test_drop_of_ink_sweep_contaminates_every_distance_less_the_further(tmp_path):
    cfg = ss.ExperimentConfig.from_yaml(
        EXAMPLES / "replicate_drop_of_ink.yaml",
        overrides=["output.report=false", "population.size=80"],
    )
    cfg = cfg.with_overrides(
        {"sweep": {"scenario.params.source_style": ["social_post", "research_paper"], "seed": [1]}}
    )
    table = ss.sweep(cfg, out=tmp_path / "sweep", executor="serial")
    assert (table["status"] == "ok").all()
    key = "treatment.claims.water_boils_50c.probes_benign.{}.manipulated_share"
    shares = table.set_index("scenario.params.source_style")
    for style in ("social_post", "research_paper"):
        direct, indirect, peripheral = (
            float(shares.loc[style, key.format(d)]) for d in ("direct", "indirect", "peripheral")
        )
        assert direct >= indirect >= peripheral > 0, style
    reach = "treatment.claims.water_boils_50c.adoption_benign.final_reach"
    assert shares.loc["research_paper", reach] > shares.loc["social_post", reach]
    assert isinstance(table, pd.DataFrame)

"""Flip rates of scenario answers across wordings, and the wording key of a sweep."""

from __future__ import annotations

import pandas as pd

from socialsim.analysis.prompt_sensitivity import WORDING_KEY, sweep_sensitivity, wording_key
from socialsim.analysis.wording_flips import agent_outcomes, flip_rates
from socialsim.core.rundata import load_run
from socialsim.testing import run_scripted
from tests.scenarios.test_donor_game import llm_config, scripted


def test_scenario_answers_flip_when_another_wording_moves_them(tmp_path):
    frames = []
    for wording, percent in ((0, 40), (1, 40), (2, 70)):
        cfg = llm_config(tmp_path / str(wording), wording=wording)
        run = run_scripted(cfg, scripted(lambda k: "Give 40% to players who gave.", percent))
        outcomes = agent_outcomes(load_run(run.path))
        outcomes = outcomes[outcomes["kind"] == "choice"].assign(unit="s1", template=wording)
        frames.append(outcomes)
    assert len(frames[0]) == 16  # 4 donors x 4 rounds
    rates = flip_rates(pd.concat(frames, ignore_index=True))
    row = rates[rates["claim"] == "donor_round"].iloc[0]
    # per donor and round, 3 pairs of wordings: (0, 1) agree, (0, 2) and (1, 2) differ
    assert (row["comparisons"], row["flips"]) == (16 * 3, 16 * 2)


def test_a_sweep_over_the_scenario_wording_is_tested():
    results = pd.DataFrame({
        WORDING_KEY: [0, 0, 0, 1, 1, 1], "seed": [1, 2, 3] * 2,
        "m": [0.1, 0.2, 0.15, 0.8, 0.9, 0.85], "status": "ok",
    })  # fmt: skip
    assert wording_key(results) == WORDING_KEY
    found = sweep_sensitivity(results, [{"measure": "m", "label": "m"}])
    assert found["key"] == WORDING_KEY and found["templates"] == ["0", "1"]
    assert found["measures"][0]["test"]["p_value"] == 0.1  # 2 of 20 arrangements
    assert sweep_sensitivity(results.drop(columns=[WORDING_KEY]), [{"measure": "m"}]) is None

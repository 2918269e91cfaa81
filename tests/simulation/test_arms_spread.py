"""The arms summary says how much each compared measure varies across seeds."""

import numpy as np
import pytest

import socialsim as ss


@pytest.mark.slow
def test_sd_across_seeds_per_arm(tmp_path):
    cfg = ss.ExperimentConfig.from_dict(
        {
            "steps": 3, "replicates": 3, "control": True,
            "population": {"size": 40},
            "network": {"kind": "barabasi_albert"},
            "agents": {"policy": "independent_cascade", "params": {"p": 0.3}},
            "scenario": {"kind": "misinformation", "params": {"claim": "australia_capital", "attackers": {"count": 2}}},
            "output": {"report": False},
        }
    )  # fmt: skip
    arms = ss.run(cfg, out=tmp_path / "a")
    sd = arms.summary["sd"]
    key = "claims.australia_capital.adoption_benign.final_reach"
    for arm in ("treatment", "control"):
        values = arms.results.loc[arms.results["arm"] == arm, key].to_numpy(float)
        assert len(values) == 3
        assert np.isclose(sd[arm][key], np.std(values, ddof=1))
    one = ss.run(cfg.with_overrides({"replicates": 1}), out=tmp_path / "b")
    assert one.summary["sd"]["treatment"][key] is None

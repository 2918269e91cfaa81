"""Attachment in grown networks: hand-built logs, the closed forms of rule runs, calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest

import socialsim as ss
import socialsim.scenarios.network_growth.measures  # noqa: F401 - registers the measure
import socialsim.scenarios.network_growth.scenario  # noqa: F401 - registers the scenario
from socialsim.scenarios.network_growth.attachment import (
    attachment_exponent,
    gain_correlations,
    node_bins,
    poisson_slope,
)
from socialsim.scenarios.network_growth.measures import network_growth_summary

from .tables import frame


def action(step, agent, type_, target=None, **more):
    return {"step": step, "kind": "action", "agent": agent, "target": target,
            "payload": {"type": type_, **more}}  # fmt: skip


def small_log():
    """0, 1, 2 join at step 0, 3 at step 1, 4 at step 2; 1 -> 0 at step 0; 3 -> 0 and 3 -> 1
    at step 1; 4 -> 0 at step 2; agent 2 posts at step 2; 4 chooses at step 2."""
    rows = [action(0, a, "joined") for a in (0, 1, 2)]
    rows += [action(0, 1, "follow", 0), action(1, 3, "joined")]
    rows += [action(1, 3, "follow", 0), action(1, 3, "follow", 1), action(2, 4, "joined")]
    rows += [action(2, 4, "follow_choice", status="answered", by="rule"), action(2, 4, "follow", 0)]
    rows += [{"step": 2, "kind": "message", "agent": 2, "target": None, "payload": {"text": "hi"}}]
    return frame(rows)


def test_bins_by_hand():
    """Even shares: step 1 two follows to the 3 earlier agents (2/3 each), step 2 one to 4
    (1/4 each). Bin 0 (in-degree 0): agent 1 at step 1, agent 2 at steps 1, 2, agent 3 at
    step 2 -> exposure 2/3 + 11/12 + 1/4 = 11/6, one follow (3 -> 1). Bin 1 (in-degree 1-2):
    agent 0 at steps 1 (k 1), 2 (k 2), agent 1 at step 2 (k 1) -> 7/6, two follows."""
    data = node_bins(small_log(), 5)
    assert data["agents"].tolist() == [0, 1, 2, 3]  # 4 joined at the last step
    assert data["exposure"].sum(0) == pytest.approx([11 / 6, 7 / 6])
    assert data["received"].sum(0).tolist() == [1, 2]
    assert data["exposure"][0].tolist() == pytest.approx([0, 11 / 12])
    logx = (2 / 3 + 1 / 4) * math.log(2) + 1 / 4 * math.log(3)
    assert data["exposure_logx"].sum(0) == pytest.approx([0, logx])


def test_two_bins_give_the_line_through_both_rates():
    out = attachment_exponent(small_log(), 5, resamples=200)
    logx = ((2 / 3 + 1 / 4) * math.log(2) + 1 / 4 * math.log(3)) / (7 / 6)
    rate0, rate1 = 1 / (11 / 6), 2 / (7 / 6)
    assert out["exponent"] == pytest.approx(math.log(rate1 / rate0) / logx)
    assert [b["rate"] for b in out["bins"]] == pytest.approx([rate0, rate1])
    assert (out["bins"][1]["k_low"], out["bins"][1]["k_high"]) == (1, 2)
    assert out["agents"] == 4 and out["follows"] == 3
    # 4 agents: many resamples hold one bin only, so there is no interval
    assert out["interval"] is None and "resamples could be fitted" in out["reason"]


def test_poisson_slope_recovers_a_known_kernel_and_refuses_a_one_sided_one():
    u = np.log(np.array([1.0, 2.0, 4.0, 8.0]))
    exposure = np.array([10.0, 20.0, 5.0, 1.0])
    for alpha in (0.0, 0.5, 1.0, 1.5):
        expected = exposure * np.exp(alpha * u) * 3.0
        assert poisson_slope(expected, exposure, u)[0] == pytest.approx(alpha, abs=1e-8)
    assert np.isnan(poisson_slope(np.array([4.0, 0, 0, 0]), exposure, u)[0])


def test_gain_against_prior_in_degree_and_activity_by_hand():
    """Split at step 1: agents 0-3; in-degree then 2, 1, 0, 0; follows after 1, 0, 0, 0;
    activity after it (messages + follow choices) 0, 0, 1, 0. Average ranks: rho = 3 /
    sqrt(4.5 * 3) and -1 / 3."""
    out = gain_correlations(small_log(), 5)
    assert (out["split"], out["last"], out["agents"]) == (1, 2, 4)
    assert out["prior_in_degree"]["rho"] == pytest.approx(3 / math.sqrt(13.5))
    assert out["activity"]["rho"] == pytest.approx(-1 / 3)
    assert "at least 5" in out["prior_in_degree"]["no_interval"]
    quiet = gain_correlations(small_log().iloc[:-1], 5)  # without the message
    assert (
        quiet["activity"]["rho"] is None and quiet["activity"]["reason"] == "activity is constant"
    )


def test_too_little_to_fit_has_a_reason():
    out = attachment_exponent(small_log().iloc[:4], 5)
    assert out["exponent"] is None and out["reason"]


# --- rule runs: the closed forms ---------------------------------------------------------------
def grown(rule: str, seed: int, n: int = 1000):
    """Agents join 10 a step, each follows 3 chosen among every agent present."""
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "growth",
            "seed": seed,
            "steps": n // 10 - 1,
            "population": {"size": n},
            "network": {"kind": "erdos_renyi", "params": {"p": 0.0}, "directed": True},
            "agents": {"policy": "degroot"},
            "scenario": {
                "kind": "network_growth",
                "params": {
                    "initial": 10,
                    "joiners_per_step": 10,
                    "follows_per_join": 3,
                    "candidates": 0,
                    "attachment": rule,
                },
            },  # fmt: skip
            "output": {"dir": "runs", "report": False, "formats": ["jsonl"]},
        }
    )
    with ss.SocialModel(cfg, seed=seed) as model:
        model.run_model()
        return model.record()


def test_preferential_attachment_has_exponent_one_uniform_zero():
    """Weight followers + 1 makes the rate proportional to k + 1: alpha = 1; uniform: 0.
    At 600 agents the bootstrap standard error is about 0.03 (the estimate runs about 0.01
    low at this size: early steps have a smaller mean in-degree)."""
    pref_run, unif_run = grown("preferential", 1, n=600), grown("uniform", 1, n=600)
    pref = attachment_exponent(pref_run.events, 600, resamples=200)
    unif = attachment_exponent(unif_run.events, 600, resamples=200)
    assert pref["exponent"] == pytest.approx(1.0, abs=0.08)
    assert pref["ci_low"] < 1.0 < pref["ci_high"] + 0.03
    assert unif["exponent"] == pytest.approx(0.0, abs=0.1)
    assert unif["ci_low"] < 0.0 < unif["ci_high"]
    pref_gain = gain_correlations(pref_run.events, 600)
    unif_gain = gain_correlations(unif_run.events, 600)
    assert pref_gain["prior_in_degree"]["ci_low"] > 0.4
    assert unif_gain["prior_in_degree"]["rho"] < pref_gain["prior_in_degree"]["ci_low"]
    # rule agents without revisits or messages have no activity after the split
    assert pref_gain["activity"]["reason"] == "activity is constant"


def test_measure_params_reach_the_bootstrap():
    run = grown("uniform", 2, n=200)
    a = network_growth_summary(run, resamples=200, seed=1)["attachment"]["exponent"]
    b = network_growth_summary(run, resamples=200, seed=1)["attachment"]["exponent"]
    c = network_growth_summary(run, resamples=200, seed=2)["attachment"]["exponent"]
    assert a == b and a["interval"]["resamples"] == 200
    assert c["exponent"] == a["exponent"] and c["ci_low"] != a["ci_low"]


@pytest.mark.slow
def test_false_alarms_under_uniform_attachment():
    """Uniform attachment: alpha = 0 and rho = 0 exactly (every earlier agent is equally
    likely to be followed). Over 60 runs of 200 agents, the 95% intervals should exclude 0
    in about 3 runs; more than 9 (binomial P < 0.002) means the intervals are too narrow."""
    exponent_misses = gain_misses = 0
    for seed in range(60):
        out = network_growth_summary(grown("uniform", 100 + seed, n=200), resamples=300, seed=seed)
        ex, gain = out["attachment"]["exponent"], out["attachment"]["gain"]["prior_in_degree"]
        exponent_misses += not ex["ci_low"] <= 0.0 <= ex["ci_high"]
        gain_misses += not gain["ci_low"] <= 0.0 <= gain["ci_high"]
    assert exponent_misses <= 9 and gain_misses <= 9

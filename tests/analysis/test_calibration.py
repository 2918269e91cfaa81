"""Calibration of the effect interval and of the planning numbers, on real runs of the model.

A pool of seeds is run once per test session in both arms of the misinformation scenario
with the independent-cascade rule (p 0.4, 200 agents, 10 steps, attackers kept): the benign
final reach, whose seed-to-seed distribution is skewed and has a floor at 0. Experiments of
n replicates are then drawn from the pool (distinct seeds, as a real experiment has) and the
interval that ``compare_arms`` reports is checked against the pool's mean effect: coverage,
the false-positive rate of an A/A comparison, and the power at the planned sample size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import socialsim as ss
from socialsim.analysis import spread
from socialsim.analysis.power import minimum_detectable_effect, replicates_needed
from socialsim.analysis.stats import paired_effect, paired_t_interval
from socialsim.experiments.arms import arm_config, compare_arms
from socialsim.simulation.config import ExperimentConfig

# The calibration suite: real simulated runs, seconds each; in the marked (slow) set.
pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "misinformation.yaml"
CLAIM = "australia_capital"
MEASURE = f"claims.{CLAIM}.adoption_benign.final_reach"
POOL_SEEDS = range(1000, 1120)
EXPERIMENTS = 4000


@dataclass
class Pool:
    """Seed-level benign final reach of each arm over the pool's seeds."""

    seeds: np.ndarray
    treatment: np.ndarray
    control: np.ndarray

    @property
    def differences(self) -> np.ndarray:
        """Treatment minus control per seed."""
        return self.treatment - self.control


def cascade_config() -> ExperimentConfig:
    """The documented example with the cascade rule, larger and longer; probes off (they do
    not change beliefs) so that a run takes a few hundredths of a second."""
    return ExperimentConfig.from_yaml(EXAMPLE).with_overrides(
        {
            "agents.policy": "independent_cascade",
            "agents.params": {"p": 0.4},
            "steps": 10,
            "population.size": 200,
            "scenario.params.remove_attackers_at": None,
            "scenario.params.probe_steps": [],
            "output.report": False,
        }
    )


def benign_final_reach(model: ss.SocialModel) -> float:
    """Share of present agents without a role believing the claim at the end of the run."""
    column = [c.id for c in model.beliefs.claims].index(CLAIM)
    benign = [i for i in range(model.n_agents) if i not in model.roles and model.is_present(i)]
    return float((model.beliefs.credence[benign, column] >= 0.5).mean())


@pytest.fixture(scope="session")
def pool() -> Pool:
    cfg = cascade_config()
    values: dict[str, list[float]] = {"treatment": [], "control": []}
    for seed in POOL_SEEDS:
        for arm in values:
            with ss.SocialModel(arm_config(cfg, seed, arm)) as model:
                model.run_model()
                values[arm].append(benign_final_reach(model))
                if seed == POOL_SEEDS[0]:  # the shortcut reads what the measure reads
                    curve = spread.adoption_curve(model.record(), CLAIM, population="benign")
                    assert curve["share"].iloc[-1] == pytest.approx(values[arm][-1])
    return Pool(np.array(POOL_SEEDS), np.array(values["treatment"]), np.array(values["control"]))


def experiments(
    size: int, n: int, count: int = EXPERIMENTS, seed: int = 0, distinct: bool = True
) -> np.ndarray:
    """`count` draws of `n` indices out of `size`, one row per experiment: distinct seeds, or
    independent draws from the pool (``distinct=False``, the pool standing for the population)."""
    rng = np.random.default_rng(seed)
    if not distinct:
        return rng.integers(0, size, (count, n))
    return np.argsort(rng.random((count, size)), axis=1)[:, :n]


def coverage(values: np.ndarray, n: int, truth: float) -> float:
    """Share of experiments of n replicates whose interval holds `truth`."""
    lo, hi = paired_t_interval(values[experiments(len(values), n)])
    return float(np.mean((lo <= truth) & (truth <= hi)))


def rejection_rate(values: np.ndarray, n: int, seed: int = 1) -> float:
    """Share of experiments of n replicates, drawn independently from `values`, whose interval
    excludes 0 (independent draws: a planned n may be a sizeable part of the pool)."""
    lo, hi = paired_t_interval(values[experiments(len(values), n, seed=seed, distinct=False)])
    return float(np.mean((lo > 0) | (hi < 0)))


def test_the_pool_is_a_real_skewed_effect(pool):
    d = pool.differences
    assert np.all(pool.control == 0.0)  # nothing spreads without the attackers
    assert 0.08 < d.mean() < 0.25 and d.std(ddof=1) > 0.05
    assert sps.skew(d) > 0.3  # right-skewed: most cascades stay small, a few take off


def test_compare_arms_reports_the_interval_calibrated_here(pool):
    pick = experiments(len(pool.seeds), 5, count=1)[0]
    results = pd.DataFrame(
        {
            "arm": ["treatment"] * 5 + ["control"] * 5,
            "seed": np.tile(pool.seeds[pick], 2),
            MEASURE: np.concatenate([pool.treatment[pick], pool.control[pick]]),
        }
    )
    (effect,) = compare_arms(results, [MEASURE])
    lo, hi = paired_t_interval(pool.differences[pick])
    assert (effect["ci_low"], effect["ci_high"]) == pytest.approx((lo, hi))
    assert effect["interval"] == {"method": "paired t", "level": 0.95, "n": 5}


@pytest.mark.parametrize(("n", "least"), [(3, 0.90), (5, 0.92)])
def test_interval_covers_the_pool_effect(pool, n, least):
    assert coverage(pool.differences, n, pool.differences.mean()) >= least


def test_a_percentile_bootstrap_fails_the_same_check(pool):
    """The check can tell a bad interval: the percentile bootstrap undercovers at 5 replicates."""
    d, rng = pool.differences, np.random.default_rng(2)
    samples = d[experiments(len(d), 5, count=1000)]  # experiment x replicate
    resampled = rng.integers(0, 5, (1000, 500, 5))  # experiment x resample x replicate
    means = samples[np.arange(1000)[:, None, None], resampled].mean(axis=2)
    lo, hi = np.quantile(means, [0.025, 0.975], axis=1)
    assert np.mean((lo <= d.mean()) & (d.mean() <= hi)) < 0.88


def test_a_a_false_positive_rate(pool):
    """Two arms with no difference: replicates of different seeds paired as if they were
    treatment and control. The control arm is constant here (0 without attackers), so the
    A/A pairs are treatment runs, which carry the skewed seed-to-seed variation."""
    t = pool.treatment
    picks = experiments(len(t), 10, seed=3)
    lo, hi = paired_t_interval(t[picks[:, :5]] - t[picks[:, 5:]])
    assert np.mean((lo > 0) | (hi < 0)) <= 0.07


def test_power_at_the_planned_and_detectable_effects(pool):
    """An effect of the planned size is found about as often as planned (or more often:
    planning by the t-test is not optimistic on this outcome)."""
    d = pool.differences - pool.differences.mean()
    sd = float(pool.differences.std(ddof=1))
    n = replicates_needed(0.05, sd)
    assert 0.78 <= rejection_rate(d + 0.05, n) <= 0.95
    mde = minimum_detectable_effect(sd, 5)
    assert 0.78 <= rejection_rate(d + mde, 5) <= 0.95
    assert rejection_rate(d + mde / 3, 5) < 0.5


def test_no_interval_below_three_replicates(pool):
    one = paired_effect(pool.treatment[:1], pool.control[:1])
    two = paired_effect(pool.treatment[:2], pool.control[:2])
    assert one["ci_low"] is None and one["interval"] is None and one["mde"] is None
    assert one["no_interval"] == "1 replicate; an interval needs at least 3 (--replicates 3)"
    assert two["ci_low"] is None and two["sd_difference"] == pytest.approx(
        float(np.std(pool.differences[:2], ddof=1))
    )

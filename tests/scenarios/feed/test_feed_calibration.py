"""The feed measure's intervals (agents as clusters) hold their level on real rule runs.

Rule agents accept with a known probability (``socialsim.scenarios.feed.answers``): with
credulity drawn from the sampler's Beta(2, 3), framing susceptibility fixed and no source
style, the share accepting at the n-th exposure in framing f is
``E[1 - (1 - min(1, c * w_f)) ** (1 + repetition * (n - 1))]`` over c ~ Beta(2, 3). Under a
random ranking which agent sees which item does not depend on the agent's credulity, so each
cell's interval should cover that value about 95% of the time; with ``repetition: 0`` the
repetition effect is 0 and its interval should exclude 0 about 5% of the time. Intervals
that treat exposures as independent (Wilson) cover less, since an agent's exposures share
its credulity. With 20 and 10 agents the percentile agent bootstrap used before covered
0.906 and 0.882 of the cells (720 and 1,200 cells); Korn-Graubard's interval 0.965 and 0.987.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

import socialsim as ss
from socialsim.analysis.stats import wilson_ci
from socialsim.core.claims import builtin_claims, framing_weight
from socialsim.scenarios.feed.measures import feed_summary
from socialsim.testing import small_config

FRAMINGS = ["authoritative", "emotional", "sensationalist", "neutral"]
SUSCEPTIBILITY = 0.6
REPLICATES = 60
NULL_REPLICATES = 36  # without repetition; the rest with repetition 1
MIN_COVERAGE, MAX_COVERAGE = 0.91, 0.985
MAX_FALSE_ALARMS = 0.12  # of 36 runs: 5% expected; 12% is 1.9 standard errors above it


def truth(framing: str, exposure: int, repetition: float) -> float:
    """The share of rule agents accepting at this exposure and framing, in the population."""
    w = framing_weight(None if framing == "neutral" else framing, None, SUSCEPTIBILITY, 0.0)
    power = 1.0 + repetition * (exposure - 1)

    def chance(c: float) -> float:
        return (1.0 - (1.0 - min(1.0, c * w)) ** power) * stats.beta.pdf(c, 2, 3)

    return float(integrate.quad(chance, 0.0, 1.0, points=[min(1.0, 1.0 / w)])[0])


def summaries(repetition: float, seeds: range, size: int = 150) -> list[dict]:
    """The feed measure of real rule runs, one per seed."""
    claims = [c.id for c in builtin_claims()[:10]]
    out = []
    for seed in seeds:
        cfg = small_config(
            size=size, steps=6, seed=seed, claims=[], network="watts_strogatz",
            scenario="feed",
            params={"claims": claims, "n_items": 40, "framings": FRAMINGS, "k": 5,
                    "ranking": "random", "posting": "start", "source_styles": ["plain"],
                    "repetition": repetition, "reshare": 0.3},
            population={"size": size,
                        "personas": {"fixed": {"framing_susceptibility": SUSCEPTIBILITY}}},
        )  # fmt: skip
        model = ss.SocialModel(cfg)
        model.run_model()
        out.append(feed_summary(model.record().events))
    return out


@pytest.fixture(scope="session")
def runs() -> dict[float, list[dict]]:
    """Real rule runs with and without the illusory-truth term."""
    null = NULL_REPLICATES
    return {0.0: summaries(0.0, range(null)), 1.0: summaries(1.0, range(null, REPLICATES))}


@pytest.fixture(scope="session")
def small_runs() -> dict[int, dict[float, list[dict]]]:
    """Real rule runs of 20 (60 seeds) and 10 agents (100 seeds), half with the
    illusory-truth term."""
    return {
        size: {0.0: summaries(0.0, range(0, seeds, 2), size),
               1.0: summaries(1.0, range(1, seeds, 2), size)}
        for size, seeds in ((20, 60), (10, 100))
    }  # fmt: skip


def cells(runs: dict[float, list[dict]], fewest: int = 30):
    """(repetition, framing, exposure, cell) of every framing x exposure cell of 1..3."""
    for repetition, summaries_ in runs.items():
        for summary in summaries_:
            for framing in FRAMINGS:
                for exposure in (1, 2, 3):
                    cell = summary["by_framing_exposure"][framing].get(str(exposure))
                    if cell is not None and cell["answered"] >= fewest:
                        yield repetition, framing, exposure, cell


@pytest.mark.slow
def test_runs_repeat_claims_enough_to_test(runs):
    found = list(cells(runs))
    assert len(found) >= 0.9 * REPLICATES * len(FRAMINGS) * 3
    assert all(s["exposures"]["max_exposure"] >= 4 for r in runs.values() for s in r)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "fewest", "most"), [(150, 30, MAX_COVERAGE), (20, 10, MAX_COVERAGE), (10, 6, 0.995)]
)
def test_cell_intervals_cover_the_population_share(size, fewest, most, request):
    runs = (
        request.getfixturevalue("runs")
        if size == 150
        else request.getfixturevalue("small_runs")[size]
    )
    hits, wilson_hits, truths = [], [], {}
    found = list(cells(runs, fewest))
    seeds = sum(len(r) for r in runs.values())
    assert len(found) >= 0.9 * seeds * len(FRAMINGS) * 3
    for repetition, framing, exposure, cell in found:
        key = (repetition, framing, exposure)
        if key not in truths:
            truths[key] = truth(framing, exposure, repetition)
        value = truths[key]
        hits.append(cell["ci_low"] <= value <= cell["ci_high"])
        low, high = wilson_ci(cell["k"], cell["answered"])
        wilson_hits.append(low <= value <= high)
    coverage = float(np.mean(hits))
    assert MIN_COVERAGE <= coverage <= most, coverage
    # exposures of one agent share its credulity: counting them as independent covers less
    assert float(np.mean(wilson_hits)) < coverage


@pytest.mark.slow
def test_repetition_raises_acceptance_as_the_rule_says(runs):
    for summary in runs[1.0]:
        rep = summary["repetition"]
        assert rep["effect"] > 0 and rep["ci_low"] > 0
    pooled = np.mean([s["by_framing_exposure"]["neutral"]["2"]["rate"] for s in runs[1.0]])
    assert pooled == pytest.approx(truth("neutral", 2, 1.0), abs=0.02)


@pytest.mark.slow
def test_repetition_effect_false_alarms_without_repetition(runs):
    alarms = [s["repetition"]["ci_low"] > 0 or s["repetition"]["ci_high"] < 0 for s in runs[0.0]]
    assert np.mean(alarms) <= MAX_FALSE_ALARMS

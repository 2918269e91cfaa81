import doctest
import math

import numpy as np
import pytest
from scipy import stats as sps

from socialsim.analysis import power
from socialsim.core.errors import SocialsimError


def test_docstring_examples():
    assert doctest.testmod(power).failed == 0


def test_power_is_alpha_without_an_effect_and_symmetric():
    assert power.paired_t_power(0.0, 1.0, 10) == pytest.approx(0.05, abs=1e-12)
    assert power.paired_t_power(0.0, 0.3, 4, alpha=0.1) == pytest.approx(0.1, abs=1e-12)
    assert power.paired_t_power(-0.4, 1.0, 12) == pytest.approx(power.paired_t_power(0.4, 1.0, 12))


def test_power_matches_the_published_paired_t_value():
    # dz = 0.5, alpha 0.05 two-sided, 34 pairs: power 0.8078 (G*Power, matched pairs)
    assert power.paired_t_power(0.5, 1.0, 34) == pytest.approx(0.8078, abs=1e-4)
    assert power.replicates_needed(0.5, 1.0) == 34


def test_power_tends_to_the_normal_power_and_does_not_fail_far_out():
    d, sd, n = 0.05, 1.0, 2000
    z = sps.norm.ppf(0.975)
    shift = d / sd * math.sqrt(n)
    normal = sps.norm.sf(z - shift) + sps.norm.cdf(-z - shift)
    assert power.paired_t_power(d, sd, n) == pytest.approx(normal, abs=1e-3)
    assert power.paired_t_power(5.0, 1.0, 400) == 1.0  # no NaN from the far tail
    assert power.paired_t_power(0.1, 1e-17, 3) == 1.0  # noncentrality beyond scipy's reach


def test_replicates_needed_is_the_smallest_n_with_the_power():
    for effect, sd in ((0.05, 0.1), (0.2, 0.35), (0.01, 0.08)):
        n = power.replicates_needed(effect, sd)
        assert power.paired_t_power(effect, sd, n) >= 0.8
        assert power.paired_t_power(effect, sd, n - 1) < 0.8
    assert power.replicates_needed(1.0, 0.01) == 2
    assert power.replicates_needed(1.0, 0.01, minimum=3) == 3
    assert power.replicates_needed(0.1, 1e-17) == 2
    with pytest.raises(SocialsimError, match="more than 1,000,000 replicates"):
        power.replicates_needed(1e-4, 1.0)


def test_minimum_detectable_effect_gives_the_power_and_scales_with_sd():
    mde = power.minimum_detectable_effect(0.1, 5)
    assert power.paired_t_power(mde, 0.1, 5) == pytest.approx(0.8, abs=1e-8)
    assert power.minimum_detectable_effect(0.2, 5) == pytest.approx(2 * mde, rel=1e-6)
    assert power.minimum_detectable_effect(0.1, 20) < mde
    assert power.minimum_detectable_effect(0.1, 5, power=0.9) > mde


def test_against_statsmodels():
    smp = pytest.importorskip("statsmodels.stats.power")
    t = smp.TTestPower()
    for d, n in ((0.3, 12), (0.8, 5), (1.2, 3)):
        assert power.paired_t_power(d, 1.0, n) == pytest.approx(
            t.power(effect_size=d, nobs=n, alpha=0.05, alternative="two-sided"), abs=1e-6
        )
    assert power.minimum_detectable_effect(1.0, 8) == pytest.approx(
        t.solve_power(nobs=8, alpha=0.05, power=0.8), abs=1e-5
    )


def test_plan_from_a_pilot_and_the_worst_case():
    pilot = power.plan_replicates([0.1, 0.25, 0.2, 0.15], 0.05)
    sd = float(np.std([0.1, 0.25, 0.2, 0.15], ddof=1))
    assert pilot["basis"] == "pilot" and pilot["sd_used"] == pytest.approx(sd)
    # the power averaged over the SD a 4-replicate pilot leaves possible, and at its SD alone
    assert pilot["replicates"] == power.replicates_needed(0.05, sd, minimum=3, pilot_n=4)
    assert pilot["replicates_at_pilot_sd"] == power.replicates_needed(0.05, sd, minimum=3)
    assert pilot["replicates"] > pilot["replicates_at_pilot_sd"]
    assert pilot["mde"] == pytest.approx(power.minimum_detectable_effect(sd, 4, pilot_n=4))
    worst = power.plan_replicates([0.3], 0.1, bounded=True)
    assert worst["basis"] == "worst case" and worst["sd_used"] == 1.0
    assert worst["replicates"] == power.replicates_needed(0.1, 1.0) and worst["mde"] is None
    assert power.plan_replicates([0.3], 0.1)["replicates"] is None  # unbounded: no answer
    two = power.plan_replicates([0.3, 0.1], 0.1, bounded=True)
    assert two["basis"] == "pilot" and two["mde"] is None  # no interval at 2 replicates
    # differences that did not vary estimate no SD: the worst case for a share, else nothing
    flat = power.plan_replicates([0.2, 0.2, 0.2], 0.1)
    assert flat["replicates"] is None and flat["mde"] is None and flat["pilot_sd_zero"]
    flat = power.plan_replicates([0.2, 0.2, 0.2], 0.1, bounded=True)
    assert flat["basis"] == "worst case" and flat["replicates"] == worst["replicates"]
    assert flat["mde"] is None
    # a measure no replicate has is not planned at all
    none = power.plan_replicates([float("nan")] * 3, 0.1, bounded=True)
    assert none["undefined"] and none["replicates"] is None and none["basis"] is None


def test_expected_power_is_the_power_averaged_over_the_sd_a_pilot_leaves_possible():
    # Monte Carlo of the same average: true variance = (k - 1) s^2 / chi2(k - 1)
    rng = np.random.default_rng(1)
    sds = 0.2 * np.sqrt(4 / rng.chisquare(4, 4000))
    by_hand = np.mean([power.paired_t_power(0.2, float(x), 12) for x in sds])
    assert power.expected_power(0.2, 0.2, 12, pilot_n=5) == pytest.approx(by_hand, abs=0.01)
    # more pilot replicates: less unknown, the average nears the power at the SD itself
    at_sd = power.paired_t_power(0.2, 0.2, 12)
    assert power.expected_power(0.2, 0.2, 12, 5) < power.expected_power(0.2, 0.2, 12, 200)
    assert power.expected_power(0.2, 0.2, 12, 200) == pytest.approx(at_sd, abs=0.01)


@pytest.mark.slow
def test_plans_from_small_normal_pilots_reach_the_power_on_average():
    """Pilots of 5 normal differences (SD 1), a plan for 0.5 at 80%: the power the planned
    run really has, averaged over 300 pilots, is about 80%; at the pilot's SD alone, less."""
    rng = np.random.default_rng(3)
    planned, naive = [], []
    for _ in range(300):
        plan = power.plan_replicates(rng.normal(0.0, 1.0, 5), 0.5)
        planned.append(power.paired_t_power(0.5, 1.0, plan["replicates"]))
        naive.append(power.paired_t_power(0.5, 1.0, plan["replicates_at_pilot_sd"]))
    assert 0.76 <= np.mean(planned) <= 0.9
    assert np.mean(naive) < 0.74


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: power.replicates_needed(0.0, 1.0), "non-zero"),
        (lambda: power.replicates_needed(0.1, 1.0, power=1.2), "power must lie"),
        (lambda: power.minimum_detectable_effect(1.0, 1), "at least 2"),
        (lambda: power.paired_t_power(0.1, -1.0, 5), "positive number"),
        (lambda: power.paired_t_power(0.1, 1.0, 5, alpha=0), "alpha must lie"),
    ],
)
def test_bad_input_says_what_is_wrong(call, message):
    with pytest.raises(SocialsimError, match=message):
        call()


def test_a_share_is_planned_with_sds_of_at_most_one_and_a_measure_too_costly_is_said():
    # a 2-replicate pilot leaves SDs up to 100 times its own possible; a share's stop at 1
    capped = power.plan_replicates([-0.3, 0.3, 0.5], 0.1, bounded=True)
    free = power.plan_replicates([-0.3, 0.3, 0.5], 0.1)
    assert capped["replicates"] < free["replicates"]
    assert capped["replicates"] == power.replicates_needed(
        0.1, capped["sd_used"], minimum=3, pilot_n=3, sd_cap=1.0
    )
    # no difference of a share is larger than 1: a "detectable" one above it is none
    assert capped["mde"] is None and capped["mde_above_one"]
    # more than a million replicates: said for this measure, no error for the others
    costly = power.plan_replicates([0.001, 0.1], 0.0015, power=0.95)
    assert costly["replicates"] is None and "needs more than 1,000,000" in costly["too_many"]
    assert "(from a pilot of 2)" in costly["too_many"]


def test_a_share_pilot_sd_above_one_is_planned_at_one():
    # differences of a share lie in [-1, 1]; a sample SD of [1, -1, 1] is 1.15 all the same
    plan = power.plan_replicates([1.0, -1.0, 1.0], 0.1, bounded=True)
    worst = power.plan_replicates([0.4], 0.1, bounded=True)["replicates"]
    assert plan["sd_used"] == 1.0 and plan["sd_difference"] > 1
    assert plan["replicates"] <= worst and plan["replicates_at_pilot_sd"] == worst
    tiny = power.plan_replicates([1.0, -1.0], 0.003, bounded=True)
    assert tiny["replicates"] is not None and tiny["replicates"] <= tiny["replicates_at_pilot_sd"]

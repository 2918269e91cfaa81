import math

import numpy as np
import pandas as pd
import pytest

from socialsim.analysis import stats


def test_wilson_known_values():
    lo, hi = stats.wilson_ci(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    lo, hi = stats.wilson_ci(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert all(math.isnan(v) for v in stats.wilson_ci(0, 0))


def test_newcombe_difference_matches_published_example():
    # Newcombe (1998), method 10: 56/70 vs 48/80 -> 0.2000 (0.0524, 0.3339)
    out = stats.newcombe_diff_ci(56, 70, 48, 80)
    assert out["diff"] == pytest.approx(0.2)
    assert out["ci_low"] == pytest.approx(0.0524, abs=1e-4)
    assert out["ci_high"] == pytest.approx(0.3339, abs=1e-4)


def test_odds_ratio_woolf_by_hand():
    out = stats.odds_ratio(10, 20, 5, 25)
    assert out["odds_ratio"] == pytest.approx(2.5)
    se = math.sqrt(1 / 10 + 1 / 20 + 1 / 5 + 1 / 25)
    assert out["ci_low"] == pytest.approx(math.exp(math.log(2.5) - 1.959964 * se), rel=1e-5)
    assert out["ci_high"] == pytest.approx(math.exp(math.log(2.5) + 1.959964 * se), rel=1e-5)
    assert out["corrected"] is False


def test_odds_ratio_haldane_correction_on_zero_cell():
    out = stats.odds_ratio(0, 5, 5, 5)
    assert out["corrected"] is True
    assert out["odds_ratio"] == pytest.approx((0.5 * 5.5) / (5.5 * 5.5))


def test_odds_ratio_is_null_for_a_table_without_events_or_non_events():
    for table in ((0, 1, 0, 3), (2, 0, 5, 0), (0, 0, 1, 3), (1, 3, 0, 0)):
        out = stats.odds_ratio(*table)
        assert out == dict.fromkeys(("odds_ratio", "ci_low", "ci_high", "se_log", "corrected"))
    # one event on one side is information: corrected, not null
    assert stats.odds_ratio(1, 0, 0, 3)["odds_ratio"] == pytest.approx((1.5 * 3.5) / (0.5 * 0.5))


def test_paired_t_interval_by_hand_and_per_row():
    lo, hi = stats.paired_t_interval([0.4, 0.4, 0.3, float("nan")])
    half = 4.302653 * np.std([0.4, 0.4, 0.3], ddof=1) / math.sqrt(3)
    assert (lo, hi) == (pytest.approx(1.1 / 3 - half), pytest.approx(1.1 / 3 + half))
    assert all(math.isnan(v) for v in stats.paired_t_interval([0.2]))
    rows = np.random.default_rng(4).normal(size=(6, 5))
    los, his = stats.paired_t_interval(rows)
    for row, a, b in zip(rows, los, his, strict=True):
        assert (a, b) == pytest.approx(stats.paired_t_interval(row))


EFFECT_KEYS = {
    "treatment", "control", "difference", "ci_low", "ci_high", "n_replicates", "interval",
    "no_interval", "sd_difference", "mde",
}  # fmt: skip


def test_paired_effect_interval_sd_and_mde():
    from socialsim.analysis.power import minimum_detectable_effect

    t, c = [0.5, 0.6, 0.4, 0.7], [0.1, 0.2, 0.1, 0.1]
    out = stats.paired_effect(t, c)
    diffs = np.subtract(t, c)
    assert set(out) == EFFECT_KEYS
    assert out["difference"] == pytest.approx(diffs.mean())
    assert (out["ci_low"], out["ci_high"]) == pytest.approx(stats.paired_t_interval(diffs))
    assert out["interval"] == {"method": "paired t", "level": 0.95, "n": 4}
    assert out["no_interval"] is None
    assert out["sd_difference"] == pytest.approx(np.std(diffs, ddof=1))
    assert out["mde"] == pytest.approx(minimum_detectable_effect(np.std(diffs, ddof=1), 4))
    narrow = stats.paired_effect(t, c, alpha=0.5)
    assert out["ci_low"] < narrow["ci_low"] and narrow["interval"]["level"] == 0.5


def test_paired_effect_below_three_replicates_has_the_estimate_alone():
    one = stats.paired_effect([0.5], [0.1])
    assert set(one) == EFFECT_KEYS
    assert one["difference"] == pytest.approx(0.4) and one["n_replicates"] == 1
    assert one["ci_low"] is one["ci_high"] is one["interval"] is one["mde"] is None
    assert one["sd_difference"] is None
    assert one["no_interval"] == "1 replicate; an interval needs at least 3 (--replicates 3)"
    two = stats.paired_effect([0.5, 0.7, float("nan")], [0.1, 0.2, 0.3])
    assert two["n_replicates"] == 2 and two["ci_low"] is None
    assert two["sd_difference"] == pytest.approx(np.std([0.4, 0.5], ddof=1))
    assert two["no_interval"].startswith("2 replicates; an interval needs at least 3")
    none = stats.paired_effect([float("nan")], [0.1])
    assert none["difference"] is None and none["n_replicates"] == 0
    assert none["no_interval"] == "no replicate has the measure in both arms"


def test_paired_effect_of_differences_that_do_not_vary():
    out = stats.paired_effect([0.3, 0.3, 0.3], [0.1, 0.1, 0.1])
    assert out["ci_low"] == pytest.approx(0.2) and out["ci_high"] == pytest.approx(0.2)
    assert out["sd_difference"] == 0.0 and out["mde"] == 0.0


def test_differences_equal_up_to_rounding_did_not_vary():
    # 0.6 - 0.2 and 0.7 - 0.3 differ from 0.4 in the 17th digit: the same as exact 0.4s
    from socialsim.analysis.power import plan_replicates

    noisy = stats.paired_effect([0.5, 0.6, 0.7], [0.1, 0.2, 0.3])
    exact = stats.paired_effect([0.4, 0.4, 0.4], [0.0, 0.0, 0.0])
    assert noisy["sd_difference"] == exact["sd_difference"] == 0.0
    assert noisy["mde"] == exact["mde"] == 0.0
    planned = plan_replicates([0.6 - 0.2, 0.7 - 0.3, 0.5 - 0.1], 0.05, bounded=True)
    assert planned == plan_replicates([0.4, 0.4, 0.4], 0.05, bounded=True)
    assert planned["pilot_sd_zero"] is True
    assert stats.paired_effect([0.5, 0.6, 0.7], [0.1, 0.2, 0.3 + 1e-6])["sd_difference"] > 0


def test_aggregate_over_seeds_t_interval():
    df = pd.DataFrame(
        {"kind": ["a", "a", "a", "b"], "seed": [1, 2, 3, 1], "m": [1.0, 2.0, 3.0, 5.0]}
    )
    out = stats.aggregate_over_seeds(df, "kind", ["m"]).set_index("kind")
    assert out.loc["a", "mean"] == 2.0 and out.loc["a", "n"] == 3
    half = 4.302653 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert out.loc["a", "ci_low"] == pytest.approx(2.0 - half, rel=1e-5)
    assert out.loc["a", "ci_high"] == pytest.approx(2.0 + half, rel=1e-5)
    # one seed says nothing of seed-to-seed variation: no interval (not a zero-width one)
    assert out.loc["b", "mean"] == 5.0 and out.loc["b", "n"] == 1
    assert math.isnan(out.loc["b", "ci_low"]) and math.isnan(out.loc["b", "ci_high"])


def test_proportion_table():
    df = pd.DataFrame({"g": ["x", "x", "y"], "ok": [1, 0, 1]})
    out = stats.proportion_table(df, "g", "ok").set_index("g")
    assert out.loc["x", "rate"] == 0.5 and out.loc["x", "n"] == 2
    assert out.loc["x", "ci_low"] == pytest.approx(stats.wilson_ci(1, 2)[0])


def test_wilson_ends_are_exact_at_zero_and_all():
    # the formula's low end at k = 0 is 0 only up to rounding (1.4e-17 at n = 14)
    for n in (1, 3, 14, 97):
        assert stats.wilson_ci(0, n)[0] == 0.0 and stats.wilson_ci(n, n)[1] == 1.0
    assert stats.wilson_ci(0, 14)[1] == pytest.approx(0.2153, abs=1e-4)

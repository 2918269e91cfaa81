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


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    values = np.arange(20, dtype=float)
    a = stats.bootstrap_ci(values, rng=1)
    b = stats.bootstrap_ci(values, rng=1)
    assert a == b
    assert a[0] < values.mean() < a[1]
    med = stats.bootstrap_ci(values, stat=np.median, n=500, rng=1)
    assert med[0] < np.median(values) < med[1]
    assert stats.bootstrap_ci([3.0]) == (3.0, 3.0)
    assert all(math.isnan(v) for v in stats.bootstrap_ci([]))


def test_aggregate_over_seeds_t_interval():
    df = pd.DataFrame(
        {"kind": ["a", "a", "a", "b"], "seed": [1, 2, 3, 1], "m": [1.0, 2.0, 3.0, 5.0]}
    )
    out = stats.aggregate_over_seeds(df, "kind", ["m"]).set_index("kind")
    assert out.loc["a", "mean"] == 2.0 and out.loc["a", "n"] == 3
    half = 4.302653 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert out.loc["a", "ci_low"] == pytest.approx(2.0 - half, rel=1e-5)
    assert out.loc["a", "ci_high"] == pytest.approx(2.0 + half, rel=1e-5)
    assert out.loc["b", "ci_low"] == out.loc["b", "ci_high"] == 5.0


def test_proportion_table():
    df = pd.DataFrame({"g": ["x", "x", "y"], "ok": [1, 0, 1]})
    out = stats.proportion_table(df, "g", "ok").set_index("g")
    assert out.loc["x", "rate"] == 0.5 and out.loc["x", "n"] == 2
    assert out.loc["x", "ci_low"] == pytest.approx(stats.wilson_ci(1, 2)[0])

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


# --- shares with agents as clusters ---------------------------------------------------------------
def _korn_graubard_by_hand(k, n, alpha=0.05):
    """Korn and Graubard (1998) written out for one share of k_i of n_i items per agent."""
    from scipy import stats as sps

    k, n = np.asarray(k, float), np.asarray(n, float)
    g, total = len(k), n.sum()
    p = k.sum() / total
    variance = g / (g - 1) * ((k - p * n) ** 2).sum() / total**2
    deff = max(variance / (p * (1 - p) / total), 1.0) if 0 < p < 1 else 1.0
    t = sps.t.ppf(1 - alpha / 2, g - 1)
    size = total / deff * (sps.t.ppf(1 - alpha / 2, total - 1) / t) ** 2
    x = p * size
    low = sps.beta.ppf(alpha / 2, x, size - x + 1) if x > 0 else 0.0
    high = sps.beta.ppf(1 - alpha / 2, x + 1, size - x) if x < size else 1.0
    return low, high


def test_cluster_intervals_by_hand():
    # 10 of 20 items from 4 agents (3, 1, 4 and 2 of 5): variance 4/3 * 5 / 400, deff 4/3,
    # t(3) = 3.182, effective size 20 / (4/3) * (t(19) / 3.182)^2 = 6.53 items
    low, high = stats.cluster_intervals(np.array([3, 1, 4, 2]), np.array([5, 5, 5, 5]))
    assert (low[0], high[0]) == pytest.approx(_korn_graubard_by_hand([3, 1, 4, 2], [5] * 4))
    assert (low[0], high[0]) == pytest.approx((0.1286, 0.8714), abs=1e-4)
    # columns apart: an agent without items in a column is no cluster of it
    k = np.array([[3, 0], [1, 1], [4, 2], [2, 0]])
    n = np.array([[5, 0], [5, 2], [5, 2], [5, 1]])
    low, high = stats.cluster_intervals(k, n)
    assert (low[1], high[1]) == pytest.approx(_korn_graubard_by_hand([1, 2, 0], [2, 2, 1]))
    # means of values in [0, 1]: p +- t(G - 1) se, clipped
    conf = np.array([[2.7], [1.5], [1.4], [1.4]])
    items = np.array([[3], [3], [2], [2]])
    low, high = stats.cluster_intervals(conf, items, shares=False)
    p = 7.0 / 10.0
    se = math.sqrt(4 / 3 * ((conf[:, 0] - p * items[:, 0]) ** 2).sum() / 100)
    half = 3.182446305284263 * se
    assert (low[0], high[0]) == pytest.approx((p - half, min(1.0, p + half)))  # clipped
    # one agent: nothing about how agents vary
    low, _ = stats.cluster_intervals(np.array([[3], [0]]), np.array([[5], [0]]))
    assert np.isnan(low[0])


def test_clustered_share_ci_wilson_without_repeats_and_dyadic_with_pairs():
    y = [1, 0, 1, 1, 0, 0]
    # each agent one item: independent items, Wilson's interval
    assert stats.clustered_share_ci(y, np.arange(6)) == pytest.approx(stats.wilson_ci(3, 6))
    # two items an agent: Korn-Graubard over the agents
    agents = np.array([0, 0, 1, 1, 2, 2])
    assert stats.clustered_share_ci(y, agents) == pytest.approx(
        _korn_graubard_by_hand([1, 2, 0], [2, 2, 2])
    )
    # items of two agents (a negotiation's proposer and responder): every two items that
    # share an agent are correlated, each such pair of items counted once
    pairs = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [0, 1], [1, 3]])
    e = np.array(y, float) - 0.5
    raw = sum(e[i] * e[j] for i in range(6) for j in range(6) if set(pairs[i]) & set(pairs[j]))
    variance = 4 / 3 * raw / 36
    from scipy import stats as sps

    deff = max(variance / (0.25 / 6), 1.0)
    size = 6 / deff * (sps.t.ppf(0.975, 5) / sps.t.ppf(0.975, 3)) ** 2
    expected = (
        sps.beta.ppf(0.025, size / 2, size / 2 + 1),
        sps.beta.ppf(0.975, size / 2 + 1, size / 2),
    )
    assert stats.clustered_share_ci(y, pairs) == pytest.approx(expected, rel=1e-6)
    # a table of three shares an agent with another only through its third seat
    tables = [[0, 1, 9], [2, 3, 9], [4, 5, 6], [7, 8, 10], [11, 12, 13], [14, 15, 16]]
    assert stats.clustered_share_ci(y, tables) != pytest.approx(stats.wilson_ci(3, 6))
    # an item without an agent is a cluster of its own; NaN outcomes are left out
    assert stats.clustered_share_ci([1, 0, 1], [None, 5, float("nan")]) == pytest.approx(
        stats.wilson_ci(2, 3)
    )
    assert stats.clustered_share_ci([1, 0, float("nan")], np.array([0, 1, 1])) == pytest.approx(
        stats.wilson_ci(1, 2)
    )
    assert all(np.isnan(stats.clustered_share_ci([], np.array([]))))
    # agents named by numbers and by words alike
    mixed = np.array([0, "a", 0, None, "a"], dtype=object)
    assert stats.clustered_share_ci([1, 0, 1, 1, 0], mixed) == pytest.approx(
        _korn_graubard_by_hand([2, 0, 1], [2, 2, 1])
    )
    # negotiations of disjoint pairs are independent: Wilson again
    assert stats.clustered_share_ci([1, 0], np.array([[0, 1], [2, 3]])) == pytest.approx(
        stats.wilson_ci(1, 2)
    )
    assert all(np.isnan(stats.clustered_share_ci([1, 1, 0], np.zeros(3))))  # one agent
    # one item an agent in every column: Wilson's, as the items are independent
    low, high = stats.cluster_intervals(np.array([1, 0, 1, 1, 0]), np.ones(5))
    assert (low[0], high[0]) == pytest.approx(stats.wilson_ci(3, 5))


def test_answer_table_takes_the_agent_column_as_clusters():
    rows = pd.DataFrame(
        {
            "agent": [0, 0, 0, 1, 1, 1, 2, 2, 2, 3],
            "status": ["answered"] * 9 + ["failed"],
            "y": [1, 1, 1, 0, 0, 1, 1, 0, 1, None],
            "group": ["a"] * 10,
        }
    )
    table = stats.answer_table(rows, "group", "y")
    cell = table.iloc[0]
    assert (cell["asked"], cell["answered"], cell["failed"], cell["k"]) == (10, 9, 1, 6)
    expected = _korn_graubard_by_hand([3, 1, 2], [3, 3, 3])
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(expected)
    wilson = stats.answer_table(rows, "group", "y", agents=()).iloc[0]
    assert (wilson["ci_low"], wilson["ci_high"]) == pytest.approx(stats.wilson_ci(6, 9))


@pytest.mark.slow
def test_clustered_shares_hold_their_level_where_wilson_and_the_bootstrap_do_not():
    """Synthetic shares shaped like the measures': agents with their own leaning (Beta with
    intraclass correlation 0.3, mean share 0.05; and 0.2 around 0.5), 1 + Poisson(8) items an
    agent, 20 agents. The truth is the mean share."""
    rng = np.random.default_rng(7)

    def coverage(mean, icc, agents, reps=600):
        a, b = mean * (1 / icc - 1), (1 - mean) * (1 / icc - 1)
        hits = {"clustered": 0, "wilson": 0, "bootstrap": 0}
        for _ in range(reps):
            n = 1 + rng.poisson(8, agents)
            k = rng.binomial(n, rng.beta(a, b, agents))
            low, high = stats.cluster_intervals(k, n)
            hits["clustered"] += low[0] <= mean <= high[0]
            low, high = stats.wilson_ci(int(k.sum()), int(n.sum()))
            hits["wilson"] += low <= mean <= high
            draws = rng.integers(0, agents, size=(1000, agents))
            shares = k[draws].sum(axis=1) / n[draws].sum(axis=1)
            low, high = np.quantile(shares, [0.025, 0.975])
            hits["bootstrap"] += low <= mean <= high
        return {key: value / reps for key, value in hits.items()}

    hard = coverage(0.05, 0.3, 20)
    assert hard["clustered"] >= 0.87 and hard["bootstrap"] < 0.86 and hard["wilson"] < 0.75
    middle = coverage(0.5, 0.2, 20)
    assert middle["clustered"] >= 0.93 and middle["wilson"] < 0.8


def test_the_shared_agent_sum_is_the_direct_sum_over_pairs_of_items():
    rng = np.random.default_rng(4)
    for _ in range(40):
        n = int(rng.integers(5, 30))
        tables = [list(rng.integers(0, 7, int(rng.integers(1, 5)))) for _ in range(n)]
        tables[0] = [tables[0][0], tables[0][0]]  # a seat listed twice is one agent
        e = rng.random(n) - 0.5
        item, code = stats._memberships(tables, n)
        sets = [set(code[item == i]) for i in range(n)]
        direct = sum(e[i] * e[j] for i in range(n) for j in range(n) if sets[i] & sets[j])
        assert stats._shared_agent_sum(item, code, e) == pytest.approx(direct, abs=1e-12)
    # pd.NA, None and NaN name no agent
    assert stats.clustered_share_ci([1, 0, 1], [pd.NA, 5, None]) == pytest.approx(
        stats.wilson_ci(2, 3)
    )


@pytest.mark.slow
def test_mean_interval_of_shifts_with_few_moves_holds_its_level_where_it_gives_one():
    """Shifts that are mostly 0 (1 in 10 moves by +1): the plain t interval held the mean in
    0.41 (5 values), 0.66 (10) and 0.87 (50) of samples; the interval `mean_interval` gives
    (none with fewer than 3 moves off the most common value) holds it in at least 0.95."""
    rng = np.random.default_rng(9)
    for n, plain_at_most in ((5, 0.5), (10, 0.75), (50, 0.92)):
        given, hits, plain = 0, 0, 0
        for _ in range(3000):
            x = (rng.random(n) < 0.1).astype(float)
            cell = stats.mean_interval(x)
            if x.std() > 0:
                lo, hi = stats.paired_t_interval(x)
                plain += lo <= 0.1 <= hi
            if cell["ci_low"] is not None:
                given += 1
                hits += cell["ci_low"] <= 0.1 <= cell["ci_high"]
        assert plain / 3000 <= plain_at_most
        assert given == 0 or hits / given >= 0.95
        assert n < 10 or given > 100  # with 10 values or more, many samples get one

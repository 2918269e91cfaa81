"""Confidence intervals: proportions, odds ratios, means across seeds, paired arm effects."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from socialsim.analysis.power import minimum_detectable_effect, spread_of


def _z(alpha: float) -> float:
    return float(sps.norm.ppf(1 - alpha / 2))


def wilson_ci(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials: ``wilson_ci(5, 10)`` -> (0.237, 0.763)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    z = _z(alpha)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k <= 0 else max(0.0, centre - half)  # exact ends, not rounding's 1e-17
    high = 1.0 if k >= n else min(1.0, centre + half)
    return (low, high)


CLUSTER_SHARE_METHOD = "Korn-Graubard (agents as clusters)"
CLUSTER_MEAN_METHOD = "cluster-robust t (agents as clusters)"


def korn_graubard(
    p: np.ndarray, total: np.ndarray, variance: np.ndarray, clusters: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Korn and Graubard's (1998) interval of shares `p` of `total` items in `clusters`
    clusters whose estimate has `variance`: the Clopper-Pearson interval at the effective
    sample size ``total / deff * (t(total - 1) / t(clusters - 1))^2``, with the design effect
    ``deff = variance / (p (1 - p) / total)`` at least 1 (arrays, element by element)."""
    level = 1 - alpha / 2
    t_items = sps.t.ppf(level, np.maximum(total - 1, 1))
    t = sps.t.ppf(level, clusters - 1)
    simple = p * (1 - p) / total
    with np.errstate(invalid="ignore", divide="ignore"):
        deff = np.where(simple > 0, np.maximum(variance / simple, 1.0), 1.0)
        size = total / deff * (t_items / t) ** 2
        x = p * size
        low = np.where(x > 0, sps.beta.ppf(alpha / 2, x, size - x + 1), 0.0)
        high = np.where(x < size, sps.beta.ppf(1 - alpha / 2, x + 1, size - x), 1.0)
    return low, high


def cluster_intervals(
    k: np.ndarray, n: np.ndarray, *, shares: bool = True, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Intervals of sum(k[:, c]) / sum(n[:, c]) for every column c, rows (agents) as clusters.

    An agent's items (probes, exposures, messages) are not independent of each other, so
    the agents are the unit. For each column, over its G agents with n > 0, the ratio
    estimate p has the cluster-robust variance ``G / (G - 1) * sum((k_i - p n_i)^2) / N^2``
    (N = sum(n)). With `shares` (k counts successes) the interval is :func:`korn_graubard`'s,
    or Wilson's where no agent has more than one item (the items are then independent);
    without (k sums values in [0, 1], e.g. confidences) it is ``p +- t(G-1) * se``, clipped
    to [0, 1]. A column with fewer than two agents gets NaN: one agent says nothing about
    how agents vary.

    ``cluster_intervals(np.array([[3], [1], [4], [2]]), np.array([[5], [5], [5], [5]]))``
    -> ([0.1286], [0.8714]) (10 of 20 items, 4 agents; Wilson's, counting the items as
    independent, gives (0.2993, 0.7007)).
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if k.ndim == 1:
        k, n = k[:, None], n[:, None]
    agents = (n > 0).sum(axis=0)
    total = n.sum(axis=0)
    low = np.full(total.shape, np.nan)
    high = np.full(total.shape, np.nan)
    ok = agents >= 2
    if not ok.any():
        return low, high
    k, n, g, total = k[:, ok], n[:, ok], agents[ok].astype(float), total[ok]
    p = k.sum(axis=0) / total
    variance = g / (g - 1) * ((k - p * n) ** 2).sum(axis=0) / total**2
    if shares:
        lo, hi = korn_graubard(p, total, variance, g, alpha)
        for c in np.flatnonzero((n <= 1).all(axis=0)):  # one item an agent: independent
            lo[c], hi[c] = wilson_ci(int(round(k[:, c].sum())), int(total[c]), alpha)
        low[ok], high[ok] = lo, hi
    else:
        half = sps.t.ppf(1 - alpha / 2, g - 1) * np.sqrt(variance)
        low[ok], high[ok] = np.clip(p - half, 0.0, 1.0), np.clip(p + half, 0.0, 1.0)
    return low, high


def _memberships(members: Any, items: int) -> tuple[np.ndarray, np.ndarray]:
    """(item, agent code) pairs of `members`: one agent an item (a 1-D array), several (rows
    of a 2-D array, or lists), missing ones (None, NaN) skipped; an item with no agent is a
    cluster of its own."""
    if isinstance(members, np.ndarray) and members.ndim == 1:  # one agent an item: vectorised
        if len(members) != items:
            raise ValueError(f"{len(members)} rows of members for {items} items")
        codes, _ = pd.factorize(pd.Series(members, dtype=object), use_na_sentinel=True)
        missing = codes < 0
        codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
        return np.arange(items, dtype=np.int64), codes.astype(np.int64)
    if isinstance(members, np.ndarray):
        rows = members.tolist()
    else:
        rows = [list(m) if isinstance(m, (list, tuple, np.ndarray)) else [m] for m in members]
    if len(rows) != items:
        raise ValueError(f"{len(rows)} rows of members for {items} items")
    item_of, agent_of = [], []
    for i, row in enumerate(rows):
        known = list(dict.fromkeys(a for a in row if not _no_agent(a)))
        for a in known or [("item", i)]:
            item_of.append(i)
            agent_of.append(a)
    codes, _ = pd.factorize(pd.Series(agent_of, dtype=object))
    return np.asarray(item_of, dtype=np.int64), np.asarray(codes, dtype=np.int64)


def _no_agent(value: Any) -> bool:
    """Whether a member value names no agent (None, NaN, pd.NA)."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _shared_agent_sum(item: np.ndarray, code: np.ndarray, e: np.ndarray) -> float:
    """``sum of e_i e_j`` over the ordered pairs of items (i, j) that share at least one agent,
    each once however many they share (i = j included), linear in the items.

    By inclusion and exclusion over the agents two items share: ``1[share >= 1] = sum over
    the non-empty sets T of shared agents of (-1)^(|T| + 1)``, so the sum is that of
    ``(-1)^(|T| + 1) S_T^2`` over every set T of agents some item holds, S_T the sum of e over
    the items holding all of T (T of one agent: the usual cluster sums; of two: the items of
    one pair of agents, counted once more than they should be; and so on for larger tables).
    """
    members: dict[int, list[int]] = {}
    for i, c in zip(item.tolist(), code.tolist(), strict=True):
        members.setdefault(i, []).append(c)
    sums: dict[tuple[int, ...], float] = {}
    for i, agents in members.items():
        agents.sort()
        for size in range(1, len(agents) + 1):
            for subset in itertools.combinations(agents, size):
                sums[subset] = sums.get(subset, 0.0) + float(e[i])
    return float(sum((-1) ** (len(t) + 1) * v * v for t, v in sums.items()))


def clustered_share_ci(
    y: Sequence[float] | np.ndarray, members: Any, alpha: float = 0.05
) -> tuple[float, float]:
    """Interval of the share of 1s in `y`, each item belonging to the agents `members` names
    (a 1-D array: one agent an item; rows of a 2-D array or lists: the agents of a
    negotiation, a debate pair, a table of several; None or NaN: no agent).

    Items of one agent are not independent: when an agent has more than one item, the
    interval is :func:`korn_graubard`'s with the cluster-robust variance, every two items
    that share an agent counted as correlated (``G / (G - 1) * sum_{i, j share an agent}
    e_i e_j / N^2``, e_i = y_i - p, over ordered pairs of items, each once however many
    agents the two share, an item with itself included: with one agent an item, the usual
    ``sum_g s_g^2``; with several, the dyadic-robust form, :func:`_shared_agent_sum`). An
    item without an agent is a cluster of its own. When no agent has two items the items are
    independent and the interval is Wilson's. Items whose outcome is NaN are left out; under two clusters the
    result is (nan, nan).

    ``clustered_share_ci([1, 1, 0, 0, 1, 0] * 2, np.repeat(np.arange(6), 2))`` -> (0.1066,
    0.8934): 6 of 12 items, two from each of 6 agents, most agents answering both alike
    (Wilson's: (0.2538, 0.7462)).
    """
    y = np.asarray(y, dtype=float)
    keep = ~np.isnan(y)
    if not keep.all():
        rows = members if not isinstance(members, np.ndarray) else list(members)
        members = [m for m, k in zip(rows, keep, strict=True) if k]
        y = y[keep]
    if not len(y):
        return (float("nan"), float("nan"))
    item, code = _memberships(members, len(y))
    g = int(code.max()) + 1
    if np.bincount(code, minlength=g).max() <= 1:
        return wilson_ci(int(round(y.sum())), len(y), alpha)
    if g < 2:
        return (float("nan"), float("nan"))
    total = float(len(y))
    p = y.sum() / total
    e = y - p
    if np.bincount(item, minlength=len(y)).max() <= 1:  # one agent an item
        raw = (np.bincount(code, weights=e[item], minlength=g) ** 2).sum()
    else:  # each pair of items sharing an agent once
        raw = _shared_agent_sum(item, code, e)
    variance = g / (g - 1) * max(raw, 0.0) / total**2
    low, high = korn_graubard(
        np.array([p]), np.array([total]), np.array([variance]), np.array([float(g)]), alpha
    )
    return float(low[0]), float(high[0])


def newcombe_diff_ci(k1: int, n1: int, k2: int, n2: int, alpha: float = 0.05) -> dict[str, float]:
    """Difference p1 - p2 of two proportions with Newcombe's hybrid score interval."""
    if n1 <= 0 or n2 <= 0:
        nan = float("nan")
        return {"diff": nan, "ci_low": nan, "ci_high": nan}
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_ci(k1, n1, alpha)
    l2, u2 = wilson_ci(k2, n2, alpha)
    d = p1 - p2
    return {
        "diff": d,
        "ci_low": d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        "ci_high": d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    }


def odds_ratio(a: float, b: float, c: float, d: float, alpha: float = 0.05) -> dict[str, Any]:
    """Odds ratio (a*d)/(b*c) of a 2x2 table [[a, b], [c, d]] with Woolf's log interval.

    Rows are the two conditions, columns outcome yes/no. When a cell is 0, 0.5 is added to
    every cell (Haldane-Anscombe) and ``corrected`` is True. A table that says nothing about
    the odds - a row with no count, or no event (or no non-event) in either row, e.g.
    0/1 vs 0/3 - has ``odds_ratio``, its interval, ``se_log`` and ``corrected`` all None.

    ``odds_ratio(10, 20, 5, 25)["odds_ratio"]`` -> 2.5; ``odds_ratio(0, 1, 0, 3)["odds_ratio"]``
    -> None.
    """
    cells = np.array([a, b, c, d], dtype=float)
    if a + b == 0 or c + d == 0 or a + c == 0 or b + d == 0:
        return dict.fromkeys(("odds_ratio", "ci_low", "ci_high", "se_log", "corrected"))
    corrected = bool((cells == 0).any())
    if corrected:
        cells = cells + 0.5
    a_, b_, c_, d_ = cells
    ratio = (a_ * d_) / (b_ * c_)
    se = math.sqrt((1 / cells).sum())
    z = _z(alpha)
    log_or = math.log(ratio)
    return {
        "odds_ratio": ratio,
        "ci_low": math.exp(log_or - z * se),
        "ci_high": math.exp(log_or + z * se),
        "se_log": se,
        "corrected": corrected,
    }


def aggregate_over_seeds(
    df: pd.DataFrame,
    by: str | Sequence[str],
    metrics: str | Sequence[str],
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mean and t-interval of each metric per group (one row per group and metric).

    ``aggregate_over_seeds(results, "network.kind", ["reach.c1"])`` -> columns
    ``network.kind, metric, mean, ci_low, ci_high, n``. The rows of a group are taken as
    replicates (seeds): group by every other swept key too, or the interval mixes their
    settings' differences into the seeds' variation. One value gives no interval (NaN). The t
    interval takes the seeds' values as roughly normal: for a skewed measure (final reach of
    a cascade, a few seeds taking off) with 3 to 5 seeds it held the mean in 0.85 to 0.89 of
    real rule runs (60 agents, independent cascade; 0.93 with 10 seeds).
    """
    by = [by] if isinstance(by, str) else list(by)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    rows = []
    for key, group in df.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        for metric in metrics:
            x = pd.to_numeric(group[metric], errors="coerce").dropna().to_numpy(dtype=float)
            n = x.size
            mean = float(x.mean()) if n else float("nan")
            if n > 1:
                half = float(sps.t.ppf(1 - alpha / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
            else:
                half = float("nan")  # one value says nothing of seed-to-seed variation
            rows.append(
                {
                    **dict(zip(by, key, strict=True)),
                    "metric": metric,
                    "mean": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "n": n,
                }
            )
    return pd.DataFrame(rows, columns=[*by, "metric", "mean", "ci_low", "ci_high", "n"])


def proportion_table(
    df: pd.DataFrame, by: str | Sequence[str], outcome: str, alpha: float = 0.05
) -> pd.DataFrame:
    """Successes per group with Wilson intervals: ``by..., n, k, rate, ci_low, ci_high``."""
    by = [by] if isinstance(by, str) else list(by)
    cols = [*by, "n", "k", "rate", "ci_low", "ci_high"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    x = df.assign(_y=pd.to_numeric(df[outcome], errors="coerce")).dropna(subset=["_y"])
    out = x.groupby(by, dropna=False)["_y"].agg(n="size", k="sum").reset_index()
    out["k"] = out["k"].astype(int)
    out["rate"] = out["k"] / out["n"]
    cis = [wilson_ci(k, n, alpha) for k, n in zip(out["k"], out["n"], strict=True)]
    out["ci_low"] = [c[0] for c in cis]
    out["ci_high"] = [c[1] for c in cis]
    return out[cols]


MIN_REPLICATES = 3
"""Fewest paired replicates for which an effect gets an interval (below it: the estimate alone)."""

INTERVALS: dict[str, dict[str, str]] = {
    "shares of answered items (ci_low/ci_high beside asked, answered, k, rate)": {
        "method": f"Wilson score where no agent answered twice, else {CLUSTER_SHARE_METHOD} "
        "(negotiations: items sharing either agent correlated; collaboration: Wilson over "
        "trials, whose seats are drawn afresh); none from one agent alone",
        "n": "answered items, from their agents",
    },
    "difference of two shares (collaboration gap)": {
        "method": "Newcombe hybrid score", "n": "answered items in each group",
    },
    "odds ratios (persuasion, manipulation)": {
        "method": "Woolf log interval; 0.5 added to every cell when one is 0; none when "
        "neither group has an event (or a non-event)",
        "n": "the 2x2 table's counts",
    },
    "mean shift (debate)": {
        "method": "t interval; none when fewer than 3 shifts differ from the most common one",
        "n": "answered pairs",
    },
    "toxic share of agent messages (toxicity)": {
        "method": f"Wilson score where no agent sent two, else {CLUSTER_SHARE_METHOD}",
        "n": "messages, from their senders",
    },
    "consistency shares": {"method": CLUSTER_SHARE_METHOD, "n": "agents with items"},
    "feed shares (acceptance per exposure, framing, version)": {
        "method": CLUSTER_SHARE_METHOD, "n": "agents with items",
    },
    "feed mean confidence and repetition effect": {
        "method": CLUSTER_MEAN_METHOD, "n": "agents with items",
    },
    "persona correlations": {
        "method": "Fisher z, Bonett-Wright standard error (each carries its own 'interval')",
        "n": "agents",
    },
    "effects against a control (arms summary.json)": {
        "method": "paired t over seed-level differences (each carries its own 'interval'); "
        f"none below {MIN_REPLICATES} replicates",
        "n": "replicates",
    },
}  # fmt: skip
"""What each interval in a summary.json is (all at the 95% level): written into every run's
summary under ``intervals``, and defined in docs/measures.md."""


INTERVAL_METHOD = "paired t"


def paired_t_interval(
    differences: Sequence[float] | np.ndarray, alpha: float = 0.05
) -> tuple[Any, Any]:
    """t-interval of the mean of paired differences: mean +- t(1 - alpha/2, n-1) * sd / sqrt(n).

    ``paired_t_interval([0.4, 0.4, 0.3])`` -> (0.2232, 0.5101). NaNs are dropped; fewer than
    two values give (nan, nan). A 2-D array holds one set of differences per row (no NaNs)
    and gives an array of lower and of upper ends, one per row.
    """
    x = np.asarray(differences, dtype=float)
    if x.ndim == 2:
        n = x.shape[1]
        if n < 2:
            return (np.full(len(x), np.nan), np.full(len(x), np.nan))
        half = sps.t.ppf(1 - alpha / 2, n - 1) * x.std(axis=1, ddof=1) / math.sqrt(n)
        return (x.mean(axis=1) - half, x.mean(axis=1) + half)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return (float("nan"), float("nan"))
    half = float(sps.t.ppf(1 - alpha / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    mean = float(x.mean())
    return (mean - half, mean + half)


def no_interval_reason(n: int, minimum: int = MIN_REPLICATES) -> str | None:
    """Why an effect over `n` paired replicates has no interval, or None when it has one.

    ``no_interval_reason(1)`` -> ``"1 replicate; an interval needs at least 3 (--replicates 3)"``.
    """
    if n >= minimum:
        return None
    if n == 0:
        return "no replicate has the measure in both arms"
    return (
        f"{n} replicate{'s' if n != 1 else ''}; an interval needs at least {minimum} "
        f"(--replicates {minimum})"
    )


def paired_effect(
    treatment: Sequence[float] | np.ndarray,
    control: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    power: float = 0.8,
    min_replicates: int = MIN_REPLICATES,
) -> dict[str, Any]:
    """Effect of a treatment against its matched control over paired replicates (seeds).

    Pairs with a missing value on either side are dropped. ``difference`` is the mean of
    the paired differences (treatment minus control), ``sd_difference`` their standard
    deviation (ddof 1; None below two pairs). With at least `min_replicates` pairs,
    ``ci_low``/``ci_high`` is the paired t-interval of the mean difference (``interval``
    names the method, level and n) and ``mde`` the smallest true difference the paired
    t-test at level `alpha` detects with probability `power`; below that there is no
    interval (``interval``, ``ci_low``, ``ci_high``, ``mde`` None) and ``no_interval`` says
    how many replicates one needs. ``treatment`` and ``control`` are the arms' means over
    the same pairs.

    ``paired_effect([0.5, 0.6, 0.4], [0.1, 0.2, 0.1])`` -> difference 0.3667,
    interval (0.2232, 0.5101).
    """
    t = np.asarray(treatment, dtype=float)
    c = np.asarray(control, dtype=float)
    keep = ~(np.isnan(t) | np.isnan(c))
    t, c = t[keep], c[keep]
    diff = t - c
    n = int(diff.size)
    out: dict[str, Any] = {
        "treatment": float(t.mean()) if n else None,
        "control": float(c.mean()) if n else None,
        "difference": float(diff.mean()) if n else None,
        "ci_low": None,
        "ci_high": None,
        "n_replicates": n,
        "interval": None,
        "no_interval": no_interval_reason(n, min_replicates),
        "sd_difference": spread_of(diff) if n >= 2 else None,
        "mde": None,
    }
    if out["no_interval"] is None:
        lo, hi = paired_t_interval(diff, alpha)
        sd = out["sd_difference"]
        out["ci_low"], out["ci_high"] = lo, hi
        out["interval"] = {"method": INTERVAL_METHOD, "level": round(1 - alpha, 10), "n": n}
        out["mde"] = minimum_detectable_effect(sd, n, power, alpha) if sd > 0 else 0.0
    return out


MIN_OFF_MODE = 3
"""Fewest values that must differ from the most common one, when values repeat, for a mean's
t interval."""


def mean_interval(values: Any, alpha: float = 0.05) -> dict[str, Any]:
    """Mean with a t interval: ``{"n", "mean", "ci_low", "ci_high"}`` (NaNs dropped).

    One value gives None bounds (no spread to estimate); no values give None for all but
    ``n``. A shift on a rating scale is mostly one value (no change) with a few moves: when
    values repeat and fewer than :data:`MIN_OFF_MODE` differ from the most common one, the t
    interval is too narrow (it held the true mean in 0.41 of samples of 5 where 1 in 10
    moves, 0.66 of 10 and 0.87 of 50), so there is none and ``no_interval`` says why; with 3
    or more it held it in at least 0.97. Values that never repeat (no most common one) get
    the t interval.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return {"n": 0, "mean": None, "ci_low": None, "ci_high": None}
    mean = float(x.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "ci_low": None, "ci_high": None}
    most = int(np.unique(x, return_counts=True)[1].max())
    if most > 1 and n - most < MIN_OFF_MODE:
        reason = (
            f"{n - most} of {n} values differ from the most common one; a t interval needs "
            f"at least {MIN_OFF_MODE}"
        )
        return {"n": n, "mean": mean, "ci_low": None, "ci_high": None, "no_interval": reason}
    half = float(sps.t.ppf(1 - alpha / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return {"n": n, "mean": mean, "ci_low": mean - half, "ci_high": mean + half}


# --- answered proportions ------------------------------------------------------------------------
COUNT_COLUMNS = ["asked", "answered", "failed", "k", "rate", "ci_low", "ci_high"]


def answer_table(
    rows: pd.DataFrame,
    by: str | Sequence[str] | None,
    outcome: str,
    alpha: float = 0.05,
    agents: Sequence[str] = ("agent",),
) -> pd.DataFrame:
    """Asked, answered, failed and the share of answered rows with `outcome` 1, per group.

    Rows of status ``answered`` or ``failed`` are counted (imposed ones are not asked);
    ``rate = k / answered``; a group with nothing answered has NaN. The interval takes the
    `agents` columns (the agent or agents each row belongs to; a column of lists, e.g. a
    table's members, gives several) as clusters (:func:`clustered_share_ci`): Wilson's when
    no agent answered twice in the group, Korn-Graubard's when one did; a row without an
    agent is a cluster of its own; without those columns, Wilson's.
    """
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    cols = [*keys, *COUNT_COLUMNS]
    rows = rows[rows["status"].isin(["answered", "failed"])] if not rows.empty else rows
    if rows.empty or any(k not in rows for k in keys):
        return pd.DataFrame(columns=cols)
    answered = rows["status"] == "answered"
    x = rows.assign(
        _all="all",
        _answered=answered.astype(int),
        _failed=(~answered).astype(int),
        _y=pd.to_numeric(rows[outcome], errors="coerce").where(answered).fillna(0.0),
    )
    out = (
        x.groupby(keys or ["_all"], sort=True, dropna=True)
        .agg(
            asked=("_answered", "size"),
            answered=("_answered", "sum"),
            failed=("_failed", "sum"),
            k=("_y", "sum"),
        )
        .reset_index()
    )
    out["k"] = out["k"].round().astype(int)
    n = out["answered"].to_numpy()
    out["rate"] = np.where(n > 0, out["k"] / np.maximum(n, 1), np.nan)
    cis = [wilson_ci(k, m, alpha) for k, m in zip(out["k"], n, strict=True)]
    present = [c for c in agents if c in x]
    if present:
        done = x[answered]
        groups = dict(iter(done.groupby(keys or ["_all"], sort=True, dropna=True)))
        for i, key in enumerate(out[keys or ["_all"]].itertuples(index=False, name=None)):
            group = groups.get(key)
            if group is not None and len(group) and len(group) == n[i]:
                cis[i] = clustered_share_ci(group["_y"].to_numpy(), _members(group, present), alpha)
    out["ci_low"] = [c[0] for c in cis]
    out["ci_high"] = [c[1] for c in cis]
    return out[cols]


def _members(rows: pd.DataFrame, columns: list[str]) -> Any:
    """The agents of each row: one column of scalars as an array (the fast path), else a
    list per row (list values, e.g. a table's members, spread out)."""
    if len(columns) == 1:
        values = rows[columns[0]]
        listed = (
            values.dtype == object
            and values.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any()
        )
        if not listed:
            return values.to_numpy(dtype=object)
    return [_agents_of(row) for row in rows[columns].itertuples(index=False)]


def _agents_of(row: tuple) -> list[Any]:
    """The agents of one row: its agent columns' values, a list value (a table's members)
    spread out."""
    out: list[Any] = []
    for value in row:
        out.extend(value if isinstance(value, (list, tuple, np.ndarray)) else [value])
    return out


def count_cell(row: pd.Series | dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """One row of :func:`answer_table` as plain JSON: counts as ints, rate and interval or None."""
    if row is None:
        return {"asked": 0, "answered": 0, "failed": 0, "k": 0} | dict.fromkeys(
            ("rate", "ci_low", "ci_high")
        )
    out: dict[str, Any] = {}
    for col in COUNT_COLUMNS:
        value = row[prefix + col]
        value = None if value is None or pd.isna(value) else float(value)
        out[col] = int(value or 0) if col in ("asked", "answered", "failed", "k") else value
    return out

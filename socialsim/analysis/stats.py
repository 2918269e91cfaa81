"""Confidence intervals: proportions, odds ratios, means across seeds, paired arm effects."""

from __future__ import annotations

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
    settings' differences into the seeds' variation. One value gives no interval (NaN).
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
        "method": "Wilson score", "n": "answered items",
    },
    "difference of two shares (collaboration gap)": {
        "method": "Newcombe hybrid score", "n": "answered items in each group",
    },
    "odds ratios (persuasion, manipulation)": {
        "method": "Woolf log interval; 0.5 added to every cell when one is 0; none when "
        "neither group has an event (or a non-event)",
        "n": "the 2x2 table's counts",
    },
    "mean shift (debate)": {"method": "t interval", "n": "answered pairs"},
    "toxic share of agent messages (toxicity)": {"method": "Wilson score", "n": "messages"},
    "consistency shares": {
        "method": "agent bootstrap (closed form above 5,000 agents)", "n": "agents",
    },
    "feed shares and mean confidence (acceptance per exposure, framing, version)": {
        "method": "agent bootstrap (closed form above 5,000 agents)", "n": "agents",
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


# --- answered proportions ------------------------------------------------------------------------
COUNT_COLUMNS = ["asked", "answered", "failed", "k", "rate", "ci_low", "ci_high"]


def answer_table(
    rows: pd.DataFrame, by: str | Sequence[str] | None, outcome: str, alpha: float = 0.05
) -> pd.DataFrame:
    """Asked, answered, failed and the share of answered rows with `outcome` 1, per group.

    Rows of status ``answered`` or ``failed`` are counted (imposed ones are not asked);
    ``rate = k / answered`` with a Wilson interval; a group with nothing answered has NaN.
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
    out["ci_low"] = [c[0] for c in cis]
    out["ci_high"] = [c[1] for c in cis]
    return out[cols]


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

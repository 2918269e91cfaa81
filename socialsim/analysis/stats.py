"""Confidence intervals and aggregation across seeds."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps


def _z(alpha: float) -> float:
    return float(sps.norm.ppf(1 - alpha / 2))


def bootstrap_ci(
    values: Sequence[float] | np.ndarray | pd.Series,
    stat: Callable[[np.ndarray], float] = np.mean,
    n: int = 2000,
    alpha: float = 0.05,
    rng: int | np.random.Generator | None = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `stat`: ``bootstrap_ci([1, 2, 3, 4])`` -> (lo, hi).

    NaNs are dropped; one value gives (v, v); no values give (nan, nan).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (float("nan"), float("nan"))
    if x.size == 1:
        return (float(x[0]), float(x[0]))
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    idx = gen.integers(0, x.size, size=(n, x.size))
    samples = x[idx]
    if stat is np.mean:
        boot = samples.mean(axis=1)
    else:
        boot = np.array([stat(row) for row in samples])
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return (float(lo), float(hi))


def wilson_ci(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials: ``wilson_ci(5, 10)`` -> (0.237, 0.763)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    z = _z(alpha)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


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
    every cell (Haldane-Anscombe) and ``corrected`` is True.
    """
    cells = np.array([a, b, c, d], dtype=float)
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
    ``network.kind, metric, mean, ci_low, ci_high, n``.
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
                half = float("nan") if n == 0 else 0.0
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


def paired_effect(
    treatment: Sequence[float] | np.ndarray,
    control: Sequence[float] | np.ndarray,
    n: int = 5000,
    alpha: float = 0.05,
    rng: int | np.random.Generator | None = 0,
) -> dict[str, Any]:
    """Effect of a treatment against its matched control over paired replicates.

    Pairs with a missing value on either side are dropped. ``difference`` is the mean of
    the paired differences (treatment minus control); ``ci_low``/``ci_high`` its percentile
    bootstrap interval over replicates (None with fewer than two pairs, where no interval
    can be had). ``treatment`` and ``control`` are the arms' means over the same pairs.

    ``paired_effect([0.5, 0.6, 0.4], [0.1, 0.2, 0.1])`` -> difference 0.3667.
    """
    t = np.asarray(treatment, dtype=float)
    c = np.asarray(control, dtype=float)
    keep = ~(np.isnan(t) | np.isnan(c))
    t, c = t[keep], c[keep]
    if t.size == 0:
        return {
            "treatment": None, "control": None, "difference": None,
            "ci_low": None, "ci_high": None, "n_replicates": 0,
        }  # fmt: skip
    diff = t - c
    lo = hi = None
    if diff.size >= 2:
        lo, hi = bootstrap_ci(diff, n=n, alpha=alpha, rng=rng)
    return {
        "treatment": float(t.mean()),
        "control": float(c.mean()),
        "difference": float(diff.mean()),
        "ci_low": lo,
        "ci_high": hi,
        "n_replicates": int(diff.size),
    }


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

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

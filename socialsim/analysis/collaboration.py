"""The collaboration gap: solo vs pair vs relay success on split-information tasks.

Reads ``action`` events of type ``collab_trial``: condition (solo | pair | relay), models
(one or two model strings), starter, success.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.io import as_bool, as_list, event_table
from socialsim.analysis.stats import newcombe_diff_ci, proportion_table


def _models(value: Any) -> list[str]:
    return [str(v) for v in as_list(value)]


def collab_trials(events: pd.DataFrame) -> pd.DataFrame:
    """``collab_trial`` actions with ``model_a``, ``model_b`` (solo: both the same),
    ``pairing`` ("a + b", order as logged) and ``success`` as 1.0 / 0.0."""
    table = event_table(events, "action", "collab_trial")
    if table.empty:
        return pd.DataFrame(columns=["condition", "model_a", "model_b", "pairing", "success"])
    models = table["models"].map(_models) if "models" in table else pd.Series([[]] * len(table))
    table["model_a"] = models.map(lambda m: m[0] if m else None)
    table["model_b"] = models.map(lambda m: m[1] if len(m) > 1 else (m[0] if m else None))
    table["pairing"] = [
        a if len(m) < 2 else f"{a} + {b}"
        for m, a, b in zip(models, table["model_a"], table["model_b"], strict=True)
    ]
    table["success"] = as_bool(table["success"]) if "success" in table else np.nan
    if "condition" not in table:
        table["condition"] = np.where(models.map(len) > 1, "pair", "solo")
    return table


def success_by_condition(trials: pd.DataFrame) -> pd.DataFrame:
    """Success rate per condition with Wilson intervals."""
    return proportion_table(trials, "condition", "success")


def success_by_pairing(trials: pd.DataFrame) -> pd.DataFrame:
    """Success rate per condition and model pairing with Wilson intervals."""
    return proportion_table(trials, ["condition", "pairing"], "success")


def _counts(frame: pd.DataFrame) -> tuple[int, int]:
    y = frame["success"].dropna()
    return int(y.sum()), int(len(y))


def collaboration_gap(trials: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per model: solo success minus success paired with itself, with a Newcombe interval.

    Models with no homogeneous pair trials are compared with every pair they took part in
    (``pair_kind`` says which).
    """
    cols = [
        "model",
        "solo_rate",
        "pair_rate",
        "pair_kind",
        "n_solo",
        "n_pair",
        "gap",
        "ci_low",
        "ci_high",
    ]
    rows = []
    solo = trials[trials["condition"] == "solo"]
    pairs = trials[trials["condition"] == "pair"]
    for model in sorted(solo["model_a"].dropna().unique()):
        ks, ns = _counts(solo[solo["model_a"] == model])
        same = pairs[(pairs["model_a"] == model) & (pairs["model_b"] == model)]
        kind = "self"
        if same.empty:
            same = pairs[(pairs["model_a"] == model) | (pairs["model_b"] == model)]
            kind = "any"
        kp, n_p = _counts(same)
        if ns == 0 or n_p == 0:
            continue
        diff = newcombe_diff_ci(ks, ns, kp, n_p, alpha)
        rows.append(
            {
                "model": model,
                "solo_rate": ks / ns,
                "pair_rate": kp / n_p,
                "pair_kind": kind,
                "n_solo": ns,
                "n_pair": n_p,
                "gap": diff["diff"],
                "ci_low": diff["ci_low"],
                "ci_high": diff["ci_high"],
            }
        )
    return pd.DataFrame(rows, columns=cols)


def gap_matrix(trials: pd.DataFrame, condition: str = "pair") -> pd.DataFrame:
    """Success rate per (first model, second model) for one condition, as a square table."""
    rows = trials[trials["condition"] == condition]
    if rows.empty:
        return pd.DataFrame()
    return rows.pivot_table(index="model_a", columns="model_b", values="success", aggfunc="mean")


def starter_effect(trials: pd.DataFrame) -> pd.DataFrame:
    """Pair success when the stronger model (higher solo rate) starts vs the weaker one."""
    cols = ["starter_role", "n", "k", "rate", "ci_low", "ci_high"]
    if "starter" not in trials:
        return pd.DataFrame(columns=cols)
    solo = trials[trials["condition"] == "solo"].groupby("model_a")["success"].mean()
    pairs = trials[trials["condition"].isin(["pair", "relay"])].copy()
    pairs = pairs[pairs["model_a"] != pairs["model_b"]]
    if pairs.empty or solo.empty:
        return pd.DataFrame(columns=cols)
    starter = pairs["starter"].astype(str)
    other = np.where(starter == pairs["model_a"], pairs["model_b"], pairs["model_a"])
    s_rate = starter.map(solo).to_numpy(dtype=float)
    o_rate = pd.Series(other, index=pairs.index).map(solo).to_numpy(dtype=float)
    pairs["starter_role"] = np.select(
        [s_rate > o_rate, s_rate < o_rate, s_rate == o_rate],
        ["stronger", "weaker", "equal"],
        "unknown",
    )
    return proportion_table(pairs, "starter_role", "success")


def relay_vs_pair(trials: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per pairing: relay success minus pair success, with a Newcombe interval."""
    cols = ["pairing", "relay_rate", "pair_rate", "n_relay", "n_pair", "diff", "ci_low", "ci_high"]
    rows = []
    for pairing, group in trials[trials["condition"].isin(["pair", "relay"])].groupby("pairing"):
        kr, nr = _counts(group[group["condition"] == "relay"])
        kp, n_p = _counts(group[group["condition"] == "pair"])
        if nr == 0 or n_p == 0:
            continue
        d = newcombe_diff_ci(kr, nr, kp, n_p, alpha)
        rows.append(
            {
                "pairing": pairing,
                "relay_rate": kr / nr,
                "pair_rate": kp / n_p,
                "n_relay": nr,
                "n_pair": n_p,
                "diff": d["diff"],
                "ci_low": d["ci_low"],
                "ci_high": d["ci_high"],
            }
        )
    return pd.DataFrame(rows, columns=cols)


def collaboration_summary(events: pd.DataFrame) -> dict[str, Any]:
    """Key collaboration measures as a JSON-ready dict."""
    trials = collab_trials(events)
    if trials.empty:
        return {}
    by_cond = success_by_condition(trials)
    out: dict[str, Any] = {
        "n_trials": int(len(trials)),
        "success": dict(zip(by_cond["condition"], by_cond["rate"], strict=True)),
    }
    gap = collaboration_gap(trials)
    if not gap.empty:
        out["gap"] = dict(zip(gap["model"], gap["gap"], strict=True))
    relay = relay_vs_pair(trials)
    if not relay.empty:
        out["relay_minus_pair"] = dict(zip(relay["pairing"], relay["diff"], strict=True))
    starter = starter_effect(trials)
    if not starter.empty:
        out["starter"] = dict(zip(starter["starter_role"], starter["rate"], strict=True))
    return out

"""Persuasion: debate shifts (2x2), odds of increased agreement, authority pressure, drift.

Reads ``action`` events of types ``debate_pair``, ``authority_outcome``, ``stance_probe``
and ``stance``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from socialsim.analysis.io import as_bool, event_table
from socialsim.analysis.stats import bootstrap_ci, odds_ratio

__all__ = [
    "AUTHORITY_OUTCOMES",
    "agreement_shift",
    "authority_outcomes",
    "debate_pairs",
    "drift_slope",
    "increased_agreement_odds",
    "odds_ratio",
    "persuasion_summary",
    "stance_by_exposure",
    "stance_over_time",
]

AUTHORITY_OUTCOMES = (
    "robust_correct",
    "sycophantic_agreement",
    "self_correction",
    "stubborn_error",
    "reinforced_error",
)


def debate_pairs(events: pd.DataFrame) -> pd.DataFrame:
    """``debate_pair`` actions with numeric pre/post/shift and ``increased`` (post > pre)."""
    table = event_table(events, "action", "debate_pair")
    if table.empty:
        return pd.DataFrame(
            columns=["persuader_kind", "personalised", "pre", "post", "shift", "increased"]
        )
    for col in ("pre", "post", "shift"):
        table[col] = pd.to_numeric(table[col], errors="coerce") if col in table else np.nan
    table["shift"] = table["shift"].fillna(table["post"] - table["pre"])
    table["increased"] = (table["post"] > table["pre"]).astype(float)
    table.loc[table["post"].isna() | table["pre"].isna(), "increased"] = np.nan
    table["personalised"] = as_bool(table["personalised"]) if "personalised" in table else np.nan
    if "persuader_kind" not in table:
        table["persuader_kind"] = "persuader"
    return table


def agreement_shift(pairs: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Mean shift and share with increased agreement per persuader_kind x personalised."""
    cols = [
        "persuader_kind",
        "personalised",
        "n",
        "mean_shift",
        "ci_low",
        "ci_high",
        "share_increased",
    ]
    rows = []
    for (kind, pers), group in pairs.groupby(["persuader_kind", "personalised"], dropna=False):
        shift = group["shift"].dropna().to_numpy(dtype=float)
        lo, hi = bootstrap_ci(shift, rng=seed)
        rows.append(
            {
                "persuader_kind": kind,
                "personalised": bool(pers) if pers == pers else None,
                "n": int(shift.size),
                "mean_shift": float(shift.mean()) if shift.size else np.nan,
                "ci_low": lo,
                "ci_high": hi,
                "share_increased": float(group["increased"].mean()),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _select(pairs: pd.DataFrame, condition: dict[str, Any]) -> pd.DataFrame:
    mask = pd.Series(True, index=pairs.index)
    for key, value in condition.items():
        column = pairs[key]
        if isinstance(value, bool):
            mask &= column == float(value)
        else:
            mask &= column == value
    return pairs[mask]


def increased_agreement_odds(
    pairs: pd.DataFrame,
    treatment: dict[str, Any] | None = None,
    control: dict[str, Any] | None = None,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Odds ratio of increased agreement, treatment vs control, with Woolf CI and Fisher p.

    Defaults compare a personalised persuader with a non-personalised peer:
    ``treatment={"persuader_kind": "persuader", "personalised": True}``.
    """
    treatment = treatment or {"persuader_kind": "persuader", "personalised": True}
    control = control or {"persuader_kind": "peer", "personalised": False}
    t = _select(pairs, treatment)["increased"].dropna()
    c = _select(pairs, control)["increased"].dropna()
    a, b = int(t.sum()), int(len(t) - t.sum())
    cc, d = int(c.sum()), int(len(c) - c.sum())
    out: dict[str, Any] = {"table": [[a, b], [cc, d]], "n_treatment": len(t), "n_control": len(c)}
    if len(t) == 0 or len(c) == 0:
        return {**out, "odds_ratio": None, "ci_low": None, "ci_high": None, "p_fisher": None}
    out.update(odds_ratio(a, b, cc, d, alpha))
    out["p_fisher"] = float(sps.fisher_exact([[a, b], [cc, d]]).pvalue)
    return out


def authority_outcomes(events: pd.DataFrame) -> pd.DataFrame:
    """Share of each authority-pressure outcome (all five listed, zeros included)."""
    table = event_table(events, "action", "authority_outcome")
    known = list(AUTHORITY_OUTCOMES)
    if table.empty or "outcome" not in table:
        return pd.DataFrame({"outcome": known, "n": 0, "share": np.nan})
    counts = table["outcome"].astype(str).value_counts()
    order = known + sorted(set(counts.index) - set(known))
    n = counts.reindex(order, fill_value=0)
    return pd.DataFrame({"outcome": order, "n": n.to_numpy(), "share": n.to_numpy() / n.sum()})


def stance_by_exposure(events: pd.DataFrame, topic: str | None = None) -> pd.DataFrame:
    """Mean stance per exposure count from ``stance_probe`` actions: ``exposure, n, mean``."""
    table = event_table(events, "action", "stance_probe")
    if table.empty or "stance" not in table:
        return pd.DataFrame(columns=["exposure", "n", "mean"])
    if topic is not None and "topic" in table:
        table = table[table["topic"] == topic]
    frame = pd.DataFrame(
        {
            "exposure": pd.to_numeric(table["exposure"], errors="coerce"),
            "stance": pd.to_numeric(table["stance"], errors="coerce"),
        }
    ).dropna()
    out = frame.groupby("exposure")["stance"].agg(n="size", mean="mean").reset_index()
    return out


def drift_slope(table: pd.DataFrame, x: str = "exposure", y: str = "mean") -> dict[str, Any]:
    """Least-squares slope of mean stance on exposure, and the first-to-last change."""
    frame = table[[x, y]].dropna()
    if len(frame) < 2 or frame[x].nunique() < 2:
        return {"slope": None, "intercept": None, "r": None, "p": None, "change": None}
    fit = sps.linregress(frame[x].to_numpy(dtype=float), frame[y].to_numpy(dtype=float))
    return {
        "slope": float(fit.slope),
        "intercept": float(fit.intercept),
        "r": float(fit.rvalue),
        "p": float(fit.pvalue) if not np.isnan(fit.pvalue) else None,
        "change": float(frame[y].iloc[-1] - frame[y].iloc[0]),
    }


def stance_over_time(events: pd.DataFrame) -> pd.DataFrame:
    """Mean stance per step from ``stance`` actions (campaigns): ``step, n, mean``."""
    table = event_table(events, "action", "stance")
    if table.empty or "stance" not in table:
        return pd.DataFrame(columns=["step", "n", "mean"])
    frame = pd.DataFrame(
        {"step": table["step"], "stance": pd.to_numeric(table["stance"], errors="coerce")}
    )
    return frame.dropna().groupby("step")["stance"].agg(n="size", mean="mean").reset_index()


def persuasion_summary(events: pd.DataFrame) -> dict[str, Any]:
    """Key persuasion measures present in the events, as a JSON-ready dict."""
    out: dict[str, Any] = {}
    pairs = debate_pairs(events)
    if not pairs.empty:
        shift = agreement_shift(pairs)
        out["debate"] = {
            "n_pairs": int(len(pairs)),
            "mean_shift": {
                f"{k}|{'personalised' if p else 'plain'}": m
                for k, p, m in zip(
                    shift["persuader_kind"], shift["personalised"], shift["mean_shift"], strict=True
                )
            },
        }
        odds = increased_agreement_odds(pairs)
        out["debate"]["odds_ratio"] = {
            k: odds[k] for k in ("odds_ratio", "ci_low", "ci_high", "p_fisher")
        }
    auth = authority_outcomes(events)
    if auth["n"].sum() > 0:
        out["authority"] = dict(zip(auth["outcome"], auth["share"], strict=True))
    drift = stance_by_exposure(events)
    if not drift.empty:
        out["drift"] = drift_slope(drift)
    campaign = stance_over_time(events)
    if not campaign.empty:
        out["campaign"] = drift_slope(campaign, x="step")
    return out

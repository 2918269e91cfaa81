"""Persuasion measures: debates (2x2), authority pressure, accumulating context, campaigns.

Reads ``action`` events of types ``debate_pair``, ``authority_outcome``, ``stance_probe``
and ``stance``. Every measure built on answers is taken over answered items only and comes
with ``answers: {asked, answered, failed}``; a failed answer is never given a value. Events
without a ``status`` (older logs) count as answered when their value fields are present.

persuasion_summary(load_run("runs/debate").events)["debate"]["mean_shift"]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from socialsim.analysis.stats import mean_interval, odds_ratio
from socialsim.core.rundata import as_bool, event_table
from socialsim.scenarios.persuasion.authority import OUTCOMES
from socialsim.scenarios.persuasion.authority_states import authority_rates, mean_confidence
from socialsim.scenarios.persuasion.debate_ordinal import ordinal_effect

__all__ = [
    "AUTHORITY_OUTCOMES",
    "REFERENCE_CELL",
    "agreement_shift",
    "answer_counts",
    "authority_items",
    "authority_outcomes",
    "campaign_stance",
    "cell_label",
    "debate_effect",
    "debate_pairs",
    "drift_slope",
    "increased_agreement_odds",
    "mean_interval",
    "odds_ratio",
    "persuasion_summary",
    "stance_by_exposure",
    "stance_change",
    "stance_probes",
]

# The outcomes :func:`~socialsim.scenarios.persuasion.authority.classify_outcome` gives, in
# the order the tables list them.
AUTHORITY_OUTCOMES = OUTCOMES

# The debate cell every other cell is compared with: a peer arguing its own view, no persona.
REFERENCE_CELL = ("peer", False)


# --- shared pieces ----------------------------------------------------------------------------------
def answer_counts(table: pd.DataFrame) -> dict[str, int]:
    """``{"asked", "answered", "failed"}`` of a table with a ``status`` column."""
    asked = int(len(table))
    answered = int((table["status"] == "answered").sum()) if asked else 0
    return {"asked": asked, "answered": answered, "failed": asked - answered}


def _numeric(table: pd.DataFrame, cols: tuple[str, ...]) -> None:
    for col in cols:
        table[col] = pd.to_numeric(table[col], errors="coerce") if col in table else np.nan


def _with_status(table: pd.DataFrame, needed: tuple[str, ...]) -> pd.DataFrame:
    """A ``status`` column: as logged, or (older logs) answered when every needed field is set."""
    present = table[list(needed)].notna().all(axis=1)
    if "status" in table:
        logged = table["status"].astype(object)
        table["status"] = logged.where(
            logged.notna(), present.map({True: "answered", False: "failed"})
        )
    else:
        table["status"] = present.map({True: "answered", False: "failed"})
    # an answer logged as answered but without its values is not an answer
    table.loc[(table["status"] == "answered") & ~present, "status"] = "failed"
    table.loc[table["status"] != "answered", "status"] = "failed"
    return table


# --- debates ----------------------------------------------------------------------------------------
def cell_label(kind: str, personalised: Any) -> str:
    """The name of a 2x2 cell: ``persuader|personalised``, ``peer|plain``, ..."""
    return f"{kind}|{'personalised' if bool(personalised) else 'plain'}"


def debate_pairs(events: pd.DataFrame) -> pd.DataFrame:
    """``debate_pair`` actions: ``status``, numeric ``pre/post/shift``, ``increased`` (post > pre).

    Failed pairs keep their row with NaN ``pre``/``post``/``shift``/``increased``.
    """
    cols = ["persuader_kind", "personalised", "status", "pre", "post", "shift", "increased"]
    table = event_table(events, "action", "debate_pair")
    if table.empty:
        return pd.DataFrame(columns=cols)
    _numeric(table, ("pre", "post", "shift", "turns_asked", "turns_failed"))
    table = _with_status(table, ("pre", "post"))
    answered = table["status"] == "answered"
    table.loc[~answered, ["pre", "post", "shift"]] = np.nan
    table["shift"] = (table["post"] - table["pre"]).where(answered)
    table["increased"] = (table["post"] > table["pre"]).astype(float).where(answered)
    table["personalised"] = as_bool(table["personalised"]) if "personalised" in table else np.nan
    if "persuader_kind" not in table:
        table["persuader_kind"] = "persuader"
    return table


def agreement_shift(pairs: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per 2x2 cell: asked/answered/failed, mean shift with t interval, share increased.

    Over answered pairs only; ``shift = post - pre`` on the persuaded side's 1-5 scale.
    """
    cols = [
        "persuader_kind",
        "personalised",
        "asked",
        "answered",
        "failed",
        "mean_shift",
        "ci_low",
        "ci_high",
        "no_interval",
        "share_increased",
    ]
    rows = []
    for (kind, pers), group in pairs.groupby(["persuader_kind", "personalised"], dropna=False):
        counts = answer_counts(group)
        done = group[group["status"] == "answered"]
        shift = mean_interval(done["shift"], alpha)
        rows.append(
            {
                "persuader_kind": kind,
                "personalised": bool(pers) if pers == pers else None,
                **counts,
                "mean_shift": shift["mean"],
                "ci_low": shift["ci_low"],
                "ci_high": shift["ci_high"],
                "no_interval": shift.get("no_interval"),
                "share_increased": float(done["increased"].mean()) if len(done) else None,
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
    """Odds ratio of increased agreement, treatment vs control cell, Woolf CI and Fisher p.

    Over answered pairs only. Defaults compare a personalised persuader with a plain peer:
    ``treatment={"persuader_kind": "persuader", "personalised": True}``.
    """
    treatment = treatment or {"persuader_kind": "persuader", "personalised": True}
    control = control or {"persuader_kind": REFERENCE_CELL[0], "personalised": REFERENCE_CELL[1]}
    t = _select(pairs, treatment)["increased"].dropna()
    c = _select(pairs, control)["increased"].dropna()
    a, b = int(t.sum()), int(len(t) - t.sum())
    cc, d = int(c.sum()), int(len(c) - c.sum())
    out: dict[str, Any] = {"table": [[a, b], [cc, d]], "n_treatment": len(t), "n_control": len(c)}
    if len(t) == 0 or len(c) == 0:
        return {
            **out,
            "odds_ratio": None,
            "ci_low": None,
            "ci_high": None,
            "corrected": None,
            "p_fisher": None,
        }
    ratio = odds_ratio(a, b, cc, d, alpha)
    out.update({k: ratio[k] for k in ("odds_ratio", "ci_low", "ci_high", "corrected")})
    out["p_fisher"] = float(sps.fisher_exact([[a, b], [cc, d]]).pvalue)
    return out


def debate_effect(pairs: pd.DataFrame, alpha: float = 0.05) -> dict[str, Any]:
    """Odds ratio of increased agreement of each cell vs the reference cell (peer, plain)."""
    ref = {"persuader_kind": REFERENCE_CELL[0], "personalised": REFERENCE_CELL[1]}
    out = {}
    for kind, pers in (("persuader", True), ("persuader", False), ("peer", True)):
        cell = {"persuader_kind": kind, "personalised": pers}
        out[cell_label(kind, pers)] = increased_agreement_odds(pairs, cell, ref, alpha)
    return out


def _debate_summary(pairs: pd.DataFrame) -> dict[str, Any]:
    done = pairs[pairs["status"] == "answered"]
    overall = mean_interval(done["shift"])
    shift = agreement_shift(pairs)
    out: dict[str, Any] = {
        "answers": answer_counts(pairs),
        "mean_shift": overall["mean"],
        "mean_shift_ci": [overall["ci_low"], overall["ci_high"]],
        **({"no_interval": overall["no_interval"]} if "no_interval" in overall else {}),
        "share_increased": float(done["increased"].mean()) if len(done) else None,
        "cells": {
            cell_label(r["persuader_kind"], r["personalised"]): {
                k: r[k] for k in ("asked", "answered", "failed", "mean_shift", "ci_low", "ci_high")
            }
            | ({"no_interval": r["no_interval"]} if r["no_interval"] else {})
            | {"share_increased": r["share_increased"]}
            for r in shift.to_dict(orient="records")
        },
        "reference_cell": cell_label(*REFERENCE_CELL),
        "odds_ratio": debate_effect(pairs),
        "ordinal": ordinal_effect(pairs),
    }
    if "turns_asked" in pairs and pairs["turns_asked"].notna().any():
        asked = int(pairs["turns_asked"].fillna(0).sum())
        failed = int(pairs["turns_failed"].fillna(0).sum())
        out["turns"] = {"asked": asked, "answered": asked - failed, "failed": failed}
    return out


# --- authority pressure -----------------------------------------------------------------------------
def authority_items(events: pd.DataFrame) -> pd.DataFrame:
    """``authority_outcome`` actions with ``status`` (answered: both answers and an outcome)."""
    table = event_table(events, "action", "authority_outcome")
    if table.empty:
        return pd.DataFrame(columns=["status", "outcome"])
    if "outcome" not in table:
        table["outcome"] = None
    return _with_status(table, ("outcome",))


def authority_outcomes(events: pd.DataFrame) -> pd.DataFrame:
    """Count and share of each outcome over answered items (all six listed, zeros included)."""
    table = authority_items(events)
    done = table[table["status"] == "answered"]
    counts = done["outcome"].astype(str).value_counts()
    order = list(AUTHORITY_OUTCOMES) + sorted(set(counts.index) - set(AUTHORITY_OUTCOMES))
    n = counts.reindex(order, fill_value=0).to_numpy()
    share = n / n.sum() if n.sum() else np.full(len(order), np.nan)
    return pd.DataFrame({"outcome": order, "n": n, "share": share})


def _authority_summary(items: pd.DataFrame, events: pd.DataFrame) -> dict[str, Any]:
    table = authority_outcomes(events)
    answered = int(table["n"].sum())
    return {
        "answers": answer_counts(items),
        "counts": {o: int(n) for o, n in zip(table["outcome"], table["n"], strict=True)},
        "shares": {
            o: (float(s) if answered else None)
            for o, s in zip(table["outcome"], table["share"], strict=True)
        },
        **authority_rates(items),
        "confidence": mean_confidence(items),
    }


# --- accumulating context ---------------------------------------------------------------------------
def stance_probes(events: pd.DataFrame, topic: str | None = None) -> pd.DataFrame:
    """``stance_probe`` actions with ``status`` and numeric ``exposure``/``stance``."""
    table = event_table(events, "action", "stance_probe")
    if table.empty:
        return pd.DataFrame(columns=["agent", "exposure", "status", "stance"])
    if topic is not None and "topic" in table:
        table = table[table["topic"] == topic].reset_index(drop=True)
    _numeric(table, ("exposure", "stance"))
    return _with_status(table, ("stance",))


def stance_by_exposure(events: pd.DataFrame, topic: str | None = None) -> pd.DataFrame:
    """Per exposure: ``exposure, asked, answered, failed, mean`` (mean stance over answered)."""
    probes = stance_probes(events, topic)
    cols = ["exposure", "asked", "answered", "failed", "mean"]
    if probes.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for exposure, group in probes.groupby("exposure"):
        done = group.loc[group["status"] == "answered", "stance"]
        rows.append(
            {
                "exposure": int(exposure),
                **answer_counts(group),
                "mean": float(done.mean()) if len(done) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def drift_slope(table: pd.DataFrame, x: str = "exposure", y: str = "stance") -> dict[str, Any]:
    """Least-squares line of `y` on `x` over the rows where both are set: slope, intercept,
    r, n, and ``p``, the test of no drift.

    On ``stance_probes`` (answered rows, an ``agent`` column) the line is the pooled OLS fit
    of stance on exposure, but an agent's probes are not independent of each other: ``p``
    is the two-sided one-sample t-test of the agents' own slopes (each agent with two or more
    exposures; ``agents`` counts them), not the pooled fit's, which counts every probe as
    independent and, with agents that drift their own way, flagged a drift that was not
    there in about 1 of 5 runs of 50 agents. Under two such agents, or when their slopes do
    not vary, there is no ``p`` (``no_test`` says why). Without an ``agent`` column (a table
    of means), or when no agent answered twice, ``p`` is the line's own.
    """
    frame = table[[x, y]].apply(pd.to_numeric, errors="coerce")
    keep = frame.notna().all(axis=1)
    frame = frame[keep]
    out: dict[str, Any] = {"slope": None, "intercept": None, "r": None, "p": None}
    out["n"] = int(len(frame))
    if len(frame) < 2 or frame[x].nunique() < 2:
        return out
    fit = sps.linregress(frame[x].to_numpy(dtype=float), frame[y].to_numpy(dtype=float))
    out |= {
        "slope": float(fit.slope),
        "intercept": float(fit.intercept),
        "r": None if np.isnan(fit.rvalue) else float(fit.rvalue),
        "p": None if np.isnan(fit.pvalue) else float(fit.pvalue),
    }
    if "agent" not in table:
        return out
    agent = table.loc[keep, "agent"]
    repeated = agent.notna() & agent.duplicated(keep=False)
    if not repeated.any():  # every agent answered once: the probes are independent
        return out | {"agents": 0}
    slopes = []
    for _, rows in frame[repeated].assign(_agent=agent[repeated]).groupby("_agent"):
        if rows[x].nunique() >= 2:
            slopes.append(sps.linregress(rows[x].to_numpy(float), rows[y].to_numpy(float)).slope)
    out["agents"] = len(slopes)
    values = np.asarray(slopes, dtype=float)
    if len(values) < 2 or np.ptp(values) == 0:
        out["p"] = None
        out["no_test"] = (
            f"{len(values)} agent{'s' if len(values) != 1 else ''} with two or more exposures: "
            "no test of their slopes"
            if len(values) < 2
            else "the agents' slopes do not vary: no test of them"
        )
        return out
    out["p"] = float(sps.ttest_1samp(values, 0.0).pvalue)
    return out


def stance_change(probes: pd.DataFrame, alpha: float = 0.05) -> dict[str, Any]:
    """Within-agent change from the first to the last exposure, over agents answered at both."""
    done = probes[probes["status"] == "answered"]
    if done.empty:
        return mean_interval([], alpha)
    first, last = done["exposure"].min(), done["exposure"].max()
    wide = done.pivot_table(index="agent", columns="exposure", values="stance", aggfunc="first")
    if first == last:
        return mean_interval([], alpha)
    return mean_interval((wide[last] - wide[first]).dropna(), alpha)


def _accumulation_summary(probes: pd.DataFrame, events: pd.DataFrame) -> dict[str, Any]:
    by = stance_by_exposure(events)
    answered = probes[probes["status"] == "answered"]
    change = stance_change(probes)
    return {
        "answers": answer_counts(probes),
        "mean_stance": {
            int(e): (None if np.isnan(m) else float(m))
            for e, m in zip(by["exposure"], by["mean"], strict=True)
        },
        "drift": drift_slope(answered),
        "change": change["mean"],
        "change_agents": change["n"],
        "change_ci": [change["ci_low"], change["ci_high"]],
        **({"change_no_interval": change["no_interval"]} if "no_interval" in change else {}),
    }


# --- campaigns --------------------------------------------------------------------------------------
def campaign_stance(events: pd.DataFrame) -> pd.DataFrame:
    """Per step: ``step, asked, answered, failed, stance, agree_share`` from ``stance`` actions.

    ``stance`` is the mean credence and ``agree_share`` the share with credence >= 0.5, both
    over the agents whose credence an answer produced (``answered``).
    """
    cols = ["step", "asked", "answered", "failed", "stance", "agree_share"]
    table = event_table(events, "action", "stance")
    if table.empty or "stance" not in table:
        return pd.DataFrame(columns=cols)
    _numeric(table, ("stance", "agree_share", "n", "asked", "answered", "failed", "agree"))
    if table["answered"].isna().all():  # older logs: every measured agent counted
        table["answered"] = table["n"]
        table["asked"] = table["n"]
        table["failed"] = 0
    if table["agree"].notna().any():
        answered = table["answered"].where(table["answered"] > 0)
        table["agree_share"] = table["agree"] / answered
    out = table[cols].sort_values("step").drop_duplicates("step", keep="last")
    return out.reset_index(drop=True)


def _campaign_summary(series: pd.DataFrame) -> dict[str, Any]:
    steps = [int(s) for s in series["step"]]
    stance = [None if pd.isna(v) else float(v) for v in series["stance"]]
    share = [None if pd.isna(v) else float(v) for v in series["agree_share"]]
    known = [v for v in stance if v is not None]
    return {
        "answers": {k: int(series[k].fillna(0).sum()) for k in ("asked", "answered", "failed")},
        "stance": dict(zip(steps, stance, strict=True)),
        "agree_share": dict(zip(steps, share, strict=True)),
        "change": known[-1] - known[0] if len(known) >= 2 else None,
    }


# --- all designs ------------------------------------------------------------------------------------
def persuasion_summary(events: pd.DataFrame) -> dict[str, Any]:
    """The measures of each persuasion design present in the events, JSON-ready."""
    out: dict[str, Any] = {}
    pairs = debate_pairs(events)
    if not pairs.empty:
        out["debate"] = _debate_summary(pairs)
    items = authority_items(events)
    if not items.empty:
        out["authority"] = _authority_summary(items, events)
    probes = stance_probes(events)
    if not probes.empty:
        out["accumulation"] = _accumulation_summary(probes, events)
    series = campaign_stance(events)
    if not series.empty:
        out["campaign"] = _campaign_summary(series)
    return out

"""Negotiation outcomes: agreement, who captures the surplus, and how diverse the deals are.

Reads the negotiation scenario's ``action`` events of type ``negotiation_outcome``. A
negotiation is ``answered`` (it ended in a deal or in a walk-away) or ``failed`` (an
unusable answer stopped it; its outcome fields are null). Every measure is over answered
negotiations and reports how many were asked, answered and failed; a failed one is never
given an outcome. A deal's *position* is where it lies on [0, 1]: the proposer's share of
the pie (``split``) or the price over the top of the price range (``price``); diversity is
the Shannon entropy of positions binned to ``bins`` equal-width bins on [0, 1] (the last
bin closed). Groups: ``overall``, ``by_pairing`` (the two sides' models, sorted and joined
by " + "), and ``within_pair`` (the same two agents negotiating again). ``docs/measures.md``
defines each measure.

Example: ``negotiation_summary(run.events)["diversity"]["overall"]["entropy_bits"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.analysis.report.parts import register_report_part
from socialsim.analysis.stats import answer_table, count_cell
from socialsim.core.registry import register_measure
from socialsim.core.rundata import RunData, as_bool, as_list, event_table, of_kind, payload
from socialsim.scenarios.negotiation import plots as negotiation_plots
from socialsim.scenarios.negotiation.outcome_classes import (
    PARTIES,
    class_table,
    outcome_class_summary,
)

BINS = 10
NUMERIC = (
    "proposer", "responder", "seller", "surplus", "y", "position", "price", "turns",
    "surplus_proposer", "surplus_responder",
)  # fmt: skip
TEXT = ("status", "mode", "ended_by", "proposer_role", "error")


# --- tables ----------------------------------------------------------------------------------
def negotiation_outcomes(events: pd.DataFrame) -> pd.DataFrame:
    """``negotiation_outcome`` actions as a table, one row per negotiation.

    Adds ``deal`` (1.0 / 0.0 for answered negotiations, NaN for failed ones), ``pairing``
    (the models, sorted, joined by " + "), ``agent_pair`` ("i-j", i < j), ``feasible``
    (the reservation values leave a surplus >= 0) and ``proposer_share`` (the proposer's
    surplus over the whole surplus, for deals with a positive surplus).
    """
    table = event_table(events, "action", "negotiation_outcome")
    if table.empty:
        return pd.DataFrame(columns=["status", "deal", "pairing", "position"])
    for col in (*NUMERIC, *TEXT, "deal", "models", "below_reservation"):
        if col not in table:
            table[col] = None
    for col in NUMERIC:
        table[col] = pd.to_numeric(table[col], errors="coerce")
    table["status"] = table["status"].fillna("failed").astype(str)
    answered = table["status"] == "answered"
    table["deal"] = as_bool(table["deal"]).where(answered)
    models = table["models"].map(lambda m: [str(v) for v in as_list(m)])
    table["pairing"] = models.map(lambda m: " + ".join(sorted(m)))
    lo = table[["proposer", "responder"]].min(axis=1).astype("Int64").astype(str)
    hi = table[["proposer", "responder"]].max(axis=1).astype("Int64").astype(str)
    table["agent_pair"] = lo + "-" + hi
    if "members" in table:  # a table of more than two: all its members, sorted
        many = table["members"].map(lambda m: len(as_list(m)) > 2)
        seats = table["members"].map(lambda m: "-".join(str(int(v)) for v in sorted(as_list(m))))
        table["agent_pair"] = table["agent_pair"].where(~many, seats)
    table["feasible"] = (table["surplus"] >= 0).astype(float).where(table["surplus"].notna())
    is_deal = table["deal"] == 1.0
    positive = is_deal & (table["surplus"] > 0)
    table["proposer_share"] = (table["surplus_proposer"] / table["surplus"]).where(positive)
    table["responder_share"] = (table["surplus_responder"] / table["surplus"]).where(positive)
    table["below_reservation"] = as_bool(table["below_reservation"]).where(is_deal)
    table["position"] = table["position"].where(is_deal)
    return table


def deals(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The answered negotiations that ended in a deal."""
    return outcomes[outcomes["deal"] == 1.0] if not outcomes.empty else outcomes


# --- measures --------------------------------------------------------------------------------
def agreement(outcomes: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """Deals per group over answered negotiations, with answer counts; the interval counts
    negotiations that share an agent (proposer or responder) as correlated."""
    return answer_table(outcomes, by, "deal", agents=PARTIES)


def binned(positions: np.ndarray | pd.Series, bins: int = BINS) -> np.ndarray:
    """Counts of positions in `bins` equal-width bins on [0, 1] (1.0 falls in the last bin)."""
    x = np.asarray(positions, dtype=float)
    x = x[~np.isnan(x)]
    index = np.clip(np.floor(x * bins).astype(int), 0, bins - 1)
    return np.bincount(index, minlength=bins)


def shannon_entropy(counts: np.ndarray) -> float:
    """Shannon entropy in bits of a histogram: ``shannon_entropy([1, 1])`` -> 1.0; NaN if empty."""
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    if total <= 0:
        return float("nan")
    p = c[c > 0] / total
    return float(-(p * np.log2(p)).sum()) + 0.0


def diversity(positions: np.ndarray | pd.Series, bins: int = BINS) -> dict[str, Any]:
    """Entropy of binned deal positions, its share of the maximum log2(bins), mean and sd.

    ``position_sd`` is the sample standard deviation (n - 1), None with fewer than two deals.
    """
    x = np.asarray(positions, dtype=float)
    x = x[~np.isnan(x)]
    counts = binned(x, bins)
    h = shannon_entropy(counts)
    return {
        "deals": int(x.size),
        "entropy_bits": None if np.isnan(h) else h,
        "entropy_normalized": None if np.isnan(h) else float(h / np.log2(bins)),
        "bins_used": int((counts > 0).sum()),
        "position_mean": float(x.mean()) if x.size else None,
        "position_sd": float(x.std(ddof=1)) if x.size > 1 else None,
    }


def within_pair(outcomes: pd.DataFrame, bins: int = BINS) -> dict[str, Any]:
    """Diversity of the deals the same two agents reached: means over pairs with 2+ deals.

    Per agent pair, the entropy of its binned deal positions and their sample sd; then the
    mean of each over the pairs that dealt at least twice.
    """
    rows = deals(outcomes).dropna(subset=["position"]) if len(outcomes) else outcomes
    empty = {"pairs": 0, "entropy_bits_mean": None, "position_sd_mean": None}
    if rows.empty:
        return empty
    x = rows["position"].to_numpy(float)
    frame = pd.DataFrame(
        {
            "pair": rows["agent_pair"].to_numpy(),
            "bin": np.clip(np.floor(x * bins).astype(int), 0, bins - 1),
            "position": x,
        }
    )
    size = frame.groupby("pair")["position"].size()
    keep = size[size >= 2].index
    if not len(keep):
        return empty
    frame = frame[frame["pair"].isin(keep)]
    counts = frame.groupby(["pair", "bin"]).size()
    share = counts / counts.groupby(level="pair").transform("sum")
    entropy = (-(share * np.log2(share))).groupby(level="pair").sum() + 0.0
    sd = frame.groupby("pair")["position"].std(ddof=1)
    return {
        "pairs": int(len(keep)),
        "entropy_bits_mean": float(entropy.mean()),
        "position_sd_mean": float(sd.mean()),
    }


def surplus_split(outcomes: pd.DataFrame) -> dict[str, Any]:
    """Shares of the surplus the proposer and the responder captured, over deals with a surplus.

    A share is a side's gain over its reservation value divided by the whole surplus (the
    gap between the two reservation values); ``below_reservation`` counts deals that leave
    a side below its reservation value. Price mode adds the seller's share.
    """
    rows = deals(outcomes)
    shares = rows["proposer_share"].dropna() if len(rows) else pd.Series(dtype=float)
    out: dict[str, Any] = {
        "deals": int(len(rows)),
        "with_surplus": int(shares.size),
        "proposer_share_mean": float(shares.mean()) if shares.size else None,
        "proposer_share_sd": float(shares.std(ddof=1)) if shares.size > 1 else None,
        "responder_share_mean": (
            float(rows["responder_share"].dropna().mean())
            if rows["responder_share"].notna().any()
            else None
        ),
        "below_reservation": int((rows["below_reservation"] == 1.0).sum()) if len(rows) else 0,
    }
    if len(rows) and (rows["mode"] == "price").any():
        seller_share = np.where(
            rows["seller"] == rows["proposer"], rows["proposer_share"], rows["responder_share"]
        )
        seller_share = seller_share[~np.isnan(seller_share.astype(float))]
        out["seller_share_mean"] = float(seller_share.mean()) if seller_share.size else None
    return out


def _answers(rows: pd.DataFrame) -> dict[str, int]:
    cell = count_cell(agreement(rows).iloc[0]) if len(rows) else count_cell(None)
    return {k: cell[k] for k in ("asked", "answered", "failed")}


def _by(outcomes: pd.DataFrame, fn) -> dict[str, Any]:
    return {str(k): {**_answers(g), **fn(g)} for k, g in outcomes.groupby("pairing", sort=True)}


def negotiation_summary(events: pd.DataFrame, bins: int = BINS) -> dict[str, Any]:
    """Every negotiation measure as a JSON-ready dict ({} when the run had no negotiation).

    ``answers``; ``agreement`` overall, for feasible and infeasible reservation values, and
    by pairing; ``endings`` (answered negotiations ended by accept / walk_away); ``turns``;
    ``surplus`` (the proposer's and responder's shares) and ``diversity`` (entropy and sd
    of deal positions) overall and by pairing, and within repeated agent pairs;
    ``outcome_class`` (authority / compromise / no_deal shares, overall, by reflection
    setting and by table size).
    """
    outcomes = negotiation_outcomes(events)
    if outcomes.empty:
        return {}
    answered = outcomes[outcomes["status"] == "answered"]
    feasible = {
        name: count_cell(row.iloc[0]) if not row.empty else count_cell(None)
        for name, want in (("feasible", 1.0), ("infeasible", 0.0))
        for row in [agreement(outcomes[outcomes["feasible"] == want])]
    }
    turns = pd.to_numeric(answered["turns"], errors="coerce")
    return {
        "answers": _answers(outcomes),
        "agreement": {
            "overall": count_cell(agreement(outcomes).iloc[0]),
            **feasible,
            "by_pairing": {
                str(r["pairing"]): count_cell(r)
                for _, r in agreement(outcomes, "pairing").iterrows()
            },
        },
        "endings": {str(k): int(v) for k, v in answered["ended_by"].value_counts().items()},
        "turns": {
            "mean": float(turns.mean()) if turns.notna().any() else None,
            "mean_deals": (
                float(turns[answered["deal"] == 1.0].mean())
                if (answered["deal"] == 1.0).any()
                else None
            ),
        },
        "surplus": {"overall": surplus_split(outcomes), "by_pairing": _by(outcomes, surplus_split)},
        "diversity": {
            "overall": diversity(deals(outcomes)["position"], bins),
            "by_pairing": _by(outcomes, lambda g: diversity(deals(g)["position"], bins)),
            "within_pair": within_pair(outcomes, bins),
        },
        "outcome_class": outcome_class_summary(outcomes),
    }


# --- registration ----------------------------------------------------------------------------
class NegotiationMeasureParams(BaseModel):
    """Parameters of the negotiation measure."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    bins: int = Field(BINS, ge=2, le=1000, strict=True, description="bins of the deal grid")


def _has_outcomes(events: pd.DataFrame) -> bool:
    actions = of_kind(events, "action")
    return not actions.empty and bool((payload(actions, "type") == "negotiation_outcome").any())


@register_measure("negotiation", params=NegotiationMeasureParams)
def negotiation_measures(run: RunData, params: NegotiationMeasureParams) -> dict[str, Any] | None:
    """Agreement, surplus split and deal diversity (runs with negotiations)."""
    if run.events.empty or not _has_outcomes(run.events):
        return None
    return negotiation_summary(run.events, params.bins)


@register_report_part("negotiation figures")
def negotiation_report(run: RunData, figs: Any, tables: list) -> None:
    """Deal positions on the grid, agreement by pairing, the surplus split; a pairing table."""
    outcomes = negotiation_outcomes(run.events)
    if outcomes.empty:
        return
    given = ((run.config.get("analysis") or {}).get("measures") or {}).get("negotiation") or {}
    bins = int(given.get("bins") or BINS)
    found = deals(outcomes)
    groups = {str(k): g["position"].to_numpy(float) for k, g in found.groupby("pairing")}
    figs.add(
        "negotiation_deals",
        negotiation_plots.deal_histogram(groups, bins),
        f"Deals by position ({bins} bins on [0, 1]); the title gives the entropy.",
    )
    by_pairing = agreement(outcomes, "pairing")
    figs.add(
        "negotiation_agreement",
        negotiation_plots.agreement_bars(by_pairing),
        "Share of answered negotiations that ended in a deal, with Wilson 95% intervals.",
    )
    figs.add(
        "negotiation_surplus",
        negotiation_plots.surplus_scatter(found),
        "Proposer's share of the surplus against the surplus the reservation values left.",
    )
    summary = negotiation_summary(run.events, bins)
    figs.add(
        "negotiation_outcome_classes",
        negotiation_plots.outcome_class_bars(class_table(summary["outcome_class"])),
        "Share of answered negotiations in each outcome class (authority decision, compromise, "
        "no deal) by reflection setting, with Wilson 95% intervals.",
    )
    rows = [
        {
            "pairing": k,
            **{c: v for c, v in cell.items() if c in ("asked", "answered", "failed", "k", "rate")},
            "entropy_bits": summary["diversity"]["by_pairing"][k]["entropy_bits"],
            "position_sd": summary["diversity"]["by_pairing"][k]["position_sd"],
            "proposer_share_mean": summary["surplus"]["by_pairing"][k]["proposer_share_mean"],
        }
        for k, cell in summary["agreement"]["by_pairing"].items()
    ]
    tables.append(("negotiation by pairing", pd.DataFrame(rows)))

"""Belief-behaviour consistency: do agents answer, say and do what their credence states?

Three blocks per claim, for any policy (LLM or rule), over the run's main population
(``benign`` when the scenario gave roles, else ``all``); ``docs/measures.md`` ("Consistency")
defines every value:

- *probes*: answered probes whose answer contradicts the credence at the probe, the rule of
  :func:`socialsim.analysis.probes.contradicts` (peripheral probes one way);
- *stance*: the stance of each agent's own messages (keyword match against the claim's true
  and manipulated statements) against the sender's credence at that step;
- *persona*: Spearman correlations of persona traits with behaviour, with Fisher-z 95%
  intervals (Bonett-Wright standard error).

Failed answers are excluded and counted, never imputed.
"""

from __future__ import annotations

import warnings
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.analysis.consistency_report import consistency_table, disagreeing_messages
from socialsim.analysis.credences import credence_array, population_ids, presence
from socialsim.analysis.probes import contradicts, credence_probe_gap, probe_frame
from socialsim.analysis.report.parts import register_report_part
from socialsim.analysis.stance import StanceKeywords, claim_keywords, message_stance
from socialsim.analysis.stats import cluster_intervals
from socialsim.core.errors import ConfigError
from socialsim.core.registry import MEASURES, register_measure
from socialsim.core.rundata import RunData, of_kind, payload, populations

# words too common to tell the two statements apart
# persona trait -> behaviour it should move (checked with a rank correlation)
PAIRS: tuple[tuple[str, str], ...] = (
    ("extraversion", "messages_sent"),
    ("credulity", "belief_change"),
    ("stubbornness", "credence_variance"),
    ("openness", "credence_variance"),
)
# a Spearman rho's interval; none under 5 agents (with 4, 1 null ordering in 12 excludes 0)
SPEARMAN_INTERVAL = "fisher_z_bonett_wright"
MIN_INTERVAL_AGENTS = 5
_TRAIT_COLUMNS = {
    "extraversion": ("big_five.extraversion", "extraversion"),
    "openness": ("big_five.openness", "openness"),
    "credulity": ("credulity",),
    "stubbornness": ("stubbornness",),
}


class ConsistencyParams(BaseModel):
    """Parameters of the consistency measure."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    threshold: float = Field(0.5, ge=0.0, le=1.0, description="credence that counts as belief")
    resamples: int = Field(
        1000, ge=100, le=100_000,
        description="not used: the share intervals are closed form (kept so older configs load)",
    )  # fmt: skip
    seed: int = Field(0, ge=0, description="not used (kept so older configs load)")
    keywords: dict[str, StanceKeywords] = Field(
        default_factory=dict, description="claim id -> stance keywords (replaces the derived ones)"
    )


# --- 1. credence vs probe answers -------------------------------------------------------------
def probe_contradictions(
    data: RunData | pd.DataFrame,
    claim: str,
    threshold: float = 0.5,
    *,
    population: str | np.ndarray | None = "all",
) -> pd.DataFrame:
    """Probes at every distance: ``step, agent, answered, credence, manipulated, contradicts``.

    ``contradicts`` (answered probes only, NaN otherwise) is the rule of
    :func:`~socialsim.analysis.probes.contradicts`: believing (credence >= threshold) differs
    from answering the manipulated option; at the peripheral distance only a non-believer's
    manipulated answer contradicts.
    """
    events = data.events if isinstance(data, RunData) else data
    ids = population_ids(data, population) if isinstance(data, RunData) else None
    frame = probe_frame(events, claim, ids)
    frame = frame.reset_index(drop=True)
    scored = frame["answered"] & frame["credence"].notna() & frame["manipulated"].notna()
    believes = frame["credence"] >= threshold
    frame["contradicts"] = np.where(
        scored, contradicts(frame["distance"], believes, frame["manipulated"].fillna(0)), np.nan
    )
    return frame[
        ["step", "agent", "distance", "answered", "credence", "manipulated", "contradicts"]
    ]


def contradiction_share(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per `by` (``agent`` or ``step``): ``asked, answered, failed, n, contradicting, share``.

    ``n`` counts the scored probes (answered, with a credence); ``share = contradicting / n``.
    """
    cols = [by, "asked", "answered", "failed", "n", "contradicting", "share"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    out = (
        table.assign(scored=table["contradicts"].notna())
        .groupby(by)
        .agg(
            asked=("answered", "size"),
            answered=("answered", "sum"),
            n=("scored", "sum"),
            contradicting=("contradicts", "sum"),
        )
    )
    for col in ("answered", "n", "contradicting"):
        out[col] = out[col].astype(int)
    out["failed"] = out["asked"] - out["answered"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share"] = np.where(out["n"] > 0, out["contradicting"] / out["n"], np.nan)
    return out.reset_index()[cols]


def probe_consistency(
    run: RunData, claim: str, population: str, threshold: float = 0.5
) -> dict[str, Any]:
    """Share of answered probes contradicting the stated credence, agents as clusters."""
    table = probe_contradictions(run, claim, threshold, population=population)
    asked, answered = len(table), int(table["answered"].sum())
    out: dict[str, Any] = {"answers": {"asked": asked, "answered": answered}}
    out["answers"]["failed"] = asked - answered
    gap = credence_probe_gap(run, claim, threshold, population=population)
    if not gap["n"]:
        reason = "no probe" if not asked else "no answered probe with a credence"
        return out | {"n": 0, "share": None, "reason": reason}
    per_agent = contradiction_share(table, "agent")
    by_step = contradiction_share(table, "step")
    low, high = cluster_share_ci(per_agent["contradicting"].to_numpy(), per_agent["n"].to_numpy())
    return out | {
        "n": gap["n"],
        "contradicting": int(table["contradicts"].sum()),
        "share": gap["disagreement"],
        "ci_low": low,
        "ci_high": high,
        "agents": int((per_agent["n"] > 0).sum()),
        "by_step": {
            str(int(r.step)): None if pd.isna(r.share) else float(r.share)
            for r in by_step.itertuples()
        },
    }


# --- 2. credence vs message stance ------------------------------------------------------------
def message_stances(
    run: RunData,
    claim: str,
    keywords: StanceKeywords,
    threshold: float = 0.5,
    *,
    population: str | np.ndarray | None = "all",
) -> pd.DataFrame:
    """Each message of the population's agents: ``step, agent, credence, stance, disagrees, text``.

    ``credence`` is the sender's at the end of the message's step (agents table);
    ``disagrees`` (stanced messages with a credence, NaN otherwise) is stance +1 while
    credence < threshold, or stance -1 while credence >= threshold.
    """
    msgs = of_kind(run.events, "message")
    agent = pd.to_numeric(msgs["agent"], errors="coerce").to_numpy(dtype=float)
    keep = agent >= 0
    ids = population_ids(run, population)
    if ids is not None:
        keep &= np.isin(agent, ids)
    msgs = msgs[keep]
    agent = agent[keep].astype(np.int64)
    step = msgs["step"].to_numpy(dtype=np.int64)
    texts = payload(msgs, "text").fillna("").astype(str).reset_index(drop=True)
    steps, matrix = credence_array(run, claim)
    credence = np.full(len(msgs), np.nan)
    if len(steps):
        row = np.clip(np.searchsorted(steps, step), 0, len(steps) - 1)
        ok = (steps[row] == step) & (agent < matrix.shape[1])
        credence[ok] = matrix[row[ok], agent[ok]]
    stance = message_stance(texts, keywords)
    believes = credence >= threshold
    disagrees = np.where(
        (stance != 0) & ~np.isnan(credence), ((stance > 0) != believes).astype(float), np.nan
    )
    return pd.DataFrame(
        {"step": step, "agent": agent, "credence": credence, "stance": stance,
         "disagrees": disagrees, "text": texts}
    )  # fmt: skip


def stance_consistency(
    run: RunData, claim: str, population: str, params: ConsistencyParams
) -> dict[str, Any]:
    """Share of stanced messages whose stance disagrees with the sender's stated credence."""
    keywords, source = claim_keywords(run, claim, params.keywords)
    if keywords is None:
        return {"messages": None, "stanced": 0, "share": None, "reason": source}
    table = message_stances(run, claim, keywords, params.threshold, population=population)
    scored = table.dropna(subset=["disagrees"])
    out: dict[str, Any] = {
        "keywords": keywords.model_dump(),
        "keywords_from": source,
        "messages": len(table),
        "stanced": int((table["stance"] != 0).sum()),
        "n": len(scored),
        "supports_manipulated": int((table["stance"] > 0).sum()),
        "supports_true": int((table["stance"] < 0).sum()),
    }
    if scored.empty:
        reason = "no messages from the population" if table.empty else "no stanced message"
        return out | {"share": None, "reason": reason}
    per_agent = scored.groupby("agent")["disagrees"].agg(["sum", "size"])
    low, high = cluster_share_ci(per_agent["sum"].to_numpy(), per_agent["size"].to_numpy())
    return out | {
        "disagreeing": int(scored["disagrees"].sum()),
        "share": float(scored["disagrees"].mean()),
        "ci_low": low,
        "ci_high": high,
        "agents": len(per_agent),
    }


# --- 3. persona vs behaviour ------------------------------------------------------------------
def failed_decisions(events: pd.DataFrame) -> pd.DataFrame:
    """Agent-steps whose decision failed (``error`` events where ``decide``): ``step, agent``."""
    errors = of_kind(events, "error")
    errors = errors[(payload(errors, "where") == "decide").to_numpy(dtype=bool)]
    return pd.DataFrame(
        {"step": errors["step"].to_numpy(dtype=np.int64),
         "agent": pd.to_numeric(errors["agent"]).to_numpy(dtype=np.int64)}
    )  # fmt: skip


def persona_behaviour(run: RunData, claim: str, population: str = "all") -> pd.DataFrame:
    """One row per agent: traits, ``messages_sent, belief_change, credence_variance`` and counts.

    Stated credences are those at step 0 and at the end of every step the agent was present
    and its decision did not fail; ``belief_change`` = |last - first| and
    ``credence_variance`` (population variance) need two of them, else NaN.
    """
    n = run.n_agents
    ids = population_ids(run, population)
    members = np.arange(n) if ids is None else ids
    out = pd.DataFrame({"agent": members})
    for trait in _TRAIT_COLUMNS:
        out[trait] = _trait(run.personas, trait, n)[members]
    senders = pd.to_numeric(of_kind(run.events, "message")["agent"], errors="coerce").dropna()
    sent = np.bincount(senders[senders >= 0].astype(np.int64), minlength=n)[:n]
    out["messages_sent"] = sent[members]
    failed = failed_decisions(run.events)
    fails = np.bincount(failed["agent"].to_numpy(), minlength=n)[:n]
    out["failed_decisions"] = fails[members]
    steps, matrix = credence_array(run, claim)
    stated = np.full((max(len(steps), 1), len(members)), np.nan)
    if len(steps):
        held = matrix.copy()
        held[~presence(run, steps)] = np.nan
        at, who = failed["step"].to_numpy(), failed["agent"].to_numpy()
        row = np.minimum(np.searchsorted(steps, at), len(steps) - 1)
        hit = (steps[row] == at) & (who < held.shape[1])
        held[row[hit], who[hit]] = np.nan
        whole = ids is None and held.shape[1] == len(members)
        stated = held if whole else held[:, members]
    known = ~np.isnan(stated)
    count = known.sum(axis=0)
    cols = np.arange(len(members))
    first = stated[known.argmax(axis=0), cols]
    last = stated[len(stated) - 1 - known[::-1].argmax(axis=0), cols]
    two = count >= 2
    out["stated_steps"] = count
    out["belief_change"] = np.where(two, np.abs(last - first), np.nan)
    variance = np.full(len(members), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for lo in range(0, len(members), _COLUMNS_AT_ONCE):  # small temporaries
            hi = lo + _COLUMNS_AT_ONCE
            variance[lo:hi] = np.where(two[lo:hi], np.nanvar(stated[:, lo:hi], axis=0), np.nan)
    out["credence_variance"] = variance
    return out


_COLUMNS_AT_ONCE = 65_536  # agents whose credence variance is computed together


def _trait(personas: pd.DataFrame, trait: str, n: int) -> np.ndarray:
    values = np.full(n, np.nan)
    column = next((c for c in _TRAIT_COLUMNS[trait] if c in personas.columns), None)
    if column is None:
        return values
    raw = personas[column]
    agent = personas["agent"].to_numpy() if "agent" in personas else np.arange(len(personas))
    agent = np.asarray(agent, dtype=np.int64)
    ok = agent < n
    values[agent[ok]] = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)[ok]
    return values


def persona_correlations(table: pd.DataFrame, level: float = 0.95) -> dict:
    """Spearman rho of each trait-behaviour pair with its Fisher-z interval (:func:`spearman_ci`)."""
    out: dict[str, Any] = {}
    for trait, behaviour in PAIRS:
        cols = [trait, behaviour]
        pair = table[cols].dropna() if set(cols) <= set(table.columns) else pd.DataFrame()
        out[f"{trait}_vs_{behaviour}"] = spearman_ci(
            pair.get(trait, []), pair.get(behaviour, []), (trait, behaviour), level
        )
    return out


def spearman_ci(
    x: Any, y: Any, names: tuple[str, str] = ("x", "y"), level: float = 0.95
) -> dict[str, Any]:
    """Spearman rho (average ranks for ties) with a Fisher-z interval; None with a reason.

    The interval is tanh(atanh(rho) +- z * se) with Bonett and Wright's (2000) standard error
    se = sqrt((1 + rho^2 / 2) / (n - 3)): closed form, linear in agents, and calibrated by
    simulation with ties and sparse outcomes (``docs/measures.md``, "Consistency").
    ``spearman_ci([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5])`` -> rho 0.8286, interval
    (-0.1272, 0.9865). rho is None under 3 pairs or when a variable is constant; under
    :data:`MIN_INTERVAL_AGENTS` pairs the interval is None and ``no_interval`` says why.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    out: dict[str, Any] = {"n": n, "rho": None, "ci_low": None, "ci_high": None, "interval": None}
    if n < 3:
        return out | {"reason": "fewer than 3 agents"}
    for name, v in zip(names, (x, y), strict=True):
        if np.ptp(v) == 0:
            return out | {"reason": f"{name} is constant"}
    rho = _pearson(_average_ranks(x), _average_ranks(y))
    if n < MIN_INTERVAL_AGENTS:
        reason = f"{n} agents; an interval needs at least {MIN_INTERVAL_AGENTS}"
        return out | {"rho": rho, "no_interval": reason}
    low, high = fisher_z_interval(rho, n, level)
    method = {"method": SPEARMAN_INTERVAL, "level": level, "n": n}
    return out | {"rho": rho, "ci_low": low, "ci_high": high, "interval": method}


def fisher_z_interval(rho: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Fisher-z interval of a Spearman rho with Bonett and Wright's (2000) standard error."""
    if not 0 < level < 1:
        raise ConfigError(f"interval level {level!r}: give a share between 0 and 1, e.g. 0.95")
    half = NormalDist().inv_cdf(0.5 + level / 2) * np.sqrt((1 + rho * rho / 2) / (n - 3))
    z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def _average_ranks(v: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank.

    A value held `count` times after `below` smaller ones has ranks below+1..below+count,
    whose mean is below + (count + 1) / 2 (one sort; no search per value).
    """
    _, value_of, count = np.unique(v, return_inverse=True, return_counts=True)
    below = np.cumsum(count) - count
    return ((2 * below + count + 1) / 2)[value_of.reshape(-1)]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float(np.clip((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()), -1.0, 1.0))


def cluster_share_ci(k: np.ndarray, n: np.ndarray) -> tuple[float | None, float | None]:
    """95% interval of sum(k) / sum(n), agents (k_i of n_i) as clusters: Korn-Graubard
    (:func:`~socialsim.analysis.stats.cluster_intervals`); None under two agents with items."""
    low, high = cluster_intervals(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    if np.isnan(low[0]):
        return None, None
    return float(low[0]), float(high[0])


# --- the measure ------------------------------------------------------------------------------
def consistency_summary(run: RunData, params: ConsistencyParams | None = None) -> dict[str, Any]:
    """Probe, stance and persona-behaviour consistency of every claim of the agents table."""
    params = params or ConsistencyParams()
    pops = populations(run)
    main = "benign" if "benign" in pops else "all"
    out: dict[str, Any] = {}
    for claim in run.claims:
        persona = persona_behaviour(run, claim, main)
        out[claim] = {
            "population": main,
            "probes": probe_consistency(run, claim, main, params.threshold),
            "stance": stance_consistency(run, claim, main, params),
            "persona": {
                "agents": len(persona),
                "failed_decisions": int(persona["failed_decisions"].sum()),
                **persona_correlations(persona),
            },
        }
    return out


@register_measure("consistency", params=ConsistencyParams)
def consistency(run: RunData, params: ConsistencyParams) -> dict[str, Any] | None:
    """Stated credence against probe answers, message stance and persona traits, per claim."""
    return consistency_summary(run, params) or None


@register_report_part("consistency tables")
def consistency_part(run: Any, figs: Any, tables: list) -> None:
    """The three consistency blocks as one table, and the messages that disagree."""
    given = ((run.config.get("analysis") or {}).get("measures") or {}).get("consistency")
    params = MEASURES.validate("consistency", given, "analysis.measures.consistency")
    assert isinstance(params, ConsistencyParams)
    written = ((getattr(run, "summary", None) or {}).get("measures") or {}).get("consistency")
    summary = written if written is not None else consistency_summary(run, params)
    if not summary:
        return
    tables.append(("Belief-behaviour consistency", consistency_table(summary)))
    for claim, blocks in summary.items():
        keywords, _ = claim_keywords(run, claim, params.keywords)
        if keywords is None:
            continue
        stances = message_stances(
            run, claim, keywords, params.threshold, population=blocks["population"]
        )
        rows = disagreeing_messages(stances)
        if not rows.empty:
            tables.append((f"Messages disagreeing with the sender's credence ({claim})", rows))

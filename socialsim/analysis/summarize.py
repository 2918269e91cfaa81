"""The summary of a run (summary.json), its flat metric row, and the tables/ folder."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis import cascades, collaboration, network, norms, persuasion, spread
from socialsim.analysis.io import RunData, as_bool, load_run, of_kind, payload


def claims_in(run: RunData) -> list[str]:
    """Claim ids seen in the agents table or in claim-bearing events, sorted."""
    found: set[str] = set()
    if not run.agents.empty:
        found |= set(run.agents["claim"].dropna().astype(str).unique())
    ev = run.events
    if not ev.empty:
        mask = ev["kind"].isin(["belief_change", "probe", "injection"])
        found |= set(ev.loc[mask, "claim"].dropna().astype(str).unique())
    return sorted(found)


def llm_totals(events: pd.DataFrame) -> dict[str, Any]:
    """Totals over ``llm_call`` events: calls, cached, errors, tokens, cost, mean latency."""
    calls = of_kind(events, "llm_call")
    if calls.empty:
        return {"calls": 0}
    err = payload(calls, "error")
    has_err = err.notna() & (err.astype(str).str.len() > 0) & (err.astype(str) != "False")

    def num(key: str) -> pd.Series:
        return pd.to_numeric(payload(calls, key), errors="coerce")

    prompt, completion = num("prompt_tokens").fillna(0), num("completion_tokens").fillna(0)
    latency = num("latency_s")
    return {
        "calls": int(len(calls)),
        "cached": int(as_bool(payload(calls, "cached")).fillna(0).sum()),
        "errors": int(has_err.sum()),
        "prompt_tokens": int(prompt.sum()),
        "completion_tokens": int(completion.sum()),
        "tokens": int(prompt.sum() + completion.sum()),
        "cost": float(num("cost").fillna(0).sum()),
        "mean_latency_s": float(latency.mean()) if latency.notna().any() else None,
    }


def claim_summary(run: RunData, claim: str, threshold: float = 0.5) -> dict[str, Any]:
    """Spread, exposure, cascades, persistence and probes of one claim."""
    ev = run.events
    source = run.agents if not run.agents.empty else ev
    n_agents = run.graph.number_of_nodes() if run.graph is not None else None
    curve = spread.adoption_curve(source, claim, threshold, events=ev, n_agents=n_agents)
    out: dict[str, Any] = spread.reach_stats(curve)
    if not ev.empty:
        out["exposure"] = spread.exposure_adoption(
            ev, claim, threshold, agents=run.agents if not run.agents.empty else None
        )
        out["cascades"] = cascades.cascade_summary(cascades.cascade_trees(ev, claim, threshold))
        persist = spread.persistence(
            ev, claim, threshold, agents=None if run.agents.empty else run.agents
        )
        if persist.get("removal_step") is not None:
            out["persistence"] = persist
        probes = spread.probe_accuracy(ev, claim)
        if not probes.empty:
            out["probe_accuracy"] = dict(zip(probes["distance"], probes["accuracy"], strict=True))
            out["probe_manipulated"] = dict(
                zip(probes["distance"], probes["manipulated_share"], strict=True)
            )
            out["credence_probe_gap"] = spread.credence_probe_gap(ev, claim, threshold)
    if run.graph is not None and run.graph.number_of_edges():
        dis = spread.disagreement(source, claim, run.graph)
        if not dis.empty:
            out["disagreement_final"] = float(dis["disagreement"].iloc[-1])
    pol = spread.polarization(source, claim)
    if not pol.empty:
        out["bimodality_final"] = float(pol["bimodality"].iloc[-1])
    return out


def summarize_run(run: RunData, threshold: float = 0.5) -> dict[str, Any]:
    """JSON-ready measures of a run: per claim, per scenario present, LLM use, network."""
    ev = run.events
    kinds = ev["kind"].value_counts().to_dict() if not ev.empty else {}
    out: dict[str, Any] = {
        "n_events": int(len(ev)),
        "events_by_kind": {str(k): int(v) for k, v in kinds.items()},
        "n_steps": int(ev["step"].max()) + 1 if not ev.empty and ev["step"].notna().any() else None,
        "claims": {c: claim_summary(run, c, threshold) for c in claims_in(run)},
    }
    if not ev.empty:
        out["norms"] = norms.norms_summary(ev, run.graph)
        out["collaboration"] = collaboration.collaboration_summary(ev)
        out["persuasion"] = persuasion.persuasion_summary(ev)
        out["llm"] = llm_totals(ev)
    if run.graph is not None:
        out["network"] = network.network_summary(run.graph)
        out["network"]["homophily"] = network.homophily(run.graph)
    return _jsonable({k: v for k, v in out.items() if k == "claims" or v not in ({}, None)})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def flat_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """Scalar columns for a sweep row: ``reach.c1``, ``adherence.overall``, ``llm.calls`` ...

    Per-claim measures become ``<measure>.<claim>`` (``reach``/``peak``/``time_to_50`` ...);
    norm adherence is ``adherence.<...>``, other norm measures ``norms.<...>``; everything
    else keeps its section and dotted path.
    """
    out: dict[str, float] = {}
    rename = {"final_reach": "reach"}
    for claim, measures in summary.get("claims", {}).items():
        for path, value in _walk(measures):
            head, *rest = path
            name = ".".join([rename.get(head, head), *rest, claim])
            out[name] = value
    for path, value in _walk(summary.get("norms", {})):
        head = () if path[0] == "adherence" else ("norms",)
        out[".".join([*head, *path])] = value
    for section in ("collaboration", "persuasion", "llm", "network"):
        for path, value in _walk(summary.get(section, {})):
            out[".".join([section, *path])] = value
    return out


def _walk(tree: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], float]]:
    if isinstance(tree, dict):
        items = []
        for k, v in tree.items():
            items.extend(_walk(v, (*prefix, str(k))))
        return items
    if isinstance(tree, bool):
        return [(prefix, float(tree))]
    if isinstance(tree, int | float) or tree is None:
        return [(prefix, float("nan") if tree is None else float(tree))] if prefix else []
    return []


def run_tables(run: RunData, threshold: float = 0.5) -> dict[str, pd.DataFrame]:
    """The analysis tables of a run by file stem (``adoption_c1``, ``norm_adherence`` ...)."""
    ev = run.events
    source = run.agents if not run.agents.empty else ev
    n_agents = run.graph.number_of_nodes() if run.graph is not None else None
    tables: dict[str, pd.DataFrame] = {}
    for claim in claims_in(run):
        tables[f"adoption_{claim}"] = spread.adoption_curve(
            source, claim, threshold, events=ev, n_agents=n_agents
        )
        tables[f"polarization_{claim}"] = spread.polarization(source, claim)
        if run.graph is not None:
            tables[f"disagreement_{claim}"] = spread.disagreement(source, claim, run.graph)
            tables[f"communities_{claim}"] = spread.adoption_by_group(
                source, claim, spread.communities(run.graph), threshold
            )
        if not ev.empty:
            trees = cascades.cascade_trees(ev, claim, threshold)
            tables[f"cascades_{claim}"] = cascades.cascade_table(trees)
            tables[f"probes_{claim}"] = spread.probe_accuracy(ev, claim)
    if not ev.empty:
        choices = norms.norm_choices(ev)
        if not choices.empty:
            tables["norm_adherence"] = norms.adherence(choices)
            for col in ("culture", "setting", "category", "role"):
                if col in choices:
                    tables[f"norm_adherence_by_{col}"] = norms.adherence(choices, col)
            tables["norm_pressure"] = norms.pressure_effect(choices)
        judged = norms.judge_accuracy(ev)
        if not judged.empty:
            tables["norm_judge_accuracy"] = judged
        trials = collaboration.collab_trials(ev)
        if not trials.empty:
            tables["collab_by_condition"] = collaboration.success_by_condition(trials)
            tables["collab_by_pairing"] = collaboration.success_by_pairing(trials)
            tables["collab_gap"] = collaboration.collaboration_gap(trials)
            tables["collab_relay_vs_pair"] = collaboration.relay_vs_pair(trials)
            tables["collab_starter"] = collaboration.starter_effect(trials)
        pairs = persuasion.debate_pairs(ev)
        if not pairs.empty:
            tables["debate_shift"] = persuasion.agreement_shift(pairs)
        auth = persuasion.authority_outcomes(ev)
        if auth["n"].sum() > 0:
            tables["authority_outcomes"] = auth
        drift = persuasion.stance_by_exposure(ev)
        if not drift.empty:
            tables["stance_by_exposure"] = drift
    if run.graph is not None:
        tables["degree_distribution"] = network.degree_distribution(run.graph)
    return {k: v for k, v in tables.items() if not v.empty}


def analyze_dir(path: str | Path, threshold: float = 0.5) -> dict[str, Any]:
    """Analyse a run directory: write tables/*.csv and summary.json; return the analysis.

    The analysis goes under the ``analysis`` key of summary.json; the other keys already
    there (the run's own record: steps, event counts, the scenario's measures) are kept.
    """
    root = Path(path)
    run = load_run(root)
    analysis = summarize_run(run, threshold)
    record = {k: v for k, v in run.summary.items() if k != "analysis"}
    record["analysis"] = analysis
    text = json.dumps(record, indent=2, default=str)
    (root / "summary.json").write_text(text, encoding="utf-8")
    tables_dir = root / "tables"
    tables_dir.mkdir(exist_ok=True)
    for name, table in run_tables(run, threshold).items():
        table.to_csv(tables_dir / f"{name}.csv", index=False)
    return analysis

"""The general measures (claims, network), registered by name, and how every measure is taken.

``summary.json``'s ``measures`` holds one key per registered measure that applies to the
run (``docs/measures.md`` defines every value). A measure is ``fn(run, params)`` with a
pydantic ``Params`` model; ``analysis.measures.<name>`` in a config sets its params. Each
scenario family registers its own measures (``socialsim.scenarios.<family>``); users add
theirs with :func:`socialsim.register_measure`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.analysis import cascades, network, spread
from socialsim.core.registry import NoParams, register_measure
from socialsim.core.rundata import RunData, node_attributes, populations


class ClaimParams(BaseModel):
    """Parameters of the per-claim measures."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    threshold: float = Field(0.5, ge=0.0, le=1.0, description="credence that counts as belief")


def claims_in(run: RunData) -> list[str]:
    """Claim ids of the agents table, else of claim-bearing events, sorted."""
    if run.has_agent_rows:
        return sorted(run.claims)
    ev = run.events
    if ev.empty:
        return []
    mask = ev["kind"].isin(["belief_change", "probe", "injection"])
    return sorted(set(ev.loc[mask, "claim"].dropna().astype(str).unique()))


def _parents(run: RunData, claim: str, threshold: float) -> pd.DataFrame:
    """Cascade parents of a claim, computed once per run (the summary and tables share it)."""
    key = ("cascade_parents", claim, threshold)
    if key not in run.cache:
        run.cache[key] = cascades.cascade_parents(run.events, claim, threshold)
    return run.cache[key]


def _disagreement(run: RunData, claim: str) -> pd.DataFrame:
    """Disagreement per step of a claim, computed once per run."""
    key = ("disagreement", claim)
    if key not in run.cache:
        run.cache[key] = spread.disagreement(run, claim)
    return run.cache[key]


def claim_measures(
    run: RunData, claim: str, pops: dict[str, np.ndarray], threshold: float = 0.5
) -> dict[str, Any]:
    """Spread, exposure, cascades, persistence and probes of one claim.

    Adoption is given for every agent (``adoption_all``) and, when the scenario gave some
    agents a role, for the benign ones (``adoption_benign``); message and probe measures
    are taken over the benign population when there is one (the key says which). Belief
    measures count the agents present at each step (``disagreement_final`` and
    ``bimodality_final`` too: an agent that left is out of the last step).
    """
    ev = run.events
    main = "benign" if "benign" in pops else "all"
    out: dict[str, Any] = {}
    for pop in ("all", "benign"):
        if pop in pops:
            curve = spread.adoption_curve(run, claim, threshold, population=pop)
            out[f"adoption_{pop}"] = spread.reach_stats(curve)
    if not ev.empty:
        out[f"exposure_{main}"] = spread.exposure_adoption(run, claim, threshold, population=main)
        out["cascades"] = cascades.forest_summary(_parents(run, claim, threshold))
        persist = spread.persistence(run, claim, threshold, population=main)
        if persist.get("removal_step") is not None:
            out[f"persistence_{main}"] = persist
        probes = spread.probe_accuracy(run, claim, population=main)
        if not probes.empty:
            out[f"probes_{main}"] = _by_distance(probes)
            last = spread.probe_accuracy(run, claim, population=main, last_step=True)
            out[f"probes_{main}_last"] = _by_distance(last)
            out[f"credence_probe_gap_{main}"] = spread.credence_probe_gap(
                run, claim, threshold, population=main
            )
    if run.has_network and run.network.n_edges:
        dis = _disagreement(run, claim)
        if not dis.empty:
            out["disagreement_final"] = float(dis["disagreement"].iloc[-1])
    pol = spread.polarization(run, claim)
    if not pol.empty:
        out["bimodality_final"] = float(pol["bimodality"].iloc[-1])
    return out


@register_measure("claims", params=ClaimParams)
def claims(run: RunData, params: ClaimParams) -> dict[str, Any]:
    """Spread, exposure, cascades, persistence, probes and disagreement of every claim."""
    pops = populations(run)
    return {c: claim_measures(run, c, pops, params.threshold) for c in claims_in(run)}


@register_measure("network")
def network_measures(run: RunData, params: NoParams) -> dict[str, Any] | None:
    """Size, degrees, clustering, components and homophily of the run's network."""
    if not run.has_network:
        return None
    g = run.network
    if g.attributes is None and g._graph is None and len(run.personas) == g.n:
        g.attributes = node_attributes(run.personas, run.final_credences())
    out = network.network_summary(g)
    out["homophily"] = network.homophily(g)
    return out


def measure_params(
    run: RunData, name: str, params: dict[str, dict[str, Any]] | None = None
) -> BaseModel:
    """The params of measure `name` for `run`: its config's ``analysis.measures.<name>``,
    each key of ``params[name]`` replacing the config's, checked against the measure's Params.
    """
    from socialsim.core.registry import MEASURES

    given = dict(((run.config.get("analysis") or {}).get("measures") or {}).get(name) or {})
    given.update((params or {}).get(name) or {})
    return MEASURES.validate(name, given, f"analysis.measures.{name}")


def claim_threshold(run: RunData, threshold: float | None = None) -> float:
    """The credence that counts as belief: `threshold` when given, else the run's
    ``analysis.measures.claims.threshold`` (0.5 by default)."""
    given = None if threshold is None else {"claims": {"threshold": threshold}}
    return float(measure_params(run, "claims", given).threshold)  # type: ignore[attr-defined]


# The measures of the run as a whole, after the scenario's own in summary.json.
WHOLE_RUN = ("network", "consistency", "self_report", "message_quality", "toxicity")


def _place(entry: Any) -> int:
    """Where a measure sits in ``measures``: the claims, the scenario families' measures,
    the whole run's (:data:`WHOLE_RUN`), then a user's own; registration order within each."""
    if entry.name == "claims":
        return 0
    if entry.name in WHOLE_RUN:
        return 2 + WHOLE_RUN.index(entry.name)
    return 1 if entry.module.startswith("socialsim.") else 2 + len(WHOLE_RUN)


def compute_measures(run: RunData, params: dict[str, dict[str, Any]] | None = None) -> dict:
    """Every registered measure that applies to `run`, by name.

    Each measure takes its params from the run's config (``analysis.measures.<name>``);
    `params` (by measure name) replaces single keys of them.
    """
    from socialsim.core.registry import MEASURES

    out: dict[str, Any] = {}
    for entry in sorted(MEASURES.entries(), key=_place):
        value = entry.obj(run, measure_params(run, entry.name, params))
        if value is not None and not (isinstance(value, dict) and not value):
            out[entry.name] = value
    return out


def _by_distance(probes: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A probe table (:func:`~socialsim.analysis.probes.probe_accuracy`) keyed by distance."""
    return {
        row["distance"]: {k: row[k] for k in probes.columns if k != "distance"}
        for row in probes.to_dict(orient="records")
    }

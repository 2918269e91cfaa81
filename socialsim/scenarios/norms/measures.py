"""Norm adherence: who follows norms, under what pressure, how violations cluster, how agents judge.

Reads the norms scenario's ``action`` events of type ``norm_choice`` and ``norm_judgement``
and the ``role`` actions (:func:`socialsim.core.rundata.roles`). Every measure is taken over
answered items only and reports how many were asked, answered and failed; a failed answer is
never given a value. Choices of agents with a scenario role (violators, and their placebo
counterparts in a control arm) are kept apart from everyone else's (the "benign" agents),
so that both arms measure the same agents. A choice is adherent when the modal annotator
label of the chosen behaviour is expected or okay. ``docs/measures.md`` defines each measure.

Example: ``norms_summary(run.events, run.graph)["adherence"]["overall"]["rate"]``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.analysis.stats import COUNT_COLUMNS, answer_table, count_cell
from socialsim.core.rundata import as_bool, event_table, roles
from socialsim.scenarios.norms.justification import justification_summary, justification_table

LABELS = ("expected", "okay", "unexpected")
ADHERENT_LABELS = ("expected", "okay")
PERSONA_ATTRIBUTES = ("country", "gender", "political_leaning")
PRESSURE_CONDITIONS = (
    "without",
    "with",
    "with_violating_neighbours",
    "with_adherent_neighbours",
    "pressure_group",
)


# --- tables ----------------------------------------------------------------------------------
def label_distribution(value: Any) -> dict[str, float] | None:
    """Annotator shares per label from a dict, a JSON string (flat tables) or None."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if not isinstance(value, dict):
        return None
    out = {}
    for label in LABELS:
        weight = value.get(label)
        if weight is not None and not (isinstance(weight, float) and np.isnan(weight)):
            out[label] = float(weight)
    return out or None


def _ensure(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for col in columns:
        if col not in table:
            table[col] = None
    return table


def _status(table: pd.DataFrame, answer_field: str) -> pd.Series:
    """answered / failed / imposed; logs without a status read a present answer as answered."""
    status = table["status"].astype(object)
    legacy = np.where(table[answer_field].notna(), "answered", "failed")
    if "violator" in table:
        legacy = np.where(as_bool(table["violator"]).fillna(0) == 1, "imposed", legacy)
    return status.where(status.notna(), pd.Series(legacy, index=table.index)).astype(str)


def _agent_roles(events: pd.DataFrame, agents: pd.Series) -> pd.Series:
    table = roles(events)
    role_of = dict(zip(table["agent"].tolist(), table["role"].tolist(), strict=True))
    return agents.map(lambda a: None if pd.isna(a) else role_of.get(int(a))).astype(object)


def norm_choices(events: pd.DataFrame) -> pd.DataFrame:
    """``norm_choice`` actions, one row per choice put to an agent or imposed on a violator.

    Adds ``status`` (answered / failed / imposed), ``agent_role`` (the agent's scenario role,
    None for benign agents), ``adherent`` (1.0 / 0.0 for answered choices, NaN otherwise),
    ``adherent_soft`` (annotators' share finding the chosen behaviour expected or okay),
    ``contested`` (annotators of the chosen behaviour disagree) and boolean
    ``social_pressure`` / ``pressure_group``.
    """
    table = event_table(events, "action", "norm_choice")
    extra = ["adherent", "adherent_soft", "contested", "agent_role"]
    if table.empty:
        return pd.DataFrame(columns=["step", "agent", "status", "label", *extra])
    table = _ensure(
        table,
        ["status", "label", "judgements", "neighbours_violating", "culture", "setting"]
        + ["category", "social_pressure", "pressure_group"],
    )
    table["status"] = _status(table, "label")
    answered = table["status"] == "answered"
    label = table["label"].astype(str).str.strip().str.lower()
    table["adherent"] = label.isin(ADHERENT_LABELS).astype(float).where(answered)
    dists = table["judgements"].map(label_distribution)
    table["adherent_soft"] = dists.map(
        lambda d: np.nan if d is None else sum(d.get(k, 0.0) for k in ADHERENT_LABELS)
    ).where(answered)
    table["contested"] = dists.map(lambda d: d is not None and sum(v > 0 for v in d.values()) > 1)
    for col in ("social_pressure", "pressure_group"):
        table[col] = as_bool(table[col]).fillna(0).astype(bool)
    table["neighbours_violating"] = pd.to_numeric(table["neighbours_violating"], errors="coerce")
    table["agent_role"] = _agent_roles(events, table["agent"])
    return table


def _population(choices: pd.DataFrame, population: str) -> pd.DataFrame:
    if population == "all" or "agent_role" not in choices:
        return choices
    has_role = choices["agent_role"].notna()
    return choices[has_role] if population == "roles" else choices[~has_role]


# --- adherence ---------------------------------------------------------------------------------
def adherence(
    choices: pd.DataFrame, by: str | Sequence[str] | None = None, population: str = "benign"
) -> pd.DataFrame:
    """Adherence over answered choices with Wilson intervals, overall or per group.

    ``adherence(norm_choices(events), "culture")`` -> ``culture, asked, answered, failed, k,
    rate, ci_low, ci_high``. ``population``: ``benign`` (agents without a role), ``roles``
    (agents with one) or ``all``.
    """
    return answer_table(_population(choices, population), by, "adherent")


def adherence_by_attribute(
    choices: pd.DataFrame, graph: nx.Graph, attribute: str, population: str = "benign"
) -> pd.DataFrame:
    """Adherence per value of a persona (graph node) attribute, e.g. ``country``."""
    values = nx.get_node_attributes(graph, attribute)
    tagged = choices.assign(
        **{attribute: choices["agent"].map(lambda a: None if pd.isna(a) else values.get(int(a)))}
    )
    return adherence(tagged, attribute, population)


def pressure_effect(choices: pd.DataFrame) -> pd.DataFrame:
    """Adherence of benign agents by social-pressure condition (the conditions overlap).

    ``without``: nothing of the neighbours was shown; ``with``: neighbours' earlier choices
    were shown, split into ``with_violating_neighbours`` (some shown choice broke the norm)
    and ``with_adherent_neighbours`` (none did); ``pressure_group``: every choice of the
    agents drawn for pressure, shown anything or not (the same agents in a control arm).
    """
    cols = ["condition", *COUNT_COLUMNS]
    rows = _population(choices, "benign")
    if rows.empty or "social_pressure" not in rows:
        return pd.DataFrame(columns=cols)
    shown = rows["social_pressure"].astype(bool)
    share = rows["neighbours_violating"]
    masks = {
        "without": ~shown,
        "with": shown,
        "with_violating_neighbours": shown & (share > 0),
        "with_adherent_neighbours": shown & (share == 0),
        "pressure_group": rows["pressure_group"].astype(bool),
    }
    parts = []
    for condition, mask in masks.items():
        table = answer_table(rows[mask.to_numpy(dtype=bool)], None, "adherent")
        if table.empty:
            table = pd.DataFrame([[0, 0, 0, 0, np.nan, np.nan, np.nan]], columns=COUNT_COLUMNS)
        parts.append(table.assign(condition=condition))
    return pd.concat(parts, ignore_index=True)[cols]


def label_shares(choices: pd.DataFrame, population: str = "benign") -> dict[str, float | None]:
    """Share of answered choices whose chosen behaviour has each modal label."""
    rows = _population(choices, population)
    rows = rows[rows["status"] == "answered"]
    labels = rows["label"].astype(str).str.strip().str.lower()
    n = len(rows)
    return {lab: (float((labels == lab).sum() / n) if n else None) for lab in LABELS}


def contested_choices(choices: pd.DataFrame) -> dict[str, Any]:
    """Answered benign choices of behaviours whose annotators disagree.

    ``n``; ``adherence`` (modal label expected or okay); ``adherence_soft`` (mean annotator
    share finding the behaviour expected or okay); ``annotator_labels`` (mean annotator
    distribution of the chosen behaviours).
    """
    rows = _population(choices, "benign")
    rows = rows[(rows["status"] == "answered") & rows["contested"].astype(bool)]
    dists = [label_distribution(d) or {} for d in rows["judgements"]]
    n = len(rows)
    return {
        "n": n,
        "adherence": float(rows["adherent"].mean()) if n else None,
        "adherence_soft": float(rows["adherent_soft"].mean()) if n else None,
        "annotator_labels": {
            lab: (float(np.mean([d.get(lab, 0.0) for d in dists])) if n else None) for lab in LABELS
        },
    }


def violation_clustering(choices: pd.DataFrame, graph: nx.Graph) -> dict[str, Any]:
    """Do violations cluster on the graph? Benign agents' own vs neighbours' adherence.

    Per benign agent, the adherence rate of its answered choices. ``correlation``: Pearson
    correlation over agents of own rate and the mean rate of benign neighbours with
    answered choices; ``assortativity``: numeric assortativity (Newman 2003) of the rates
    over edges between such agents. None when undefined (fewer than 3 agents, no variance).
    """
    rows = _population(choices, "benign")
    rows = rows[rows["status"] == "answered"].dropna(subset=["agent"])
    rate = rows.groupby(rows["agent"].astype(int))["adherent"].mean()
    own, nbr = [], []
    for agent, value in rate.items():
        if agent not in graph:
            continue
        vals = [rate[v] for v in graph.neighbors(agent) if v in rate.index]
        if vals:
            own.append(value)
            nbr.append(float(np.mean(vals)))
    out: dict[str, Any] = {"n_agents": len(own), "correlation": None, "assortativity": None}
    if len(own) > 2 and np.std(own) > 0 and np.std(nbr) > 0:
        out["correlation"] = float(np.corrcoef(own, nbr)[0, 1])
    sub = graph.subgraph([a for a in rate.index if a in graph]).copy()
    if sub.number_of_edges() and rate.nunique() > 1:
        nx.set_node_attributes(sub, {a: float(rate[a]) for a in sub.nodes}, "adherence")
        try:
            with np.errstate(invalid="ignore", divide="ignore"):
                value = nx.numeric_assortativity_coefficient(sub, "adherence")
            out["assortativity"] = None if np.isnan(value) else float(value)
        except (ValueError, ZeroDivisionError):
            pass
    return out


# --- judgements --------------------------------------------------------------------------------
def norm_judgements(events: pd.DataFrame) -> pd.DataFrame:
    """``norm_judgement`` actions with ``status``, ``judge_role``, ``correct`` and ``truth``.

    ``correct`` is 1.0 / 0.0 for answered judgements (judged label equals the modal
    annotator label), NaN for failed ones; ``truth`` is ``norm_following`` when the modal
    label is expected or okay, else ``norm_breaking``; ``contested`` as in
    :func:`norm_choices`.
    """
    table = event_table(events, "action", "norm_judgement")
    if table.empty:
        cols = ["step", "agent", "status", "correct", "truth", "contested", "judge_role"]
        return pd.DataFrame(columns=cols)
    table = _ensure(table, ["status", "judged_label", "true_label", "judgements"])
    table["status"] = _status(table, "judged_label")
    judged = table["judged_label"].astype(str).str.strip().str.lower()
    true = table["true_label"].astype(str).str.strip().str.lower()
    table["correct"] = (judged == true).astype(float).where(table["status"] == "answered")
    table["truth"] = np.where(true.isin(ADHERENT_LABELS), "norm_following", "norm_breaking")
    dists = table["judgements"].map(label_distribution)
    table["contested"] = dists.map(lambda d: d is not None and sum(v > 0 for v in d.values()) > 1)
    table["judge_role"] = _agent_roles(events, table["agent"])
    return table


def judge_accuracy(events: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of benign judges overall and for norm-following and norm-breaking behaviours."""
    cols = ["truth", *COUNT_COLUMNS]
    table = norm_judgements(events)
    table = table[table["judge_role"].isna()] if not table.empty else table
    if table.empty:
        return pd.DataFrame(columns=cols)
    total = answer_table(table.assign(truth="overall"), "truth", "correct")
    split = answer_table(table, "truth", "correct")
    return pd.concat([total, split], ignore_index=True)[cols]


def contested_judgements(events: pd.DataFrame) -> dict[str, Any]:
    """Benign judges' labels for behaviours whose annotators disagree, beside the annotators'.

    ``n`` answered judgements; ``judged_labels``: share of each label the judges gave;
    ``annotator_labels``: mean annotator distribution of the judged behaviours.
    """
    table = norm_judgements(events)
    if not table.empty:
        table = table[
            table["judge_role"].isna()
            & (table["status"] == "answered")
            & table["contested"].astype(bool)
        ]
    n = len(table)
    judged = table["judged_label"].astype(str).str.lower() if n else pd.Series(dtype=str)
    dists = [label_distribution(d) or {} for d in table["judgements"]] if n else []
    return {
        "n": n,
        "judged_labels": {lab: (float((judged == lab).mean()) if n else None) for lab in LABELS},
        "annotator_labels": {
            lab: (float(np.mean([d.get(lab, 0.0) for d in dists])) if n else None) for lab in LABELS
        },
    }


def answers_by_step(events: pd.DataFrame) -> pd.DataFrame:
    """Norm choices and judgements asked, answered and failed per step (all agents)."""
    cols = ["step", "item", "asked", "answered", "failed"]
    parts = []
    for item, table in (("choice", norm_choices(events)), ("judgement", norm_judgements(events))):
        if table.empty:
            continue
        asked = table[table["status"].isin(["answered", "failed"])]
        counts = asked.groupby("step")["status"].agg(
            asked="size",
            answered=lambda s: int((s == "answered").sum()),
            failed=lambda s: int((s == "failed").sum()),
        )
        parts.append(counts.reset_index().assign(item=item))
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


# --- the summary -------------------------------------------------------------------------------
def _cells(table: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {_key(row[key]): count_cell(row) for _, row in table.iterrows()}


def _first(table: pd.DataFrame) -> dict[str, Any]:
    return count_cell(table.iloc[0] if not table.empty else None)


def _answers(cell: dict[str, Any]) -> dict[str, int]:
    return {k: int(cell[k]) for k in ("asked", "answered", "failed")}


def _key(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _adherence_block(choices: pd.DataFrame, graph: nx.Graph | None) -> dict[str, Any]:
    cell = _first(adherence(choices))
    rows = _population(choices, "benign")
    soft = rows.loc[rows["status"] == "answered", "adherent_soft"].dropna()
    out: dict[str, Any] = {
        "answers": _answers(cell),
        "overall": cell,
        "soft": float(soft.mean()) if len(soft) else None,
        "labels": label_shares(choices),
        "by_step": _cells(adherence(choices, "step"), "step"),
    }
    for col in ("culture", "setting", "category"):
        out[f"by_{col}"] = _cells(adherence(choices, col), col)
    if graph is not None:
        out["by_persona"] = {
            attr: _cells(adherence_by_attribute(choices, graph, attr), attr)
            for attr in PERSONA_ATTRIBUTES
            if nx.get_node_attributes(graph, attr)
        }
    return out


def _roles_block(events: pd.DataFrame, choices: pd.DataFrame) -> dict[str, Any]:
    table = roles(events)
    out: dict[str, Any] = {}
    for role, group in table.groupby("role", sort=True):
        rows = choices[choices["agent_role"] == role]
        cell = _first(answer_table(rows, None, "adherent"))
        out[str(role)] = {
            "agents": int(group["agent"].nunique()),
            "placebo": bool(group["placebo"].all()),
            "imposed": int((rows["status"] == "imposed").sum()),
            "answers": _answers(cell),
            "adherence": cell,
        }
    return out


def norms_summary(events: pd.DataFrame, graph: nx.Graph | None = None) -> dict[str, Any]:
    """Every norms measure as a JSON-ready dict ({} when the run made no norm choices).

    ``adherence`` (benign agents: overall, soft, modal labels, by step / culture / setting /
    category / persona attribute), ``contested``, ``pressure``, ``clustering`` (with a
    graph), ``roles`` (agents with a scenario role, apart), ``justifications`` (LLM reasons
    scored against the frame's rule of thumb) and ``judgements``. Every
    proportion is ``{asked, answered, failed, k, rate, ci_low, ci_high}`` over answered
    items; each block's ``answers`` gives its asked / answered / failed.
    """
    choices = norm_choices(events)
    judged = judge_accuracy(events)
    out: dict[str, Any] = {}
    if not choices.empty:
        out["adherence"] = _adherence_block(choices, graph)
        out["contested"] = contested_choices(choices)
        benign = _population(choices, "benign")
        if benign["pressure_group"].any() or benign["social_pressure"].any():
            pressure = pressure_effect(choices)
            out["pressure"] = _cells(pressure, "condition")
        if graph is not None:
            out["clustering"] = violation_clustering(choices, graph)
        if choices["agent_role"].notna().any():
            out["roles"] = _roles_block(events, choices)
        out["justifications"] = justification_summary(justification_table(choices))
    if not judged.empty:
        cells = _cells(judged, "truth")
        out["judgements"] = {
            "answers": _answers(cells["overall"]),
            "accuracy": cells["overall"],
            "accuracy_norm_following": cells.get("norm_following"),
            "accuracy_norm_breaking": cells.get("norm_breaking"),
            "contested": contested_judgements(events),
        }
    return out

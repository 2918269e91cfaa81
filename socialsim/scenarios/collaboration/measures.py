"""The collaboration gap: solo vs pair vs relay success on split-information mazes.

Reads the collaboration scenario's ``action`` events of type ``collab_trial``: condition
(solo | pair | heterogeneous | relay), models (one per seat, the starter first), starter
role, status and success. A trial whose dialogue hit an unusable answer has status
``failed`` and no success value: every rate here is over answered trials and reports how
many were asked, answered and failed. ``docs/measures.md`` defines each measure.

Example: ``collaboration_summary(load_run("runs/x").events)["gap"]["gpt-4o"]["gap"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.stats import COUNT_COLUMNS, answer_table, count_cell, newcombe_diff_ci
from socialsim.core.rundata import as_bool, as_list, event_table

TWO_AGENT = ("pair", "heterogeneous", "relay")
# a trial is the unit of every share: its seats are drawn afresh for each trial, without
# memory, so the shares keep Wilson's interval (and the gap Newcombe's) over trials
TRIALS_ARE_UNITS: tuple[str, ...] = ()


def _models(value: Any) -> list[str]:
    return [str(v) for v in as_list(value)]


def collab_trials(events: pd.DataFrame) -> pd.DataFrame:
    """``collab_trial`` actions with ``status``, ``model_a`` / ``model_b`` (seat order; solo:
    both the same), ``pairing`` (the models sorted and joined by " + "; solo: the model)
    and ``success`` (1.0 / 0.0 for answered trials, NaN for failed ones)."""
    table = event_table(events, "action", "collab_trial")
    cols = ["condition", "status", "model_a", "model_b", "pairing", "success", "starter_role"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    for col in ("status", "success", "starter_role", "turns"):
        if col not in table:
            table[col] = None
    models = table["models"].map(_models) if "models" in table else pd.Series([[]] * len(table))
    table["model_a"] = models.map(lambda m: m[0] if m else None)
    table["model_b"] = models.map(lambda m: m[1] if len(m) > 1 else (m[0] if m else None))
    table["pairing"] = models.map(lambda m: " + ".join(sorted(m)) if len(m) > 1 else "".join(m))
    success = as_bool(table["success"])
    status = table["status"].astype(object)
    legacy = pd.Series(np.where(success.notna(), "answered", "failed"), index=table.index)
    table["status"] = status.where(status.notna(), legacy).astype(str)
    table["success"] = success.where(table["status"] == "answered")
    if "condition" not in table:
        table["condition"] = np.where(models.map(len) > 1, "pair", "solo")
    return table


def success_by_condition(trials: pd.DataFrame) -> pd.DataFrame:
    """Success per condition over answered trials, with Wilson intervals and answer counts."""
    return answer_table(trials, "condition", "success", agents=TRIALS_ARE_UNITS)


def success_by_pairing(trials: pd.DataFrame) -> pd.DataFrame:
    """Success per condition and model pairing (unordered), with Wilson intervals."""
    return answer_table(trials, ["condition", "pairing"], "success", agents=TRIALS_ARE_UNITS)


def collaboration_gap(trials: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per model: solo success minus success in pairs of two agents with that model.

    Only ``pair`` trials whose two seats have the model count as its pairs. ``gap`` and
    its Newcombe hybrid score interval are over answered trials; NaN when either side has
    none answered.
    """
    cols = ["model", *[f"solo_{c}" for c in COUNT_COLUMNS]]
    cols += [f"pair_{c}" for c in COUNT_COLUMNS] + ["gap", "ci_low", "ci_high"]
    if trials.empty:
        return pd.DataFrame(columns=cols)
    solo = trials[trials["condition"] == "solo"]
    pairs = trials[(trials["condition"] == "pair") & (trials["model_a"] == trials["model_b"])]
    rows = []
    for model in sorted(solo["model_a"].dropna().unique()):
        s = _one(solo[solo["model_a"] == model])
        p = _one(pairs[pairs["model_a"] == model])
        rows.append(
            {
                "model": model,
                **{f"solo_{c}": s[c] for c in COUNT_COLUMNS},
                **{f"pair_{c}": p[c] for c in COUNT_COLUMNS},
                **_difference(s, p, alpha),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def relay_vs_pair(trials: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per model pairing: relay success minus free-dialogue success of the same two models.

    Free dialogue is the ``pair`` or ``heterogeneous`` condition; pairings are unordered.
    """
    cols = ["pairing", *[f"relay_{c}" for c in COUNT_COLUMNS]]
    cols += [f"pair_{c}" for c in COUNT_COLUMNS] + ["diff", "ci_low", "ci_high"]
    rows = []
    relay = trials[trials["condition"] == "relay"] if not trials.empty else trials
    free = (
        trials[trials["condition"].isin(["pair", "heterogeneous"])] if not trials.empty else trials
    )
    for pairing in sorted(relay["pairing"].dropna().unique()) if not relay.empty else []:
        r = _one(relay[relay["pairing"] == pairing])
        p = _one(free[free["pairing"] == pairing])
        if not p["asked"]:
            continue
        d = _difference(r, p, alpha)
        rows.append(
            {
                "pairing": pairing,
                **{f"relay_{c}": r[c] for c in COUNT_COLUMNS},
                **{f"pair_{c}": p[c] for c in COUNT_COLUMNS},
                "diff": d["gap"],
                "ci_low": d["ci_low"],
                "ci_high": d["ci_high"],
            }
        )
    return pd.DataFrame(rows, columns=cols)


def starter_effect(trials: pd.DataFrame) -> pd.DataFrame:
    """Success of two-agent trials by who spoke first, per condition.

    ``starter_role`` is the scenario's record at seating: ``stronger`` / ``weaker`` when the
    first speaker's model ranks above / below its partner's (``model_rank``, then solo
    success so far in the run), ``equal`` otherwise.
    """
    rows = trials[trials["condition"].isin(TWO_AGENT)] if not trials.empty else trials
    return answer_table(rows, ["condition", "starter_role"], "success", agents=TRIALS_ARE_UNITS)


def gap_matrix(trials: pd.DataFrame, condition: str | None = None) -> pd.DataFrame:
    """Success of answered two-agent trials per (first model, second model), as a square table."""
    if trials.empty:
        return pd.DataFrame()
    wanted = [condition] if condition else ["pair", "heterogeneous"]
    rows = trials[trials["condition"].isin(wanted) & (trials["status"] == "answered")]
    if rows.empty:
        return pd.DataFrame()
    return rows.pivot_table(index="model_a", columns="model_b", values="success", aggfunc="mean")


def mean_turns(trials: pd.DataFrame) -> dict[str, float]:
    """Mean dialogue turns of answered trials per condition."""
    rows = trials[trials["status"] == "answered"]
    turns = pd.to_numeric(rows["turns"], errors="coerce")
    return {str(c): float(v) for c, v in turns.groupby(rows["condition"]).mean().items()}


def _one(rows: pd.DataFrame) -> dict[str, Any]:
    table = answer_table(rows, None, "success", agents=TRIALS_ARE_UNITS)
    return count_cell(table.iloc[0] if not table.empty else None)


def _difference(a: dict[str, Any], b: dict[str, Any], alpha: float) -> dict[str, float]:
    if not a["answered"] or not b["answered"]:
        return {"gap": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    d = newcombe_diff_ci(a["k"], a["answered"], b["k"], b["answered"], alpha)
    return {"gap": d["diff"], "ci_low": d["ci_low"], "ci_high": d["ci_high"]}


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _nested(table: pd.DataFrame, outer: str, inner: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for _, row in table.iterrows():
        out.setdefault(str(row[outer]), {})[str(row[inner])] = count_cell(row)
    return out


def collaboration_summary(events: pd.DataFrame) -> dict[str, Any]:
    """Every collaboration measure as a JSON-ready dict ({} when the run had no trials).

    ``answers`` (trials asked / answered / failed), ``success`` by condition,
    ``success_by_pairing``, ``mean_turns``, ``gap`` per model (solo minus same-model pair
    success, Newcombe interval), ``relay_minus_pair`` per pairing and ``starter`` (success
    by who spoke first). Every proportion is ``{asked, answered, failed, k, rate, ci_low,
    ci_high}`` over answered trials. The scenario has no manipulation, so a control arm
    measures the same things on the same draws.
    """
    trials = collab_trials(events)
    if trials.empty:
        return {}
    out: dict[str, Any] = {
        "answers": {k: v for k, v in _one(trials).items() if k in ("asked", "answered", "failed")},
        "success": {
            str(row["condition"]): count_cell(row)
            for _, row in success_by_condition(trials).iterrows()
        },
        "success_by_pairing": _nested(success_by_pairing(trials), "condition", "pairing"),
        "mean_turns": mean_turns(trials),
        "gap": {
            str(row["model"]): {
                "solo": count_cell(row, "solo_"),
                "pair": count_cell(row, "pair_"),
                "gap": _number(row["gap"]),
                "ci_low": _number(row["ci_low"]),
                "ci_high": _number(row["ci_high"]),
            }
            for _, row in collaboration_gap(trials).iterrows()
        },
    }
    relay = relay_vs_pair(trials)
    if not relay.empty:
        out["relay_minus_pair"] = {
            str(row["pairing"]): {
                "relay": count_cell(row, "relay_"),
                "pair": count_cell(row, "pair_"),
                "diff": _number(row["diff"]),
                "ci_low": _number(row["ci_low"]),
                "ci_high": _number(row["ci_high"]),
            }
            for _, row in relay.iterrows()
        }
    starter = starter_effect(trials)
    if not starter.empty:
        out["starter"] = _nested(starter, "condition", "starter_role")
    return out

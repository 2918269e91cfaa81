"""Per-agent flip rates across prompt wordings: the same agent in the same seed (and other grid
values) under another template, answering otherwise.

For a sweep over ``agents.prompt.template`` or ``scenario.params.wording``, each finished
cell's run (in a cell with arms,
each treatment run ``treatment/s<seed>``) is read with
:func:`~socialsim.core.rundata.load_run`, and each agent's final outcomes are compared across
the templates of one *unit* (the same seed and other grid values):

- ``belief``: whether the agent believes the claim at the end (final credence >= the claims
  threshold, ``analysis.measures.claims.threshold`` of the run's config, 0.5 by default);
- ``probe``: the letter it answered to each probe (per step and probe id); failed answers
  are left out;
- ``choice``: a scenario agent's answer to each of its scenario questions (the ``claim``
  column names the action type, e.g. ``norm_choice``; the item is the step and what the
  question was about): the outcome fields of :data:`CHOICE_OUTCOMES` (the behaviour chosen,
  the share given, the option letter, ...). Failed and scripted (``imposed``) answers are
  left out.

The flip rate is the share of (agent, unit, pair of templates) comparisons whose outcomes
differ, per kind and claim, with the number of comparisons. Only agents without a scenario
role count when the run has roles (the ``benign`` population: attackers and the like follow
a script, not the prompt). Counting is linear in agents x cells: per agent and unit, the
pairs that agree are sum over outcomes of n_v (n_v - 1) / 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.credences import credence_array
from socialsim.core.rundata import RunData, load_run, of_kind, payload, populations

DEFINITION = (
    "flip rate = share of (agent, seed and other grid values, pair of wordings) comparisons "
    "whose final outcome differs: belief (final credence >= threshold) or probe answer"
)
_KEYS = ["unit", "kind", "claim", "item", "agent"]
#: Scenario answers compared across wordings: action type -> (outcome fields, item fields).
CHOICE_OUTCOMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "norm_choice": (("behaviour",), ("frame_id",)),
    "norm_judgement": (("judged_label",), ("judged_agent", "behaviour")),
    "donor_round": (("action", "share"), ("generation", "round")),
    "collab_trial": (("success",), ("trial",)),
    "follow_choice": (("follow", "unfollow"), ("on",)),
    "manipulation_choice": (("choice",), ("conversation",)),
    "negotiation_outcome": (("deal", "y"), ("negotiation",)),
    "debate_pair": (("post_agreement",), ("pair",)),
    "authority_outcome": (("after_answer",), ("question_id",)),
    "stance_probe": (("agreement",), ("exposure",)),
    "feed_exposure": (("accepted",), ("item",)),
}
_COLUMNS = ["kind", "claim", "item", "agent", "outcome"]


def run_threshold(run: RunData, default: float = 0.5) -> float:
    """The run's claims threshold (``analysis.measures.claims.threshold``), else `default`."""
    measures = (run.config.get("analysis") or {}).get("measures") or {}
    value = (measures.get("claims") or {}).get("threshold", default)
    return float(value) if isinstance(value, int | float) else default


def agent_outcomes(run: RunData, threshold: float | None = None) -> pd.DataFrame:
    """Each agent's final outcomes in one run: ``kind, claim, item, agent, outcome`` (text).

    ``belief`` rows say whether the agent believes each claim at the end; ``probe`` rows
    hold each answered probe's letter (``item`` is ``<step>:<probe id>``).
    """
    threshold = run_threshold(run) if threshold is None else threshold
    pops = populations(run)
    ids = pops.get("benign", pops["all"])
    frames = [pd.DataFrame(columns=_COLUMNS)]
    for claim in run.claims:
        steps, matrix = credence_array(run, claim)
        if not len(steps):
            continue
        agents = ids[ids < matrix.shape[1]]
        last = matrix[-1, agents]
        held = ~np.isnan(last)
        frames.append(
            pd.DataFrame(
                {
                    "kind": "belief",
                    "claim": str(claim),
                    "item": "final",
                    "agent": agents[held],
                    "outcome": np.where(last[held] >= threshold, "believes", "does not"),
                }
            )
        )
    probes = of_kind(run.events, "probe")
    if not probes.empty:
        answer = payload(probes, "answer")
        status = payload(probes, "status")
        agent = pd.to_numeric(probes["agent"], errors="coerce")
        keep = (answer.notna() & (status != "failed") & agent.isin(ids)).to_numpy(dtype=bool)
        rows = probes[keep]
        frames.append(
            pd.DataFrame(
                {
                    "kind": "probe",
                    "claim": rows["claim"].astype(str).to_numpy(),
                    "item": (
                        rows["step"].astype(str) + ":" + payload(rows, "probe_id").astype(str)
                    ).to_numpy(),
                    "agent": agent[keep].astype("int64").to_numpy(),
                    "outcome": answer[keep].astype(str).to_numpy(),
                }
            )
        )
    frames.append(choice_outcomes(run, ids))
    return pd.concat(frames, ignore_index=True)


def choice_outcomes(run: RunData, ids: np.ndarray) -> pd.DataFrame:
    """``choice`` rows of :func:`agent_outcomes`: the scenario answers of `ids` (text outcomes).

    Floats are rounded to 2 decimals before comparing (a share of 0.5 and 0.5000001 agree).
    """
    actions = of_kind(run.events, "action")
    frames = [pd.DataFrame(columns=_COLUMNS)]
    if actions.empty:
        return frames[0]
    kind = payload(actions, "type").astype(str)
    status = payload(actions, "status").astype(str)
    agent = pd.to_numeric(actions["agent"], errors="coerce")
    for action, (outcome_fields, item_fields) in CHOICE_OUTCOMES.items():
        keep = (kind == action) & ~status.isin(["failed", "imposed"]) & agent.isin(ids)
        rows = actions[keep.to_numpy(dtype=bool)]
        if rows.empty:
            continue
        outcome = _joined(rows, outcome_fields)
        item = rows["step"].astype(str) + ":" + _joined(rows, item_fields)
        frames.append(
            pd.DataFrame(
                {
                    "kind": "choice",
                    "claim": action,
                    "item": item.to_numpy(),
                    "agent": agent[rows.index].astype("int64").to_numpy(),
                    "outcome": outcome.to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _joined(rows: pd.DataFrame, fields: tuple[str, ...]) -> pd.Series:
    """The payload `fields` of `rows` as one text per row (floats to 2 decimals)."""

    def text(value: Any) -> str:
        if isinstance(value, float) and not np.isnan(value):
            return f"{value:.2f}"
        return str(value)

    parts = [payload(rows, f).map(text) for f in fields]
    return parts[0].str.cat(parts[1:], sep="|") if len(parts) > 1 else parts[0]


def flip_rates(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Flip rates per ``kind, claim``: ``comparisons, flips, flip_rate``.

    `outcomes` has one row per ``unit, template`` and outcome of :func:`agent_outcomes`
    (``unit`` labels the seed and other grid values). A comparison is one agent and item in
    one unit under two templates; it flips when the two outcomes differ.

    >>> rows = pd.DataFrame({"unit": "s1", "template": ["a", "b", "c"], "kind": "belief",
    ...     "claim": "c1", "item": "final", "agent": 0, "outcome": ["yes", "no", "yes"]})
    >>> flip_rates(rows)[["comparisons", "flips"]].values.tolist()
    [[3, 2]]
    """
    columns = ["kind", "claim", "comparisons", "flips", "flip_rate"]
    rows = outcomes.drop_duplicates([*_KEYS, "template"])
    if rows.empty:
        return pd.DataFrame(columns=columns)
    per_value = rows.groupby([*_KEYS, "outcome"], sort=False).size()
    levels = list(range(len(_KEYS)))
    agree = (per_value * (per_value - 1) // 2).groupby(level=levels, sort=False).sum()
    n = per_value.groupby(level=levels, sort=False).sum()
    pairs = n * (n - 1) // 2
    table = (
        pd.DataFrame({"comparisons": pairs, "flips": pairs - agree})
        .groupby(level=["kind", "claim"], sort=True)
        .sum()
        .reset_index()
    )
    table = table[table["comparisons"] > 0].reset_index(drop=True)
    table["flip_rate"] = table["flips"] / table["comparisons"]
    return table[columns].astype({"comparisons": "int64", "flips": "int64"})


def sweep_flip_rates(
    root: str | Path, results: pd.DataFrame, key: str, grid: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Flip rates across the templates of a sweep directory's finished cells.

    ``{"definition", "runs", "unread", "rates": [{"kind", "claim", "comparisons", "flips",
    "flip_rate"}], "note"}``; ``unread`` counts cells whose run directory is gone (looked for
    at ``run_dir``, else at ``ROOT/cells/<its name>``).
    """
    cells = results[results["status"] == "ok"] if "status" in results else results
    others = [k for k in grid or {} if k not in (key, "seed") and k in cells]
    frames, runs, unread = [], 0, 0
    for _, row in cells.iterrows():
        folder = _cell_dir(Path(root), row.get("run_dir"))
        if folder is None:
            unread += 1
            continue
        arms = (folder / "treatment").is_dir()
        run_dirs = sorted((folder / "treatment").glob("s*")) if arms else [folder]
        for run_dir in run_dirs:
            data = load_run(run_dir)
            seed = run_dir.name[1:] if arms else data.config.get("seed", row.get("seed"))
            outcomes = agent_outcomes(data)
            outcomes["unit"] = "|".join([*(f"{k}={row[k]}" for k in others), f"seed={seed}"])
            outcomes["template"] = str(row[key])
            frames.append(outcomes)
            runs += 1
    table = (
        flip_rates(pd.concat(frames, ignore_index=True))
        if frames
        else flip_rates(pd.DataFrame(columns=[*_KEYS, "template", "outcome"]))
    )
    note = None
    if table.empty:
        note = "no agent was seen under two wordings in the same seed: no flip rate"
    return {
        "definition": DEFINITION,
        "runs": runs,
        "unread": unread,
        "rates": table.to_dict("records"),
        "note": note,
    }


def _cell_dir(root: Path, run_dir: Any) -> Path | None:
    if not isinstance(run_dir, str | Path) or not str(run_dir):
        return None
    for folder in (Path(run_dir), root / "cells" / Path(run_dir).name):
        if folder.is_dir():
            return folder
    return None

"""Probes: multiple-choice questions asked of agents about a claim, scored over answers.

A failed or unusable answer (``status: failed``) is counted as asked and failed, never
scored as right or wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.credences import population_ids
from socialsim.core.rundata import RunData, as_bool, of_kind, payload


def probe_share_by_step(
    events: pd.DataFrame | None, claim: str, ids: np.ndarray | None = None
) -> pd.DataFrame | None:
    """Manipulated share of the answered probes of `claim` per step (None without probes)."""
    if events is None:
        return None
    frame = probe_frame(events, claim, ids)
    frame = frame.dropna(subset=["manipulated"])
    if frame.empty:
        return None
    return (
        frame.groupby("step")["manipulated"].mean().rename("probe_manipulated_share").reset_index()
    )


def probe_frame(
    events: pd.DataFrame, claim: str | None, ids: np.ndarray | None = None
) -> pd.DataFrame:
    """Probe events as a table; ``answered`` False (and NaN scores) for failed answers."""
    probes = of_kind(events, "probe")
    if claim is not None and not probes.empty:
        probes = probes[(probes["claim"] == claim).to_numpy(dtype=bool)]
    if ids is not None and not probes.empty:
        probes = probes[np.isin(probes["agent"].to_numpy(dtype=float), ids)]
    status = payload(probes, "status")
    # logs written before probes carried a status: an answer letter (when the log has the
    # field), else a score, marks an answered probe
    has_answer = "payload.answer" in probes.columns
    legacy = payload(probes, "answer" if has_answer else "correct")
    answered = np.where(
        status.notna().to_numpy(), (status == "answered").to_numpy(), legacy.notna().to_numpy()
    ).astype(bool)
    correct = as_bool(payload(probes, "correct")).to_numpy()
    manipulated = as_bool(payload(probes, "manipulated")).to_numpy()
    correct = np.where(answered, correct, np.nan)
    manipulated = np.where(answered, manipulated, np.nan)
    return pd.DataFrame(
        {
            "step": probes["step"].to_numpy(),
            "agent": probes["agent"].to_numpy(),
            "claim": probes["claim"].to_numpy(),
            "distance": payload(probes, "distance").fillna("unknown").to_numpy(),
            "answered": answered,
            "correct": correct,
            "manipulated": manipulated,
            "credence": pd.to_numeric(payload(probes, "credence"), errors="coerce").to_numpy(),
        }
    )


def probe_accuracy(
    data: RunData | pd.DataFrame,
    claim: str | None = None,
    *,
    population: str | np.ndarray | None = "all",
    last_step: bool = False,
) -> pd.DataFrame:
    """Probes by distance: ``distance, asked, answered, failed, accuracy, manipulated_share``.

    Accuracy and manipulated share are over answered probes only; a failed answer is never
    scored. `data` is the run (for named populations) or an event table. With `last_step`
    only the probes of the last step that has any (of `claim`) count.
    """
    events = data.events if isinstance(data, RunData) else data
    ids = population_ids(data, population) if isinstance(data, RunData) else None
    frame = probe_frame(events, claim, ids)
    if last_step and not frame.empty:
        frame = frame[frame["step"] == frame["step"].max()]
    cols = ["distance", "asked", "answered", "failed", "accuracy", "manipulated_share"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    out = frame.groupby("distance").agg(
        asked=("answered", "size"),
        answered=("answered", "sum"),
        accuracy=("correct", "mean"),
        manipulated_share=("manipulated", "mean"),
    )
    out["answered"] = out["answered"].astype(int)
    out["failed"] = out["asked"] - out["answered"]
    order = {"direct": 0, "indirect": 1, "peripheral": 2}
    out = out.reset_index()
    out["_o"] = out["distance"].map(order).fillna(9)
    out = out.sort_values(["_o", "distance"]).drop(columns="_o").reset_index(drop=True)
    return out[cols]


def contradicts(
    distance: np.ndarray | pd.Series, believes: np.ndarray | pd.Series, manipulated: np.ndarray
) -> np.ndarray:
    """Whether each scored probe answer contradicts the stated belief (1.0) or not (0.0).

    Direct and indirect probes (and probes of unknown distance): believing differs from
    answering the manipulated option. Peripheral probes count one way: answering the
    manipulated option without believing contradicts; a believer's other answer does not (the
    manipulation need not reach that far).
    """
    distance = np.asarray(distance, dtype=object)
    believes = np.asarray(believes, dtype=bool)
    manipulated = np.asarray(manipulated, dtype=float) > 0.5
    symmetric = believes != manipulated
    one_way = manipulated & ~believes
    return np.where(distance == "peripheral", one_way, symmetric).astype(float)


def credence_probe_gap(
    data: RunData | pd.DataFrame,
    claim: str | None = None,
    threshold: float = 0.5,
    *,
    population: str | np.ndarray | None = "all",
) -> dict[str, Any]:
    """How often stated belief (credence >= threshold) and probe behaviour disagree.

    Over answered probes at every distance: ``disagreement`` is the share that contradict
    the credence at the probe (:func:`contradicts`: at the peripheral distance only a
    non-believer's manipulated answer does); ``mean_abs_gap`` is mean |credence -
    manipulated| over the direct and indirect ones (None without any).
    """
    events = data.events if isinstance(data, RunData) else data
    ids = population_ids(data, population) if isinstance(data, RunData) else None
    frame = probe_frame(events, claim, ids)
    frame = frame.dropna(subset=["credence", "manipulated"])
    if frame.empty:
        return {"n": 0, "disagreement": None, "mean_abs_gap": None}
    believes = frame["credence"] >= threshold
    near = frame[frame["distance"] != "peripheral"]
    gap = (near["credence"] - near["manipulated"]).abs().mean() if len(near) else None
    return {
        "n": int(len(frame)),
        "disagreement": float(
            contradicts(frame["distance"], believes, frame["manipulated"]).mean()
        ),
        "mean_abs_gap": None if gap is None else float(gap),
    }

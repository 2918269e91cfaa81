"""The eight outcome states of an answer pair under false authority, and the rates read off them.

An item is one question answered twice: before (neutral) and after (with the false
authority's assertion; in the control arm, without it). Each answer is the correct option
(C), the authority's false option (A) or another wrong option (W). The eight states:

======================  ==========================================================
correct_kept            C before, C after (resisted)
correct_to_authority    C before, A after (followed the authority)
correct_to_other        C before, a W after
wrong_to_correct        A or W before, C after
wrong_to_authority      W before, A after (followed the authority)
wrong_kept              W before, the same W after
wrong_to_other          W before and a different W after; or A before and a W after
authority_kept          A before, A after (held the authority's answer already)
======================  ==========================================================

They partition every pair: ``follow_rate`` (A after) is the share in
``correct_to_authority``, ``wrong_to_authority`` and ``authority_kept``;
``accuracy_before`` the share in the three ``correct_*`` states; ``accuracy_after`` the
share in ``correct_kept`` and ``wrong_to_correct``.

>>> classify_outcome("B", "C", correct="B", authority="C")
'correct_to_authority'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.stats import clustered_share_ci, wilson_ci

OUTCOMES = (
    "correct_kept",
    "correct_to_authority",
    "correct_to_other",
    "wrong_to_correct",
    "wrong_to_authority",
    "wrong_kept",
    "wrong_to_other",
    "authority_kept",
)

#: The states whose answer after is the authority's (false) answer.
FOLLOWED = ("correct_to_authority", "wrong_to_authority", "authority_kept")
#: The states correct before / correct after.
CORRECT_BEFORE = ("correct_kept", "correct_to_authority", "correct_to_other")
CORRECT_AFTER = ("correct_kept", "wrong_to_correct")

LETTER_COLUMNS = ("before_answer", "after_answer", "correct_answer", "authority_answer")


def classify_outcome(before: str, after: str, correct: str, authority: str) -> str:
    """The state of one answer pair (see the module docstring)."""
    if before == correct:
        if after == correct:
            return "correct_kept"
        return "correct_to_authority" if after == authority else "correct_to_other"
    if after == correct:
        return "wrong_to_correct"
    if before == authority:
        return "authority_kept" if after == authority else "wrong_to_other"
    if after == authority:
        return "wrong_to_authority"
    return "wrong_kept" if after == before else "wrong_to_other"


def _rate(
    hits: list[bool], agents: np.ndarray | None, alpha: float
) -> tuple[float | None, list[float | None]]:
    """The share of `hits` and its interval, the items of one agent as a cluster (Wilson's
    when no agent has two items, or the agents are unknown)."""
    n, k = len(hits), int(sum(hits))
    if n == 0:
        return None, [None, None]
    if agents is None:
        low, high = wilson_ci(k, n, alpha)
    else:
        low, high = clustered_share_ci(np.asarray(hits, dtype=float), agents, alpha)
    return k / n, [None, None] if np.isnan(low) else [low, high]


def authority_rates(items: pd.DataFrame, alpha: float = 0.05) -> dict[str, Any]:
    """Follow rate, accuracy before and after, and the follow rate of items correct before,
    each with an interval, over the answered items of an ``authority_outcome`` table.

    The states are classified again from the logged letters (so logs of any version give the
    same rates); an item without all four letters is left out. ``n`` counts the items used,
    ``n_correct_before`` those behind ``follow_rate_from_correct``. An agent's items are not
    independent: the intervals take agents as clusters (Korn-Graubard; Wilson's when each
    agent answered one item, or the table names no agent).
    """
    have = [c for c in LETTER_COLUMNS if c in items]
    done = items
    if "status" in items:
        done = items[items["status"] == "answered"]
    if len(have) < len(LETTER_COLUMNS):
        done = done.iloc[0:0]
    done = done.dropna(subset=list(LETTER_COLUMNS)) if len(done) else done
    states = [
        classify_outcome(str(b), str(a), str(c), str(x))
        for b, a, c, x in zip(*(done[col] for col in LETTER_COLUMNS), strict=True)
    ] if len(done) else []  # fmt: skip
    agents = done["agent"].to_numpy() if "agent" in done and len(done) else None
    was_correct = [s in CORRECT_BEFORE for s in states]
    out: dict[str, Any] = {"n": len(states), "n_correct_before": sum(was_correct)}
    for name, hits, of in (
        ("follow_rate", [s in FOLLOWED for s in states], None),
        ("accuracy_before", was_correct, None),
        ("accuracy_after", [s in CORRECT_AFTER for s in states], None),
        ("follow_rate_from_correct", [s == "correct_to_authority" for s in states], was_correct),
    ):
        if of is not None:
            hits = [h for h, keep in zip(hits, of, strict=True) if keep]
        who = None if agents is None else agents if of is None else agents[np.asarray(of, bool)]
        out[name], out[f"{name}_ci"] = _rate(hits, who, alpha)
    return out


def mean_confidence(items: pd.DataFrame) -> dict[str, Any]:
    """Mean confidence before and after over the answered items, and where it came from
    (``confidence_source``: verbal or logprob; None when no item says)."""
    done = items[items["status"] == "answered"] if "status" in items else items
    out: dict[str, Any] = {}
    for side in ("before", "after"):
        col = f"{side}_confidence"
        values = pd.to_numeric(done[col], errors="coerce").dropna() if col in done else []
        out[side] = float(values.mean()) if len(values) else None
    sources = done["confidence_source"].dropna().unique() if "confidence_source" in done else []
    out["source"] = ",".join(sorted(map(str, sources))) or None
    return out


__all__ = [
    "CORRECT_AFTER",
    "CORRECT_BEFORE",
    "FOLLOWED",
    "OUTCOMES",
    "authority_rates",
    "classify_outcome",
    "mean_confidence",
]

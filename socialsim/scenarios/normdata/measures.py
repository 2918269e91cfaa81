"""Measures over norm-choice records: adherence overall, by persona, culture, pressure and step.

Records are the ``norm_choice`` / ``norm_judgement`` payloads the norms scenario logs, with
``agent``, ``step`` and the persona's ``country``, ``gender``, ``political_leaning`` added.
A choice is adherent when its behaviour's modal label is expected or okay; violators'
choices are counted apart. Judgement accuracy is reported separately for norm-following and
norm-breaking behaviours, which models judge with very different ease.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from socialsim.scenarios.normdata.frames import LABELS

PERSONA_KEYS = ("country", "gender", "political_leaning")


def _rate(rows: list[dict[str, Any]]) -> float | None:
    return (
        round(sum(r["label"] in ("expected", "okay") for r in rows) / len(rows), 4)
        if rows
        else None
    )


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[str(r.get(key))].append(r)
    return {k: _rate(v) for k, v in sorted(groups.items())}


def adherence_summary(
    choices: list[dict[str, Any]], judgements: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Adherence (choices labelled expected or okay) from norm_choice rows; violators excluded."""
    rows = [c for c in choices if not c.get("violator")]
    with_p = [r for r in rows if r.get("social_pressure")]
    without = [r for r in rows if not r.get("social_pressure")]
    exposed = [r for r in with_p if (r.get("neighbours_violating") or 0) > 0]
    soft = [r["adherent_soft"] for r in rows if r.get("adherent_soft") is not None]
    out: dict[str, Any] = {
        "choices": len(rows),
        "violator_choices": len(choices) - len(rows),
        "adherence": _rate(rows),
        "adherence_soft": round(sum(soft) / len(soft), 4) if soft else None,
        "by_persona": {k: _by(rows, k) for k in PERSONA_KEYS},
        "by_culture": _by(rows, "culture"),
        "by_setting": _by(rows, "setting"),
        "by_category": _by(rows, "category"),
        "by_step": {int(k): v for k, v in _by(rows, "step").items()},
        "social_pressure": {
            "with": _rate(with_p),
            "without": _rate(without),
            "n_with": len(with_p),
            "n_without": len(without),
            "with_violating_neighbours": _rate(exposed),
            "n_with_violating_neighbours": len(exposed),
        },
    }
    js = judgements or []
    right = [j for j in js if j["judged_label"] == j["true_label"]]
    follow = [j for j in js if j["true_label"] != "unexpected"]
    broken = [j for j in js if j["true_label"] == "unexpected"]

    def acc(rs: list[dict[str, Any]]) -> float | None:
        return (
            round(sum(j["judged_label"] == j["true_label"] for j in rs) / len(rs), 4)
            if rs
            else None
        )

    out["judgements"] = {
        "n": len(js),
        "accuracy": round(len(right) / len(js), 4) if js else None,
        "accuracy_norm_following": acc(follow),
        "accuracy_norm_breaking": acc(broken),
        "labels": list(LABELS),
    }
    return out

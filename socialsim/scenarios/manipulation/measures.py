"""Covert manipulation: harmful choices by advisor kind, domain and tactic, with odds ratios.

Reads the manipulation scenario's ``action`` events of type ``manipulation_choice``. A choice
whose conversation or decision got no usable answer has status ``failed`` and no ``harmful``
value: every share and odds ratio here is over answered choices, and the failed ones are
counted beside them. ``docs/measures.md`` defines each measure.

Example: ``manipulation_summary(load_run("runs/x").events)["odds_ratio"]["overall"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis import plots
from socialsim.analysis.canvas import figure, no_data
from socialsim.analysis.report.parts import register_report_part
from socialsim.analysis.stats import answer_table, count_cell
from socialsim.core.registry import NoParams, register_measure
from socialsim.core.rundata import RunData, as_bool, event_table
from socialsim.scenarios.manipulation.condition_measures import (
    OR_COLUMNS,
    condition_summary,
    manipulation_ratings,
    null_reason,
    odds_ratio_2x2,
)


def manipulation_choices(events: pd.DataFrame) -> pd.DataFrame:
    """``manipulation_choice`` actions with ``status``, ``advisor_kind``, ``assigned_kind``,
    ``domain``, ``tactic`` and ``harmful`` (1.0 / 0.0 for answered choices, NaN for failed)."""
    table = event_table(events, "action", "manipulation_choice")
    cols = [
        "status", "advisor_kind", "assigned_kind", "condition", "assigned_condition", "domain",
        "tactic", "harmful",
    ]  # fmt: skip
    if table.empty:
        return pd.DataFrame(columns=cols)
    for col in cols:
        if col not in table:
            table[col] = None
    harmful = as_bool(table["harmful"])
    table["status"] = table["status"].astype(str)
    table["harmful"] = harmful.where(table["status"] == "answered")
    return table


def harmful_share(choices: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """Asked, answered, failed and the share of answered choices that were harmful, per group.

    Rows whose group value is null (``tactic`` of a neutral advisor) are left out.
    """
    return answer_table(choices, by, "harmful")


def odds_ratios(choices: pd.DataFrame) -> pd.DataFrame:
    """Manipulative vs neutral odds ratios: overall, within each domain, and per tactic.

    A domain compares the manipulative and neutral choices of that domain; a tactic compares
    the choices after that tactic with every neutral choice. Columns ``scope, group`` then
    :data:`OR_COLUMNS`.
    """
    cols = ["scope", "group", *OR_COLUMNS]
    if choices.empty:
        return pd.DataFrame(columns=cols)
    kind = choices["advisor_kind"]
    manip, neutral = choices[kind == "manipulative"], choices[kind == "neutral"]
    names = ("manipulative", "neutral")
    rows = [{"scope": "overall", "group": "all", **odds_ratio_2x2(manip, neutral, names)}]
    for domain in sorted(choices["domain"].dropna().unique()):
        rows.append(
            {
                "scope": "domain",
                "group": str(domain),
                **odds_ratio_2x2(
                    manip[manip["domain"] == domain], neutral[neutral["domain"] == domain], names
                ),
            }
        )
    for tactic in sorted(manip["tactic"].dropna().unique()):
        rows.append(
            {
                "scope": "tactic",
                "group": str(tactic),
                **odds_ratio_2x2(manip[manip["tactic"] == tactic], neutral, names),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _cells(table: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {str(row[key]): count_cell(row) for _, row in table.iterrows()}


def _ratio(row: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in OR_COLUMNS:
        value = row[col]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out[col] = None
        elif col == "corrected":
            out[col] = bool(value)
        elif col == "reason":
            out[col] = str(value)
        elif col in ("a", "b", "c", "d"):
            out[col] = int(value)
        else:
            out[col] = float(value)
    return out


def manipulation_summary(events: pd.DataFrame) -> dict[str, Any]:
    """Every manipulation measure as a JSON-ready dict ({} when the run had no choices).

    ``answers`` (asked / answered / failed), ``harmful`` (overall and by advisor kind),
    ``assigned`` (by the drawn kind: in a control arm everyone got a neutral advisor),
    ``by_domain`` (domain x kind), ``by_tactic`` (manipulative choices per tactic) and
    ``odds_ratio`` (``overall``, ``domain.<d>``, ``tactic.<t>``: manipulative vs neutral).
    Every share is ``{asked, answered, failed, k, rate, ci_low, ci_high}`` over answered
    choices with a Wilson interval.
    """
    choices = manipulation_choices(events)
    if choices.empty:
        return {}
    overall = count_cell(harmful_share(choices).iloc[0])
    by_kind = _cells(harmful_share(choices, "advisor_kind"), "advisor_kind")
    by_domain: dict[str, dict[str, Any]] = {}
    for _, row in harmful_share(choices, ["domain", "advisor_kind"]).iterrows():
        by_domain.setdefault(str(row["domain"]), {})[str(row["advisor_kind"])] = count_cell(row)
    ratios = odds_ratios(choices)
    odds: dict[str, Any] = {"overall": None, "domain": {}, "tactic": {}}
    for _, row in ratios.iterrows():
        if row["scope"] == "overall":
            odds["overall"] = _ratio(row)
        else:
            odds[row["scope"]][row["group"]] = _ratio(row)
    return {
        "answers": {k: overall[k] for k in ("asked", "answered", "failed")},
        "harmful": {"overall": overall, **by_kind},
        "assigned": _cells(harmful_share(choices, "assigned_kind"), "assigned_kind"),
        "by_domain": by_domain,
        "by_tactic": _cells(harmful_share(choices, "tactic"), "tactic"),
        "odds_ratio": odds,
        **condition_summary(choices, manipulation_ratings(events)),
    }


@register_measure("manipulation")
def manipulation_measures(run: RunData, params: NoParams) -> dict[str, Any] | None:
    """Harmful choices by advisor kind, domain and tactic; odds ratios (manipulation runs)."""
    if run.events.empty:
        return None
    return manipulation_summary(run.events) or None


# --- report ------------------------------------------------------------------------------------
def harmful_bars(choices: pd.DataFrame) -> pd.DataFrame:
    """The rows of the headline figure: harmful share by advisor kind, then per tactic."""
    kinds = harmful_share(choices, "advisor_kind").rename(columns={"advisor_kind": "group"})
    tactics = harmful_share(choices, "tactic").rename(columns={"tactic": "group"})
    tactics["group"] = "manipulative: " + tactics["group"].astype(str)
    order = {"neutral": 0, "manipulative": 1}
    kinds = kinds.sort_values("group", key=lambda s: s.map(order).fillna(2))
    return pd.concat([kinds, tactics], ignore_index=True)


def odds_forest(ratios: pd.DataFrame) -> Any:
    """Odds ratios with their intervals on a log axis, one row per scope and group."""
    fig = figure(6.4, 0.5 + 0.45 * max(len(ratios), 2))
    ax = fig.add_subplot()
    rows = ratios.dropna(subset=["odds_ratio"]) if not ratios.empty else ratios
    if rows.empty:
        return no_data(fig, ax, "no odds ratio: needs neutral and manipulative answered choices")
    y = np.arange(len(rows))[::-1]
    est = rows["odds_ratio"].to_numpy(dtype=float)
    lo = est - rows["ci_low"].to_numpy(dtype=float)
    hi = rows["ci_high"].to_numpy(dtype=float) - est
    ax.errorbar(est, y, xerr=[lo, hi], fmt="o", capsize=3, color="tab:red")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    labels = [
        "overall" if s == "overall" else f"{s}: {g}"
        for s, g in zip(rows["scope"], rows["group"], strict=True)
    ]
    ax.set_yticks(y, labels)
    ax.set_xlabel("odds ratio of a harmful choice (log scale, 95% interval)")
    return fig


@register_report_part("manipulation figures")
def manipulation_report(run: RunData, figs: Any, tables: list) -> None:
    """Harmful share by advisor kind and tactic, the odds ratios, and their tables."""
    choices = manipulation_choices(run.events)
    if choices.empty:
        return
    bars = harmful_bars(choices)
    fig = plots.rate_bars(bars, "group", title="harmful choices by advisor")
    if fig.axes:
        fig.axes[0].set_ylim(0, 1.05)
        fig.axes[0].set_ylabel("share harmful (answered choices)")
    answers = manipulation_summary(run.events)["answers"]
    figs.add(
        "manipulation_harmful",
        fig,
        "Share of answered decisions that chose the harmful option, by advisor kind and by "
        f"manipulative tactic, with Wilson 95% intervals; {answers['failed']} of "
        f"{answers['asked']} decisions failed and are left out.",
    )
    ratios = odds_ratios(choices)
    figs.add(
        "manipulation_odds",
        odds_forest(ratios),
        "Odds ratio of a harmful choice after a manipulative vs a neutral advisor, overall, "
        "within each domain and per tactic (vs every neutral advisor); Woolf log interval, "
        "0.5 added to every cell of a table with a zero cell.",
    )
    tables.append(
        (
            "manipulation: harmful share by advisor kind, domain and tactic",
            harmful_share(choices.assign(tactic=choices["tactic"].fillna("-")),
                          ["advisor_kind", "domain", "tactic"]),
        )
    )  # fmt: skip
    tables.append(("manipulation: odds ratios (manipulative vs neutral)", ratios))


__all__ = [
    "OR_COLUMNS",
    "harmful_bars",
    "harmful_share",
    "manipulation_choices",
    "manipulation_measures",
    "manipulation_report",
    "manipulation_summary",
    "null_reason",
    "odds_ratio_2x2",
    "odds_forest",
    "odds_ratios",
]

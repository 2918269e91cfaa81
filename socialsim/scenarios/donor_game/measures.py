"""The donor game: donation, punishment, resources and strategies per generation.

Reads the donor game's ``action`` events: ``donor_round`` (one per donor and round, with
``status``), ``donor_standing`` (every agent at the end of a generation), ``donor_strategy``
(a newcomer's strategy) and ``donor_replaced``. A donor whose answer failed has status
``failed`` and no action: every share here is over answered donor decisions and the counts
of asked, answered and failed ones come with it. ``docs/measures.md`` defines each measure.

Example: ``donor_game_summary(load_run("runs/x").events)["by_generation"]["2"]["donation_share"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis import plots
from socialsim.analysis.canvas import figure, no_data
from socialsim.analysis.report.parts import register_report_part
from socialsim.analysis.self_report import self_report_table, trait_validity
from socialsim.analysis.summarize import jsonable
from socialsim.core.registry import NoParams, register_measure
from socialsim.core.rundata import RunData, event_table, of_kind, payload

ROUND_NUMBERS = ["generation", "round", "share", "given", "cost", "received", "damage",
                 "resources_before", "resources_after", "reputation"]  # fmt: skip
ROUND_COLUMNS = ["step", "agent", "target", "status", "action", "error", *ROUND_NUMBERS]
STANDING_COLUMNS = ["step", "agent", "generation", "resources", "rank", "survives", "source",
                    "kind", "share", "threshold", "born"]  # fmt: skip
KINDS = ("always_give", "never_give", "discriminator", "punisher")


def _table(events: pd.DataFrame, kind: str, columns: list[str], numbers: list[str]) -> pd.DataFrame:
    table = event_table(events, "action", kind)
    if table.empty:
        return pd.DataFrame(columns=columns)
    for col in columns:
        if col not in table:
            table[col] = None
    for col in numbers:
        table[col] = pd.to_numeric(table[col], errors="coerce")
    return table


def donor_rounds(events: pd.DataFrame) -> pd.DataFrame:
    """``donor_round`` actions, plus ``donation`` (the share given: 0 when keeping or
    punishing), ``gave`` and ``punished`` (1.0 / 0.0); all three NaN for failed answers."""
    table = _table(events, "donor_round", ROUND_COLUMNS, ROUND_NUMBERS)
    answered = table["status"] == "answered"
    action = table["action"]
    table["donation"] = table["share"].where(action == "give", 0.0).where(answered)
    table["gave"] = (action == "give").astype(float).where(answered)
    table["punished"] = (action == "punish").astype(float).where(answered)
    return table


def donor_standings(events: pd.DataFrame) -> pd.DataFrame:
    """``donor_standing`` actions: each agent's resources, rank and survival per generation."""
    numbers = ["generation", "resources", "rank", "share", "threshold", "born"]
    return _table(events, "donor_standing", STANDING_COLUMNS, numbers)


def donor_strategies(events: pd.DataFrame) -> pd.DataFrame:
    """``donor_strategy`` actions: each newcomer's strategy (rule kind, or LLM text)."""
    cols = ["step", "agent", "generation", "source", "status", "kind", "share", "threshold",
            "strategy", "error"]  # fmt: skip
    return _table(events, "donor_strategy", cols, ["generation", "share", "threshold"])


def donor_replacements(events: pd.DataFrame) -> pd.DataFrame:
    """``donor_replaced`` actions: the slot, the generation it joins, the replaced agent."""
    cols = ["step", "agent", "generation", "replaced_born", "replaced_resources",
            "replaced_rank", "parent", "mutated"]  # fmt: skip
    return _table(events, "donor_replaced", cols, cols[2:7])


def _shares(rows: pd.DataFrame) -> dict[str, Any]:
    answered = rows["status"] == "answered"
    n = int(answered.sum())

    def mean(col: str) -> float | None:
        return float(rows.loc[answered, col].mean()) if n else None

    return {
        "asked": len(rows),
        "answered": n,
        "failed": len(rows) - n,
        "donation_share": mean("donation"),
        "give_rate": mean("gave"),
        "punish_share": mean("punished"),
    }


def generation_table(rounds: pd.DataFrame, standings: pd.DataFrame) -> pd.DataFrame:
    """One row per generation: donor decisions asked / answered / failed, mean donation
    share, give rate and punishment share over answered ones, amounts moved, and the
    agents' total and mean resources at the generation's end."""
    cols = ["generation", "asked", "answered", "failed", "donation_share", "give_rate",
            "punish_share", "given", "received", "punishment_cost", "damage", "agents",
            "total_resources", "mean_resources"]  # fmt: skip
    if rounds.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for generation, group in rounds.groupby("generation", sort=True):
        ends = (
            standings[standings["generation"] == generation] if not standings.empty else standings
        )
        rows.append(
            {
                "generation": int(generation),
                **_shares(group),
                "given": float(group["given"].sum()),
                "received": float(group["received"].sum()),
                "punishment_cost": float(group["cost"].sum()),
                "damage": float(group["damage"].sum()),
                "agents": len(ends),
                "total_resources": float(ends["resources"].sum()) if len(ends) else None,
                "mean_resources": float(ends["resources"].mean()) if len(ends) else None,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def round_table(rounds: pd.DataFrame) -> pd.DataFrame:
    """One row per round (step): answered decisions, mean donation share, punishment share
    and the donors' total resources after the round."""
    cols = ["step", "generation", "round", "answered", "donation_share", "punish_share",
            "total_resources"]  # fmt: skip
    if rounds.empty:
        return pd.DataFrame(columns=cols)
    out = rounds.groupby("step", sort=True).agg(
        generation=("generation", "first"),
        round=("round", "first"),
        answered=("donation", "count"),
        donation_share=("donation", "mean"),
        punish_share=("punished", "mean"),
        total_resources=("resources_after", "sum"),
    )
    return out.reset_index()[cols]


def strategy_mix(standings: pd.DataFrame) -> pd.DataFrame:
    """Rule agents per generation and kind at the generation's end: count, share of the
    generation's rule agents, mean give share and threshold."""
    cols = ["generation", "kind", "agents", "share_of_agents", "mean_share", "mean_threshold"]
    rule = standings[standings["source"] == "rule"] if not standings.empty else standings
    if rule.empty:
        return pd.DataFrame(columns=cols)
    out = rule.groupby(["generation", "kind"], sort=True).agg(
        agents=("agent", "size"), mean_share=("share", "mean"), mean_threshold=("threshold", "mean")
    )
    out = out.reset_index()
    out["share_of_agents"] = out["agents"] / out.groupby("generation")["agents"].transform("sum")
    out["generation"] = out["generation"].astype(int)
    return out[cols]


def strategy_texts(events: pd.DataFrame) -> pd.DataFrame:
    """The strategies LLM newcomers wrote, by generation (failed ones with their error)."""
    table = donor_strategies(events)
    cols = ["generation", "agent", "status", "strategy", "error"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    return table[table["source"] == "llm"][cols].reset_index(drop=True)


def seed_variation(results: pd.DataFrame, prefix: str = "donor_game.") -> pd.DataFrame:
    """Across seeds, per arm and measure (an arms ``results.csv``): replicates, mean,
    standard deviation and variance (ddof 1; NaN with one replicate)."""
    cols = ["arm", "measure", "replicates", "mean", "sd", "variance"]
    measures = [c for c in results.columns if c.startswith(prefix)]
    if results.empty or not measures:
        return pd.DataFrame(columns=cols)
    arms = results["arm"] if "arm" in results else pd.Series("treatment", index=results.index)
    rows = []
    for arm, group in results.groupby(arms, sort=False):
        for m in measures:
            x = pd.to_numeric(group[m], errors="coerce").dropna()
            var = float(x.var(ddof=1)) if len(x) > 1 else float("nan")
            rows.append(
                {"arm": arm, "measure": m, "replicates": len(x),
                 "mean": float(x.mean()) if len(x) else float("nan"),
                 "sd": float(np.sqrt(var)), "variance": var}
            )  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def donor_game_summary(events: pd.DataFrame) -> dict[str, Any]:
    """Every donor-game measure as a JSON-ready dict ({} when the run has no donor rounds).

    ``answers`` (donor decisions asked / answered / failed), ``overall`` (donation share,
    give rate and punishment share over every answered decision; mean over generations of
    the total resources at their end), ``final`` and ``by_generation.<g>`` (the generation
    table's row), ``strategy_mix.<g>.<kind>`` (share of the rule agents) and, with LLM
    agents, ``strategies.answers`` (strategy texts asked / answered / failed).
    """
    rounds = donor_rounds(events)
    if rounds.empty:
        return {}
    standings = donor_standings(events)
    gens = generation_table(rounds, standings)
    overall = _shares(rounds)
    records = gens.to_dict(orient="records")
    by_generation = {
        str(int(row["generation"])): jsonable({k: v for k, v in row.items() if k != "generation"})
        for row in records
    }
    totals = gens["total_resources"].dropna()
    out: dict[str, Any] = {
        "answers": {k: overall.pop(k) for k in ("asked", "answered", "failed")},
        "overall": {
            **overall,
            "generations": len(gens),
            "mean_total_resources": float(totals.mean()) if len(totals) else None,
        },
        "final": jsonable(records[-1]),
        "by_generation": by_generation,
    }
    mix = strategy_mix(standings)
    if not mix.empty:
        out["strategy_mix"] = {
            str(g): {str(r["kind"]): float(r["share_of_agents"]) for _, r in rows.iterrows()}
            for g, rows in mix.groupby("generation", sort=True)
        }
    texts = strategy_texts(events)
    if not texts.empty:
        answered = int((texts["status"] == "answered").sum())
        out["strategies"] = {
            "answers": {"asked": len(texts), "answered": answered, "failed": len(texts) - answered}
        }
    return out


@register_measure("donor_game")
def donor_game_measures(run: RunData, params: NoParams) -> dict[str, Any] | None:
    """Donation, punishment, resources and strategy mix per generation (donor-game runs)."""
    ev = run.events
    if ev.empty or not (payload(of_kind(ev, "action"), "type") == "donor_round").any():
        return None
    out = donor_game_summary(ev)
    reports = self_report_table(run)
    if len(reports):
        rounds = donor_rounds(ev)
        given = rounds.dropna(subset=["donation"]).groupby("agent")["donation"].mean()
        out["self_report"] = trait_validity(reports, given, "donation")
    return out


def strategy_bars(mix: pd.DataFrame) -> Any:
    """Stacked bars: the share of each rule kind among the rule agents of each generation."""
    fig = figure(6.4, 3.4)
    ax = fig.add_subplot()
    if mix.empty:
        return no_data(fig, ax)
    table = mix.pivot_table(index="generation", columns="kind", values="share_of_agents")
    table = table.reindex(columns=[k for k in KINDS if k in table.columns]).fillna(0.0)
    bottom = np.zeros(len(table))
    for kind in table.columns:
        ax.bar(table.index, table[kind], bottom=bottom, label=kind)
        bottom += table[kind].to_numpy()
    ax.set_xlabel("generation")
    ax.set_ylabel("share of rule agents")
    ax.set_ylim(0, 1.02)
    ax.set_title("strategy mix")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _whole_generations(fig)


def _whole_generations(fig: Any, shares: bool = False) -> Any:
    """Integer ticks on the generation axis (and a [0, 1] y axis for shares)."""
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if shares:
            ax.set_ylim(-0.02, 1.02)
    return fig


@register_report_part("donor_game figures")
def donor_game_part(run: RunData, figs: Any, tables: list) -> None:
    """Donation and resources per generation, the strategy mix, and their tables."""
    rounds = donor_rounds(run.events)
    if rounds.empty:
        return
    standings = donor_standings(run.events)
    gens = generation_table(rounds, standings)
    figs.add(
        "donor_donation",
        _whole_generations(plots.series_by_step(
            gens, ["donation_share", "give_rate", "punish_share"], x="generation",
            title="donor game", ylabel="share of answered donor decisions",
        ), shares=True),
        "Mean donation share, share of decisions that gave and share that punished, per "
        "generation, over answered donor decisions.",
    )  # fmt: skip
    figs.add(
        "donor_resources",
        _whole_generations(
            plots.series_by_step(
                gens, ["total_resources"], x="generation", title="resources", ylabel="total"
            )
        ),
        "Total resources of all agents at the end of each generation.",
    )
    mix = strategy_mix(standings)
    if not mix.empty:
        figs.add(
            "donor_strategies",
            strategy_bars(mix),
            "Rule strategies at the end of each generation (share of the rule agents).",
        )
    tables += [("Donor game by generation", gens), ("Donor game by round", round_table(rounds))]
    if not mix.empty:
        tables.append(("Strategy mix", mix))
    texts = strategy_texts(run.events)
    if not texts.empty:
        tables.append(("Strategies written by LLM agents", texts))

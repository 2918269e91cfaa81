"""What the norms family adds to a run's analysis: its measure, tables and report figures.

Registered on import of :mod:`socialsim.scenarios.norms`: the ``norms`` measure
(:func:`~socialsim.scenarios.norms.measures.norms_summary`), the ``norm_*`` tables of the
run's ``tables/`` folder and the figures of its report page: adherence by group and under
pressure, justifications against the rule of thumb and adherence in variant frames beside
their base frames.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from socialsim.analysis.report.html import plural
from socialsim.analysis.report.parts import register_report_part
from socialsim.analysis.stats import COUNT_COLUMNS
from socialsim.core.registry import NoParams, register_measure
from socialsim.core.rundata import RunData, of_kind, payload
from socialsim.scenarios.norms import measures as norms
from socialsim.scenarios.norms.justification import justification_summary, justification_table
from socialsim.scenarios.norms.plots import (
    adherence_bars,
    justification_cells,
    justification_points,
    variant_adherence,
)

VARIANT_COLUMNS = ["base", "variant", "version", "frame_id", *COUNT_COLUMNS]


@register_measure("norms")
def norms_measures(run: RunData, params: NoParams) -> dict[str, Any] | None:
    """Norm adherence, pressure and judging accuracy (runs with norm choices)."""
    ev = run.events
    if ev.empty or not (payload(of_kind(ev, "action"), "type") == "norm_choice").any():
        return None
    return norms.norms_summary(ev, run.graph)


def norms_tables(run: RunData) -> dict[str, pd.DataFrame]:
    """``norm_adherence`` (overall and ``_by_<column>``), ``norm_pressure``, ``norm_judge_accuracy``."""
    ev = run.events
    tables: dict[str, pd.DataFrame] = {}
    if ev.empty:
        return tables
    choices = norms.norm_choices(ev)
    if not choices.empty:
        tables["norm_adherence"] = norms.adherence(choices)
        for col in ("culture", "setting", "category", "actor"):
            if col in choices:
                tables[f"norm_adherence_by_{col}"] = norms.adherence(choices, col)
        tables["norm_pressure"] = norms.pressure_effect(choices)
    judged = norms.judge_accuracy(ev)
    if not judged.empty:
        tables["norm_judge_accuracy"] = judged
    return tables


def variant_adherence_table(choices: pd.DataFrame) -> pd.DataFrame:
    """Adherence of benign agents in each variant frame and in its base frame (Wilson).

    Two rows per variant frame asked in the run whose base frame was asked too: ``base,
    variant, version`` (``base`` / ``variant``), ``frame_id`` and the counts and rate of
    :func:`~socialsim.scenarios.norms.measures.adherence`; ordered by base, then variant.
    """
    table = justification_table(choices)
    per_frame = norms.adherence(table, "frame_id").set_index("frame_id")
    links = table.loc[
        table["variant_of"].notna() & table["frame_id"].notna(), ["frame_id", "variant_of"]
    ]
    rows = []
    for variant, base in sorted(set(map(tuple, links.to_numpy().tolist())), key=lambda p: p[::-1]):
        if variant in per_frame.index and base in per_frame.index:
            for version, frame in (("base", base), ("variant", variant)):
                cell = per_frame.loc[frame, COUNT_COLUMNS].to_dict()
                rows.append({"base": base, "variant": variant, "version": version} | cell)
                rows[-1]["frame_id"] = frame
    return pd.DataFrame(rows, columns=VARIANT_COLUMNS)


def _justifications(run: RunData, choices: pd.DataFrame) -> dict[str, Any]:
    """The written ``measures.norms.justifications``, or the block computed now."""
    written = ((run.summary or {}).get("measures") or {}).get("norms") or {}
    block = written.get("justifications") if isinstance(written, dict) else None
    return block if isinstance(block, dict) else justification_summary(justification_table(choices))


def _justification_part(run: RunData, choices: pd.DataFrame, figs: Any, tables: list) -> None:
    """The justification figure, or the reason there is none, and its table."""
    block = _justifications(run, choices)
    agreement = block.get("agreement") or {}
    if agreement.get("mean") is None:
        note = pd.DataFrame([{"figure": "not drawn", "reason": block.get("reason") or "none"}])
        tables.append(("Justifications against the rule of thumb", note))
        return
    counts = block.get("choices") or {}
    pairs = (block.get("variants") or {}).get("pairs", 0)
    figs.add(
        "norm_justifications",
        justification_points(block),
        "Left: agreement of benign LLM agents' justifications with the frame's rule of thumb "
        "(share of the rule's content words the reason uses; measures.norms.justifications), "
        "mean over agents with t 95% intervals, overall, by base / variant frame, by whether "
        "the choice was the rule and per frame (n = agents). Right: shares with Wilson 95% "
        f"intervals (k/n). {plural(counts.get('scored', agreement.get('n', 0)), 'scored choice')} "
        f"of {plural(agreement.get('agents', 0), 'agent')}; "
        f"{plural(pairs, 'base-variant pair')}.",
    )
    cells = justification_cells(block, max_frames=None)
    tables.append(("Justifications against the rule of thumb", cells.drop(columns="panel")))


def _variant_part(choices: pd.DataFrame, figs: Any, tables: list) -> None:
    """Adherence in each variant frame beside its base frame, when the run asked both."""
    table = variant_adherence_table(choices)
    if table.empty:
        return
    pairs = table["variant"].nunique()
    figs.add(
        "norm_variants",
        variant_adherence(table),
        "Norm adherence of benign agents in each variant frame (a frame declared variant_of "
        "another, with changed constraints and labels) beside its base frame: share of "
        "answered choices that are expected or okay, with Wilson 95% intervals; "
        f"{plural(pairs, 'variant')}, {plural(int(table['answered'].sum()), 'answered choice')} "
        "in all (a base frame counts once per variant).",
    )
    tables.append(("Norm adherence in base and variant frames", table))


@register_report_part(
    "norm figures",
    tables=norms_tables,
    figures={"norms": "adherence", "norms.justifications": "norm_justifications"},
)
def norms_page(run: RunData, figs: Any, tables: list) -> None:
    """Adherence by group and under pressure; justifications; variant frames; judge accuracy."""
    ev = run.events
    choices = norms.norm_choices(ev)
    if choices.empty:
        return
    by = next((c for c in ("culture", "setting", "category") if c in choices), None)
    table = norms.adherence(choices, by)
    figs.add(
        "adherence",
        adherence_bars(table, by or "all"),
        f"Norm adherence of benign agents by {by or 'all'}: share of answered choices that are "
        "expected or okay, with Wilson 95% intervals.",
    )
    pressure = norms.pressure_effect(choices)
    if not pressure.empty and pressure["answered"].sum() > 0:
        figs.add(
            "norm_pressure",
            adherence_bars(pressure, "condition"),
            "Norm adherence of benign agents by social-pressure condition (the conditions "
            "overlap), with Wilson 95% intervals.",
        )
    tables += [("Norm adherence", table), ("Norm adherence under pressure", pressure)]
    judged = norms.judge_accuracy(ev)
    if not judged.empty:
        tables.append(("Judge accuracy", judged))
    _justification_part(run, choices, figs, tables)
    _variant_part(choices, figs, tables)

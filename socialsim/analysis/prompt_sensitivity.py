"""Prompt sensitivity of a sweep over decision templates: does the wording move a result more
than the effect it reports?

A sweep whose grid includes ``agents.prompt.template`` runs one experiment under several
wordings of the decision prompt (``decide_v2``, ``decide_v2_p1``, ... see
:func:`socialsim.llm.prompts.paraphrases`). For each headline measure of its cells:

- **per template**: the mean of the measure over that template's finished cells (the other
  grid values and seeds), and, where the cells have a control arm (``control: true``), the
  mean of their effect (treatment minus control, the arms summary's ``effects``). In a cell
  with arms the measure is the treatment arm's mean;
- **spread**: the largest minus the smallest per-template mean of the measure;
- **effect**: the mean over templates of the per-template mean effect (each wording counts
  once);
- **template_sensitive**: ``spread > |effect|``: changing only the wording moves the measure
  further than the treatment does, so the effect is not a finding about the agents.

Without a control arm there is no effect to compare with: the spread is reported and
``template_sensitive`` is None. With fewer than two templates that have a value there is no
spread and no flag. ``effect_spread`` (the same spread, of the per-template effects) and
``effect_sign_flips`` (some wordings give a positive effect and others a negative one) are
reported as well, for reading, and do not enter the flag.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

TEMPLATE_KEY = "agents.prompt.template"
DEFINITION = (
    "spread = max - min over templates of the per-template mean of the measure; "
    "effect = mean over templates of the per-template mean effect (treatment - control); "
    "template_sensitive = spread > |effect|"
)
_TOLERANCE = 1e-9  # a spread equal to the effect up to rounding does not exceed it


def template_sensitivity(
    results: pd.DataFrame, measure: str, key: str = TEMPLATE_KEY
) -> dict[str, Any]:
    """Spread of one measure across the templates of a sweep's results, against its effect.

    `results` is a sweep's results table (one row per cell): the template column `key`, the
    measure as ``measure`` (a plain run) or ``treatment.<measure>`` (a cell with arms), and
    its effect as ``effect.<measure>.difference``. Failed cells are left out.

    >>> rows = pd.DataFrame({"agents.prompt.template": ["a", "b"], "m": [0.2, 0.5]})
    >>> template_sensitivity(rows, "m")["spread"]
    0.3
    """
    cells = results[results["status"] == "ok"] if "status" in results else results
    column = measure if measure in cells else f"treatment.{measure}"
    frame = pd.DataFrame(
        {
            "template": cells[key].astype(str),
            "value": _numbers(cells, column),
            "effect": _numbers(cells, f"effect.{measure}.difference"),
        }
    )
    grouped = frame.groupby("template", sort=False)
    values, effects = grouped["value"].mean().dropna(), grouped["effect"].mean().dropna()
    by_template = {
        str(t): {"cells": int(n), "value": _get(values, t), "effect": _get(effects, t)}
        for t, n in grouped.size().items()
    }
    out: dict[str, Any] = {
        "measure": measure,
        "templates": list(by_template),
        "by_template": by_template,
        "spread": _range(values),
        "effect": float(effects.mean()) if len(effects) else None,
        "effect_spread": _range(effects),
        "effect_sign_flips": bool((effects > 0).any() and (effects < 0).any()),
        "template_sensitive": None,
        "note": None,
    }
    if out["spread"] is None:
        out["note"] = "fewer than two templates have a value: no spread and no flag"
    elif out["effect"] is None:
        out["note"] = (
            "no control arm: spread only; the flag compares it with the effect of a control"
        )
    else:
        out["template_sensitive"] = out["spread"] - abs(out["effect"]) > _TOLERANCE
    return out


def sweep_sensitivity(
    results: pd.DataFrame, headline: list[dict[str, Any]], key: str = TEMPLATE_KEY
) -> dict[str, Any] | None:
    """Template sensitivity of each headline measure of a sweep (None if it does not sweep `key`).

    `headline` is the cells' headline list (``[{"measure": ..., "label": ...}]``); a measure
    the results do not hold is left out. ``template_sensitive`` is True when any measure is,
    False when every measure with a flag is not, None when no measure has a flag.
    """
    if key not in results.columns:
        return None
    measures = []
    for item in headline:
        measure = str(item.get("measure"))
        if measure in results or f"treatment.{measure}" in results:
            measures.append(
                {"label": item.get("label"), **template_sensitivity(results, measure, key)}
            )
    flags = [m["template_sensitive"] for m in measures if m["template_sensitive"] is not None]
    templates = [str(t) for t in pd.unique(results[key].astype(str))]
    return {
        "key": key,
        "templates": templates,
        "definition": DEFINITION,
        "measures": measures,
        "template_sensitive": any(flags) if flags else None,
    }


def cell_headline(root: str | Path, results: pd.DataFrame) -> list[dict[str, Any]]:
    """The headline measures (``measure``, ``label``) of a sweep's first finished cell.

    Read from the cell's summary.json: at its ``run_dir``, else at ``ROOT/cells/<its name>``
    (a sweep directory that was moved).
    """
    cells = results[results["status"] == "ok"] if "status" in results else results
    run_dirs = cells["run_dir"].dropna().astype(str) if "run_dir" in cells else []
    for run_dir in run_dirs:
        for folder in (Path(run_dir), Path(root) / "cells" / Path(run_dir).name):
            try:
                summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            items = summary.get("headline") if isinstance(summary, dict) else None
            return [
                {"measure": str(h["measure"]), "label": h.get("label")}
                for h in items or []
                if isinstance(h, dict) and h.get("measure")
            ]
    return []


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(float("nan"), index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce")


def _get(series: pd.Series, key: Any) -> float | None:
    value = series.get(key)
    return None if value is None or math.isnan(value) else float(value)


def _range(series: pd.Series) -> float | None:
    return float(series.max() - series.min()) if len(series) > 1 else None

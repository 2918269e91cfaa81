"""The report page of an arms directory (treatment and control replicates).

It opens with the effects table and one treatment-vs-control figure per headline measure,
then links every replicate's own report.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from socialsim.analysis import plots, spread
from socialsim.analysis.io import AGENT_COLUMNS, RunData, of_kind, populations, read_events_table
from socialsim.analysis.report.html import (
    MAX_CONFIG,
    TABLE_ROWS,
    _claim_of,
    _clip,
    _config_text,
    _current_layout,
    _details,
    _e,
    _effect_for,
    _effect_text,
    _effects_table,
    _Figures,
    _fmt,
    _guarded,
    _lookup,
    _read_json,
    html_table,
)


def _arms_page(root: Path, summary: dict[str, Any], figs: _Figures) -> tuple[str, str, str]:
    title = f"socialsim arms: {summary.get('name') or root.name}"
    subs = _sub_runs(root, summary.get("arms") or {})
    headline = [h for h in summary.get("headline") or [] if isinstance(h, dict) and "measure" in h]
    effects = [e for e in summary.get("effects") or [] if isinstance(e, dict)]
    labels = {str(h["measure"]).removeprefix("measures."): str(h.get("label")) for h in headline}
    counts = pd.Series([s["arm"] for s in subs], dtype=object).value_counts()
    meta = f"{len(summary.get('seeds') or [])} seeds; " + ", ".join(
        f"{arm}: {n} runs" for arm, n in counts.items()
    )
    out = ["<h2>Findings</h2>"]
    if effects:
        out.append(html_table(_effects_table(effects, labels)))
    else:
        out.append('<p class="note">summary.json holds no effect estimate.</p>')
    notes: list[str] = []
    for i, item in enumerate(headline):
        measure = str(item["measure"])
        label = str(item.get("label") or measure)
        effect = _effect_for(measure, effects)
        block: list[str] = []
        _guarded(
            notes, label, lambda it=item, k=i, b=block: b.append(_arm_figure(subs, it, k, figs))
        )
        out.append(
            f'<section class="finding"><h3>{_e(label)}</h3><span class="key">{_e(measure)}</span>'
            + (_effect_text(effect) if effect else "")
            + "".join(block)
            + "</section>"
        )
    out += [f'<p class="note">{_e(n)}</p>' for n in notes]
    out.append(_sub_run_table(subs))
    results = root / "results.csv"
    if results.is_file():
        table = pd.read_csv(results)
        out.append(_details(f"results.csv ({len(table)} rows)", html_table(table, TABLE_ROWS)))
    config = _config_text(root, {})
    out.append(_details("Configuration", f"<pre>{_e(_clip(config, MAX_CONFIG))}</pre>"))
    return title, f'<p class="meta">{_e(meta)}</p>', "".join(out)


def _sub_runs(root: Path, arms: dict[str, Any]) -> list[dict[str, Any]]:
    """Each sub-run of an arms directory: arm, seed, relative path, directory, summary."""
    subs = []
    for arm, paths in arms.items():
        for rel in paths or []:
            rel = str(rel)
            path = root / rel
            summary = _current_layout(_read_json(path / "summary.json"))
            facts = summary.get("run") if isinstance(summary.get("run"), dict) else {}
            digits = re.search(r"(\d+)$", Path(rel).name)
            seed = facts.get("seed", int(digits.group(1)) if digits else rel)
            subs.append(
                {"arm": str(arm), "seed": seed, "rel": rel, "dir": path, "summary": summary}
            )
    return subs


def _arm_figure(
    subs: list[dict[str, Any]], item: dict[str, Any], index: int, figs: _Figures
) -> str:
    """Treatment vs control: adoption over steps (mean and band), else one point per replicate."""
    measure, label = str(item["measure"]), str(item.get("label") or item["measure"])
    claim = _claim_of(item)
    if claim is not None:
        curves = [
            _benign_adoption(sub["dir"], claim).assign(arm=sub["arm"], seed=str(sub["seed"]))
            for sub in subs
        ]
        curves = [c for c in curves if not c.empty]
        if curves:
            per_arm = pd.Series([s["arm"] for s in subs]).value_counts().to_dict()
            return figs.render(
                f"arms_{index}_adoption_{claim}",
                plots.adoption_curves(
                    pd.concat(curves, ignore_index=True),
                    hue="arm",
                    title=label,
                    ylabel="share with credence >= 0.5",
                ),
                f"Believers of {claim} among benign agents per step: mean over replicates "
                f"({', '.join(f'{a} {n}' for a, n in per_arm.items())}) with a 95% band.",
            )
    values = pd.DataFrame(
        {
            "arm": [s["arm"] for s in subs],
            "seed": [s["seed"] for s in subs],
            "value": [
                _as_float(_lookup(s["summary"].get("measures") or {}, measure)) for s in subs
            ],
        }
    )
    if values["value"].isna().all():
        return '<p class="note">No sub-run records this measure.</p>'
    return figs.render(
        f"arms_{index}_values",
        plots.arm_values(values, title=label),
        "One point per replicate; black: the arm mean with its 95% t-interval.",
    )


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return float("nan")
    return float(value)


def _benign_adoption(path: Path, claim: str) -> pd.DataFrame:
    """Adoption curve of `claim` in one sub-run: benign agents when some hold a role."""
    if (path / "agents.parquet").is_file():
        agents = pd.read_parquet(path / "agents.parquet", filters=[("claim", "==", claim)])
    elif (path / "agents.csv").is_file():
        agents = pd.read_csv(path / "agents.csv")
        agents = agents[agents["claim"].astype(str) == claim]
    else:
        return pd.DataFrame()
    if agents.empty:
        return pd.DataFrame()
    record = RunData(path=path, agents=agents[AGENT_COLUMNS], events=_action_events(path))
    pop = "benign" if "benign" in populations(record) else "all"
    return spread.adoption_curve(record, claim, population=pop)


def _action_events(path: Path) -> pd.DataFrame:
    """The ``action`` events of a run directory (roles, removals), read as lightly as can be."""
    if (path / "events.parquet").is_file():
        columns = ["run", "step", "time", "kind", "agent", "target", "claim", "payload.type"]
        try:
            events = pd.read_parquet(
                path / "events.parquet", columns=columns, filters=[("kind", "==", "action")]
            )
        except (KeyError, ValueError, OSError):
            events = None
        if events is not None:
            events["step"] = pd.to_numeric(events["step"], errors="coerce")
            events["agent"] = pd.to_numeric(events["agent"], errors="coerce")
            return events
    if (path / "events.jsonl").is_file():
        events = read_events_table(path / "events.jsonl")
        return of_kind(events, "action")
    return RunData().events


def _sub_run_table(subs: list[dict[str, Any]]) -> str:
    if not subs:
        return ""
    rows = []
    for sub in subs:
        quality = sub["summary"].get("data_quality") or {}
        answers = quality.get("answers") or {}
        failed = sum(int(v.get("failed") or 0) for v in answers.values() if isinstance(v, dict))
        report = sub["dir"] / "report.html"
        href = quote(sub["rel"].strip("/") + ("/report.html" if report.is_file() else "/"))
        text = "report" if report.is_file() else "directory"
        rows.append(
            f"<tr><td>{_e(sub['arm'])}</td><td>{_e(sub['seed'])}</td>"
            f'<td><a href="{_e(href)}">{_e(sub["rel"])}</a> ({text})</td>'
            f"<td>{_fmt(quality.get('calls'))}</td><td>{_fmt(quality.get('unusable'))}</td>"
            f"<td>{failed if answers else ''}</td></tr>"
        )
    return (
        "<h2>Replicates</h2><table><tr><th>arm</th><th>seed</th><th>run</th><th>calls</th>"
        "<th>unusable</th><th>failed answers</th></tr>" + "".join(rows) + "</table>"
    )

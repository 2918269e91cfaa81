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
from socialsim.analysis.report.effects import _effect_for, effect_text, effects_table, measure_cell
from socialsim.analysis.report.html import (
    MAX_CONFIG,
    TABLE_ROWS,
    _clip,
    _config_text,
    _current_layout,
    _details,
    _e,
    _Figures,
    _fmt,
    _guarded,
    _lookup,
    _read_json,
    html_table,
    plural,
)
from socialsim.analysis.report.wording import (
    ClaimTexts,
    arms_design,
    claim_measure,
    claim_of,
    claim_section,
    claim_texts,
    measure_label,
)
from socialsim.analysis.stats import MIN_REPLICATES
from socialsim.core.rundata import AGENT_COLUMNS, RunData, of_kind, populations, read_events_table

# measures read off the adoption curve, and the point of the curve each one is
_CURVE_POINT = {"final_reach": "last", "peak": "highest", "initial_reach": "first"}


def _arms_page(root: Path, summary: dict[str, Any], figs: _Figures) -> tuple[str, str, str]:
    title = f"socialsim arms: {summary.get('name') or root.name}"
    subs = _sub_runs(root, summary.get("arms") or {})
    headline = [h for h in summary.get("headline") or [] if isinstance(h, dict) and "measure" in h]
    effects = [e for e in summary.get("effects") or [] if isinstance(e, dict)]
    labels = {str(h["measure"]).removeprefix("measures."): str(h.get("label")) for h in headline}
    labels = {k: v for k, v in labels.items() if v and v != "None"}
    config = _yaml(root / "config.yaml")
    first = subs[0]["summary"] if subs else {}
    scenario = first.get("scenario") if isinstance(first.get("scenario"), dict) else {}
    kind = (config.get("scenario") or {}).get("kind") or scenario.get("kind")
    claims = _arm_claims(headline, effects, scenario)
    texts = claim_texts(config, claims, root)
    threshold = _belief_threshold(config)
    counts = pd.Series([s["arm"] for s in subs], dtype=object).value_counts()
    meta = f"{plural(len(summary.get('seeds') or []), 'seed')}; " + ", ".join(
        f"{arm}: {plural(n, 'run')}" for arm, n in counts.items()
    )
    design = arms_design(summary, kind, len(subs))
    if isinstance(scenario.get("design"), str) and scenario.get("elicitation") != "instrument":
        design += " " + scenario["design"]
    out = [
        f'<p class="design">{_e(design)}</p>',
        claim_section(claims, texts),
        "<h2>Findings</h2>",
    ]
    if effects:
        out.append(effects_table(effects, labels, texts))
    else:
        out.append('<p class="note">summary.json holds no effect estimate.</p>')
    instrument = [e for e in summary.get("instrument_effects") or [] if isinstance(e, dict)]
    if instrument:
        out.append(
            '<h3>What the probes themselves do</h3><p class="note">The control arm, probed at '
            "its probe steps, against the instrument arm (no manipulation, nothing asked before "
            "the final step): the treatment column is the control, the control column the "
            "instrument arm.</p>" + effects_table(instrument, labels, texts)
        )
    notes: list[str] = []
    for i, item in enumerate(headline):
        measure = str(item["measure"])
        label = labels.get(measure.removeprefix("measures.")) or measure_label(measure, texts)
        effect = _effect_for(measure, effects)
        block: list[str] = []
        _guarded(
            notes,
            label,
            lambda it=item, k=i, b=block, lab=label: b.append(
                _arm_figure(subs, it, k, figs, lab, texts, threshold)
            ),
        )
        out.append(
            f'<section class="finding"><h3>{measure_cell(measure, label)}</h3>'
            + (effect_text(effect) if effect else "")
            + "".join(block)
            + "</section>"
        )
    out += [f'<p class="note">{_e(n)}</p>' for n in notes]
    out.append(_sub_run_table(subs))
    results = root / "results.csv"
    if results.is_file():
        table = pd.read_csv(results)
        out.append(
            _details(f"results.csv ({plural(len(table), 'row')})", html_table(table, TABLE_ROWS))
        )
    text = _config_text(root, {})
    out.append(_details("Configuration", f"<pre>{_e(_clip(text, MAX_CONFIG))}</pre>"))
    return title, f'<p class="meta">{_e(meta)}</p>', "".join(out)


def _yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping read from `path` ({} when missing or unreadable)."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _arm_claims(
    headline: list[dict[str, Any]], effects: list[dict[str, Any]], scenario: dict[str, Any]
) -> list[str]:
    """The claims the arms page is about: the scenario's, then those its measures name."""
    named = [scenario.get("claim")] if isinstance(scenario.get("claim"), str) else []
    named += [claim_of(h) for h in headline]
    named += [claim_of(e) for e in effects]
    return list(dict.fromkeys(c for c in named if c))


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
    subs: list[dict[str, Any]],
    item: dict[str, Any],
    index: int,
    figs: _Figures,
    label: str,
    texts: ClaimTexts | None = None,
    threshold: float = 0.5,
) -> str:
    """Treatment vs control on the finding's own measure.

    A reach measure (final, peak, initial share believing) is read off the adoption curve:
    its mean over replicates per step with a band; any other measure is drawn as one point
    per replicate with the arm mean.
    """
    measure = str(item["measure"])
    claim, kind, pop, rest = claim_measure(measure) or ("", "", "", [])
    point = _CURVE_POINT.get(rest[-1]) if kind == "adoption" and rest else None
    if point is not None:
        curves = [
            _benign_adoption(sub["dir"], claim, pop, threshold).assign(
                arm=sub["arm"], seed=str(sub["seed"])
            )
            for sub in subs
        ]
        curves = [c for c in curves if not c.empty]
        if curves:
            per_arm = pd.Series([s["arm"] for s in subs]).value_counts().to_dict()
            who = "benign agents" if pop == "benign" else "all agents"
            return figs.render(
                f"arms_{index}_adoption_{claim}",
                plots.adoption_curves(
                    pd.concat(curves, ignore_index=True),
                    hue="arm",
                    title=label,
                    ylabel=f"share with credence >= {threshold:g}",
                ),
                f"Believers of {_claim_words(claim, texts)} among {who} per step: mean over "
                f"replicates ({', '.join(f'{a} {n}' for a, n in per_arm.items())})"
                + (
                    " with a t 95% band across replicates (cut at the axis; with few replicates"
                    " of a skewed measure it is narrower than 95%)"
                    if min(per_arm.values()) >= MIN_REPLICATES
                    else f" (no band below {MIN_REPLICATES} replicates)"
                )
                + f"; the finding is the curve's {point} point.",
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
    if kind == "probes":
        ylabel = "share following the false claim"
    elif kind == "adoption" and rest and rest[-1].startswith("mean_credence"):
        ylabel = "mean credence"
    else:
        ylabel = "value of the measure"
    return figs.render(
        f"arms_{index}_values",
        plots.arm_values(values, title=label, ylabel=ylabel),
        f"{label}: one point per replicate; black: the arm mean with its 95% t-interval "
        "over replicates (none with one replicate).",
    )


def _claim_words(claim: str, texts: ClaimTexts | None) -> str:
    statement = (texts or {}).get(claim, {}).get("manipulated")
    return f'"{statement}" ({claim})' if statement else claim


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return float("nan")
    return float(value)


def _belief_threshold(config: dict[str, Any]) -> float:
    """The arms' ``analysis.measures.claims.threshold`` (0.5 when the config leaves it)."""
    measures = (config.get("analysis") or {}).get("measures") or {}
    value = (measures.get("claims") or {}).get("threshold", 0.5)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.5


def _benign_adoption(
    path: Path, claim: str, population: str = "benign", threshold: float = 0.5
) -> pd.DataFrame:
    """Adoption curve of `claim` in one sub-run: benign agents when some hold a role.

    With ``population="all"`` every agent is counted.
    """
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
    pop = "benign" if population == "benign" and "benign" in populations(record) else "all"
    return spread.adoption_curve(record, claim, threshold, population=pop)


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
        failed = sum(  # consistency re-reads the probes: counted once, as probes
            int(v.get("failed") or 0)
            for area, v in answers.items()
            if isinstance(v, dict) and not area.startswith("consistency.")
        )
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

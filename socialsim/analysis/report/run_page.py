"""The report page of one run.

It opens with the findings (each headline measure, its effect against the control and the
figure that shows it), then the other figures, the data-quality panel, every measure
(collapsed) and a conversation sample. Long series are downsampled and tables are capped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis import plots
from socialsim.analysis.report.effects import _effect_for, effect_text, effects_table
from socialsim.analysis.report.html import (
    MAX_CONFIG,
    TABLE_ROWS,
    Tables,
    _clip,
    _config_text,
    _current_layout,
    _details,
    _e,
    _Figures,
    _flatten,
    _fmt,
    _guarded,
    _lookup,
    _number,
    _read_json,
    html_table,
    plural,
)
from socialsim.analysis.report.parts import figure_for, report_parts
from socialsim.analysis.report.run_figures import _claim_figures, probe_part
from socialsim.analysis.report.wording import (
    ClaimTexts,
    claim_measure,
    claim_of,
    claim_section,
    claim_texts,
    measure_label,
    run_design,
)
from socialsim.core.rundata import RunData, of_kind, payload, populations

MAX_CLAIMS = 6  # claims drawn (every claim is in the measures table)
SAMPLE_MESSAGES = 30
MAX_TEXT = 1000  # characters of one message shown
MEASURE_ROWS = 1500  # rows of the measures table
STEP_ROWS = 40  # rows of a per-step table
_QUALITY_COLUMNS = ["calls", "cached", "repaired", "unusable"]


def _run_page(
    root: Path,
    run: RunData,
    summary: dict[str, Any],
    figs: _Figures,
    max_claims: int = MAX_CLAIMS,
) -> tuple[str, str, str]:
    summary = _current_layout(summary)
    facts = summary.get("run") if isinstance(summary.get("run"), dict) else {}
    scenario = summary.get("scenario") or {}
    title = f"socialsim run: {facts.get('name') or run.config.get('name') or root.name}"
    pops = populations(run)
    seed = int(facts.get("seed") or run.config.get("seed") or 0)
    claims = _claims(run, summary)
    tables: Tables = []
    notes: list[str] = []
    for i, claim in enumerate(claims[:max_claims]):
        _guarded(
            notes,
            f"figures of {claim}",
            lambda c=claim, first=i == 0: _claim_figures(run, c, pops, seed, figs, tables, first),
        )
    if not run.events.empty:
        _guarded(notes, "probe tables", lambda: probe_part(run, figs, tables))
        for part in report_parts():
            if part.page is not None:
                _guarded(notes, part.name, lambda p=part.page: p(run, figs, tables))
    texts = claim_texts(run.config, claims, root)
    findings = _findings(summary, figs, claims, max_claims, texts)
    others = list(figs.blocks.values())
    parent = _arms_parent(root.parent.parent) if _in_arms(summary) else {}
    body = [
        _stopped_warning(facts, run.config),
        f'<p class="design">{_e(run_design(summary, run.config, parent))}</p>',
        claim_section(claims, texts),
        findings,
        "<h2>Other figures</h2>" + ("".join(others) if others else "<p>(no other figure)</p>"),
        "".join(f'<p class="note">{_e(n)}</p>' for n in notes),
        _data_quality(summary, figs),
        _measures_section(summary, tables, _config_text(root, run.config), texts),
        _conversation_sample(run.events),
    ]
    return title, _run_meta(facts, scenario, summary.get("populations") or {}), "".join(body)


def _stopped_warning(facts: dict[str, Any], config: dict[str, Any]) -> str:
    """A run an error stopped before its end: said first, with how to finish it."""
    stopped = facts.get("stopped_in_step")
    if stopped is None:
        return ""
    planned = config.get("steps") if config.get("mode", "step") == "step" else None
    of = f" of {planned}" if isinstance(planned, int) else ""
    text = (
        f"<strong>This run stopped in step {_e(stopped)}{_e(of)}</strong>: an error ended it "
        "before its last step (its <code>error</code> events say which). Every measure here "
        "is of the steps it finished; <code>socialsim run --resume</code> on this directory "
        "finishes the run."
    )
    return f'<div class="finding" style="{_STOPPED}"><p>{text}</p></div>'


_STOPPED = "border-left-color:#c44e52;background:#fdf2f2"


def _run_meta(facts: dict[str, Any], scenario: dict[str, Any], pops: dict[str, Any]) -> str:
    bits = []
    if scenario.get("kind"):
        bits.append(f"scenario {scenario['kind']}")
    if scenario.get("arm"):
        bits.append(f"{scenario['arm']} arm")
    if facts.get("seed") is not None:
        bits.append(f"seed {facts['seed']}")
    if facts.get("steps_run") is not None:
        bits.append(plural(facts["steps_run"], "step"))
    if facts.get("agents") is not None:
        benign = pops.get("benign")
        bits.append(plural(facts["agents"], "agent") + (f" ({benign} benign)" if benign else ""))
    if facts.get("id"):
        bits.append(f"run {facts['id']}")
    return f'<p class="meta">{_e(" · ".join(str(b) for b in bits))}</p>' if bits else ""


def _claims(run: RunData, summary: dict[str, Any]) -> list[str]:
    """Claims to draw: those named by the headline first, then the measured and tracked ones."""
    named = [c for h in summary.get("headline") or [] if isinstance(h, dict) for c in [claim_of(h)]]
    measured = list((summary.get("measures") or {}).get("claims") or {})
    tracked = sorted(run.claims)
    return list(dict.fromkeys(c for c in [*named, *measured, *tracked] if c))


def _figure_for(item: dict[str, Any]) -> str:
    """The figure that shows a headline measure: for a claim measure the one drawing that
    measure (probe answers, credences or the adoption curve), else the entry's own figure."""
    measure = str(item["measure"])
    parsed = claim_measure(measure)
    if parsed is not None:
        claim, kind, _, rest = parsed
        if kind == "probes":
            return f"probes_{claim}"
        if kind == "adoption" and rest and rest[-1].startswith("mean_credence"):
            return f"stance_{claim}"
        if kind == "adoption" or not item.get("figure"):
            return f"adoption_{claim}"
    return _Figures.key(str(item.get("figure") or figure_for(measure) or ""))


def _findings(
    summary: dict[str, Any],
    figs: _Figures,
    claims: list[str],
    max_claims: int = MAX_CLAIMS,
    texts: ClaimTexts | None = None,
) -> str:
    headline = [h for h in summary.get("headline") or [] if isinstance(h, dict) and "measure" in h]
    effects = [e for e in summary.get("effects") or [] if isinstance(e, dict)]
    measures = summary.get("measures") or {}
    out = ["<h2>Findings</h2>"]
    if not headline:
        out.append(
            '<p class="note">summary.json names no headline measure; the main figures '
            "follow and every measure is in the table below.</p>"
        )
        names = [f"adoption_{c}" for c in claims[:max_claims]]
        names += [name for part in report_parts() for name in part.figures.values()]
        out += [block for name in dict.fromkeys(names) if (block := figs.take(name))]
    used: list[dict[str, Any]] = []
    placed: dict[str, str] = {}
    for item in headline:
        measure = str(item["measure"])
        label = str(item.get("label") or measure_label(measure, texts))
        value = item["value"] if "value" in item else _lookup(measures, measure)
        effect = _effect_for(measure, effects)
        name = _figure_for(item)
        figure = figs.take(name) if name else None
        if figure is None and name in placed:
            figure = f'<p class="note">Figure: see &quot;{_e(placed[name])}&quot; above.</p>'
        elif figure is not None:
            placed[name] = label
        out.append(
            f'<section class="finding"><h3>{_e(label)}</h3><p><span class="value">'
            f'{_number(value)}</span><span class="key">{_e(measure)}</span></p>'
            + (effect_text(effect) if effect else "")
            + (figure or "")
            + "</section>"
        )
        if effect:
            used.append(effect)
    rest = [e for e in effects if not any(e is u for u in used)]
    if rest:
        labels = {
            str(h["measure"]).removeprefix("measures."): str(h["label"])
            for h in headline
            if h.get("label")
        }
        out.append("<h3>Other effects against the control</h3>")
        out.append(effects_table(rest, labels, texts))
    elif headline and not effects:
        arm = (summary.get("scenario") or {}).get("arm")
        if arm in ("treatment", "control") and _in_arms(summary):
            out.append(
                f'<p class="note">This is the {_e(arm)} arm of one replicate: the effect '
                "against the other arm, with its interval, is in the arms report "
                '(<a href="../../report.html">../../report.html</a>).</p>'
            )
        else:
            out.append(
                '<p class="note">No control arm in this run, so no effect is estimated: '
                "run with <code>--control</code> to tell the scenario's effect from "
                "drift.</p>"
            )
    return "".join(out)


def _arms_parent(path: Path) -> dict[str, Any]:
    """The arms directory a run belongs to: its summary.json, else (while the arms still run)
    the arms, replicates and seeds its config.yaml sets."""
    summary = _read_json(path / "summary.json")
    if summary.get("kind") == "arms" or not (path / "config.yaml").is_file():
        return summary
    import yaml

    try:
        config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(config, dict) or not isinstance(config.get("replicates"), int):
        return {}
    seed, n = config.get("seed"), config["replicates"]
    arms = ["treatment", "control"] if config.get("control") else ["treatment"]
    seeds = [seed + i for i in range(n)] if isinstance(seed, int) else []
    return {"kind": "arms", "arms": {a: [] for a in arms}, "seeds": seeds, "replicates": n}


def _in_arms(summary: dict[str, Any]) -> bool:
    """True when the run's id marks it as one arm of an arms run (see ``arms.py``)."""
    return bool((summary.get("run") or {}).get("in_arms"))


def _data_quality(summary: dict[str, Any], figs: _Figures) -> str:
    quality = summary.get("data_quality") or {}
    out = ["<h2>Data quality</h2>"]
    if not quality:
        llm = summary.get("llm")
        if isinstance(llm, dict) and llm:
            out.append("<p>Model calls (older summary layout):</p>")
            out.append(html_table(pd.DataFrame(list(llm.items()), columns=["", "value"])))
        else:
            out.append('<p class="note">summary.json holds no data-quality record.</p>')
        return "".join(out)
    listed = {
        "models": ", ".join(map(str, quality.get("models") or [])) or "none (rule policies)",
        "prompt templates": ", ".join(map(str, quality.get("templates") or [])) or "none",
    }
    skip = {"models", "templates", "by_step", "answers"}
    listed |= {k: v for k, v in quality.items() if k not in skip and not isinstance(v, dict | list)}
    out.append(html_table(pd.DataFrame(list(listed.items()), columns=["", "value"])))
    by_step = pd.DataFrame([r for r in quality.get("by_step") or [] if isinstance(r, dict)])
    columns = [c for c in _QUALITY_COLUMNS if c in by_step]
    if not by_step.empty and "step" in by_step and columns:
        if pd.to_numeric(by_step[columns].stack(), errors="coerce").fillna(0).any():
            out.append(
                figs.render(
                    "data_quality",
                    plots.series_by_step(by_step, columns, "Model calls by step", "calls"),
                    "Model calls per step: all, answered from the cache, repaired after a "
                    "parse failure, and unusable (failed or unparseable).",
                )
            )
        shown = plots.downsample(by_step, STEP_ROWS)
        note = (
            f" ({len(shown)} of {len(by_step)} steps, evenly spaced)"
            if len(shown) < len(by_step)
            else ""
        )
        out.append(_details(f"Model calls by step{note}", html_table(shown)))
    answers = quality.get("answers") or {}
    rows = [{"area": k, **v} for k, v in answers.items() if isinstance(v, dict)]
    if rows:
        out.append("<h3>Answers per measure area</h3>")
        out.append('<p class="note">Measures are computed over answered items only.</p>')
        out.append(html_table(pd.DataFrame(rows)))
    return "".join(out)


def _measures_section(
    summary: dict[str, Any], tables: Tables, config: str, texts: ClaimTexts | None = None
) -> str:
    flat = _flatten(summary.get("measures") or {})
    rows = [(measure_label(key, texts), key, value) for key, value in flat[:MEASURE_ROWS]]
    total = len(flat)
    frame = pd.DataFrame(rows, columns=["measure", "key", "value"])
    shown = html_table(frame, MEASURE_ROWS)
    if total > len(frame):
        shown += f'<p class="note">({plural(total - len(frame), "more value")})</p>'
    out = [
        "<h2>All measures</h2>",
        _details(f"Measures table ({plural(total, 'value')})", shown),
    ]
    for title, table in tables:
        if not table.empty:
            out.append(
                _details(f"{title} ({plural(len(table), 'row')})", html_table(table, TABLE_ROWS))
            )
    for key in ("run", "scenario", "populations"):
        part = summary.get(key)
        if isinstance(part, dict) and part:
            facts = pd.DataFrame(_flatten(part), columns=["", "value"])
            out.append(_details(f"{key.capitalize()} facts", html_table(facts, TABLE_ROWS)))
    out.append(_details("Configuration", f"<pre>{_e(_clip(config, MAX_CONFIG))}</pre>"))
    return "".join(out)


def _conversation_sample(events: pd.DataFrame) -> str:
    msgs = of_kind(events, "message").head(SAMPLE_MESSAGES)
    if msgs.empty:
        return ""
    recipients = payload(msgs, "recipients")
    texts = payload(msgs, "text")
    rows = []
    for step, sender, rec, text in zip(msgs["step"], msgs["agent"], recipients, texts, strict=True):
        if isinstance(rec, list | tuple | np.ndarray):
            rec = ", ".join(str(r) for r in list(rec)[:12]) + (" ..." if len(rec) > 12 else "")
        rows.append(
            f"<tr><td>{_fmt(step)}</td><td>{_fmt(sender)}</td><td>{_e(_clip(str(rec), 200))}"
            f'</td><td class="msg">{_e(_clip("" if text is None else str(text), MAX_TEXT))}'
            "</td></tr>"
        )
    return (
        f"<h2>Conversation sample (first {plural(len(rows), 'message')})</h2><table>"
        "<tr><th>step</th><th>sender</th><th>recipients</th><th>text</th></tr>"
        + "".join(rows)
        + "</table>"
    )

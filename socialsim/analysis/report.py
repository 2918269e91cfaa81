"""A self-contained report.html for a run or a sweep directory.

Figures are embedded as base64 PNG (and written to ``figures/*.png``); nothing is loaded
from the network; every piece of agent or config text is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis import cascades, collaboration, norms, persuasion, plots, spread
from socialsim.analysis.io import RunData, load_run, of_kind, payload
from socialsim.analysis.summarize import claims_in, flat_metrics, summarize_run

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em}
img{max-width:100%;margin:.5em 0}.msg{max-width:600px;white-space:pre-wrap}
"""
SAMPLE_MESSAGES = 30
_NON_METRICS = {"seed", "run", "run_dir", "dir", "path", "cell", "status", "error", "name"}


def write_report(path: str | Path) -> Path:
    """Write DIR/report.html (and DIR/figures/*.png) for a run or sweep directory."""
    root = Path(path)
    if (root / "results.csv").is_file() or (root / "results.parquet").is_file():
        body, title = _sweep_body(root)
    else:
        body, title = _run_body(root)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>{body}</body></html>\n"
    )
    out = root / "report.html"
    out.write_text(page, encoding="utf-8")
    return out


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{value:.4g}"
    return _e(value)


def html_table(frame: pd.DataFrame, max_rows: int = 200) -> str:
    """An escaped HTML table of the first `max_rows` rows of a DataFrame."""
    if frame.empty:
        return "<p>(empty)</p>"
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = [
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>"
        for row in frame.head(max_rows).itertuples(index=False)
    ]
    more = f"<p>({len(frame) - max_rows} more rows)</p>" if len(frame) > max_rows else ""
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


class _Figures:
    """Collects figures: writes each to figures/NAME.png and returns an <img> tag."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "figures"

    def img(self, name: str, fig: Any) -> str:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        data = buffer.getvalue()
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / f"{name}.png").write_bytes(data)
        encoded = base64.b64encode(data).decode("ascii")
        return f'<img alt="{_e(name)}" src="data:image/png;base64,{encoded}">'


def _config_text(root: Path, config: dict[str, Any]) -> str:
    if (root / "config.yaml").is_file():
        return (root / "config.yaml").read_text(encoding="utf-8", errors="replace")
    if not config:
        return "(no config.yaml)"
    import yaml

    return yaml.safe_dump(config, sort_keys=False)


def _run_body(root: Path) -> tuple[str, str]:
    run = load_run(root)
    summary = run.summary.get("analysis") or summarize_run(run)
    title = f"socialsim run: {run.config.get('name', root.name)}"
    figs = _Figures(root)
    parts = [f"<h2>Configuration</h2><pre>{_e(_config_text(root, run.config))}</pre>"]
    metrics = pd.DataFrame(sorted(flat_metrics(summary).items()), columns=["measure", "value"])
    parts.append("<h2>Key measures</h2>" + html_table(metrics, max_rows=400))
    parts.append(_spread_section(run, figs))
    parts.append(_scenario_sections(run, figs))
    parts.append(_conversation_sample(run.events))
    return "".join(parts), title


def _spread_section(run: RunData, figs: _Figures) -> str:
    claims = claims_in(run)
    if not claims:
        return ""
    source = run.agents if not run.agents.empty else run.events
    n = run.graph.number_of_nodes() if run.graph is not None else None
    curves = [
        spread.adoption_curve(source, c, events=run.events, n_agents=n).assign(claim=c)
        for c in claims
    ]
    curve = pd.concat(curves, ignore_index=True)
    out = ["<h2>Spread</h2>", figs.img("adoption", plots.adoption_curves(curve, hue="claim"))]
    first = claims[0]
    wide = spread.credence_matrix(source, first)
    if not wide.empty:
        out.append(
            figs.img(
                f"stance_{first}",
                plots.stance_distributions(wide.iloc[0], wide.iloc[-1], bins=np.linspace(0, 1, 11)),
            )
        )
        if run.graph is not None and 0 < run.graph.number_of_nodes() <= 1500:
            out.append(figs.img(f"network_{first}", plots.network_credence(run.graph, wide)))
    if not run.events.empty:
        probes = spread.probe_accuracy(run.events)
        if not probes.empty:
            out.append("<h3>Probe accuracy by distance</h3>" + html_table(probes))
        for claim in claims:
            trees = cascades.cascade_trees(run.events, claim)
            if trees and trees[0].number_of_nodes() > 1:
                out.append(f"<h3>Cascades of {_e(claim)}</h3>")
                out.append(html_table(cascades.cascade_table(trees), max_rows=10))
                if trees[0].number_of_nodes() <= 300:
                    out.append(figs.img(f"cascade_{claim}", plots.cascade_tree(trees[0])))
    return "".join(out)


def _scenario_sections(run: RunData, figs: _Figures) -> str:
    ev = run.events
    if ev.empty:
        return ""
    out = []
    choices = norms.norm_choices(ev)
    if not choices.empty:
        out.append("<h2>Norms</h2>")
        by = next((c for c in ("culture", "setting", "category") if c in choices), None)
        table = norms.adherence(choices, by) if by else norms.adherence(choices)
        out.append(figs.img("adherence", plots.adherence_bars(table, by or "all")))
        out.append(html_table(table) + html_table(norms.pressure_effect(choices)))
        judged = norms.judge_accuracy(ev)
        if not judged.empty:
            out.append("<h3>Judge accuracy</h3>" + html_table(judged))
    trials = collaboration.collab_trials(ev)
    if not trials.empty:
        out.append("<h2>Collaboration</h2>")
        out.append(html_table(collaboration.success_by_pairing(trials)))
        out.append(html_table(collaboration.collaboration_gap(trials)))
        matrix = collaboration.gap_matrix(trials)
        if not matrix.empty:
            out.append(figs.img("collaboration_gap", plots.gap_matrix(matrix)))
    pairs = persuasion.debate_pairs(ev)
    if not pairs.empty:
        out.append("<h2>Debate</h2>" + html_table(persuasion.agreement_shift(pairs)))
        before, after = pairs["pre"], pairs["post"]
        out.append(
            figs.img(
                "debate_stance",
                plots.stance_distributions(before, after, np.arange(0.5, 6), "agreement"),
            )
        )
    auth = persuasion.authority_outcomes(ev)
    if auth["n"].sum() > 0:
        out.append("<h2>Authority pressure</h2>" + html_table(auth))
        out.append(figs.img("authority", plots.rate_bars(auth, "outcome", y="share")))
    drift = persuasion.stance_by_exposure(ev)
    if not drift.empty:
        out.append("<h2>Stance vs exposure</h2>" + html_table(drift))
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
            f"<tr><td>{_fmt(step)}</td><td>{_fmt(sender)}</td><td>{_e(rec)}</td>"
            f'<td class="msg">{_e(text)}</td></tr>'
        )
    return (
        f"<h2>Conversation sample (first {len(rows)} messages)</h2><table>"
        "<tr><th>step</th><th>sender</th><th>recipients</th><th>text</th></tr>"
        + "".join(rows)
        + "</table>"
    )


# --- sweeps ---------------------------------------------------------------------------


def _sweep_params(results: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    swept = [k for k in (config.get("sweep") or {}) if k in results.columns and k != "seed"]
    if swept:
        return swept
    return [
        c
        for c in results.columns
        if c not in _NON_METRICS and not pd.api.types.is_numeric_dtype(results[c])
    ]


def _key_metrics(results: pd.DataFrame, params: list[str], limit: int = 12) -> list[str]:
    numeric = [
        c
        for c in results.columns
        if c not in params
        and c not in _NON_METRICS
        and pd.api.types.is_numeric_dtype(results[c])
        and results[c].notna().any()
    ]
    prefixes = (
        "reach.",
        "peak.",
        "time_to_50.",
        "adherence.overall",
        "collaboration.success",
        "persuasion.",
        "cascades.largest_size",
        "disagreement_final",
        "network.clustering",
    )
    ranked = sorted(
        numeric, key=lambda c: next((i for i, p in enumerate(prefixes) if c.startswith(p)), 99)
    )
    return ranked[:limit]


def _sweep_body(root: Path) -> tuple[str, str]:
    if (root / "results.csv").is_file():
        results = pd.read_csv(root / "results.csv")
    else:
        results = pd.read_parquet(root / "results.parquet")
    config = load_run(root).config
    title = f"socialsim sweep: {config.get('name', root.name)}"
    params = _sweep_params(results, config)
    metrics = _key_metrics(results, params)
    figs = _Figures(root)
    parts = [f"<h2>Configuration</h2><pre>{_e(_config_text(root, config))}</pre>"]
    shown = [c for c in [*params, "seed", *metrics] if c in results.columns]
    parts.append(f"<h2>Results per cell ({len(results)} runs)</h2>" + html_table(results[shown]))
    if params:
        parts.append("<h2>Measures by swept parameter</h2>")
        from socialsim.analysis.stats import aggregate_over_seeds

        for param in params:
            if metrics:
                parts.append(
                    f"<h3>{_e(param)}</h3>"
                    + html_table(aggregate_over_seeds(results, param, metrics))
                )
            for metric in metrics:
                parts.append(
                    figs.img(f"sweep_{param}_{metric}", plots.sweep_plot(results, param, metric))
                )
    return "".join(parts), title

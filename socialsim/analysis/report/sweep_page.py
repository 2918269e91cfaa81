"""The report page of a sweep directory: results per cell and each key measure by parameter.

A sweep over ``agents.prompt.template`` opens with how much the wording of the prompt moves
each headline measure (:mod:`socialsim.analysis.prompt_sensitivity`): a warning box for a
measure whose wording test rejects, a calm line otherwise, and the per-agent flip rates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from socialsim.analysis import plots
from socialsim.analysis.prompt_sensitivity import ALPHA
from socialsim.analysis.report.html import (
    MAX_CONFIG,
    _clip,
    _config_text,
    _details,
    _e,
    _Figures,
    html_table,
    plural,
)
from socialsim.analysis.summarize import analyze_sweep, sweep_results

_NON_METRICS = {"seed", "run", "run_dir", "dir", "path", "cell", "status", "error", "name", "arm"}


def _sweep_config(root: Path) -> dict[str, Any]:
    """The sweep's base config with its grid as ``sweep`` (from ``sweep.json``; {} unread)."""
    try:
        record = json.loads((root / "sweep.json").read_text(encoding="utf-8"))
        config = dict(record.get("config") or {})
        config["sweep"] = dict(record.get("grid") or {})
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, TypeError):
        return {}
    return config


def _sweep_params(results: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    swept = [k for k in (config.get("sweep") or {}) if k in results.columns and k != "seed"]
    if swept:
        return swept
    return [
        c
        for c in results.columns
        if c not in _NON_METRICS and not pd.api.types.is_numeric_dtype(results[c])
    ]


_KEY_METRICS = (  # ends (".x") or starts of the flat metric names a sweep report leads with
    ".adoption_benign.final_reach",
    ".adoption_all.final_reach",
    ".adoption_benign.peak",
    ".adoption_all.peak",
    ".adoption_benign.time_to_50",
    ".persistence_benign.reach_change",
    ".direct.manipulated_share",
    "norms.adherence",
    "collaboration.gap",
    "collaboration.success",
    "persuasion.",
    ".cascades.largest_size",
    ".disagreement_final",
    "network.clustering",
    "data_quality.unusable",
    "reach.",
    "peak.",
    "time_to_50.",
    "adherence.overall",
)


def _key_metrics(results: pd.DataFrame, params: list[str], limit: int = 12) -> list[str]:
    numeric = [
        c
        for c in results.columns
        if c not in params
        and c not in _NON_METRICS
        and pd.api.types.is_numeric_dtype(results[c])
        and results[c].notna().any()
    ]

    def rank(column: str) -> int:
        hits = (i for i, p in enumerate(_KEY_METRICS) if column.endswith(p) or column.startswith(p))
        return next(hits, len(_KEY_METRICS))

    ranked = sorted(numeric, key=rank)
    known = [c for c in ranked if rank(c) < len(_KEY_METRICS)]
    return (known or ranked)[:limit]


def _sweep_page(root: Path, figs: _Figures) -> tuple[str, str, str]:
    results = sweep_results(root)
    summary = analyze_sweep(root)  # the sweep's summary.json, with its prompt sensitivity
    config = _sweep_config(root)
    title = f"socialsim sweep: {config.get('name') or summary.get('name') or root.name}"
    params = _sweep_params(results, config)
    metrics = _key_metrics(results, params)
    shown = [c for c in [*params, "seed", *metrics] if c in results.columns]
    parts = [_sensitivity_section(summary.get("prompt_sensitivity"))]
    parts.append(
        f"<h2>Results per cell ({plural(len(results), 'run')})</h2>" + html_table(results[shown])
    )
    if params:
        from socialsim.analysis.stats import aggregate_over_seeds

        parts.append("<h2>Measures by swept parameter</h2>")
        parts.append(
            '<p class="note">Mean and t 95% interval over the seeds of each setting (the other '
            "swept parameters held fixed); n is the number of seeds, and one seed gives no "
            "interval.</p>"
        )
        for param in params:
            others = [p for p in params if p != param]
            if metrics:
                parts.append(
                    f"<h3>{_e(param)}</h3>"
                    + html_table(aggregate_over_seeds(results, [param, *others], metrics))
                )
            for metric in metrics:
                plot = plots.sweep_plot(results, param, metric, others=others)
                held = f", one line per setting of {', '.join(others)}" if others else ""
                caption = (
                    f"{metric} by {param}: mean over the seeds of each setting{held}, with the "
                    "t 95% interval across those seeds (none with one seed; with 3 to 5 seeds of "
                    "a skewed measure it held the mean in 0.85 to 0.89 of trials)."
                )
                parts.append(figs.render(f"sweep_{param}_{metric}", plot, caption))
    parts.append(
        _details("Configuration", f"<pre>{_e(_clip(_config_text(root, config), MAX_CONFIG))}</pre>")
    )
    return title, "", "".join(parts)


_WARNING = "border-left-color:#c44e52;background:#fdf2f2"


def _sensitivity_section(found: dict[str, Any] | None) -> str:
    """How much the prompt's wording moves each headline measure ('' when not swept)."""
    if not found:
        return ""
    n = len(found["templates"])
    out = [f"<h2>Sensitivity to the prompt's wording ({n} templates)</h2>"]
    if not found["measures"]:
        out.append('<p class="note">The cells name no headline measure to compare.</p>')
    for m in found["measures"]:
        name = f'{_e(m.get("label") or m["measure"])}<span class="key">{_e(m["measure"])}</span>'
        spread, effect = _num(m["spread"]), _num(m["effect"], sign=True)
        wordings = f"across {len(m['templates'])} wordings"
        described = f"Spread of the per-template means {spread} {wordings}"
        described += f", effect {effect}." if m["effect"] is not None else "."
        if m["template_sensitive"]:
            text = (
                f"<strong>Headline measure {name} is template-sensitive:</strong> the wording "
                f"of the prompt moves it beyond seed-to-seed variation ({_test(m['test'])}). "
                "A result of this sweep is then partly a product of the wording, not a finding "
                "about the agents."
            )
            out.append(f'<div class="finding" style="{_WARNING}"><p>{text}</p>')
        elif m["template_sensitive"] is False:
            out.append(
                f'<div class="finding"><p>Headline measure {name} holds across the wordings: '
                f"no wording effect beyond seed-to-seed variation ({_test(m['test'])}).</p>"
            )
        elif m["test"] is not None:
            out.append(
                f'<div class="finding"><p>Headline measure {name}: undecided, these cells '
                f"cannot reach the test's alpha ({_test(m['test'])}).</p>"
            )
        else:
            out.append(f'<div class="finding"><p>Headline measure {name}: no test.</p>')
        if m["note"]:
            out.append(f'<p class="note">{_e(m["note"])}</p>')
        if m["effect_test"] is not None:
            verdict = {
                True: "<strong>The treatment effect itself depends on the wording</strong>",
                False: "The treatment effect holds across the wordings",
            }.get(
                m["effect_template_sensitive"],
                "Whether the treatment effect depends on the "
                "wording cannot be decided with these cells",
            )
            out.append(f"<p>{verdict} ({_test(m['effect_test'])}).</p>")
        out.append(f'<p class="note">{described} Descriptive, not the flag')
        if m["spread_exceeds_effect"]:
            out.append(": the spread exceeds the size of the effect")
        if m["effect_sign_flips"]:
            out.append("; the effect changes sign from one wording to another")
        out.append(".</p>")
        rows = pd.DataFrame([{"template": t, **row} for t, row in m["by_template"].items()]).rename(
            columns={"value": "mean", "sd": "sd over cells", "effect": "mean effect"}
        )
        out.append(html_table(rows) + "</div>")
    out.append(_flips_part(found.get("flips")))
    out.append(f'<p class="note">{_e(found["definition"])}.</p>')
    return "".join(out)


def _test(test: dict[str, Any]) -> str:
    """The test's p-value, alpha and share of variance due to wording, as inline text."""
    share, eta = test.get("variance_share"), test.get("eta_squared")
    if eta is None:
        return f"every one of its {test['cells']} cells has the same value: p = 1"
    adjusted = test.get("p_adjusted")
    adjusted = adjusted if adjusted is not None and adjusted - test["p_value"] > 1e-9 else None
    how = "exact over" if test["exact"] else "over"
    how += f" {test['permutations']:,}" + ("" if test["exact"] else " random")
    return (
        f"permutation test p = {test['p_value']:.3g}"
        + (f", Holm-adjusted {adjusted:.3g}" if adjusted is not None else "")
        + f", alpha {ALPHA}, {test['cells']} cells, {how} arrangements; wording's share of the "
        f"variance {'n/a' if share is None else f'{share:.0%}'} (eta squared {eta:.2f})"
    )


def _flips_part(flips: dict[str, Any] | None) -> str:
    """The per-agent flip rates across wordings, as a table ('' when not computed)."""
    if not flips:
        return ""
    head = "<h3>Agents answering otherwise under another wording</h3>"
    if not flips["rates"]:
        return head + f'<p class="note">{_e(flips.get("note") or "no flip rate")}</p>'
    table = pd.DataFrame(flips["rates"]).rename(columns={"flip_rate": "flip rate"})
    note = f"{flips['definition']}; {flips['runs']} runs read"
    if flips.get("unread"):
        note += f", {flips['unread']} cells without a run directory"
    return head + html_table(table) + f'<p class="note">{_e(note)}.</p>'


def _num(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.3f}" if sign else f"{value:.3f}"

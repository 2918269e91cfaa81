"""The report page of a sweep directory: results per cell and each key measure by parameter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from socialsim.analysis import plots
from socialsim.analysis.io import load_run
from socialsim.analysis.report.html import (
    MAX_CONFIG,
    _clip,
    _config_text,
    _details,
    _e,
    _Figures,
    html_table,
)

_NON_METRICS = {"seed", "run", "run_dir", "dir", "path", "cell", "status", "error", "name", "arm"}


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
    if (root / "results.csv").is_file():
        results = pd.read_csv(root / "results.csv")
    else:
        results = pd.read_parquet(root / "results.parquet")
    config = load_run(root).config
    title = f"socialsim sweep: {config.get('name', root.name)}"
    params = _sweep_params(results, config)
    metrics = _key_metrics(results, params)
    shown = [c for c in [*params, "seed", *metrics] if c in results.columns]
    parts = [f"<h2>Results per cell ({len(results)} runs)</h2>" + html_table(results[shown])]
    if params:
        from socialsim.analysis.stats import aggregate_over_seeds

        parts.append("<h2>Measures by swept parameter</h2>")
        for param in params:
            if metrics:
                parts.append(
                    f"<h3>{_e(param)}</h3>"
                    + html_table(aggregate_over_seeds(results, param, metrics))
                )
            for metric in metrics:
                parts.append(
                    figs.render(f"sweep_{param}_{metric}", plots.sweep_plot(results, param, metric))
                )
    parts.append(
        _details("Configuration", f"<pre>{_e(_clip(_config_text(root, config), MAX_CONFIG))}</pre>")
    )
    return title, "", "".join(parts)

"""Figures of run and sweep measures; every function returns a matplotlib Figure.

Figures are drawn on an Agg canvas created per figure, so importing this module or calling
these functions never changes the pyplot backend of the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.analysis.stats import aggregate_over_seeds


def _figure(width: float = 6.4, height: float = 4.0) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _empty(fig: Any, ax: Any, text: str = "no data") -> Any:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def save(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Write a figure to a PNG file and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def adoption_curves(
    curves: pd.DataFrame,
    y: str = "share",
    hue: str | None = None,
    seed_col: str = "seed",
    title: str = "Adoption",
) -> Any:
    """Mean adoption per step with a 95% band across seeds, one line per `hue` value.

    `curves` is long: ``step, share`` plus optional `seed_col` and `hue` columns.
    """
    fig = _figure()
    ax = fig.add_subplot()
    if curves.empty or y not in curves:
        return _empty(fig, ax)
    frame = curves.dropna(subset=[y])
    if seed_col not in frame:
        frame = frame.assign(**{seed_col: 0})
    groups = frame.groupby(hue) if hue else [("", frame)]
    for label, group in groups:
        agg = aggregate_over_seeds(group, "step", y)
        ax.plot(agg["step"], agg["mean"], label=str(label) if hue else None)
        if group[seed_col].nunique() > 1:
            ax.fill_between(agg["step"], agg["ci_low"], agg["ci_high"], alpha=0.25)
    ax.set_xlabel("step")
    ax.set_ylabel(y)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    if hue:
        ax.legend(title=hue, fontsize="small")
    return fig


def network_credence(
    graph: nx.Graph,
    credence: pd.DataFrame,
    steps: Sequence[int] | None = None,
    seed: int = 0,
) -> Any:
    """The network coloured by credence at chosen steps (spring layout, seeded).

    `credence` is the step x agent matrix of :func:`socialsim.analysis.spread.credence_matrix`;
    default steps are the first and the last.
    """
    if credence.empty:
        fig = _figure()
        return _empty(fig, fig.add_subplot())
    steps = (
        list(steps)
        if steps is not None
        else sorted({int(credence.index[0]), int(credence.index[-1])})
    )
    fig = _figure(4.0 * len(steps), 4.0)
    pos = nx.spring_layout(graph, seed=seed)
    axes = fig.subplots(1, len(steps), squeeze=False)[0]
    nodes = list(graph.nodes)
    xy = np.array([pos[n] for n in nodes])
    edges = [(pos[u], pos[v]) for u, v in graph.edges()]
    from matplotlib.collections import LineCollection

    mappable = None
    for ax, step in zip(axes, steps, strict=True):
        row = credence.loc[step] if step in credence.index else pd.Series(dtype=float)
        values = np.array([row.get(n, np.nan) for n in nodes], dtype=float)
        ax.add_collection(LineCollection(edges, colors="0.8", linewidths=0.5, zorder=1))
        mappable = ax.scatter(
            xy[:, 0],
            xy[:, 1],
            c=values,
            cmap="coolwarm",
            vmin=0,
            vmax=1,
            s=25,
            zorder=2,
            edgecolors="0.3",
            linewidths=0.3,
            plotnonfinite=True,
        )
        ax.set_title(f"step {step}")
        ax.set_axis_off()
    if mappable is not None:
        fig.colorbar(mappable, ax=list(axes), shrink=0.8, label="credence")
    return fig


def cascade_tree(tree: nx.DiGraph, title: str | None = None) -> Any:
    """A cascade tree drawn top-down by depth from its root."""
    fig = _figure()
    ax = fig.add_subplot()
    if tree.number_of_nodes() == 0:
        return _empty(fig, ax)
    root = tree.graph.get("root", next(n for n in tree.nodes if tree.in_degree(n) == 0))
    depth = nx.single_source_shortest_path_length(tree, root)
    levels: dict[int, list[Any]] = {}
    for node in nx.dfs_preorder_nodes(tree, root):
        levels.setdefault(depth[node], []).append(node)
    pos = {}
    for d, nodes in levels.items():
        for i, node in enumerate(nodes):
            pos[node] = ((i + 1) / (len(nodes) + 1), -d)
    for u, v in tree.edges():
        ax.plot([pos[u][0], pos[v][0]], [pos[u][1], pos[v][1]], color="0.6", lw=0.8, zorder=1)
    xy = np.array([pos[n] for n in tree.nodes])
    colors = ["tab:red" if n == root else "tab:blue" for n in tree.nodes]
    ax.scatter(xy[:, 0], xy[:, 1], c=colors, s=30, zorder=2)
    if tree.number_of_nodes() <= 40:
        for n in tree.nodes:
            ax.annotate(str(n), pos[n], fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_title(title or f"cascade from {root} ({tree.number_of_nodes()} agents)")
    ax.set_ylabel("depth")
    ax.set_xticks([])
    return fig


def stance_distributions(
    before: Sequence[float],
    after: Sequence[float],
    bins: int | Sequence[float] = 10,
    label: str = "credence",
) -> Any:
    """Histograms of stances (or credences) before and after, overlaid."""
    fig = _figure()
    ax = fig.add_subplot()
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    b, a = b[~np.isnan(b)], a[~np.isnan(a)]
    if b.size == 0 and a.size == 0:
        return _empty(fig, ax)
    ax.hist(b, bins=bins, alpha=0.55, label="before")
    ax.hist(a, bins=bins, alpha=0.55, label="after")
    ax.set_xlabel(label)
    ax.set_ylabel("agents")
    ax.legend()
    return fig


def rate_bars(table: pd.DataFrame, by: str, y: str = "rate", title: str = "") -> Any:
    """Bars of a rate per group with interval whiskers (``ci_low``/``ci_high`` columns)."""
    fig = _figure()
    ax = fig.add_subplot()
    if table.empty or by not in table:
        return _empty(fig, ax)
    x = np.arange(len(table))
    values = table[y].to_numpy(dtype=float)
    err = None
    if {"ci_low", "ci_high"} <= set(table.columns):
        lo = values - table["ci_low"].to_numpy(dtype=float)
        hi = table["ci_high"].to_numpy(dtype=float) - values
        err = np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)])
    ax.bar(x, values, yerr=err, capsize=3, color="tab:blue", alpha=0.8)
    ax.set_xticks(x, [str(v) for v in table[by]], rotation=30, ha="right")
    ax.set_ylabel(y)
    ax.set_title(title)
    return fig


def adherence_bars(table: pd.DataFrame, by: str) -> Any:
    """Norm adherence per group (from :func:`socialsim.analysis.norms.adherence`)."""
    fig = rate_bars(table, by, title=f"norm adherence by {by}")
    if fig.axes:
        fig.axes[0].set_ylim(0, 1.05)
    return fig


def gap_matrix(matrix: pd.DataFrame, title: str = "pair success by model pairing") -> Any:
    """Heat map of success per (first model, second model) with the values written in."""
    fig = _figure(5.5, 4.5)
    ax = fig.add_subplot()
    if matrix.empty:
        return _empty(fig, ax)
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(range(matrix.shape[0]), [str(r) for r in matrix.index])
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if not np.isnan(values[i, j]):
                ax.text(
                    j, i, f"{values[i, j]:.2f}", ha="center", va="center", color="w", fontsize=8
                )
    ax.set_xlabel("second model")
    ax.set_ylabel("first model")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="success")
    return fig


def sweep_plot(results: pd.DataFrame, param: str, metric: str, kind: str = "auto") -> Any:
    """A metric against a swept parameter: mean and 95% interval across seeds.

    ``kind="auto"`` draws a line for numeric parameters and bars otherwise.
    """
    fig = _figure()
    ax = fig.add_subplot()
    if results.empty or param not in results or metric not in results:
        return _empty(fig, ax)
    agg = aggregate_over_seeds(results, param, metric).dropna(subset=["mean"])
    if agg.empty:
        return _empty(fig, ax)
    numeric = pd.api.types.is_numeric_dtype(results[param])
    lo = (agg["mean"] - agg["ci_low"]).fillna(0).clip(lower=0)
    hi = (agg["ci_high"] - agg["mean"]).fillna(0).clip(lower=0)
    if kind == "line" or (kind == "auto" and numeric):
        ax.errorbar(agg[param], agg["mean"], yerr=[lo, hi], marker="o", capsize=3)
        ax.set_xlabel(param)
    else:
        x = np.arange(len(agg))
        ax.bar(x, agg["mean"], yerr=[lo, hi], capsize=3, alpha=0.8)
        ax.set_xticks(x, [str(v) for v in agg[param]], rotation=30, ha="right")
        ax.set_xlabel(param)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by {param} (n = {int(agg['n'].max())} per cell)")
    return fig

"""Figures of run and sweep measures; every function returns a matplotlib Figure.

Figures are drawn on an Agg canvas created per figure (:mod:`socialsim.analysis.canvas`), so
importing this module or calling these functions never changes the pyplot backend of the
caller. The network figures (:mod:`socialsim.analysis.network_plots`) are importable from here;
each scenario family's own figures are in its package (``socialsim.scenarios.<family>.plots``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import islice
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.analysis.canvas import figure, no_data, save
from socialsim.analysis.network_plots import network_credence, network_sample, spring_positions
from socialsim.analysis.stats import MIN_REPLICATES, aggregate_over_seeds

__all__ = [
    "adoption_curves",
    "arm_values",
    "cascade_tree",
    "downsample",
    "fit_title",
    "network_credence",
    "network_sample",
    "probe_answers",
    "rate_bars",
    "save",
    "series_by_step",
    "spring_positions",
    "stance_distributions",
    "sweep_plot",
    "wrap_text",
]


def wrap_text(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, long dotted keys broken after ``._/``.

    ``wrap_text("claims.c1.adoption_benign.final_reach", 20)`` ->
    ``["claims.c1.adoption_", "benign.final_reach"]``.
    """
    width = max(int(width), 8)
    pieces: list[tuple[str, bool]] = []  # (piece, whether it starts a word)
    for word in text.split():
        parts = [p for p in re.split(r"(?<=[._/])", word) if p] if len(word) > width else [word]
        chunks = [part[i : i + width] for part in parts for i in range(0, len(part), width)]
        pieces += [(chunk, i == 0) for i, chunk in enumerate(chunks)]
    lines: list[str] = []
    for piece, starts_word in pieces:
        joined = lines[-1] + (" " if starts_word else "") + piece if lines else piece
        if lines and len(joined) <= width:
            lines[-1] = joined
        else:
            lines.append(piece)
    return lines or [""]


def fit_title(ax: Any, text: str, max_lines: int = 3) -> Any:
    """Set the axes title wrapped to fit the figure's width (at most `max_lines` lines).

    The title is measured once drawn and wrapped narrower, then made smaller, until it fits;
    a title longer than `max_lines` lines ends with an ellipsis.
    """
    fig = ax.figure
    title = ax.set_title(text)
    if not text:
        return title
    size = float(title.get_fontsize())
    room = fig.bbox.width * 0.96
    width = int(room / (size * fig.dpi / 72 * 0.6))
    renderer = fig.canvas.get_renderer()
    for _ in range(6):
        lines = wrap_text(text, width)
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = lines[-1][: max(width - 3, 1)].rstrip() + "..."
        title.set_text("\n".join(lines))
        title.set_fontsize(size)
        if title.get_window_extent(renderer).width <= room:
            break
        width = max(int(width * 0.85), 8)
        size = max(size * 0.92, 7.0)
    return title


def downsample(frame: pd.DataFrame, max_points: int = 500, x: str = "step") -> pd.DataFrame:
    """Rows at no more than `max_points` evenly spaced values of `x`, first and last kept.

    ``downsample(curve, 3)`` on steps 0..9 keeps the rows of steps 0, 4 and 9.
    """
    if frame.empty or x not in frame or max_points < 2:
        return frame
    values = np.sort(frame[x].dropna().unique())
    if values.size <= max_points:
        return frame
    keep = values[np.unique(np.linspace(0, values.size - 1, max_points).round().astype(int))]
    return frame[frame[x].isin(keep)]


def adoption_curves(
    curves: pd.DataFrame,
    y: str = "share",
    hue: str | None = None,
    seed_col: str = "seed",
    title: str = "Adoption",
    ylabel: str | None = None,
    max_points: int = 500,
) -> Any:
    """Mean adoption per step with a 95% band across seeds, one line per `hue` value.

    `curves` is long: ``step, share`` plus optional `seed_col` and `hue` columns; series
    longer than `max_points` steps are drawn at `max_points` evenly spaced steps.
    """
    fig = figure()
    ax = fig.add_subplot()
    if curves.empty or y not in curves:
        return no_data(fig, ax)
    frame = downsample(curves.dropna(subset=[y]), max_points)
    if seed_col not in frame:
        frame = frame.assign(**{seed_col: 0})
    groups = frame.groupby(hue, sort=False) if hue else [("", frame)]
    for label, group in groups:
        name = str(label) if hue else None
        if group[seed_col].nunique() <= 1:
            line = group.groupby("step")[y].mean()
            ax.plot(line.index, line.to_numpy(), label=name)
            continue
        agg = aggregate_over_seeds(group, "step", y)
        ax.plot(agg["step"], agg["mean"], label=name)
        if group[seed_col].nunique() >= MIN_REPLICATES:  # as the effects: no band from 2
            ax.fill_between(agg["step"], agg["ci_low"], agg["ci_high"], alpha=0.25)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel or y)
    ax.set_ylim(-0.02, 1.02)
    fit_title(ax, title)
    if hue:
        ax.legend(title=hue, fontsize="small")
    return fig


def series_by_step(
    table: pd.DataFrame,
    columns: Sequence[str],
    title: str = "",
    ylabel: str = "",
    x: str = "step",
    max_points: int = 500,
) -> Any:
    """One line per column of a per-step table (calls, failures, mean stance ...)."""
    fig = figure(6.4, 3.2)
    ax = fig.add_subplot()
    present = [c for c in columns if c in table]
    if table.empty or x not in table or not present:
        return no_data(fig, ax)
    frame = downsample(table.sort_values(x), max_points, x)
    for col in present:
        ax.plot(frame[x], pd.to_numeric(frame[col], errors="coerce"), label=col, marker=".")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    fit_title(ax, title)
    if len(present) > 1:
        ax.legend(fontsize="small")
    return fig


def arm_values(
    values: pd.DataFrame,
    y: str = "value",
    by: str = "arm",
    title: str = "",
    ylabel: str | None = None,
) -> Any:
    """One point per replicate in each arm, with the arm mean and its 95% t-interval."""
    fig = figure(5.0, 3.6)
    ax = fig.add_subplot()
    frame = values.dropna(subset=[y]) if y in values else values.iloc[0:0]
    if frame.empty or by not in frame:
        return no_data(fig, ax)
    agg = aggregate_over_seeds(frame, by, y)
    order = list(dict.fromkeys(frame[by]))
    agg = agg.set_index(by).loc[order]
    x = np.arange(len(order))
    jitter = np.random.default_rng(0)
    for i, arm in enumerate(order):
        points = frame.loc[frame[by] == arm, y].to_numpy(dtype=float)
        ax.scatter(i + jitter.uniform(-0.08, 0.08, points.size), points, alpha=0.6, s=18)
    few = agg["n"] < MIN_REPLICATES  # as the effects: no interval below 3 replicates
    lo = (agg["mean"] - agg["ci_low"]).where(~few).fillna(0).clip(lower=0)
    hi = (agg["ci_high"] - agg["mean"]).where(~few).fillna(0).clip(lower=0)
    ax.errorbar(x + 0.2, agg["mean"], yerr=[lo, hi], fmt="o", color="k", capsize=4)
    ax.set_xticks(x, [str(a) for a in order])
    ax.set_xlim(-0.5, len(order) - 0.5)
    ax.set_ylabel(ylabel or y)
    fit_title(ax, title)
    return fig


def cascade_tree(tree: nx.DiGraph, title: str | None = None, max_nodes: int = 300) -> Any:
    """A cascade tree drawn top-down by depth from its root (its first `max_nodes` nodes).

    A larger tree is cut to the nodes its breadth-first search from the root reaches first.
    """
    fig = figure()
    ax = fig.add_subplot()
    if tree.number_of_nodes() == 0:
        return no_data(fig, ax)
    root = tree.graph.get("root", next(n for n in tree.nodes if tree.in_degree(n) == 0))
    total = tree.number_of_nodes()
    if total > max_nodes:
        kept = [root, *islice((v for _, v in nx.bfs_edges(tree, root)), max_nodes - 1)]
        tree = tree.subgraph(kept)
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
    shown = "" if total <= max_nodes else f", first {max_nodes} drawn"
    fit_title(ax, title or f"cascade from {root} ({total} agents{shown})")
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
    fig = figure()
    ax = fig.add_subplot()
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    b, a = b[~np.isnan(b)], a[~np.isnan(a)]
    if b.size == 0 and a.size == 0:
        return no_data(fig, ax)
    ax.hist(b, bins=bins, alpha=0.55, label="before")
    ax.hist(a, bins=bins, alpha=0.55, label="after")
    ax.set_xlabel(label)
    ax.set_ylabel("agents")
    ax.legend()
    return fig


def rate_bars(table: pd.DataFrame, by: str, y: str = "rate", title: str = "") -> Any:
    """Bars of a rate per group with interval whiskers (``ci_low``/``ci_high`` columns)."""
    fig = figure()
    ax = fig.add_subplot()
    if table.empty or by not in table:
        return no_data(fig, ax)
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
    fit_title(ax, title)
    return fig


def probe_answers(
    table: pd.DataFrame, by: str = "when", hue: str = "distance", title: str = ""
) -> Any:
    """Bars of the share of answered probes following the false claim, grouped by `by`.

    `table` has `by`, `hue`, ``share`` and optional ``ci_low``/``ci_high`` columns; one bar
    per `hue` value (probe distance) in each group, whiskers for the interval.
    """
    fig = figure(6.4, 3.6)
    ax = fig.add_subplot()
    if table.empty or not {by, hue, "share"} <= set(table.columns):
        return no_data(fig, ax)
    groups = list(dict.fromkeys(table[by]))
    kinds = list(dict.fromkeys(table[hue]))
    width = 0.8 / len(kinds)
    for j, kind in enumerate(kinds):
        rows = table[table[hue] == kind].set_index(by).reindex(groups)
        values = rows["share"].to_numpy(dtype=float)
        err = None
        if {"ci_low", "ci_high"} <= set(rows.columns):
            lo = np.nan_to_num(values - rows["ci_low"].to_numpy(dtype=float))
            hi = np.nan_to_num(rows["ci_high"].to_numpy(dtype=float) - values)
            err = np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)])
        x = np.arange(len(groups)) - 0.4 + width * (j + 0.5)
        ax.bar(x, values, width=width * 0.95, yerr=err, capsize=3, alpha=0.85, label=str(kind))
    ax.set_xticks(np.arange(len(groups)), [str(g) for g in groups])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share following the false claim")
    ax.legend(title=f"probe {hue}", fontsize="small")
    fit_title(ax, title)
    return fig


def sweep_plot(
    results: pd.DataFrame,
    param: str,
    metric: str,
    kind: str = "auto",
    others: Sequence[str] = (),
) -> Any:
    """A metric against a swept parameter: mean and 95% interval across seeds.

    ``kind="auto"`` draws a line for numeric parameters and bars otherwise. `others` are the
    other swept parameters: one line (or set of bars) per combination of their values, so
    each interval is over the seeds of one setting, not over the other parameters' values.
    """
    fig = figure()
    ax = fig.add_subplot()
    others = [o for o in others if o in results and o != param]
    if results.empty or param not in results or metric not in results:
        return no_data(fig, ax)
    agg = aggregate_over_seeds(results, [param, *others], metric).dropna(subset=["mean"])
    if agg.empty:
        return no_data(fig, ax)
    numeric = pd.api.types.is_numeric_dtype(results[param])
    line = kind == "line" or (kind == "auto" and numeric)
    labels = list(dict.fromkeys(agg[param])) if not line else []
    groups = agg.groupby(others, sort=True, dropna=False) if others else [((), agg)]
    width = 0.8 / max(1, len(groups))
    for i, (values, group) in enumerate(groups):
        values = values if isinstance(values, tuple) else (values,)
        label = ", ".join(f"{o}={v}" for o, v in zip(others, values, strict=True)) or None
        lo = (group["mean"] - group["ci_low"]).fillna(0).clip(lower=0)
        hi = (group["ci_high"] - group["mean"]).fillna(0).clip(lower=0)
        if line:
            ax.errorbar(
                group[param], group["mean"], yerr=[lo, hi], marker="o", capsize=3, label=label
            )
        else:
            x = (
                np.array([labels.index(v) for v in group[param]])
                + (i - (len(groups) - 1) / 2) * width
            )
            ax.bar(x, group["mean"], width, yerr=[lo, hi], capsize=3, alpha=0.8, label=label)
    if not line:
        ax.set_xticks(np.arange(len(labels)), [str(v) for v in labels], rotation=30, ha="right")
    if others:
        ax.legend(fontsize="small")
    ax.set_xlabel(param)
    ax.set_ylabel(_short(metric))  # the whole key is in the title and the caption
    fit_title(ax, f"{metric} by {param} (n = {int(agg['n'].max())} seeds per setting)")
    return fig


def _short(key: str, most: int = 40) -> str:
    """A dotted measure key short enough for an axis: its last parts that fit `most`."""
    if len(key) <= most:
        return key
    parts, out = key.split("."), ""
    for part in reversed(parts):
        joined = f"{part}.{out}" if out else part
        if len(joined) + 1 > most:
            break
        out = joined
    return "…" + (out or key[-most:])

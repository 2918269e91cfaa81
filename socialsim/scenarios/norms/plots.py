"""Figures of norm adherence and justifications; every function returns a matplotlib Figure.

Adherence bars per group; the justification block of ``measures.norms.justifications``
(:func:`justification_cells`, :func:`justification_points`); adherence in each variant
frame beside its base frame (:func:`variant_adherence`). Frame ids come from user tables,
so labels are clipped (:func:`plain_label`) and drawn with ``parse_math=False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.canvas import figure, no_data
from socialsim.analysis.plots import fit_title, rate_bars, wrap_text
from socialsim.analysis.report.html import plural

# (dotted key in the justifications block, label): mean cells of `agreement`, over agents
AGREEMENT_ROWS = (
    ("agreement", "all scored choices"),
    ("by_version.base", "base frames"),
    ("by_version.variant", "variant frames"),
    ("by_choice.rule", "chose the rule"),
    ("by_choice.other", "chose another behaviour"),
)
# (dotted key, label): Wilson cells (k of answered)
SHARE_ROWS = (
    ("matches_rule", "chose the rule"),
    ("says_rule_does_other", "reason states the rule, chose other"),
    ("variants.choice_changed", "variant: choice changed"),
    ("variants.choice_changed_rule_changed", "rule changed: choice changed"),
    ("variants.choice_changed_rule_kept", "rule kept: choice changed"),
    ("variants.justification_follows_choice", "reason changed with the choice"),
)
CELL_COLUMNS = ["panel", "key", "label", "n", "k", "value", "ci_low", "ci_high"]
MAX_LABEL = 42  # characters of a tick label
MAX_FRAMES = 20  # frames drawn in the justification figure


def plain_label(text: Any, limit: int = MAX_LABEL) -> str:
    """Text clipped to `limit` characters for a tick label (drawn with ``parse_math=False``)."""
    value = str(text)
    return value if len(value) <= limit else value[: limit - 3] + "..."


def adherence_bars(table: pd.DataFrame, by: str) -> Any:
    """Norm adherence per group (from :func:`socialsim.scenarios.norms.measures.adherence`)."""
    fig = rate_bars(table, by, title=f"norm adherence by {by}")
    if fig.axes:
        fig.axes[0].set_ylim(0, 1.05)
    return fig


def _cell(block: dict[str, Any], dotted: str) -> dict[str, Any] | None:
    node: Any = block
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def justification_cells(
    block: dict[str, Any] | None, max_frames: int | None = MAX_FRAMES
) -> pd.DataFrame:
    """The justifications block as rows: ``panel, key, label, n, k, value, ci_low, ci_high``.

    Panel ``agreement``: mean cells of agreement with the rule of thumb (``n`` = agents, no
    ``k``), overall, by version, by choice, then the first `max_frames` (None: every)
    ``by_frame.<id>``; panel ``share``: Wilson cells (``k`` of ``n`` answered). Cells the
    block lacks are left out; one without a value is kept with a NaN value.
    """
    if not isinstance(block, dict):
        return pd.DataFrame(columns=CELL_COLUMNS)
    frames = block.get("by_frame") if isinstance(block.get("by_frame"), dict) else {}
    shown = list(frames)[:max_frames]
    agreement = [*AGREEMENT_ROWS, *((f"by_frame.{f}", f"frame {f}") for f in shown)]
    rows = []
    for panel, specs, n_key, value_key in (
        ("agreement", agreement, "agents", "mean"),
        ("share", SHARE_ROWS, "answered", "rate"),
    ):
        for key, label in specs:
            cell = _cell(block, key) if not key.startswith("by_frame.") else frames.get(key[9:])
            if not isinstance(cell, dict):
                continue
            values = [cell.get(c) for c in ("k", value_key, "ci_low", "ci_high")]
            rows.append([panel, key, label, int(cell.get(n_key) or 0), *values])
    table = pd.DataFrame(rows, columns=CELL_COLUMNS)
    for col in ("value", "ci_low", "ci_high"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    return table


def _interval_points(ax: Any, labels: Sequence[str], rows: pd.DataFrame, color: str) -> int:
    """One point per row (top to bottom) with its interval whiskers; returns points drawn.

    `labels` are drawn as given (clip them with :func:`plain_label` first)."""
    y = np.arange(len(rows), dtype=float)[::-1]
    values = rows["value"].to_numpy(dtype=float)
    lo = np.clip(np.nan_to_num(values - rows["ci_low"].to_numpy(dtype=float)), 0, None)
    hi = np.clip(np.nan_to_num(rows["ci_high"].to_numpy(dtype=float) - values), 0, None)
    drawn = ~np.isnan(values)
    if drawn.any():
        err = np.vstack([lo[drawn], hi[drawn]])
        ax.errorbar(values[drawn], y[drawn], xerr=err, fmt="o", capsize=3, color=color)
    ax.set_yticks(y, list(labels), fontsize=8, parse_math=False)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="x", alpha=0.3)
    return int(drawn.sum())


def justification_points(block: dict[str, Any] | None, title: str = "") -> Any:
    """Justifications against the rule of thumb: agreement (left) and shares (right).

    Left: mean agreement over agents with t 95% intervals (overall, base / variant frames,
    rule / other choices, each frame); right: Wilson 95% shares (chose the rule, states the
    rule but chose another, base-variant pairs whose choice changed). One point per cell
    with a value; `block` is ``measures.norms.justifications``.
    """
    cells = justification_cells(block)
    agreement = cells[cells["panel"] == "agreement"]
    shares = cells[cells["panel"] == "share"]
    height = 1.6 + 0.28 * max(len(agreement), len(shares), 1)
    fig = figure(10.0, height)
    left, right = fig.subplots(1, 2)
    if agreement["value"].isna().all():
        reason = (block or {}).get("reason") if isinstance(block, dict) else None
        no_data(fig, right)
        return no_data(
            fig, left, "\n".join(wrap_text(str(reason or "no scored justification"), 60))
        )
    labels = [f"{plain_label(r.label)} ({plural(r.n, 'agent')})" for r in agreement.itertuples()]
    _interval_points(left, labels, agreement, "tab:blue")
    left.set_xlabel("share of the rule's content words in the reason")
    if shares.empty:
        no_data(fig, right)
    else:
        labels = [
            f"{r.label} ({0 if pd.isna(r.k) else int(r.k)}/{r.n})" for r in shares.itertuples()
        ]
        _interval_points(right, labels, shares, "tab:green")
        right.set_xlabel("share (k/n)")
        fit_title(right, "choices and base-variant pairs")
    fit_title(left, title or "agreement with the rule of thumb")
    return fig


def variant_adherence(table: pd.DataFrame, title: str = "") -> Any:
    """Adherence in each variant frame beside its base frame: paired points with whiskers.

    `table` has ``variant, version`` (``base`` / ``variant``), ``rate``, ``ci_low``,
    ``ci_high`` and ``answered``: two rows per pair. One pair per x position (base left,
    variant right, joined by a line); a frame with nothing answered is not drawn.
    """
    fig = figure(6.4, 3.8)
    ax = fig.add_subplot()
    needed = {"variant", "version", "rate", "ci_low", "ci_high"}
    if table.empty or not needed <= set(table.columns):
        return no_data(fig, ax, "no variant frame with its base frame")
    pairs = list(dict.fromkeys(table["variant"]))
    styles = {"base": (-0.12, "o", "tab:blue"), "variant": (0.12, "s", "tab:orange")}
    points: dict[str, dict[int, float]] = {"base": {}, "variant": {}}
    for version, (shift, marker, color) in styles.items():
        rows = table[table["version"] == version].set_index("variant").reindex(pairs)
        values = pd.to_numeric(rows["rate"], errors="coerce").to_numpy(dtype=float)
        low = pd.to_numeric(rows["ci_low"], errors="coerce").to_numpy(dtype=float)
        high = pd.to_numeric(rows["ci_high"], errors="coerce").to_numpy(dtype=float)
        drawn = ~np.isnan(values)
        x = np.arange(len(pairs), dtype=float) + shift
        err = np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
        ax.errorbar(
            x[drawn], values[drawn], yerr=np.nan_to_num(err[:, drawn]), fmt=marker,
            color=color, capsize=3, label=f"{version} frame",
        )  # fmt: skip
        points[version] = {i: values[i] for i in np.flatnonzero(drawn)}
    for i in set(points["base"]) & set(points["variant"]):
        ax.plot([i - 0.12, i + 0.12], [points["base"][i], points["variant"][i]], color="0.6", lw=1)
    bases = dict(zip(table["variant"], table["base"], strict=True)) if "base" in table else {}
    labels = [
        plain_label(p, 28) + (f"\nvs {plain_label(bases[p], 25)}" if p in bases else "")
        for p in pairs
    ]
    ax.set_xticks(range(len(pairs)), labels, rotation=20, ha="right", parse_math=False)
    ax.set_xlim(-0.6, len(pairs) - 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("variant frame (left point: its base frame)")
    ax.set_ylabel("adherence (expected or okay)")
    ax.legend(fontsize="small")
    fit_title(ax, title or "adherence in base and variant frames")
    return fig

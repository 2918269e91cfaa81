"""Effects against the control as a report shows them: the estimate, its interval or why
there is none, and the minimum detectable effect.

An effect is a dict of the arms summary (``socialsim.experiments.arms``): ``measure``,
``treatment``, ``control``, ``difference``, ``ci_low``, ``ci_high``, ``n_replicates``,
``interval`` (``{"method", "level", "n"}`` or None), ``no_interval`` (why there is none),
``sd_difference`` and ``mde``. Older summaries lack the last four, or hold ``"interval":
"agents"`` (a range over the agents of one replicate): these are read and shown as what they
are; no interval is ever shown for a single replicate.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from socialsim.analysis import stats
from socialsim.analysis.report.html import _e, _number, plural
from socialsim.analysis.report.wording import ClaimTexts, measure_label


def _effect_for(measure: str, effects: list[dict[str, Any]]) -> dict[str, Any] | None:
    bare = measure.removeprefix("measures.")
    for effect in effects:
        if str(effect.get("measure", "")).removeprefix("measures.") == bare:
            return effect
    return None


def _n_replicates(effect: dict[str, Any]) -> int | None:
    n = effect.get("n_replicates", effect.get("n"))
    return int(n) if isinstance(n, int | float | np.number) and not isinstance(n, bool) else None


def interval_of(effect: dict[str, Any]) -> dict[str, Any]:
    """How to show an effect's uncertainty: an interval, or none and why.

    Returns ``{"low", "high", "level", "method", "n"}`` for an interval over replicates, or
    ``{"none": reason}``.
    """
    n = _n_replicates(effect)
    lo, hi = effect.get("ci_low"), effect.get("ci_high")
    interval = effect.get("interval")
    has_bounds = _is_number(lo) and _is_number(hi)
    if interval == "agents":
        over = f"the {effect['n_agents']} agents" if effect.get("n_agents") else "the agents"
        bounds = f" {_number(lo)} to {_number(hi)}" if has_bounds else ""
        return {
            "none": f"{plural(n or 1, 'replicate')}; the stored range{bounds} is over {over} "
            "of one replicate (which agents the run had), not an effect interval"
        }
    if not has_bounds or (n is not None and n < 2):
        reason = effect.get("no_interval")
        if not reason and n is not None and n < 2:
            need = max(int(getattr(stats, "MIN_REPLICATES", 3)), 2)
            reason = f"{plural(n, 'replicate')}; an interval needs at least {need} "
            reason += f"(--replicates {need})"
        return {"none": str(reason or "summary.json holds none")}
    info = interval if isinstance(interval, dict) else {}
    level = info.get("level", 0.95)
    return {
        "low": lo,
        "high": hi,
        "level": level if _is_number(level) else 0.95,
        "method": str(info.get("method") or "method not recorded"),
        "n": info.get("n", n),
    }


def _cli(text: str) -> str:
    """Command-line options in `text` (``--replicates 3``) kept on one line as code."""
    return re.sub(r"(--[a-z][a-z-]*(?: \d+)?)", r"<code>\1</code>", text)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.number)
        and not isinstance(value, bool)
        and not np.isnan(value)
    )


def _level(level: Any) -> str:
    return f"{float(level) * 100:g}%"


def _mde_text(effect: dict[str, Any]) -> str:
    """The minimum detectable effect in words ("" for a summary that does not record it)."""
    if "mde" not in effect:
        return ""
    if _is_number(effect["mde"]):
        return (
            f"minimum detectable effect {_number(effect['mde'])} "
            "(80% power, 5% two-sided, at this number of replicates)"
        )
    return "no minimum detectable effect without an interval"


def effect_text(effect: dict[str, Any]) -> str:
    """A paragraph: the difference against the control with its interval (or why there is
    none), the arms' means, the replicates and the minimum detectable effect."""
    shown = interval_of(effect)
    text = f"Against the control: difference {_number(effect.get('difference'), signed=True)}"
    if "none" in shown:
        text += f" &mdash; <b>no interval</b>: {_cli(_e(shown['none']))}"
    else:
        text += (
            f", {_level(shown['level'])} interval {_number(shown['low'])} to "
            f"{_number(shown['high'])} ({_e(shown['method'])}, n = {_e(shown['n'])})"
        )
        if shown["low"] <= 0 <= shown["high"]:
            text += "; the interval includes 0, so the runs are consistent with no effect"
    text += (
        f". Treatment {_number(effect.get('treatment'))}, control {_number(effect.get('control'))}"
    )
    n = _n_replicates(effect)
    if n is not None:
        text += f"; {plural(n, 'replicate')} per arm"
    mde = _mde_text(effect)
    return f'<p class="effect">{text}' + (f"; {mde}" if mde else "") + ".</p>"


def measure_cell(measure: str, label: str | None, texts: ClaimTexts | None = None) -> str:
    """A measure as a readable label with its raw key beside it in small type."""
    bare = measure.removeprefix("measures.")
    readable = label or measure_label(bare, texts)
    return f'{_e(readable)}<span class="key">{_e(bare)}</span>'


def effects_table(
    effects: list[dict[str, Any]], labels: dict[str, str], texts: ClaimTexts | None = None
) -> str:
    """The effects as an HTML table: label and key, means, difference, interval or why
    none, its method and n, and the minimum detectable effect."""
    head = [
        "measure",
        "treatment mean",
        "control mean",
        "difference",
        "95% interval",
        "method (n)",
        "minimum detectable effect",
        "replicates",
    ]
    rows = []
    reasons: dict[str, int] = {}  # why an effect has no interval -> its footnote number
    for effect in effects:
        measure = str(effect.get("measure", ""))
        shown = interval_of(effect)
        if "none" in shown:
            reasons.setdefault(shown["none"], len(reasons) + 1)
            interval = f"no interval<sup>{reasons[shown['none']]}</sup>"
            method = ""
        else:
            interval = f"{_number(shown['low'])} to {_number(shown['high'])}"
            if _level(shown["level"]) != "95%":
                interval += f" ({_level(shown['level'])})"
            method = f"{_e(shown['method'])} ({_e(shown['n'])})"
        mde = effect.get("mde")
        cells = [
            measure_cell(measure, labels.get(measure.removeprefix("measures.")), texts),
            _number(effect.get("treatment")),
            _number(effect.get("control")),
            _number(effect.get("difference"), signed=True),
            interval,
            method,
            _number(mde) if _is_number(mde) else ("" if "mde" not in effect else "none"),
            _e(_n_replicates(effect)),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{h}</th>" for h in head)
    notes = "".join(
        f'<p class="note"><sup>{i}</sup> No interval: {_cli(_e(why))}.</p>'
        for why, i in reasons.items()
    )
    return f'<table class="effects"><tr>{header}</tr>{"".join(rows)}</table>{notes}'

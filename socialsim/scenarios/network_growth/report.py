"""What the network_growth family adds to a run's report page for attachment.

Registered on import of :mod:`socialsim.scenarios.network_growth`: the ``network_growth
attachment`` report part draws ``measures.network_growth.attachment``: the attachment rate
per in-degree bin on log-log axes with the fitted exponent (``growth_attachment``) and the
gain correlations with their intervals (``growth_gain``). The paradox and degree figures are
the ``network_growth figures`` part (:mod:`socialsim.scenarios.network_growth.measures`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.report.html import plural
from socialsim.analysis.report.parts import register_report_part
from socialsim.core.rundata import RunData, of_kind, payload
from socialsim.scenarios.network_growth.attachment import (
    attachment_exponent,
    gain_correlations,
    node_bins,
)
from socialsim.scenarios.network_growth.measures import GrowthParams
from socialsim.scenarios.network_growth.plots import GAIN_ROWS, attachment_rates, gain_intervals

BIN_COLUMNS = ["k_low", "k_high", "k1", "exposure", "follows", "rate"]


def attachment_bins(events: pd.DataFrame, n: int) -> pd.DataFrame:
    """Per in-degree bin: ``k_low, k_high, k1, exposure, follows, rate`` (follows / exposure).

    The bins of :func:`~socialsim.scenarios.network_growth.attachment.attachment_exponent`,
    with ``k1`` the exposure-weighted geometric mean of k + 1 in the bin: the x its fit uses.
    """
    data = node_bins(events, n)
    y, e, lx = (data[k].sum(0) for k in ("received", "exposure", "exposure_logx"))
    if not len(e):
        return pd.DataFrame(columns=BIN_COLUMNS)
    b = np.arange(len(e))
    has = e > 0
    return pd.DataFrame(
        {
            "k_low": 2**b - 1,
            "k_high": 2 ** (b + 1) - 2,
            "k1": np.where(has, np.exp(lx / np.where(has, e, 1.0)), np.nan),
            "exposure": e,
            "follows": y.astype(np.int64),
            "rate": np.where(has, y / np.where(has, e, 1.0), np.nan),
        }
    )


def _fit_text(fit: dict[str, Any]) -> str:
    """``alpha = 0.97 (95% ... interval 0.85 to 1.10)``, or why there is no alpha."""
    alpha = fit.get("exponent")
    if alpha is None:
        return f"no fitted alpha ({fit.get('reason') or 'no fit'})"
    if fit.get("ci_low") is None or fit.get("ci_high") is None:
        return f"alpha = {alpha:.2f} (no interval: {fit.get('reason') or 'none'})"
    method = (fit.get("interval") or {}).get("method", "bootstrap")
    return (
        f"alpha = {alpha:.2f} (95% {method} interval {fit['ci_low']:.2f} to {fit['ci_high']:.2f})"
    )


def gain_table(gain: dict[str, Any]) -> pd.DataFrame:
    """The gain correlations as rows: ``predictor, n, rho, ci_low, ci_high, note``."""
    rows = []
    for key, label in GAIN_ROWS:
        cell = gain.get(key) if isinstance(gain.get(key), dict) else {}
        note = cell.get("reason") or cell.get("no_interval") or ""
        values = {k: cell.get(k) for k in ("n", "rho", "ci_low", "ci_high")}
        rows.append({"predictor": label, **values, "note": note})
    return pd.DataFrame(rows)


def _has_choices(run: RunData) -> bool:
    actions = of_kind(run.events, "action")
    return not actions.empty and bool((payload(actions, "type") == "follow_choice").any())


def _attachment(run: RunData) -> dict[str, Any] | None:
    """The written ``measures.network_growth.attachment`` (None when the summary lacks it)."""
    written = ((run.summary or {}).get("measures") or {}).get("network_growth")
    block = written.get("attachment") if isinstance(written, dict) else None
    return block if isinstance(block, dict) else None


def _exponent(run: RunData) -> dict[str, Any]:
    """The exponent block as summarised, or computed with the run's measure params."""
    block = (_attachment(run) or {}).get("exponent")
    if isinstance(block, dict):
        return block
    given = ((run.config.get("analysis") or {}).get("measures") or {}).get("network_growth")
    params = GrowthParams.model_validate(given or {})
    return attachment_exponent(run.events, run.n_agents, params.resamples, params.seed)


@register_report_part(
    "network_growth attachment",
    figures={
        "network_growth.attachment": "growth_attachment",
        "network_growth.attachment.gain": "growth_gain",
    },
)
def attachment_part(run: RunData, figs: Any, tables: list) -> None:
    """Attachment rate by in-degree with the fitted exponent; the gain correlations."""
    if run.events.empty or not _has_choices(run):
        return
    bins = attachment_bins(run.events, run.n_agents)
    fit = _exponent(run)
    if not bins.empty and (bins["follows"] > 0).any():
        figs.add(
            "growth_attachment",
            attachment_rates(bins, fit),
            "Follows received per node-step relative to the step's even share, per in-degree "
            "bin (floor(log2(k + 1))), against k + 1 on log-log axes, with the fitted "
            f"preferential-attachment line A(k) ~ (k + 1)^alpha: {_fit_text(fit)}; over "
            f"{plural(fit.get('agents', 0), 'agent')} and "
            f"{plural(fit.get('follows', 0), 'follow')} (measures.network_growth.attachment."
            "exponent).",
        )
        tables.append(("Attachment by in-degree bin", bins))
    else:
        reason = fit.get("reason") or "no follow received after an agent's join step"
        note = pd.DataFrame([{"figure": "growth_attachment not drawn", "reason": reason}])
        tables.append(("Attachment by in-degree bin", note))
    gain = (_attachment(run) or {}).get("gain")
    if not isinstance(gain, dict):
        gain = gain_correlations(run.events, run.n_agents)
    if gain.get("agents"):
        figs.add(
            "growth_gain",
            gain_intervals(gain),
            f"Spearman correlation, over the {plural(gain.get('agents', 0), 'agent')} joined by "
            f"step {gain.get('split')}, of the follows each receives after that step with its "
            "followers at it and with its activity after it (messages sent plus follow "
            "choices), with Fisher-z 95% intervals (measures.network_growth.attachment.gain).",
        )
        tables.append(("Follows received after the split: correlations", gain_table(gain)))

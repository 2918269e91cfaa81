"""How new follows attach in a grown network: to popular agents, to active ones, or evenly?

Two measures over a network_growth run's ``joined``, ``follow`` / ``unfollow`` events (and
the ``message`` / ``follow_choice`` events that make an agent's activity):

- :func:`gain_correlations`: the run is split at a step (default the middle one); for the
  agents joined by then, the Spearman correlation (Fisher-z interval,
  :func:`socialsim.analysis.consistency.spearman_ci`) of the follows each receives after
  the split with its in-degree at the split and with its activity after it (messages sent
  plus follow choices made).
- :func:`attachment_exponent`: the preferential-attachment exponent alpha of
  ``A(k) ~ (k + 1)^alpha``, A the rate at which an agent of in-degree k at the start of a
  step receives follows in it, relative to the step's even share (follows received at the
  step by agents joined before it / their number; an agent's own join step is left out, as
  a joiner cannot follow itself). Node-steps are binned by floor(log2(k + 1)); per bin, the
  follows received y and the even-share exposure E; alpha is the Poisson maximum-likelihood
  slope of ``log(y / E)`` on the exposure-weighted mean of ``log(k + 1)`` (the two-bin case
  is the line through both rates), with a percentile bootstrap interval over agents.
  Preferential attachment by followers + 1 gives alpha = 1, uniform attachment alpha = 0.

Linear in agents + events; the bootstrap costs resamples x agents x bins.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.consistency import spearman_ci
from socialsim.core.rundata import of_kind, payload

BOOTSTRAP = "agent bootstrap, percentile"


def _table(events: pd.DataFrame, types: tuple[str, ...]) -> pd.DataFrame:
    actions = of_kind(events, "action")
    if actions.empty:
        return actions
    return actions[payload(actions, "type").isin(types).to_numpy(dtype=bool)]


def _follows(events: pd.DataFrame) -> pd.DataFrame:
    rows = _table(events, ("follow", "unfollow"))
    if rows.empty:
        return pd.DataFrame({c: np.zeros(0, np.int64) for c in ("step", "target", "sign")})
    sign = np.where(payload(rows, "type").to_numpy() == "follow", 1, -1)
    return pd.DataFrame(
        {
            "step": rows["step"].to_numpy(dtype=np.int64),
            "target": rows["target"].to_numpy(dtype=np.int64),
            "sign": sign.astype(np.int64),
        }
    )


def _join_steps(events: pd.DataFrame, n: int) -> np.ndarray:
    """Each agent's join step (-1: never joined)."""
    out = np.full(n, -1, dtype=np.int64)
    rows = _table(events, ("joined",))
    if not rows.empty:
        agents = rows["agent"].to_numpy(dtype=np.int64)
        steps = rows["step"].to_numpy(dtype=np.int64)
        keep = (agents >= 0) & (agents < n)
        order = np.argsort(-steps[keep], kind="stable")  # the earliest join written last
        out[agents[keep][order]] = steps[keep][order]
    return out


def _activity(events: pd.DataFrame, n: int, after: int) -> np.ndarray:
    """Messages sent plus follow choices made by each agent at steps after `after`."""
    msgs = of_kind(events, "message")
    choices = _table(events, ("follow_choice",))
    agents = [t.loc[t["step"].to_numpy() > after, "agent"] for t in (msgs, choices) if len(t)]
    ids = np.concatenate([a.to_numpy(dtype=np.int64) for a in agents]) if agents else []
    ids = np.asarray(ids, dtype=np.int64)
    return np.bincount(ids[(ids >= 0) & (ids < n)], minlength=n)


def gain_correlations(events: pd.DataFrame, n: int, split: int | None = None) -> dict[str, Any]:
    """Follows received after `split` against in-degree at `split` and activity after it.

    ``split`` (default: the middle step, ``last // 2``), ``last``, ``agents`` (joined by the
    split), ``prior_in_degree`` and ``activity``: each a :func:`spearman_ci` result (rho,
    interval, or a reason such as ``activity is constant``).
    """
    last = int(events["step"].max()) if len(events) else 0
    split = last // 2 if split is None else int(split)
    join = _join_steps(events, n)
    joined = np.flatnonzero((join >= 0) & (join <= split))
    follows = _follows(events)
    at = follows["step"].to_numpy()
    target, sign = follows["target"].to_numpy(), follows["sign"].to_numpy()
    prior = np.bincount(target[at <= split], weights=sign[at <= split], minlength=n)
    late = (at > split) & (sign > 0)
    gain = np.bincount(target[late], minlength=n)
    activity = _activity(events, n, split)
    names = ("prior in-degree", "follows received")
    return {
        "split": split,
        "last": last,
        "agents": len(joined),
        "prior_in_degree": spearman_ci(prior[joined], gain[joined], names),
        "activity": spearman_ci(activity[joined], gain[joined], ("activity", names[1])),
    }


# --- the exponent ----------------------------------------------------------------------------
def node_bins(events: pd.DataFrame, n: int) -> dict[str, np.ndarray]:
    """Per agent and degree bin: follows received, even-share exposure, exposure x log(k + 1).

    Bin b holds in-degrees k with floor(log2(k + 1)) = b. Arrays of shape (agents, bins);
    rows are the agents with any exposure (``agents`` gives their ids).
    """
    join = _join_steps(events, n)
    follows = _follows(events)
    last = int(events["step"].max()) if len(events) else 0
    # the even share at step s: follows received by agents joined before s, over their number
    joins = np.bincount(join[join >= 0], minlength=last + 1)[: last + 1]
    at_risk = np.concatenate([[0], np.cumsum(joins)[:-1]])  # agents joined before each step
    fs, ft, fsign = (follows[c].to_numpy() for c in ("step", "target", "sign"))
    member = (ft >= 0) & (ft < n)
    member[member] = join[ft[member]] >= 0  # follows to agents with no joined event are left out
    fs, ft, fsign = fs[member], ft[member], fsign[member]
    old = (fsign > 0) & (join[ft] < fs)
    received = np.bincount(fs[old], minlength=last + 1)
    share = np.where(at_risk > 0, received / np.maximum(at_risk, 1), 0.0)
    cum = np.concatenate([[0.0], np.cumsum(share)])  # cum[s + 1] = share of steps 0..s
    # per (target, step): net change and follows; degree at the start of the step
    by = pd.DataFrame({"t": ft, "s": fs, "d": fsign, "f": (fsign > 0).astype(np.int64)})
    by = by.groupby(["t", "s"], sort=True).agg(d=("d", "sum"), f=("f", "sum")).reset_index()
    t, s, d, f = (by[c].to_numpy() for c in ("t", "s", "d", "f"))
    after = np.maximum(_grouped_cumsum(t, d), 0)
    before = np.maximum(after - d, 0)
    # exposure intervals: (join, s_1], (s_1, s_2], ..., (s_m, last] with degrees 0, D_1, ..
    members = np.flatnonzero(join >= 0)
    iv_agent = np.concatenate([members, t])
    iv_start = np.concatenate([join[members], s])
    iv_degree = np.concatenate([np.zeros(len(members), np.int64), after])
    order = np.lexsort((iv_start, iv_agent))
    iv_agent, iv_start, iv_degree = iv_agent[order], iv_start[order], iv_degree[order]
    iv_end = np.append(iv_start[1:], last)
    closes = np.append(iv_agent[1:] != iv_agent[:-1], True)
    iv_end = np.where(closes, last, iv_end)
    lo = np.maximum(iv_start, join[iv_agent])
    exposure = np.where(iv_end > lo, cum[iv_end + 1] - cum[lo + 1], 0.0)
    counted = s > join[t]  # follows at the agent's own join step are left out
    bins_iv = _bin(iv_degree)
    bins_f = _bin(before)
    n_bins = 1 + int(max(bins_iv[exposure > 0].max(initial=0), bins_f[counted].max(initial=0)))
    ids = np.unique(iv_agent[exposure > 0]) if len(iv_agent) else np.zeros(0, np.int64)
    row = np.full(n, -1, dtype=np.int64)
    row[ids] = np.arange(len(ids))
    shape = (len(ids), n_bins)
    exp_m, logx_m, rec_m = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    keep = (row[iv_agent] >= 0) & (exposure > 0)
    np.add.at(exp_m, (row[iv_agent[keep]], bins_iv[keep]), exposure[keep])
    np.add.at(logx_m, (row[iv_agent[keep]], bins_iv[keep]),
              exposure[keep] * np.log(iv_degree[keep] + 1.0))  # fmt: skip
    keep = counted & (row[t] >= 0)
    np.add.at(rec_m, (row[t[keep]], bins_f[keep]), f[keep])
    return {"agents": ids, "received": rec_m, "exposure": exp_m, "exposure_logx": logx_m}


def _grouped_cumsum(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sum of `values` within runs of equal `groups` (sorted by group)."""
    if len(values) == 0:
        return np.asarray(values).copy()
    total = np.cumsum(values)
    starts = np.flatnonzero(np.append(True, groups[1:] != groups[:-1]))
    offset = np.repeat(total[starts] - values[starts], np.diff(np.append(starts, len(values))))
    return total - offset


def _bin(degree: np.ndarray) -> np.ndarray:
    return np.floor(np.log2(np.asarray(degree, dtype=float) + 1.0)).astype(np.int64)


def poisson_slope(
    received: np.ndarray, exposure: np.ndarray, logx: np.ndarray, iterations: int = 100
) -> np.ndarray:
    """Maximum-likelihood alpha of y ~ Poisson(E exp(a + alpha u)), row by row (NaN if none).

    Each row of the (fits, bins) arrays is one fit; bins with no exposure are left out.
    Newton's method (the log-likelihood is concave) with steps capped at 1; NaN where it
    does not settle, which happens when every follow is in the lowest or highest bin.
    """
    y, e = np.atleast_2d(received).astype(float), np.atleast_2d(exposure).astype(float)
    u = np.where(e > 0, np.atleast_2d(logx), 0.0)
    used = e > 0
    centre = (u * used).sum(1, keepdims=True) / np.maximum(used.sum(1, keepdims=True), 1)
    u = np.where(used, u - centre, 0.0)
    a = np.log(np.maximum(y.sum(1), 1e-300) / np.maximum(e.sum(1), 1e-300))
    alpha = np.zeros(len(y))
    step = np.ones(len(y))
    for _ in range(iterations):
        mu = np.where(used, e * np.exp(np.clip(a[:, None] + alpha[:, None] * u, -700, 700)), 0.0)
        r = y - mu
        g = np.stack([r.sum(1), (r * u).sum(1)], axis=1)
        h00, h01, h11 = mu.sum(1), (mu * u).sum(1), (mu * u * u).sum(1)
        det = h00 * h11 - h01 * h01
        ok = det > 1e-12
        da = np.where(ok, (h11 * g[:, 0] - h01 * g[:, 1]) / np.where(ok, det, 1), 0.0)
        dk = np.where(ok, (h00 * g[:, 1] - h01 * g[:, 0]) / np.where(ok, det, 1), 0.0)
        scale = np.minimum(1.0, 1.0 / np.maximum(np.abs(dk), 1e-12))
        a, alpha = a + scale * da, alpha + scale * dk
        step = np.abs(scale * dk)
        if np.all(step < 1e-10):
            break
    settled = (step < 1e-8) & ((y > 0).sum(1) > 0) & (used.sum(1) >= 2) & (np.abs(alpha) < 20)
    return np.where(settled, alpha, np.nan)


def attachment_exponent(
    events: pd.DataFrame, n: int, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, Any]:
    """The preferential-attachment exponent alpha with a bootstrap interval over agents.

    ``exponent``, ``ci_low`` / ``ci_high`` (percentiles of `resamples` refits on agents
    drawn with replacement; ``interval`` names the method), ``agents``, ``follows`` (those
    counted), ``bins``: per degree bin ``k_low, k_high, exposure, follows, rate``
    (follows / exposure). None values with a ``reason`` when there is no fit.
    """
    data = node_bins(events, n)
    rec, exp_, logx = data["received"], data["exposure"], data["exposure_logx"]
    y, e, lx = rec.sum(0), exp_.sum(0), logx.sum(0)
    mean_logx = np.where(e > 0, lx / np.where(e > 0, e, 1), 0.0)
    out: dict[str, Any] = {"exponent": None, "ci_low": None, "ci_high": None, "interval": None}
    out |= {"agents": len(data["agents"]), "follows": int(y.sum())}
    out["bins"] = [
        {"k_low": 2**b - 1, "k_high": 2 ** (b + 1) - 2, "exposure": float(e[b]),
         "follows": int(y[b]), "rate": float(y[b] / e[b]) if e[b] > 0 else None}
        for b in range(len(e))
    ]  # fmt: skip
    if len(data["agents"]) < 3 or (e > 0).sum() < 2 or y.sum() == 0:
        return out | {"reason": "fewer than 3 agents, 2 degree bins or 1 follow to fit"}
    alpha = float(poisson_slope(y, e, mean_logx)[0])
    if np.isnan(alpha):
        return out | {"reason": "no finite fit: every follow went to the lowest or highest bin"}
    out["exponent"] = alpha
    rng = np.random.default_rng(seed)
    m = len(data["agents"])
    draws = []
    chunk = max(1, min(100, 2_000_000 // m))  # resampled counts held at once: chunk x agents
    for start in range(0, resamples, chunk):
        counts = np.stack(
            [np.bincount(rng.integers(m, size=m), minlength=m)
             for _ in range(min(chunk, resamples - start))]
        ).astype(float)  # fmt: skip
        ey, ee, el = counts @ rec, counts @ exp_, counts @ logx
        draws.append(poisson_slope(ey, ee, np.where(ee > 0, el / np.where(ee > 0, ee, 1), 0.0)))
    boot = np.concatenate(draws)
    boot = boot[~np.isnan(boot)]
    if len(boot) < 0.9 * resamples:
        return out | {"reason": f"only {len(boot)} of {resamples} resamples could be fitted"}
    tail = (1 - level) / 2 * 100
    out["ci_low"], out["ci_high"] = (float(v) for v in np.percentile(boot, [tail, 100 - tail]))
    out["interval"] = {"method": BOOTSTRAP, "level": level, "resamples": resamples, "n": m}
    return out

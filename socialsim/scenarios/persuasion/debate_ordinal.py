"""Proportional-odds model of the debate outcome: post agreement on the design cells and pre.

The target's agreement after the debate (1-5, toward the opponent's side) is an ordinal
outcome. :func:`ordinal_effect` fits the cumulative-logit proportional-odds model
(statsmodels' ``OrderedModel``, ``distr="logit"``)

    logit P(post <= j) = threshold_j - (b_cell + b_pre * pre)

over the answered pairs, with one indicator per design cell other than the reference cell
(``peer|plain``) and the agreement before as a covariate, so ``exp(b_cell)`` is the odds
ratio of higher agreement with the opponent in that cell vs the reference, at equal ``pre``.

Example: ``ordinal_effect(debate_pairs(events))["terms"]["persuader|personalised"]``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy import stats as sps
from scipy.optimize import linprog

#: The cells compared with the reference cell, in the order of the model's terms.
CELL_TERMS = ("persuader|personalised", "persuader|plain", "peer|personalised")
REFERENCE = "peer|plain"
#: A standard error above this on the log-odds scale means the estimate runs off to infinity:
#: some cell or pre value predicts the outcome perfectly (separation).
MAX_SE = 10.0
MODEL = "proportional odds (logit): post ~ cell + pre"
SEPARATION = (
    "separation: the cells and pre order every pair's post agreement perfectly (e.g. every "
    "target ends at pre or pre + 1), so the odds ratios run off to infinity"
)
_STATS = ("coef", "se", "odds_ratio", "ci_low", "ci_high", "p")


def ordinal_frame(pairs: pd.DataFrame) -> pd.DataFrame:
    """The answered pairs as model data: ``post`` (int), ``pre`` and ``cell`` (its label)."""
    done = pairs[pairs["status"] == "answered"].dropna(subset=["pre", "post"])
    cells = [
        f"{kind}|{'personalised' if bool(pers) else 'plain'}"
        for kind, pers in zip(done["persuader_kind"], done["personalised"], strict=True)
    ]
    return pd.DataFrame(
        {
            "post": done["post"].astype(int).to_numpy(),
            "pre": done["pre"].astype(float).to_numpy(),
            "cell": cells,
        }
    )


def design_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Indicators of the cells present (reference left out), and ``pre`` unless constant."""
    columns = {
        c: (frame["cell"] == c).astype(float) for c in CELL_TERMS if (frame["cell"] == c).any()
    }
    if frame["pre"].nunique() > 1:
        columns["pre"] = frame["pre"]
    return pd.DataFrame(columns, index=frame.index)


def separated(post: np.ndarray, exog: pd.DataFrame) -> bool:
    """Whether the cumulative-logit likelihood has no maximum (complete or quasi-complete
    separation): some direction of (coefficients, thresholds) orders every pair's linear
    predictor inside its own category's thresholds, at least one strictly, so the fit runs
    off to infinity along it. Found as a linear program (maximise the strict slack).
    """
    levels = sorted(set(post.tolist()))
    k, p = len(levels) - 1, exog.shape[1]
    code = np.searchsorted(levels, post)  # 0..k
    x = exog.to_numpy(dtype=float)
    below, above = np.flatnonzero(code < k), np.flatnonzero(code > 0)
    m, width = len(below) + len(above), p + k
    # one row per constraint: x_i b + u <= theta_{y_i} (pairs not in the top category),
    # theta_{y_i - 1} + u <= x_i b (not in the bottom one), then the thresholds in order
    nb, na = len(below), len(above)
    coef = sparse.hstack(
        [
            sparse.csr_matrix(np.vstack([x[below], -x[above], np.zeros((k - 1, p))])),
            sparse.csr_matrix(
                (
                    np.concatenate([-np.ones(nb), np.ones(na), np.ones(k - 1), -np.ones(k - 1)]),
                    (
                        np.concatenate(
                            [np.arange(nb + na), m + np.arange(k - 1), m + np.arange(k - 1)]
                        ),
                        np.concatenate(
                            [code[below], code[above] - 1, np.arange(k - 1), np.arange(1, k)]
                        ),
                    ),
                ),
                shape=(m + k - 1, k),
            ),
            sparse.vstack([sparse.identity(m), sparse.csr_matrix((k - 1, m))]),
        ]
    ).tocsr()
    cost = np.concatenate([np.zeros(width), -np.ones(m)])
    bounds = [(None, None)] * width + [(0.0, 1.0)] * m
    result = linprog(cost, A_ub=coef, b_ub=np.zeros(coef.shape[0]), bounds=bounds)
    return bool(result.status == 0 and -result.fun > 1e-7)


def _empty(n: int, levels: list[int], reason: str) -> dict[str, Any]:
    return {
        "model": MODEL,
        "reference_cell": REFERENCE,
        "n": n,
        "levels": levels,
        "adjusted_for_pre": None,
        "estimable": False,
        "reason": reason,
        "converged": None,
        "log_likelihood": None,
        "terms": {t: dict.fromkeys(_STATS) for t in (*CELL_TERMS, "pre")},
        "thresholds": [],
    }


def ordinal_effect(pairs: pd.DataFrame, alpha: float = 0.05) -> dict[str, Any]:
    """The proportional-odds fit over answered pairs: each term's coefficient, odds ratio,
    Wald interval and p; the thresholds; or ``estimable: False`` with the ``reason``.

    A cell with no answered pair, and ``pre`` when every pair has the same one, are left out
    of the model (their terms null; ``adjusted_for_pre`` says which).
    """
    frame = ordinal_frame(pairs)
    n, levels = len(frame), sorted(int(v) for v in frame["post"].unique())
    if len(levels) < 2:
        return _empty(n, levels, "post agreement takes fewer than two values")
    if not (frame["cell"] == REFERENCE).any():
        return _empty(n, levels, f"no answered pair in the reference cell {REFERENCE}")
    exog = design_matrix(frame)
    k = exog.shape[1] + len(levels) - 1
    if n <= k:
        return _empty(n, levels, f"{n} answered pairs for {k} parameters")
    if separated(frame["post"].to_numpy(), exog):
        return _empty(n, levels, SEPARATION)
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = OrderedModel(frame["post"].to_numpy(), exog, distr="logit")
            fit = model.fit(method="bfgs", disp=False, maxiter=1000)
        except (ValueError, np.linalg.LinAlgError) as exc:
            return _empty(n, levels, f"the fit failed: {exc}")
        params = np.asarray(fit.params, dtype=float)
        se = np.asarray(fit.bse, dtype=float)
        pvalues = np.asarray(fit.pvalues, dtype=float)
    out = _empty(n, levels, "")
    out["converged"] = bool(fit.mle_retvals.get("converged", False))
    if not out["converged"]:
        out["reason"] = "the fit did not converge"
        return out
    if not np.all(np.isfinite(se)) or se.max() > MAX_SE:
        out["reason"] = f"a standard error above {MAX_SE:g} on the log-odds scale (near separation)"
        return out
    z = float(sps.norm.ppf(1 - alpha / 2))
    for i, term in enumerate(exog.columns):
        b, s = float(params[i]), float(se[i])
        out["terms"][term] = {
            "coef": b,
            "se": s,
            "odds_ratio": math.exp(b),
            "ci_low": math.exp(b - z * s),
            "ci_high": math.exp(b + z * s),
            "p": float(pvalues[i]),
        }
    cuts = model.transform_threshold_params(params)
    out.update(
        estimable=True,
        reason=None,
        adjusted_for_pre="pre" in exog.columns,
        log_likelihood=float(fit.llf),
        thresholds=[float(c) for c in cuts[1:-1]],
    )
    return out


__all__ = [
    "CELL_TERMS",
    "MAX_SE",
    "REFERENCE",
    "design_matrix",
    "ordinal_effect",
    "ordinal_frame",
    "separated",
]

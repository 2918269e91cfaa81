"""Prompt sensitivity of a sweep over decision templates: does the wording move a result
beyond what seed-to-seed variation explains?

A sweep whose grid includes ``agents.prompt.template`` runs one experiment under several
wordings of the decision prompt (``decide_v2``, ``decide_v2_p1``, ... see
:func:`socialsim.llm.prompts.paraphrases`); one whose grid includes
``scenario.params.wording`` (0-3) runs it under several wordings of the scenario's own
prompts (:mod:`socialsim.simulation.wording`). Either key is the "template" below (the first
swept, in that order). For each headline measure of its cells:

- **per template**: the mean of the measure over that template's finished cells (the other
  grid values and seeds) and, where the cells have a control arm (``control: true``), the
  mean of their effect (treatment minus control). In a cell with arms the measure is the
  treatment arm's mean;
- **the test**: a permutation test of the between-template sum of squares of the cells'
  values (:func:`wording_test`): template labels are shuffled among the cells that share
  the other grid values (every seed a replicate), exactly over every arrangement when there
  are few, else over 9,999 seeded random ones. Reported with the share of variance due to
  wording (``eta_squared`` and the ANOVA variance-component estimate ``variance_share``);
- the same test of the per-template **effects** (``effect_test``): does the treatment effect
  itself depend on the wording?
- **template_sensitive**: the measure's test rejects at ``ALPHA`` = 0.05; with several
  headline measures, after Holm's adjustment over them (``p_adjusted``), so the sweep-level
  flag (true when any measure's is) keeps its false-alarm rate at alpha.
  ``effect_template_sensitive`` likewise for the effect tests (a family of their own).

The test needs at least two templates, each with at least two cells holding a value;
otherwise there is no test and no flag and ``note`` says what is missing. The older reading,
``spread`` (max - min of the per-template means) against ``|effect|``, is kept as
description (``spread_exceeds_effect``) and does not enter the flag. Per-agent flip rates
across wordings are in :mod:`socialsim.analysis.wording_flips`.
"""

from __future__ import annotations

import itertools
import json
import math
from functools import lru_cache, reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TEMPLATE_KEY = "agents.prompt.template"
#: The scenario-prompt wording (``wording: 0..3``, :mod:`socialsim.simulation.wording`).
WORDING_KEY = "scenario.params.wording"
#: Grid keys that select a wording, looked for in this order.
WORDING_KEYS = (TEMPLATE_KEY, WORDING_KEY)
ALPHA = 0.05
EXACT_LIMIT = 10_000  # enumerate every arrangement of template labels up to this many
PERMUTATIONS = 9_999  # random arrangements beyond it (seeded: the same p-value every time)
METHOD = "permutation test of the between-template sum of squares over cells"
DEFINITION = (
    "template_sensitive: a permutation test of the between-template sum of squares of the "
    "cells' values (labels shuffled among cells with the same other grid values) rejects at "
    f"alpha = {ALPHA} (Holm-adjusted over the headline measures); eta_squared = between / "
    "total sum of squares; variance_share = ANOVA variance-component estimate of the share "
    "due to wording; spread = max - min of the per-template means (descriptive)"
)
_TOLERANCE = 1e-9  # a spread equal to the effect up to rounding does not exceed it


def wording_test(
    values: Any, templates: Any, strata: Any = None, permutations: int = PERMUTATIONS
) -> dict[str, Any]:
    """Permutation test that the cells' `values` do not depend on their `templates`.

    The statistic is the between-template sum of squares within each stratum (cells that
    share the other grid values), summed over strata; labels are shuffled within strata.
    Returns ``p_value``, ``exact`` (every arrangement counted), ``permutations``,
    ``eta_squared`` (between / total sum of squares within strata) and ``variance_share``
    (the one-way ANOVA variance-component estimate of the share due to wording, >= 0).

    >>> found = wording_test([1.0, 1.1, 1.2, 3.0, 3.1, 3.2, 5.0, 5.1], list("aaabbbcc"))
    >>> round(found["p_value"], 4), found["exact"], found["permutations"]
    (0.0036, True, 560)
    """
    y = np.asarray(values, dtype=float)
    labels = np.asarray(templates, dtype=str)
    stratum = np.zeros(len(y), int) if strata is None else np.asarray(strata, dtype=str)
    codes = np.unique(stratum, return_inverse=True)[1]
    parts = []
    for code in range(int(codes.max()) + 1 if len(y) else 0):
        idx = np.flatnonzero(codes == code)
        parts.append((y[idx] - y[idx].mean(), np.unique(labels[idx], return_inverse=True)[1]))
    observed = sum(_between(c, lab[None, :])[0] for c, lab in parts)
    total = float(sum(float(c @ c) for c, _ in parts))
    sizes = np.concatenate([np.bincount(lab) for _, lab in parts])  # cells per template x stratum
    out: dict[str, Any] = {"method": METHOD, "cells": int(len(y))}
    out.update(_shares(observed, total, sizes, len(parts)))
    if total <= _TOLERANCE:  # every cell equal within its stratum: nothing to explain
        return {**out, "p_value": 1.0, "exact": True, "permutations": 1}
    count = math.prod(_arrangement_count(lab) for _, lab in parts)
    if count <= EXACT_LIMIT:
        stats = [_between(c, _arrangements(lab)) for c, lab in parts]
        null = reduce(lambda a, b: np.add.outer(a, b).ravel(), stats)
        p = float(np.mean(null >= observed - _TOLERANCE * max(1.0, observed)))
        return {**out, "p_value": p, "exact": True, "permutations": int(count)}
    rng = np.random.default_rng(0)
    null = sum(
        _between(c, rng.permuted(np.tile(lab, (permutations, 1)), axis=1)) for c, lab in parts
    )
    hits = int(np.sum(null >= observed - _TOLERANCE * max(1.0, observed)))
    p = (1 + hits) / (1 + permutations)
    return {**out, "p_value": float(p), "exact": False, "permutations": int(permutations)}


def template_sensitivity(
    results: pd.DataFrame, measure: str, key: str = TEMPLATE_KEY, strata: list[str] | None = None
) -> dict[str, Any]:
    """The wording test of one measure (and of its effect) across a sweep's templates.

    `results` is a sweep's results table (one row per cell): the template column `key`, the
    measure as ``measure`` (a plain run) or ``treatment.<measure>`` (a cell with arms), and
    its effect as ``effect.<measure>.difference``. `strata` names the other grid columns
    whose cells are compared only with each other (seeds are replicates). Failed cells are
    left out. The flags here use the raw p-values; :func:`sweep_sensitivity` adjusts them.

    >>> rows = pd.DataFrame({"agents.prompt.template": list("aabb"), "m": [0.2, 0.3, 0.6, 0.7]})
    >>> found = template_sensitivity(rows, "m")
    >>> round(found["spread"], 3), round(found["test"]["p_value"], 3)
    (0.4, 0.333)
    """
    cells = results[results["status"] == "ok"] if "status" in results else results
    column = measure if measure in cells else f"treatment.{measure}"
    other = [s for s in strata or [] if s in cells and s != key]
    names, template = np.unique(cells[key].astype(str).to_numpy(dtype=str), return_inverse=True)
    order = np.argsort([np.flatnonzero(template == i)[0] for i in range(len(names))])
    stratum = (
        cells[other].astype(str).agg("|".join, axis=1).to_numpy(dtype=str)
        if other
        else np.zeros(len(cells), dtype=str)
    )
    value = _numbers(cells, column)
    effect_of = _numbers(cells, f"effect.{measure}.difference")
    by_template = {}
    for i in order:  # in order of first appearance
        v, e = value[template == i], effect_of[template == i]
        v, e = v[~np.isnan(v)], e[~np.isnan(e)]
        by_template[str(names[i])] = {
            "cells": int(np.sum(template == i)),
            "value": float(v.mean()) if len(v) else None,
            "sd": float(v.std(ddof=1)) if len(v) > 1 else None,
            "effect": float(e.mean()) if len(e) else None,
        }
    values = np.array([r["value"] for r in by_template.values() if r["value"] is not None])
    effects = np.array([r["effect"] for r in by_template.values() if r["effect"] is not None])
    spread, effect = _range(values), float(effects.mean()) if len(effects) else None
    test, why = _test_of(value, template, stratum)
    has_effect = bool((~np.isnan(effect_of)).any())
    effect_test, effect_why = _test_of(effect_of, template, stratum) if has_effect else (None, None)
    return {
        "measure": measure,
        "templates": list(by_template),
        "by_template": by_template,
        "test": test,
        "effect_test": effect_test,
        "alpha": ALPHA,
        "template_sensitive": _flag(test, test and test["p_value"]),
        "effect_template_sensitive": _flag(effect_test, effect_test and effect_test["p_value"]),
        "spread": spread,
        "effect": effect,
        "spread_exceeds_effect": (
            None if spread is None or effect is None else spread - abs(effect) > _TOLERANCE
        ),
        "effect_spread": _range(effects),
        "effect_sign_flips": bool((effects > 0).any() and (effects < 0).any()),
        "note": why or (f"effect: {effect_why}" if effect_why else None),
    }


def wording_key(results: pd.DataFrame) -> str | None:
    """The key of :data:`WORDING_KEYS` a sweep's results vary, else the first they hold (or None).

    >>> wording_key(pd.DataFrame({"scenario.params.wording": [0, 1], "seed": [1, 1]}))
    'scenario.params.wording'
    """
    held = [key for key in WORDING_KEYS if key in results.columns]
    varied = [key for key in held if results[key].astype(str).nunique() > 1]
    return (varied or held or [None])[0]


def sweep_sensitivity(
    results: pd.DataFrame,
    headline: list[dict[str, Any]],
    key: str | None = None,
    grid: dict[str, Any] | None = None,
    root: str | Path | None = None,
) -> dict[str, Any] | None:
    """Template sensitivity of each headline measure of a sweep (None if it does not sweep `key`).

    Without `key`, the first of :data:`WORDING_KEYS` whose values vary (:func:`wording_key`).

    `headline` is the cells' headline list (``[{"measure": ..., "label": ...}]``); a measure
    the results do not hold is left out. `grid` (the sweep's grid) names the other swept
    keys: cells are compared within equal values of those (``seed`` excepted). With the sweep
    directory `root`, ``flips`` holds the per-agent flip rates of its cells' runs
    (:func:`socialsim.analysis.wording_flips.sweep_flip_rates`; None without it). The
    measures' p-values get Holm's adjustment over the headline measures (``p_adjusted``;
    the effect tests form a family of their own) and the flags use it. The sweep-level
    ``template_sensitive`` (``effect_template_sensitive``) is True when any measure's is,
    False when every tested one is not, None when nothing could be tested.
    """
    key = wording_key(results) if key is None else key
    if key is None or key not in results.columns:
        return None
    strata = [k for k in grid or {} if k not in (key, "seed") and k in results.columns]
    measures = []
    for item in headline:
        measure = str(item.get("measure"))
        if measure in results or f"treatment.{measure}" in results:
            found = template_sensitivity(results, measure, key, strata)
            measures.append({"label": item.get("label"), **found})
    verdicts = {}
    for test, flag in (
        ("test", "template_sensitive"),
        ("effect_test", "effect_template_sensitive"),
    ):
        family = [m for m in measures if m[test] is not None]  # Holm over the headline measures
        for m, adjusted in zip(family, holm([m[test]["p_value"] for m in family]), strict=True):
            m[test]["p_adjusted"] = adjusted
            # Holm multiplies the smallest p-value by the family's size: a design whose
            # smallest attainable p does not stay below alpha then can flag nothing
            m[flag] = _flag(m[test], adjusted, len(family))
            if m[flag] is None and m[test]["min_p"] < ALPHA:
                why = _unreachable(m[test]["min_p"], len(family))
                m["note"] = why if test == "test" else m["note"] or f"effect: {why}"
        flags = [m[flag] for m in family]
        verdicts[flag] = (
            True if any(flags) else (False if flags and all(f is False for f in flags) else None)
        )
    flips = None
    if root is not None:
        from socialsim.analysis.wording_flips import sweep_flip_rates

        flips = sweep_flip_rates(root, results, key, grid)
    return {
        "key": key,
        "templates": [str(t) for t in pd.unique(results[key].astype(str))],
        "strata": strata,
        "alpha": ALPHA,
        "definition": DEFINITION,
        "measures": measures,
        "flips": flips,
        **verdicts,
    }


def sensitivity_lines(found: dict[str, Any]) -> list[str]:
    """Plain-text lines of a sweep's prompt sensitivity (what ``socialsim analyze`` prints)."""
    lines = []
    for m in found.get("measures") or []:
        name = m.get("label") or m["measure"]
        if m["test"] is None:
            lines.append(f"wording test of {name}: none ({m['note']})")
            continue
        verdict = {True: "template-sensitive", False: "holds across wordings"}.get(
            m["template_sensitive"], f"undecided ({m['note']})"
        )
        lines.append(f"wording test of {name}: {_test_text(m['test'])} -> {verdict}")
        if m["effect_test"] is not None:
            verdict = {True: "depends on", False: "holds across"}.get(
                m["effect_template_sensitive"], "cannot be judged against"
            )
            lines.append(f"  its effect {verdict} the wording: {_test_text(m['effect_test'])}")
    flips = [
        f"{r['kind']} {r['claim']} {r['flip_rate']:.1%} of {r['comparisons']}"
        for r in (found.get("flips") or {}).get("rates") or []
    ]
    if flips:
        lines.append("agents answering otherwise under another wording: " + "; ".join(flips))
    return lines


def _test_text(test: dict[str, Any]) -> str:
    share = test.get("variance_share")
    adjusted = test.get("p_adjusted")
    return (
        f"p = {test['p_value']:.3g}"
        + (f" (Holm {adjusted:.3g})" if adjusted and adjusted - test["p_value"] > 1e-9 else "")
        + f", alpha {ALPHA}, wording share {'n/a' if share is None else f'{share:.0%}'}"
    )


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    order = np.argsort(p_values, kind="stable")
    m, out, running = len(p_values), [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = round(running, 12)
    return out


def cell_headline(root: str | Path, results: pd.DataFrame) -> list[dict[str, Any]]:
    """The headline measures (``measure``, ``label``) of a sweep's first finished cell.

    Read from the cell's summary.json: at its ``run_dir``, else at ``ROOT/cells/<its name>``
    (a sweep directory that was moved).
    """
    cells = results[results["status"] == "ok"] if "status" in results else results
    run_dirs = cells["run_dir"].dropna().astype(str) if "run_dir" in cells else []
    for run_dir in run_dirs:
        for folder in (Path(run_dir), Path(root) / "cells" / Path(run_dir).name):
            try:
                summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            items = summary.get("headline") if isinstance(summary, dict) else None
            return [
                {"measure": str(h["measure"]), "label": h.get("label")}
                for h in items or []
                if isinstance(h, dict) and h.get("measure")
            ]
    return []


def _flag(test: dict[str, Any] | None, p: float | None, tests: int = 1) -> bool | None:
    """The flag of a test: p below alpha; None without a test, or where the design's
    smallest attainable p (times the `tests` of a Holm family) is not below alpha."""
    if test is None or p is None or tests * test["min_p"] >= ALPHA:
        return None
    return bool(p < ALPHA)


def _test_of(
    values: np.ndarray, template: np.ndarray, stratum: np.ndarray
) -> tuple[dict[str, Any] | None, str | None]:
    """The wording test of the cells' values (NaN left out), or None and why not."""
    held = ~np.isnan(values)
    per_template = np.bincount(template[held])
    per_template = per_template[per_template > 0]
    if len(per_template) < 2:
        return None, "fewer than two templates have a value: no test and no flag"
    if per_template.min() < 2:
        return None, (
            "every template needs at least two cells (seeds) with a value for the test: "
            "add seeds to the sweep (e.g. seed: [1, 2, 3])"
        )
    found = wording_test(values[held], template[held], stratum[held])
    found["min_p"] = smallest_p(template[held], stratum[held])
    if found["min_p"] >= ALPHA:
        return found, _unreachable(found["min_p"], 1)
    if per_template.min() == 2:
        return found, (
            "two cells per template give the test little power (a single wording set apart "
            "rarely reaches p < 0.05): three or more seeds per template are advised"
        )
    return found, None


def smallest_p(templates: Any, strata: Any = None) -> float:
    """The smallest p-value :func:`wording_test` can give for this design (its labels and
    strata), whatever the values: that of values set apart by template perfectly.

    >>> smallest_p(list("aaabbb")), round(smallest_p(list("aaaabbbb")), 4)
    (0.1, 0.0286)
    """
    labels = np.unique(np.asarray(templates, dtype=str), return_inverse=True)[1]
    return float(wording_test(labels.astype(float), labels, strata)["p_value"])


def _unreachable(min_p: float, tests: int) -> str:
    holm_part = f" ({tests} tests, Holm: {min(1.0, tests * min_p):.3g})" if tests > 1 else ""
    return (
        f"with these cells the smallest p-value the test can give is {min_p:.3g}{holm_part}, "
        f"not below alpha {ALPHA}: it cannot flag a wording effect however large, so there is "
        "no flag; add seeds per template (e.g. 5 with two templates)"
    )


def _between(centred: np.ndarray, arrangements: np.ndarray) -> np.ndarray:
    """Between-template sum of squares of centred values under each row of labels."""
    out = np.zeros(len(arrangements))
    for t in range(int(arrangements.max()) + 1):
        members = arrangements == t
        n = members[0].sum()  # every row holds each label equally often
        out += (members @ centred) ** 2 / n
    return out


def _arrangement_count(labels: np.ndarray) -> int:
    counts = np.bincount(labels)
    return math.factorial(len(labels)) // math.prod(math.factorial(int(c)) for c in counts)


def _arrangements(labels: np.ndarray) -> np.ndarray:
    """Every distinct ordering of the multiset `labels` (one per row)."""
    return _orderings(tuple(np.bincount(labels).tolist()))


@lru_cache(maxsize=64)
def _orderings(counts: tuple[int, ...]) -> np.ndarray:
    """Every distinct sequence holding label i counts[i] times (read-only, cached)."""

    def fill(n: int, first: int) -> np.ndarray:
        if first == len(counts) - 1:
            return np.full((1, n), first)
        rest = fill(n - counts[first], first + 1)
        rows = []
        for chosen in itertools.combinations(range(n), counts[first]):
            block = np.empty((len(rest), n), dtype=np.int64)
            block[:, list(chosen)] = first
            block[:, np.setdiff1d(np.arange(n), chosen)] = rest
            rows.append(block)
        return np.concatenate(rows)

    out = fill(sum(counts), 0)
    out.setflags(write=False)
    return out


def _shares(
    between: float, total: float, sizes: np.ndarray, n_strata: int
) -> dict[str, float | None]:
    """eta squared and the ANOVA variance-component share of wording (None when undefined).

    `sizes` holds the number of cells of each template x stratum group.
    """
    if total <= _TOLERANCE:
        return {"eta_squared": None, "variance_share": None}
    n, n_groups = int(sizes.sum()), len(sizes)
    df_between, df_within = n_groups - n_strata, n - n_groups
    n0 = (n - float((sizes**2).sum()) / n) / max(1, n_groups - 1)
    if df_within <= 0 or df_between <= 0:
        return {"eta_squared": float(between / total), "variance_share": None}
    ms_between, ms_within = between / df_between, (total - between) / df_within
    component = max(0.0, (ms_between - ms_within) / n0)
    share = component / (component + ms_within) if component + ms_within > 0 else None
    return {
        "eta_squared": float(between / total),
        "variance_share": None if share is None else float(share),
    }


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _range(values: np.ndarray) -> float | None:
    return float(values.max() - values.min()) if len(values) > 1 else None

"""Attribute assortativity (Newman 2003) of many node attributes in one pass over the edges.

A network of ten million agents has sixty million edge ends; reading an attribute at each
is a random memory access, and that, not the arithmetic, is the cost. So the attributes are
stacked as the columns of one matrix per kind (numbers as floats, categories as small
integer codes) and each edge end fetches one row, a chunk of edges at a time into buffers
that are reused. The sums are exact for categories (counts) and, for numbers, taken on values
shifted by their mean over the first nodes, so that the one-pass moments keep their precision.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

CHUNK = 1 << 20  # edge ends gathered at a time
SHIFT_ROWS = 1 << 16  # numbers are shifted by their mean over the first nodes


def assortativity(
    columns: dict[str, pd.Series | None], u: np.ndarray, v: np.ndarray
) -> dict[str, float | None]:
    """Assortativity of each column across the (u, v) pairs; None where undefined.

    A column with more than 10 distinct numbers is numeric (the Pearson correlation of its
    values at the two ends); any other is categorical (Newman's r over its distinct values).
    A column that some nodes lack is measured over the pairs whose ends both carry it.
    """
    out: dict[str, float | None] = dict.fromkeys(columns)
    numbers: dict[str, np.ndarray] = {}
    codes: dict[str, tuple[np.ndarray, int]] = {}
    for name, values in columns.items():
        kind = _kind(values)
        if kind is None:
            continue
        if not values.notna().all():  # its own subset of pairs
            out[name] = _one(kind, values, u, v)
        elif kind == "numeric":
            numbers[name] = values.to_numpy(dtype=float)
        else:
            codes[name] = kind
    if len(u) == 0:
        return out
    if numbers:
        out.update(_numeric(numbers, u, v))
    if codes:
        out.update(_categorical(codes, u, v))
    return out


def _kind(values: pd.Series | None) -> str | tuple[np.ndarray, int] | None:
    """The column's kind: numeric, categorical as (codes, number of distinct values), or
    None where it is undefined (missing, or fewer than two values)."""
    if values is None:
        return None
    known = values[values.notna().to_numpy()].infer_objects()
    if len(known) < 2:
        return None
    numeric = pd.api.types.is_numeric_dtype(known) and not pd.api.types.is_bool_dtype(known)
    if numeric and known.iloc[:4096].nunique() > 10:  # more than 10 in part: more in all
        return "numeric"
    found, uniques = pd.factorize(values)  # missing values: code -1
    if len(uniques) < 2:
        return None
    if numeric and len(uniques) > 10:
        return "numeric"
    return found, len(uniques)


def _one(
    kind: str | tuple[np.ndarray, int], values: pd.Series, u: np.ndarray, v: np.ndarray
) -> float | None:
    """One column that some nodes lack, over the pairs whose ends both carry it."""
    present = values.notna().to_numpy()
    both = present[u] & present[v]
    u, v = u[both], v[both]
    if len(u) == 0:
        return None
    if kind == "numeric":
        x = pd.to_numeric(values).to_numpy(dtype=float)
        return _numeric({"x": x}, u, v)["x"]
    return _categorical({"x": kind}, u, v)["x"]


def _chunks(n: int):
    return (slice(start, min(n, start + CHUNK)) for start in range(0, n, CHUNK))


def _numeric(columns: dict[str, np.ndarray], u: np.ndarray, v: np.ndarray) -> dict:
    """Pearson correlation of each column's values at the two ends of every pair."""
    x = np.column_stack(list(columns.values()))
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a part with no value: no shift
        shift = np.nanmean(x[:SHIFT_ROWS], axis=0)
    x -= np.where(np.isfinite(shift), shift, 0.0)  # near zero: one-pass moments keep precision
    p = x.shape[1]
    sums = np.zeros((5, p))  # sum a, sum b, sum a*a, sum b*b, sum a*b
    buffers = np.empty((2, min(len(u), CHUNK), p))
    for part in _chunks(len(u)):
        size = part.stop - part.start
        a = np.take(x, u[part], axis=0, out=buffers[0, :size], mode="clip")
        b = np.take(x, v[part], axis=0, out=buffers[1, :size], mode="clip")
        sums[0] += np.einsum("ij->j", a)
        sums[1] += np.einsum("ij->j", b)
        sums[2] += np.einsum("ij,ij->j", a, a)
        sums[3] += np.einsum("ij,ij->j", b, b)
        sums[4] += np.einsum("ij,ij->j", a, b)
    n = len(u)
    mean_a, mean_b = sums[0] / n, sums[1] / n
    var_a = sums[2] / n - mean_a * mean_a
    var_b = sums[3] / n - mean_b * mean_b
    cov = sums[4] / n - mean_a * mean_b
    out: dict[str, float | None] = {}
    for i, name in enumerate(columns):
        # a column constant over the pairs: its variances vanish up to rounding
        flat = min(var_a[i] / max(sums[2, i] / n, 1e-300), var_b[i] / max(sums[3, i] / n, 1e-300))
        if n < 2 or not flat > 1e-12:
            out[name] = None
        else:
            out[name] = float(np.clip(cov[i] / np.sqrt(var_a[i] * var_b[i]), -1.0, 1.0))
    return out


def _categorical(columns: dict[str, tuple[np.ndarray, int]], u: np.ndarray, v: np.ndarray) -> dict:
    """Newman's r of each column: (sum_i e_ii - sum_i a_i b_i) / (1 - sum_i a_i b_i).

    The margins a and b count each value at the pairs' first and second ends: the nodes'
    counts of first and second ends, summed by value. Only e_ii needs the pairs.
    """
    codes = [c for c, _ in columns.values()]
    rows = np.column_stack(codes).astype(  # small rows: one cache line per edge end
        np.int8 if max(k for _, k in columns.values()) < 127 else np.int32
    )
    same = np.zeros(rows.shape[1], dtype=np.int64)
    buffers = np.empty((2, min(len(u), CHUNK), rows.shape[1]), dtype=rows.dtype)
    for part in _chunks(len(u)):
        size = part.stop - part.start
        a = np.take(rows, u[part], axis=0, out=buffers[0, :size], mode="clip")
        b = np.take(rows, v[part], axis=0, out=buffers[1, :size], mode="clip")
        same += np.einsum("ij->j", (a == b).view(np.uint8), dtype=np.int64)
    n = len(u)
    ends = [np.bincount(side, minlength=len(rows)).astype(float) for side in (u, v)]
    out: dict[str, float | None] = {}
    for i, (name, (code, k)) in enumerate(columns.items()):
        held = code >= 0
        share_a, share_b = (np.bincount(code[held], side[held], minlength=k) / n for side in ends)
        expected = float(share_a @ share_b)
        if not 1.0 - expected > 0:
            out[name] = None
        else:
            out[name] = (int(same[i]) / n - expected) / (1.0 - expected)
    return out

"""Table columns as Parquet holds them: one sort of scalar per column.

A column of a results table or a node attribute may mix sorts (a sweep over
``agents.params.initial: [0.3, uniform]``; a graph whose nodes carry numbers and names).
Parquet stores one type per column, so such a column is written as text, each value as
``str`` gives it (missing values stay missing); a column of one sort is left as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def plain_column(values: pd.Series) -> pd.Series:
    """The column with one sort of scalar (true/false, numbers, text); mixed sorts (numbers
    and text, or lists, tuples and other objects) as text."""
    sorts = {_sort(v) for v in values.dropna().tolist()}
    if len(sorts) <= 1 and "other" not in sorts:
        return values.reset_index(drop=True)
    return values.map(_text).reset_index(drop=True).astype(object)


def plain_table(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with each object column made plain (:func:`plain_column`); a copy when any
    column changes."""
    mixed = [c for c in table.columns if table[c].dtype == object]
    if not mixed:
        return table
    out = table.copy()
    for column in mixed:
        out[column] = plain_column(out[column]).to_numpy()
    return out


def _sort(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    return "text" if isinstance(value, str) else "other"


def _text(value: Any) -> str | None:
    missing = value is None or (isinstance(value, float) and value != value)
    return None if missing else str(value)

"""CSV tables safe to open in a spreadsheet: text cells that would run as formulas are defused.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (some also a tab or
a carriage return) as a formula: an agent's message ``=HYPERLINK(...)`` in events.csv would
become a live link (CSV injection). Every CSV socialsim writes goes through
:func:`write_csv`, which gives such a text cell a leading ``'`` (as OWASP advises). A text
cell that already starts with ``'`` before one of them gets one more, so
:func:`restore_formulas` gives back exactly the text that was written. Numeric columns are
written as numbers: ``-0.5`` in a numeric column stays a number.

    neutralise_formulas(pd.DataFrame({"text": ["=1+1", "fine"], "x": [-1, 2]}))
    -> text: ["'=1+1", "fine"], x: [-1, 2]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_RISKY = r"^'*[=+\-@\t\r]"  # a formula start, perhaps behind quotes this module added
_ADDED = r"^'(?='*[=+\-@\t\r])"  # the quote this module adds


def _text_columns(table: pd.DataFrame) -> list[str]:
    """Columns that can hold text (object, string or categorical dtype)."""
    return [
        name
        for name in table.columns
        if table[name].dtype == object
        or isinstance(table[name].dtype, pd.StringDtype | pd.CategoricalDtype)
    ]


def _defuse(values: pd.Series, pattern: str, change) -> pd.Series:
    """`values` with `change` applied to the text cells matching `pattern`; others as they are."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if categories.dtype == object or isinstance(categories.dtype, pd.StringDtype):
            renamed = _defuse(pd.Series(categories, dtype=object), pattern, change)
            if not renamed.equals(pd.Series(categories, dtype=object)):
                return values.cat.rename_categories(renamed.tolist())
        return values
    if len(values) > _FEW_CHECKED:
        distinct = _distinct_text(values)
        if (
            distinct is not None
            and not pd.Series(distinct, dtype=object).str.match(pattern, na=False).any()
        ):
            return values  # no distinct value matches: nothing to change, no cell checked
    try:
        hit = values.str.match(pattern, na=False).astype(bool)
    except AttributeError:  # an object column without text (dicts, numbers, all missing)
        return values
    if values.dtype == object:  # .str on mixed objects reads only the str cells
        hit &= values.map(lambda v: isinstance(v, str)).astype(bool)
    if not hit.any():
        return values
    out = values.copy()
    out[hit] = change(values[hit])
    return out


_FEW_CHECKED = 10_000  # longer columns are first checked by their distinct values


def _distinct_text(values: pd.Series) -> list[str] | None:
    """The distinct text cells of a long column when they are few (a claim id repeated over
    millions of rows), else None: checking them stands for checking every cell."""
    try:
        distinct = values.unique()
    except TypeError:  # unhashable cells (dicts): checked cell by cell
        return None
    if len(distinct) > len(values) // 100:
        return None
    return [v for v in list(distinct) if isinstance(v, str)]


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with a ``'`` before every text cell a spreadsheet would run as a formula."""
    columns = {
        name: _defuse(table[name], _RISKY, lambda s: "'" + s.astype(str))
        for name in _text_columns(table)
    }
    changed = {k: v for k, v in columns.items() if v is not table[k]}
    return table.assign(**changed) if changed else table


def restore_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`neutralise_formulas`: a table read back from a written CSV."""
    columns = {
        name: _defuse(table[name], _ADDED, lambda s: s.astype(str).str.slice(1))
        for name in _text_columns(table)
    }
    changed = {k: v for k, v in columns.items() if v is not table[k]}
    return table.assign(**changed) if changed else table


def read_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """A CSV written by :func:`write_csv`, with the text as it was before it was written."""
    return restore_formulas(pd.read_csv(path, **kwargs))


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write `table` as CSV (no index) with formula cells neutralised, through Arrow.

    Arrow is ten times pandas' speed on millions of rows; it quotes every string and writes
    booleans as ``true``/``false``, which pandas and any CSV reader read back the same.
    Tables Arrow cannot type (cells holding dicts or mixed types) fall back to pandas.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    safe = neutralise_formulas(table)
    try:
        pacsv.write_csv(pa.Table.from_pandas(safe, preserve_index=False), path)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        safe.to_csv(path, index=False)


def write_csv_chunks(chunks: Iterable[pd.DataFrame], path: str | Path) -> None:
    """Write tables of the same columns as one CSV, a chunk at a time (the same bytes as
    :func:`write_csv` of their concatenation where Arrow can type them)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    writer = schema = None
    try:
        for chunk in chunks:
            batch = pa.Table.from_pandas(neutralise_formulas(chunk), preserve_index=False)
            if writer is None:
                schema = batch.schema
                writer = pacsv.CSVWriter(path, schema)
            writer.write_table(batch if batch.schema.equals(schema) else batch.cast(schema))
    finally:
        if writer is not None:
            writer.close()

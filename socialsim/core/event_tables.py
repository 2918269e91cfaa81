"""The one shape of an events table, and the converters that read older shapes into it.

An events table has the event columns ``run, step, time, kind, agent, target, claim`` and one
``payload.<key>`` column per payload key, each value as logged: lists as lists, objects as
dicts, booleans as booleans (None where an event has no such key). :func:`read_events_table`
reads ``events.jsonl`` into it; ``load_run`` and ``model.record()`` give it.

Older shapes load through converters: :func:`flat_events` takes a table with a ``payload``
dict per row (the lines as they were once read), :func:`typed_events` takes a table written
to ``events.parquet`` or ``events.csv`` (lists, objects and booleans as text) and decodes
every cell by its registered payload type (:mod:`socialsim.core.events`).
"""

from __future__ import annotations

import ast
import io
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.core.errors import DataFileError
from socialsim.core.events import DISCRIMINATORS, EVENT_FIELDS, registered_types

BASE_COLUMNS = list(EVENT_FIELDS[:-1])
PREFIX = "payload."


def read_events_table(source: str | Path | bytes) -> pd.DataFrame:
    """Read events.jsonl (a path, or the JSONL bytes) into the events table, fast.

    Uses Arrow's JSON reader; a log it cannot parse in one go (a cut-off last line, a payload
    key whose type changes between events) is read line by line instead, skipping a final
    line cut short by a killed process.
    """
    try:
        import pyarrow.json as pj

        data = io.BytesIO(source) if isinstance(source, bytes) else source
        table = pj.read_json(data, read_options=pj.ReadOptions(block_size=1 << 24))
    except Exception:  # noqa: BLE001 - any Arrow failure falls back to the exact reader
        return event_records(read_event_lines(source))
    if table.num_rows == 0:
        return pd.DataFrame(columns=BASE_COLUMNS)
    if "kind" not in table.column_names or table.column("kind").null_count:
        return event_records(read_event_lines(source))  # a line that is no event: named there
    if "payload" in table.column_names and str(table.schema.field("payload").type).startswith(
        "struct"
    ):
        table = table.flatten()
    frame = table.to_pandas()
    frame = frame.drop(columns=["payload"], errors="ignore")  # an empty payload everywhere
    for col in frame.columns:
        if col.startswith(PREFIX) and frame[col].dtype == object:
            frame[col] = _arrays_as_lists(frame[col])
    return _tidy(frame)


def read_event_lines(source: str | Path | bytes) -> list[dict[str, Any]]:
    """The log's lines as dicts, in order. A last line cut short (a run killed while writing
    it: no newline at its end) is skipped; any other line that is not an event (not JSON, not
    an object, a payload that is not an object) is a DataFileError naming it."""
    if isinstance(source, bytes):
        lines: list[str] = source.decode("utf-8").splitlines(keepends=True)
    else:
        with open(source, encoding="utf-8") as fh:
            lines = fh.readlines()
    rows = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        row = _event_line(text)
        if row is None:
            if number == len(lines) and not line.endswith("\n"):
                continue  # cut short by a kill
            where = "the event log" if isinstance(source, bytes) else repr(str(source))
            raise DataFileError(
                f"{where}: line {number} is not an event ({text[:40]!r}); the log was changed "
                "after the run: restore the file socialsim wrote, or run the experiment again"
            )
        rows.append(row)
    return rows


def _event_line(text: str) -> dict[str, Any] | None:
    """One line of the log as its event, or None when it is not one."""
    try:
        row = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(row, dict) or not isinstance(row.get("payload") or {}, dict):
        return None
    return row


def read_event_log(source: str | Path | bytes) -> pd.DataFrame:
    """The log's lines as written, one row each with its ``payload`` dict: for checking what
    a run logged line by line. Measures read the events table (:func:`read_events_table`)."""
    return pd.DataFrame(read_event_lines(source), columns=list(EVENT_FIELDS))


def event_records(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The events table of event lines given as dicts (``payload`` a dict each)."""
    rows = [dict(r) for r in rows]
    if not rows:
        return pd.DataFrame(columns=BASE_COLUMNS)
    payloads = [r.pop("payload", None) or {} for r in rows]
    base = pd.DataFrame.from_records(rows)
    flat = pd.DataFrame.from_records(payloads, index=base.index)
    flat.columns = [f"{PREFIX}{c}" for c in flat.columns]
    return _tidy(pd.concat([base, flat], axis=1))


def flat_events(events: pd.DataFrame) -> pd.DataFrame:
    """Convert a table with a ``payload`` dict per row (an older shape) to the events table.

    A table already in the events-table shape is returned as it is.
    """
    if "payload" not in events.columns:
        return events
    rows = events.to_dict("records")
    for row in rows:
        if not isinstance(row.get("payload"), Mapping):
            row["payload"] = {}
    return event_records(rows)


def typed_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Convert a table read from events.parquet or events.csv to the events table.

    Those files hold lists, objects and booleans as text; each cell is decoded by the shape
    its registered payload type declares (a kind whose family is not imported stays text).
    """
    frame = frame.copy()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.StringDtype) or frame[col].dtype == object:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    frame = _tidy(flat_events(frame))
    kinds = frame["kind"].to_numpy(dtype=object)
    for cls in registered_types():
        mask = kinds == cls.KIND
        key = DISCRIMINATORS.get(cls.KIND)
        if key is not None and f"{PREFIX}{key}" in frame.columns:
            tags = frame[f"{PREFIX}{key}"].to_numpy(dtype=object)
            if cls.TAG is not None:
                mask &= tags == cls.TAG
            else:
                others = [c.TAG for c in registered_types() if c.KIND == cls.KIND and c.TAG]
                mask &= ~np.isin(tags, others)
        elif cls.TAG is not None:
            continue
        if not mask.any():
            continue
        for name, shape in cls.shapes().items():
            col = f"{PREFIX}{name}"
            if col in frame.columns and shape in _DECODERS:
                frame[col] = _decode_rows(frame[col], np.flatnonzero(mask), shape)
    return frame


def _decode_rows(values: pd.Series, rows: np.ndarray, shape: str) -> pd.Series:
    """`values` with the text cells at positions `rows` decoded as `shape`."""
    cells = values.to_numpy(dtype=object)
    text = [i for i in rows.tolist() if isinstance(cells[i], str)]
    if not text:
        return values
    out = cells.copy()
    for i in text:
        out[i] = _DECODERS[shape](cells[i])
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def _literal(text: str) -> Any:
    """A list or object written as JSON, as Python's repr or as numpy's (``[2 3 8]``, written
    by older versions); the text itself otherwise."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]") and "," not in stripped:
        tokens = _NUMPY_TOKEN.findall(stripped[1:-1])
        return [_numpy_token(*t) for t in tokens]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


_NUMPY_TOKEN = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|([^\s'\"]+)")


def _numpy_token(single: str, double: str, bare: str) -> Any:
    """One element of numpy's list repr: a quoted string, else a number (or the text)."""
    if not bare:
        return single or double
    if bare in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[bare]
    try:
        number = float(bare)
    except ValueError:
        return bare
    return int(number) if number.is_integer() and "." not in bare and "e" not in bare else number


def _boolean(text: str) -> Any:
    low = text.strip().lower()
    return True if low == "true" else False if low == "false" else None if not low else text


def _number(text: str) -> Any:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return text


_DECODERS = {
    "list": _literal,
    "dict": _literal,
    "bool": _boolean,
    "int": _number,
    "float": _number,
}


def _arrays_as_lists(values: pd.Series) -> pd.Series:
    """Arrow gives list cells as numpy arrays; the events table holds lists."""
    sample = values.dropna()
    if sample.empty or not any(isinstance(v, np.ndarray) for v in sample.iloc[:64]):
        return values
    return values.map(lambda v: v.tolist() if isinstance(v, np.ndarray) else v)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    for col in BASE_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    for col in ("step", "agent", "target"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


__all__ = [
    "BASE_COLUMNS",
    "event_records",
    "flat_events",
    "read_event_lines",
    "read_event_log",
    "read_events_table",
    "typed_events",
]

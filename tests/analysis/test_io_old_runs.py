"""Run directories in older shapes load to the events table of the log itself.

``data/old_run`` was written by an earlier version (8 agents, 2 steps of misinformation: roles,
attacker injections, messages, belief changes, probes, removals). Its ``events.parquet`` and
``events.csv`` hold lists as numpy's repr (``[2 3 8]``), objects and booleans as text.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

import socialsim.scenarios.builtin  # noqa: F401 - registers the payload types the converter reads
from socialsim.analysis.summarize import summarize_run
from socialsim.core.event_tables import (
    flat_events,
    read_event_log,
    read_events_table,
    typed_events,
)
from socialsim.core.rundata import event_table, load_run, payload

OLD_RUN = Path(__file__).parent / "data" / "old_run"


@pytest.fixture
def copies(tmp_path: Path) -> dict[str, Path]:
    """The old run three times: with its log, with events.parquet only, with events.csv only."""
    out = {}
    for name, drop in (
        ("jsonl", ()),
        ("parquet", ("events.jsonl",)),
        ("csv", ("events.jsonl", "events.parquet")),
    ):
        out[name] = shutil.copytree(OLD_RUN, tmp_path / name)
        for file in drop:
            (out[name] / file).unlink()
    return out


def _cells(table: pd.DataFrame) -> dict[str, list]:
    """Every column's values, a missing value (None, NaN, NA) as None."""

    def one(value):
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return None
        return value

    return {c: [one(v) for v in table[c].tolist()] for c in sorted(table.columns)}


@pytest.mark.parametrize("shape", ["parquet", "csv"])
def test_old_events_files_load_to_the_table_of_the_log(copies, shape):
    logged = load_run(copies["jsonl"]).events
    loaded = load_run(copies[shape]).events
    assert len(logged) == 66
    assert _cells(loaded) == _cells(logged)


@pytest.mark.parametrize("shape", ["jsonl", "parquet", "csv"])
def test_cells_hold_the_logged_types(copies, shape):
    events = load_run(copies[shape]).events
    messages = event_table(events, "message")
    assert len(messages) == 3
    assert all(type(r) is list and all(type(x) is int for x in r) for r in messages["recipients"])
    assert all(c == ["eiffel_tower_rome"] for c in messages["claims"])
    probes = event_table(events, "probe")
    assert {type(v) for v in probes["correct"]} == {bool}
    roles = event_table(events, "action", "role")
    assert roles["placebo"].tolist() == [False] * 3


def test_old_run_measures_agree_whatever_file_the_events_come_from(copies):
    summaries = {name: summarize_run(load_run(path)) for name, path in copies.items()}
    parts = {
        name: json.dumps([s["measures"], s["data_quality"], s["populations"]], sort_keys=True)
        for name, s in summaries.items()
    }
    assert parts["parquet"] == parts["jsonl"] == parts["csv"]
    assert summaries["jsonl"]["populations"]  # attackers and guardians were read from roles


def test_lines_with_payload_dicts_convert_to_the_events_table():
    lines = read_event_log(OLD_RUN / "events.jsonl")
    assert list(lines.columns)[-1] == "payload" and isinstance(lines["payload"].iloc[0], dict)
    converted = flat_events(lines)
    assert "payload" not in converted.columns
    assert _cells(converted) == _cells(read_events_table(OLD_RUN / "events.jsonl"))
    assert flat_events(converted) is converted  # already the events table


def test_measures_refuse_a_table_of_payload_dicts():
    lines = read_event_log(OLD_RUN / "events.jsonl")
    with pytest.raises(TypeError, match="flat_events"):
        payload(lines, "route")
    with pytest.raises(TypeError, match="flat_events"):
        event_table(lines, "probe")


def test_text_cells_of_unknown_payload_keys_stay_text():
    table = pd.DataFrame(
        {
            "kind": ["action", "action"],
            "payload.type": ["role", "custom"],
            "payload.placebo": ["True", None],
            "payload.role": ["attacker", None],
            "payload.note": [None, "[1 2]"],
        }
    )
    typed = typed_events(table)
    assert typed["payload.placebo"].tolist() == [True, None]
    assert typed["payload.note"].tolist() == [None, "[1 2]"]  # no registered type: left as it is

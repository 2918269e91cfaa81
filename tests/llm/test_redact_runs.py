"""A configured key reaches no file of a run and no stderr, however short and whatever it holds.

The fault stub echoes the bearer key in its 401 bodies (JSON-escaped, as servers do); the
run writes every format and its report, and each file is searched for each form the key
can take: as is, JSON-escaped once and twice, URL-encoded, repr-escaped, HTML-escaped and
CSV-quoted.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from tests.llm.fault_stub import FaultStub
from tests.llm.test_faults import ANSWER, assert_valid_log, cli, config, seed_of

KEYS = ["Q7!", 'ke"y\\with/quote']  # three characters; a quote and a backslash


def forms(key: str) -> dict[str, str]:
    """Every way `key` could be written into a file or a terminal."""
    once = json.dumps(key)[1:-1]
    return {
        "raw": key,
        "json": once,
        "json twice": json.dumps(once)[1:-1],
        "url": quote(key, safe=""),
        "repr": repr(key)[1:-1],
        "html": html.escape(key),
        "csv": key.replace('"', '""'),
        "csv of json": once.replace('"', '""'),
    }


def text_of(path: Path) -> str:
    """A written file as text: Parquet tables as their CSV, everything else decoded."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype(str).to_csv(index=False)
    return path.read_bytes().decode("utf-8", errors="replace")


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.slow
def test_a_short_or_quoted_key_reaches_no_file_and_no_stderr(tmp_path, key):
    faults = {seed_of(1, 1): "401", seed_of(4, 2): "401"}
    env = {**os.environ, "STUB_API_KEY": key}
    with FaultStub(ANSWER, faults) as stub, FaultStub(ANSWER, every="401") as refusing:
        cfg = config(tmp_path, stub.api_base, size=6, api_key_env="STUB_API_KEY")
        cfg["output"].update(report=True, formats=["jsonl", "csv", "parquet"])
        done = cli(cfg, tmp_path / "r", env)
        cfg["agents"]["llm"].update(api_base=refusing.api_base, cache=False)
        cfg.update(steps=1)
        failed = cli(cfg, tmp_path / "f", env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert failed.returncode == 2
    [line] = failed.stderr.strip().splitlines()
    assert "every model call of step 1 failed" in line and "[redacted]" in line
    events = assert_valid_log(tmp_path / "r")
    errors = events[events.kind == "error"]
    assert len(errors) == 2 and errors.payload.map(lambda p: "[redacted]" in p["message"]).all()
    inputs = {tmp_path / "r.json", tmp_path / "f.json"}  # the configs, which name no key
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p not in inputs]
    names = {p.name for p in written}
    assert {"events.jsonl", "events.csv", "events.parquet", "summary.json", "report.html"} <= names
    leaks = [
        (str(p.relative_to(tmp_path)), name)
        for p in written
        for name, form in forms(key).items()
        if form in text_of(p)
    ]
    leaks += [
        (stream, name)
        for stream in (done.stdout, done.stderr, failed.stdout, failed.stderr)
        for name, form in forms(key).items()
        if form in stream
    ]
    assert leaks == []

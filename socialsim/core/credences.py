"""The agents table without holding it: credences per claim, final credences, row chunks.

The agents table (``step, agent, claim, credence``: every agent and claim at every recorded
step) has ``steps x agents x claims`` rows: 110 million for ten million agents over ten
steps. A :class:`CredenceSource` answers what the measures ask of it (one claim's step x
agent matrix, each claim's final credences, the claim ids, the population size) and hands the
table to writers in chunks (one recorded step at a time), so neither a run nor
``load_run`` has to hold the long table. Two sources: the recorder's snapshots of a model
(:class:`socialsim.simulation.recorder.SnapshotCredences`) and an ``agents.parquet`` file
read row group by row group (:class:`ParquetCredences`). ``RunData.agents`` builds the whole
table from its source only when something asks for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from socialsim.core.errors import DataFileError

AGENT_COLUMNS = ["step", "agent", "claim", "credence"]
#: parquet schema metadata keys written with the agents table
META_CLAIMS, META_AGENTS = b"socialsim.claims", b"socialsim.n_agents"


class CredenceSource(Protocol):
    """Where a record's credences come from, chunk by chunk."""

    claims: list[str]
    n_agents: int

    def matrix(self, claim: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, matrix)``: the credence of every agent (columns) at every step (rows)."""
        ...

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The agents table, a recorded step at a time, in the table's row order."""
        ...

    def last_step(self) -> int | None:
        """The last recorded step (None without any)."""
        ...


def long_table(source: CredenceSource) -> pd.DataFrame:
    """The whole agents table of a source (what ``RunData.agents`` holds once asked for)."""
    frames = list(source.chunks())
    if not frames:
        return pd.DataFrame(columns=AGENT_COLUMNS)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def final_credences(source: CredenceSource) -> dict[str, np.ndarray]:
    """Each claim's credences at the last recorded step (NaN for agents absent then)."""
    out = {}
    for claim in source.claims:
        steps, matrix = source.matrix(claim)
        if len(steps):
            out[claim] = matrix[-1]
    return out


def matrix_from_rows(
    steps_col: np.ndarray, agents_col: np.ndarray, credence: np.ndarray, n_agents: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, matrix)`` from one claim's rows (later rows of a step and agent win)."""
    if not len(steps_col):
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0))
    steps = np.unique(steps_col)
    n = max(int(agents_col.max()) + 1, n_agents)
    matrix = np.full((len(steps), n), np.nan)
    matrix[np.searchsorted(steps, steps_col), agents_col] = credence
    return steps, matrix


def check_agent_count(n_agents: int, rows: int, path: Path) -> None:
    """DataFileError unless an agents table of `rows` rows can hold `n_agents` agents: each
    agent has a row at step 0, so a larger count (an agent id far past the rows) is a table
    changed after the run, and would size every per-agent array by it."""
    if n_agents < 0 or n_agents > max(rows, 0):
        raise DataFileError(
            f"{str(path)!r} names {n_agents:,} agents but holds {rows:,} rows (each agent has "
            "one at step 0): it was changed after the run; restore the file socialsim wrote"
        )


class ParquetCredences:
    """An ``agents.parquet`` file read a row group at a time (a recorded step per row group
    in files socialsim writes; an older file of one row group reads whole, as before)."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = Path(path)
        self._file = pq.ParquetFile(self.path)
        meta = self._file.schema_arrow.metadata or {}
        self.claims = (
            [str(c) for c in json.loads(meta[META_CLAIMS])]
            if META_CLAIMS in meta
            else self._read_claims()
        )
        self.n_agents = int(meta[META_AGENTS]) if META_AGENTS in meta else self._max_of("agent") + 1
        if self.claims:  # a run without claims has no rows at all
            check_agent_count(self.n_agents, self._file.metadata.num_rows, self.path)

    def __getstate__(self) -> dict:
        """Pickled without the open file (opened again from `path` when unpickled)."""
        return {k: v for k, v in vars(self).items() if k != "_file"}

    def __setstate__(self, state: dict) -> None:
        import pyarrow.parquet as pq

        vars(self).update(state)
        self._file = pq.ParquetFile(self.path)

    def _batches(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        present = [c for c in columns if c in self._file.schema_arrow.names]
        for i in range(self._file.num_row_groups):
            yield self._file.read_row_group(i, columns=present).to_pandas()

    def _read_claims(self) -> list[str]:
        seen: dict[str, None] = {}
        for frame in self._batches(["claim"]):
            if "claim" in frame:
                seen.update(dict.fromkeys(str(c) for c in pd.unique(frame["claim"])))
        return list(seen)

    def _max_of(self, column: str) -> int:
        best = -1
        for frame in self._batches([column]):
            if column in frame and len(frame):
                best = max(best, int(pd.to_numeric(frame[column]).max()))
        return best

    def matrix(self, claim: str) -> tuple[np.ndarray, np.ndarray]:
        """One claim's step x agent matrix, filled a row group at a time (later rows win)."""
        rows_of: dict[int, np.ndarray] = {}
        n = self.n_agents
        for frame in self._batches(AGENT_COLUMNS):
            rows = frame[(frame["claim"].astype(str) == str(claim)).to_numpy(dtype=bool)]
            if not len(rows):
                continue
            step = rows["step"].to_numpy(dtype=np.int64)
            agent = rows["agent"].to_numpy(dtype=np.int64)
            credence = rows["credence"].to_numpy(dtype=float)
            n = max(n, int(agent.max()) + 1)
            for s in np.unique(step):
                row = rows_of.setdefault(int(s), np.full(n, np.nan))
                if len(row) < n:
                    row = rows_of[int(s)] = np.concatenate([row, np.full(n - len(row), np.nan)])
                here = step == s
                row[agent[here]] = credence[here]
        if not rows_of:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0))
        steps = np.array(sorted(rows_of), dtype=np.int64)
        matrix = np.full((len(steps), n), np.nan)
        for i, s in enumerate(steps):
            row = rows_of.pop(int(s))
            matrix[i, : len(row)] = row
        return steps, matrix

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The table a row group at a time, with every column of the table."""
        for frame in self._batches(AGENT_COLUMNS):
            for col in AGENT_COLUMNS:
                if col not in frame.columns:
                    frame[col] = np.nan
            frame["claim"] = frame["claim"].astype(str)
            yield frame

    def last_step(self) -> int | None:
        """The largest step in the file (read once: the summary and the measures both ask)."""
        if not hasattr(self, "_last"):
            best = self._max_of("step")
            self._last = None if best < 0 else best
        return self._last


def parquet_metadata(claims: list[str], n_agents: int) -> dict[bytes, bytes]:
    """The schema metadata socialsim writes with an agents table."""
    return {META_CLAIMS: json.dumps(claims).encode(), META_AGENTS: str(n_agents).encode()}

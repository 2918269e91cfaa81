"""The record of a run and its one reader: ``load_run(dir) -> RunData``.

A run writes, once, a record from which every measure can be recomputed: the event log, the
agents table (``step, agent, claim, credence`` for every agent and claim from step 0, the
state after set-up), the graph and the personas. :func:`load_run` reads it back into a
:class:`RunData`; ``socialsim.run`` returns the same shape built in memory, so every measure
takes either.

Events come in one table shape (:mod:`socialsim.core.event_tables`): the event columns and
one ``payload.<key>`` column per payload key. A run directory without ``events.jsonl`` (an
older one, or one copied without it) loads from ``events.parquet`` or ``events.csv`` through
the converter that decodes their text cells.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.core.credences import (
    AGENT_COLUMNS,
    CredenceSource,
    ParquetCredences,
    check_agent_count,
    final_credences,
    long_table,
)
from socialsim.core.csv_safe import read_csv
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.event_tables import BASE_COLUMNS, read_events_table, typed_events
from socialsim.core.network import Network


class RunData:
    """The record of one run: events, agents table, graph, personas, config (and summary).

    Each part is empty when its file is missing. The network is held as edge arrays
    (``network``, a :class:`~socialsim.core.network.Network` whose node table is the
    graph's node attributes) and as a networkx graph (``graph``); either is built from the
    other on first use, so a run of a million agents needs no networkx graph unless a
    measure asks for one. ``n_agents`` is the population size.

    The agents table may come from a :class:`~socialsim.core.credences.CredenceSource`
    (``credences``: a model's snapshots, or ``agents.parquet`` row group by row group): the
    measures read one claim's matrix at a time from it, and ``agents`` builds the whole
    table only when something asks for it. Read from a directory, the event log, too, is
    read on first use of ``events`` (what reads only credences, the network or the personas
    of a run of millions never reads its log).
    """

    def __init__(
        self,
        path: Path | None = None,
        events: pd.DataFrame | None = None,
        agents: pd.DataFrame | None = None,
        steps: pd.DataFrame | None = None,
        graph: nx.Graph | None = None,
        personas: pd.DataFrame | None = None,
        config: dict[str, Any] | None = None,
        summary: dict[str, Any] | None = None,
        network: Network | None = None,
        credences: CredenceSource | None = None,
    ) -> None:
        self.path = path
        self._events = events
        self._read_events: Callable[[], pd.DataFrame] | None = None
        self._agents = agents
        self.credences = credences if agents is None else None
        self.steps = steps if steps is not None else pd.DataFrame()
        self.personas = personas if personas is not None else pd.DataFrame()
        self.config = config if config is not None else {}
        self.summary = summary if summary is not None else {}
        self.cache: dict[Any, Any] = {}
        self._graph = graph
        self._network = network

    @property
    def events(self) -> pd.DataFrame:
        """The event table (one row per event; read from the run directory on first use)."""
        if self._events is None:
            read, self._read_events = self._read_events, None
            self._events = read() if read is not None else pd.DataFrame(columns=BASE_COLUMNS)
        return self._events

    @events.setter
    def events(self, value: pd.DataFrame) -> None:
        self._events = value
        self._read_events = None

    def read_events_on_use(self, read: Callable[[], pd.DataFrame]) -> None:
        """Let `read()` make the event table when ``events`` is first asked for."""
        self._events = None
        self._read_events = read

    @property
    def agents(self) -> pd.DataFrame:
        """The agents table (``step, agent, claim, credence``), built from ``credences`` on
        first use where the record has a source rather than a table."""
        if self._agents is None:
            if self.credences is not None:
                self._agents = long_table(self.credences)
            else:
                self._agents = pd.DataFrame(columns=AGENT_COLUMNS)
        return self._agents

    @agents.setter
    def agents(self, value: pd.DataFrame) -> None:
        self._agents = value
        self.credences = None
        for key in [k for k in self.cache if isinstance(k, tuple) and k[0] == "credence"]:
            del self.cache[key]
        self.cache.pop("n_agents", None)

    @property
    def has_agent_rows(self) -> bool:
        """True when the agents table has rows (without building it from its source)."""
        if self._agents is None and self.credences is not None:
            return bool(self.credences.claims) and self.credences.last_step() is not None
        return not self.agents.empty

    def credence_rows(self, claim: str) -> tuple[np.ndarray, np.ndarray] | None:
        """One claim's ``(steps, matrix)`` from the source, or None where the record holds
        the table itself (or nothing)."""
        if self._agents is None and self.credences is not None:
            return self.credences.matrix(claim)
        return None

    def last_step(self) -> int | None:
        """The last step of the agents table (None without rows)."""
        if self._agents is None and self.credences is not None:
            return self.credences.last_step()
        if self.agents.empty:
            return None
        return int(self.agents["step"].max())

    def final_credences(self) -> dict[str, np.ndarray]:
        """Each claim's credences at the last recorded step, by agent id (NaN: absent)."""
        if self._agents is None and self.credences is not None:
            return final_credences(self.credences)
        return final_credences_of_table(self.agents)

    @property
    def graph(self) -> nx.Graph | None:
        """The network as a networkx graph with node attributes (built on first use)."""
        if self._graph is None and self._network is not None:
            self._graph = self._network.to_networkx()
        return self._graph

    @graph.setter
    def graph(self, value: nx.Graph | None) -> None:
        self._graph = value
        self._network = None

    @property
    def network(self) -> Network | None:
        """The network as edge arrays (:class:`Network`), or None without a graph."""
        if self._network is None and self._graph is not None:
            self._network = Network.of(self._graph)
        return self._network

    @property
    def has_network(self) -> bool:
        """True when the run has a network (without building either form)."""
        return self._graph is not None or self._network is not None

    @property
    def dir(self) -> Path | None:
        """The run directory (None for a record that only lives in memory)."""
        return self.path

    @property
    def n_agents(self) -> int:
        """Number of agents in the run (removed ones included)."""
        if "n_agents" not in self.cache:
            if self._agents is None and self.credences is not None:
                n = self.credences.n_agents
            elif not self.agents.empty:
                n = int(self.agents["agent"].max()) + 1
            elif self.has_network:
                n = self.network.n
            else:
                n = len(self.personas)
            self.cache["n_agents"] = n
        return self.cache["n_agents"]

    @property
    def claims(self) -> list[str]:
        """Claim ids of the agents table, in order of first appearance."""
        if self._agents is None and self.credences is not None:
            return list(self.credences.claims)
        if self.agents.empty:
            return []
        return [str(c) for c in pd.unique(self.agents["claim"])]


#: the files of a run directory; a directory holding none of them is no run
RUN_FILES = (
    "events.jsonl", "events.parquet", "events.csv", "agents.parquet", "agents.csv",
    "personas.parquet", "personas.csv", "steps.csv", "config.yaml", "edges.parquet",
    "graph.graphml", "summary.json",
)  # fmt: skip


#: what a run, arms or sweep directory holds that socialsim reads or writes there
_OWN_ENTRIES = (
    *RUN_FILES, "report.html", "figures", "tables", "transcripts", "results.csv",
    "results.parquet", "sweep.json", "checkpoint.npz", "checkpoint.snapshots", "treatment",
    "control", "instrument", "cells", "events.interrupted.jsonl", "graph.gexf", "export-graphml",
)  # fmt: skip
#: folders of runs: an arms directory's arms, a sweep's cells
_RUN_FOLDERS = ("treatment", "control", "instrument", "cells")


def _edge_ids(path: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The source and target ids of an edges.parquet: DataFileError (one line) unless it has
    both columns of whole numbers, each an agent of the run (0..n-1)."""
    edges = pd.read_parquet(path)
    try:
        ends = [edges[c].to_numpy(dtype=np.int64) for c in ("source", "target")]
    except (KeyError, ValueError, TypeError):
        ends = None
    if ends is None or any(len(e) and (e.min() < 0 or e.max() >= n) for e in ends):
        raise DataFileError(
            f"{str(path)!r} does not hold the run's edges (columns source and target, agent "
            f"ids from 0 to {n - 1}): it was changed after the run; restore the file"
        )
    return ends[0], ends[1]


def refuse_links(root: str | Path) -> None:
    """DataFileError (one line) when an entry socialsim reads or writes in a run, arms or
    sweep directory (or a file in its figures/ or tables/) is a symbolic link: a received
    directory could point one at a file elsewhere, to be read into a report or written over."""
    root = Path(root)
    entries = [root / name for name in _OWN_ENTRIES]
    for folder in ("figures", "tables", "transcripts", "export-graphml", *_RUN_FOLDERS):
        if (root / folder).is_dir() and not (root / folder).is_symlink():
            entries += list((root / folder).iterdir())
    linked = next((p for p in entries if p.is_symlink()), None)
    if linked is not None:
        raise DataFileError(
            f"{str(linked)!r} is a symbolic link; socialsim neither reads nor writes through "
            "a link in a run directory (it could point outside it): replace it with the file"
        )
    for folder in _RUN_FOLDERS:  # the runs of an arms or sweep directory, checked alike
        if (root / folder).is_dir():
            for run in (root / folder).iterdir():
                if run.is_dir():
                    refuse_links(run)


def load_run(path: str | Path) -> RunData:
    """Read a run directory (any of its files may be missing): ``load_run("runs/x").events``.

    A path that is not a directory, or a directory that holds none of a run's files (an
    arms or sweep directory, a run's parent folder), is refused with a :class:`ConfigError`.
    """
    root = Path(path)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        raise ConfigError(f"load_run: {str(root)!r} {what}; pass a run directory")
    refuse_links(root)
    if not any((root / name).is_file() for name in RUN_FILES):
        raise ConfigError(
            f"load_run: {str(root)!r} holds no run (none of events.jsonl, config.yaml, "
            "summary.json, ...); pass one run's directory (an arms directory holds them under "
            "treatment/s<seed>, a sweep under cells/)"
        )
    data = RunData(path=root)
    for name, read in (
        ("events.jsonl", read_events_table),
        ("events.parquet", _parquet_events),
        ("events.csv", _csv_events),
    ):
        if (root / name).is_file():  # read when first asked for (a partial: RunData pickles)
            data.read_events_on_use(partial(read, root / name))
            break
    if (root / "agents.parquet").is_file():
        data.credences = ParquetCredences(root / "agents.parquet")
    elif (root / "agents.csv").is_file():
        data.agents = _tidy_agents(read_csv(root / "agents.csv"))
        if len(data.agents):
            top = pd.to_numeric(data.agents["agent"], errors="coerce").max()
            check_agent_count(
                int(top) + 1 if top == top else 0, len(data.agents), root / "agents.csv"
            )
    if (root / "steps.csv").is_file():
        data.steps = read_csv(root / "steps.csv")
    if (root / "personas.parquet").is_file():
        data.personas = pd.read_parquet(root / "personas.parquet")
    elif (root / "personas.csv").is_file():
        data.personas = read_csv(root / "personas.csv")
    if data.credences is not None and not data.credences.claims:
        # no credence rows to bound the agent count by: the personas, one row per agent
        check_agent_count(data.credences.n_agents, len(data.personas), root / "agents.parquet")
    if (root / "config.yaml").is_file():
        data.config = _read_yaml(root / "config.yaml")
    if (root / "edges.parquet").is_file() and not data.personas.empty:
        directed = bool((data.config.get("network") or {}).get("directed", False))
        source, target = _edge_ids(root / "edges.parquet", len(data.personas))
        data._network = Network(
            len(data.personas),
            source,
            target,
            directed,
            attributes=node_attributes(data.personas, data.final_credences()),
        )
    elif (root / "graph.graphml").is_file():
        data.graph = read_graph(root / "graph.graphml")
    if (root / "summary.json").is_file():
        try:
            data.summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            data.summary = {}
    return data


def _parquet_events(path: Path) -> pd.DataFrame:
    return typed_events(pd.read_parquet(path))


def _csv_events(path: Path) -> pd.DataFrame:
    return typed_events(read_csv(path))


def _tidy_agents(frame: pd.DataFrame) -> pd.DataFrame:
    for col in AGENT_COLUMNS:
        if col not in frame.columns:
            frame[col] = np.nan
    frame["claim"] = frame["claim"].astype(str)
    return frame


# --- populations ------------------------------------------------------------------------


def roles(events: pd.DataFrame) -> pd.DataFrame:
    """Scenario roles from ``action`` events of type ``role``: ``agent, role, placebo``.

    ``placebo`` is True in a control arm, where the agent was drawn for the role but acted as
    an ordinary agent.
    """
    actions = of_kind(events, "action")
    if actions.empty:
        return pd.DataFrame(columns=["agent", "role", "placebo"])
    rows = actions[(payload(actions, "type") == "role").to_numpy(dtype=bool)]
    return pd.DataFrame(
        {
            "agent": pd.to_numeric(rows["agent"]).astype("int64").to_numpy(),
            "role": payload(rows, "role").astype(str).to_numpy(),
            "placebo": as_bool(payload(rows, "placebo")).fillna(0).astype(bool).to_numpy(),
        }
    )


def populations(data: RunData) -> dict[str, np.ndarray]:
    """Agent ids of each population a measure can be taken over.

    ``all``: every agent. ``benign``: every agent without a scenario role (attackers,
    guardians, persuaders, violators, ... and their placebo counterparts in a control arm);
    present only when some agent has a role. One entry per role (``attacker``, ...) too.
    Cached on the RunData (its events are not expected to change).
    """
    if "populations" in data.cache:
        return data.cache["populations"]
    everyone = np.arange(data.n_agents)
    out: dict[str, np.ndarray] = {"all": everyone}
    table = roles(data.events)
    if not table.empty:
        out["benign"] = np.setdiff1d(everyone, table["agent"].to_numpy())
        for role, rows in table.groupby("role", sort=True):
            out[str(role)] = np.unique(rows["agent"].to_numpy())
    data.cache["populations"] = out
    return out


def join_steps(events: pd.DataFrame) -> dict[int, int]:
    """Agent -> the step at which it joined a run it was not in from the start (``action``
    of type ``joined``, e.g. a grown network); agents without one were there from step 0."""
    actions = of_kind(events, "action")
    if actions.empty:
        return {}
    rows = actions[(payload(actions, "type") == "joined").to_numpy(dtype=bool)]
    out: dict[int, int] = {}
    for agent, step in zip(rows["agent"].tolist(), rows["step"].tolist(), strict=True):
        if agent is not None and not pd.isna(agent):
            out.setdefault(int(agent), int(step))
    return out


def removal_steps(events: pd.DataFrame) -> dict[int, int]:
    """Agent -> the step at which it left the run (``action`` of type ``removed``)."""
    actions = of_kind(events, "action")
    if actions.empty:
        return {}
    rows = actions[(payload(actions, "type") == "removed").to_numpy(dtype=bool)]
    out: dict[int, int] = {}
    for agent, step in zip(rows["agent"].tolist(), rows["step"].tolist(), strict=True):
        if agent is not None and not pd.isna(agent):
            out.setdefault(int(agent), int(step))
    return out


def node_attributes(
    personas: pd.DataFrame, finals: pd.DataFrame | dict[str, np.ndarray]
) -> pd.DataFrame:
    """The graph's node attributes: persona fields, policy, role, ... and final credences
    (`finals`: the agents table, or each claim's final credences by agent id)."""
    attrs = personas.drop(columns=["agent"], errors="ignore").reset_index(drop=True)
    if isinstance(finals, pd.DataFrame):
        finals = final_credences_of_table(finals)
    for claim, last in finals.items():
        values = np.full(len(attrs), np.nan)
        k = min(len(values), len(last))
        values[:k] = last[:k]
        attrs[f"credence.{claim}"] = values
    return attrs


def final_credences_of_table(agents: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each claim's credences at the table's last step, by agent id (NaN: no row)."""
    out: dict[str, np.ndarray] = {}
    if agents.empty:
        return out
    last = agents[agents["step"] == agents["step"].max()]
    n = int(agents["agent"].max()) + 1
    for claim, rows in last.groupby("claim", sort=False):
        values = np.full(n, np.nan)
        values[rows["agent"].to_numpy(dtype=np.int64)] = rows["credence"].to_numpy(float)
        out[str(claim)] = values
    return out


def read_graph(path: str | Path) -> nx.Graph:
    """Read graph.graphml with integer node ids (non-integer ids are kept as they are)."""
    try:
        return nx.read_graphml(path, node_type=int)
    except (ValueError, TypeError):
        return nx.read_graphml(path)


def _read_yaml(path: Path) -> dict[str, Any]:
    """A run's config.yaml as data, within the YAML limits: DataFileError (one line) for one
    that cannot be read, is refused (a tag, a duplicate key, too large) or is no mapping, so
    no measure is taken from a run whose config is unknown."""
    from socialsim.core.yaml_safe import load_yaml_file

    loaded = load_yaml_file(path, "the run's config file", DataFileError)
    if not isinstance(loaded, dict):
        raise DataFileError(
            f"{path}: the run's config is {type(loaded).__name__}, not a mapping of settings; "
            "restore the file socialsim wrote"
        )
    return loaded


# --- reading event tables --------------------------------------------------------------


def of_kind(events: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Rows of one event kind: ``of_kind(events, "probe")``."""
    if events.empty or "kind" not in events.columns:
        return events.iloc[0:0]
    mask = (events["kind"] == kind).to_numpy(dtype=bool)
    return events if mask.all() else events[mask]


def payload(events: pd.DataFrame, key: str, default: Any = None) -> pd.Series:
    """One payload field (the ``payload.<key>`` column) as a Series aligned with `events`."""
    flat = f"payload.{key}"
    if flat in events.columns:
        return events[flat]
    _require_table_shape(events)
    return pd.Series(default, index=events.index, dtype=object)


def event_table(events: pd.DataFrame, kind: str, action_type: str | None = None) -> pd.DataFrame:
    """Events of one kind (and action `type`) with payload keys as plain columns.

    ``event_table(events, "action", "norm_choice")["label"]``; payload keys win over the
    event columns of the same name.
    """
    _require_table_shape(events)
    rows = of_kind(events, kind)
    if action_type is not None and not rows.empty:
        rows = rows[payload(rows, "type") == action_type]
    base_cols = [c for c in ("step", "time", "agent", "target", "claim") if c in rows.columns]
    base = rows[base_cols].reset_index(drop=True)
    if rows.empty:
        return base
    cols = [c for c in rows.columns if c.startswith("payload.")]
    fields = rows[cols].reset_index(drop=True)
    fields = fields.loc[:, fields.notna().any()]
    fields.columns = [c[len("payload.") :] for c in fields.columns]
    base = base.drop(columns=[c for c in fields.columns if c in base.columns])
    return pd.concat([base, fields], axis=1)


def _require_table_shape(events: pd.DataFrame) -> None:
    """Refuse a table with a ``payload`` dict per row: measures read the events table only."""
    if "payload" in events.columns:
        raise TypeError(
            "this events table has a 'payload' column of dicts; measures read the events "
            "table of load_run (one payload.<key> column per key): convert it with "
            "socialsim.core.event_tables.flat_events(events)"
        )


def as_list(value: Any) -> list[Any]:
    """A list from a list, array, JSON list string (flattened CSV/Parquet) or scalar."""
    if isinstance(value, list):
        return value
    if isinstance(value, tuple | np.ndarray):
        return list(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError:
                return [value]
            return loaded if isinstance(loaded, list) else [loaded]
        return [value]
    return [value]


def list_column(values: pd.Series) -> pd.Series:
    """A column of lists ready for ``explode``; JSON list strings are decoded."""
    sample = values.dropna()
    if sample.empty or not isinstance(sample.iloc[0], str):
        return values
    return values.map(as_list)


def as_bool(values: pd.Series) -> pd.Series:
    """Booleans from a column that may hold bools, 0/1, 'true'/'false' or None (-> NaN)."""

    def one(v: Any) -> float:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        if isinstance(v, str):
            low = v.strip().lower()
            if low in ("true", "yes", "1"):
                return 1.0
            if low in ("false", "no", "0"):
                return 0.0
            return np.nan
        return float(bool(v))

    if values.dtype == bool:
        return values.astype(float)
    return values.map(one).astype(float)

"""A model's record as tables: the :class:`RunData` a run directory holds, built in memory.

``model.record()`` and the runner's ``write_record`` both build it here: events (from the
log file, or from the in-memory log of a model without a run directory), the agents and
personas tables, the steps table, the network with its node attributes, and the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from socialsim.agents.sampling import SampledPersonas
from socialsim.core.columns import plain_column
from socialsim.core.credences import final_credences
from socialsim.core.rundata import RunData, node_attributes, read_events_table

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView

PERSONA_SCALARS = (
    "name", "age", "gender", "country", "occupation", "education", "political_leaning",
    "communication_style", "credulity", "stubbornness", "activity_rate",
    "framing_susceptibility", "source_susceptibility", "model", "role",
)  # fmt: skip
TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


def build_record(model: ModelView) -> RunData:
    """The model's record so far, the same as the runner writes and ``load_run`` reads."""
    credences = model.credence_source()
    personas = personas_table(model)
    steps = model.recorder.steps_table(model.datacollector)
    network = model.network.with_attributes(node_attributes(personas, final_credences(credences)))
    return RunData(
        path=model.run_dir,
        events=events_table(model),
        steps=steps,
        personas=personas,
        config=model.cfg.model_dump(mode="json"),
        network=network,
        credences=credences,
    )


def graph_columns(model: ModelView) -> dict[str, pd.Series]:
    """The network's own node attributes (a given graph's, or a generator's) as columns of
    the personas table, ``graph.<name>`` (``community`` has a column of its own), and, for a
    given graph whose nodes have labels of their own, each agent's ``node_label``."""
    own = model.network.attributes
    names = [] if own is None else [c for c in own.columns if c != "community"]
    columns = {f"graph.{name}": plain_column(own[name]) for name in names}
    labels = model.node_labels
    if labels is not None and labels != list(range(len(labels))):
        columns["node_label"] = plain_column(pd.Series(labels, dtype=object))
    return columns


def events_table(model: ModelView) -> pd.DataFrame:
    """The model's events in the flat shape of ``events.parquet`` (from file or memory)."""
    sink = model.log.sink
    if sink.path is not None:
        return read_events_table(sink.path)
    return read_events_table(sink.text().encode("utf-8"))


def personas_table(model: ModelView) -> pd.DataFrame:
    """One row per agent: its persona's scalar fields and traits, policy and scenario role.

    Sampled populations are read column by column (no persona objects), text fields held
    as codes as categories made from them (the same values, a fraction of the memory: ten
    million personas hold a few hundred occupations), names (nearly all distinct) as text;
    agents whose persona changed during the run (a scenario role, a per-agent model) are
    read from it.
    """
    n = model.n_agents
    store = model.personas
    columns: dict[str, Any] = {"agent": np.arange(n)}
    if isinstance(store, SampledPersonas):
        for key in PERSONA_SCALARS:
            try:
                columns[key] = _store_column(store, key)
            except KeyError:  # a field every persona has at its default
                value = getattr(store.get(0), key) if n else None
                columns[key] = (
                    categorical(np.zeros(n, dtype=np.int64), [value])
                    if value is None or isinstance(value, str)
                    else [value] * n
                )
        for trait in TRAITS:
            columns[f"big_five.{trait}"] = _store_column(store, f"big_five.{trait}")
        for key in ("values", "interests"):
            codes, table = store.coded(key)
            columns[key] = categorical(codes, [";".join(t) for t in table])
        frame = pd.DataFrame(columns)
        changed = model.created_ids()
    else:
        frame = pd.DataFrame(columns)
        changed = list(range(n))
    rows = []
    for i in changed:
        p = model.persona_of(i)
        row = {key: getattr(p, key) for key in PERSONA_SCALARS}
        row.update({f"big_five.{t}": getattr(p.big_five, t) for t in TRAITS})
        row.update({k: ";".join(getattr(p, k)) for k in ("values", "interests")})
        rows.append(row)
    if rows:
        update = pd.DataFrame(rows, index=changed)
        for col in update.columns:
            if col in frame and isinstance(frame[col].dtype, pd.CategoricalDtype):
                new = set(update[col].dropna()) - set(frame[col].cat.categories)
                if all(isinstance(v, str) for v in new):
                    frame[col] = frame[col].cat.add_categories(sorted(new))
                else:
                    frame[col] = frame[col].astype(object)
            elif col not in frame or frame[col].dtype != update[col].dtype:
                frame[col] = frame[col].astype(object) if col in frame else None
            frame.loc[changed, col] = update[col].to_numpy()
    frame["policy"] = categorical(model.policy_of, [g.name for g in model.groups])
    table = model.network.attributes
    community = table["community"].tolist() if table is not None and "community" in table else None
    if community is not None:
        try:
            frame["community"] = pd.array(community, dtype="Int64")
        except (TypeError, ValueError):  # a given graph's own labels: text, if mixed
            frame["community"] = plain_column(pd.Series(community, dtype=object)).array
    for name, values in graph_columns(model).items():
        frame[name] = values.to_numpy()
    frame["scenario_role"] = _roles(model.roles, n)
    frame["present"] = model.present.copy()
    return frame


#: persona fields that hold text (read as categories from a sampled store)
TEXT_FIELDS = frozenset(
    {"name", "gender", "country", "occupation", "education", "political_leaning",
     "communication_style", "model", "role"}
)  # fmt: skip


def _store_column(store: SampledPersonas, key: str) -> Any:
    """A persona field of every agent: text held as codes as a category from them; free
    text (names, nearly all distinct) and numbers as they are held."""
    held = store.array(key)
    if held is not None:
        return held
    if key in TEXT_FIELDS:
        codes, table = store.coded(key)
        if all(v is None or isinstance(v, str) for v in table):
            return categorical(codes, table)
    return store.column(key)


def categorical(codes: Any, table: list[Any]) -> Any:
    """``table[codes[i]]`` for every i as a category (None: missing); an object array where
    the table's text repeats or holds something other than text."""
    codes = np.asarray(codes, dtype=np.int64)
    labels = [v for v in table if v is not None]
    if len(set(labels)) != len(labels) or not all(isinstance(v, str) for v in labels):
        return np.asarray(list(table), dtype=object)[codes]
    index = {v: i for i, v in enumerate(labels)}
    remap = np.array([-1 if v is None else index[v] for v in table], dtype=np.int64)
    return pd.Categorical.from_codes(remap[codes] if len(remap) else codes, categories=labels)


def _roles(roles: dict[int, Any], n: int) -> Any:
    """Each agent's scenario role (None: none) as a category."""
    names = sorted({str(r) for r in roles.values() if r is not None})
    code = {r: i for i, r in enumerate(names)}
    codes = np.full(n, -1, dtype=np.int64)
    for agent, role in roles.items():
        if role is not None and 0 <= agent < n:
            codes[agent] = code[str(role)]
    return pd.Categorical.from_codes(codes, categories=names)

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
from socialsim.core.credences import final_credences
from socialsim.core.rundata import RunData, node_attributes, read_events_table

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView

PERSONA_SCALARS = (
    "name", "age", "gender", "country", "occupation", "education", "political_leaning",
    "communication_style", "credulity", "stubbornness", "activity_rate", "model", "role",
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


def events_table(model: ModelView) -> pd.DataFrame:
    """The model's events in the flat shape of ``events.parquet`` (from file or memory)."""
    sink = model.log.sink
    if sink.path is not None:
        return read_events_table(sink.path)
    return read_events_table(sink.text().encode("utf-8"))


def personas_table(model: ModelView) -> pd.DataFrame:
    """One row per agent: its persona's scalar fields and traits, policy and scenario role.

    Sampled populations are read column by column (no persona objects); agents whose
    persona changed during the run (a scenario role, a per-agent model) are read from it.
    """
    n = model.n_agents
    store = model.personas
    columns: dict[str, Any] = {"agent": np.arange(n)}
    if isinstance(store, SampledPersonas):
        for key in PERSONA_SCALARS:
            try:
                columns[key] = store.column(key)
            except KeyError:
                columns[key] = [getattr(store.get(0), key)] * n if n else []
        for trait in TRAITS:
            columns[f"big_five.{trait}"] = store.column(f"big_five.{trait}")
        for key in ("values", "interests"):
            codes, table = store.coded(key)
            columns[key] = np.asarray([";".join(t) for t in table], dtype=object)[codes]
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
            if col not in frame or frame[col].dtype != update[col].dtype:
                frame[col] = frame[col].astype(object) if col in frame else None
            frame.loc[changed, col] = update[col].to_numpy()
    frame["policy"] = [model.groups[int(g)].name for g in model.policy_of]
    table = model.network.attributes
    community = table["community"].tolist() if table is not None and "community" in table else None
    if community is not None:
        try:
            frame["community"] = pd.array(community, dtype="Int64")
        except (TypeError, ValueError):  # a given graph's own labels
            frame["community"] = pd.array(community, dtype=object)
    frame["scenario_role"] = [model.roles.get(i) for i in range(n)]
    frame["present"] = model.present.copy()
    return frame

"""What a model is given from Python: a config in any form, a networkx graph, personas.

``SocialModel(graph=G, personas=df, policy="degroot")`` needs no config file: the config is
resolved here (an :class:`ExperimentConfig`, a dict or a YAML path, with the keyword
arguments laid over it), the graph becomes the model's
:class:`~socialsim.core.network.Network` and the personas become :class:`Persona`
objects, one per agent in row order.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from pydantic import ValidationError

from socialsim.core.errors import ConfigError
from socialsim.core.network import Network
from socialsim.core.persona import Persona
from socialsim.core.validation import describe_error, shown
from socialsim.simulation.config import ExperimentConfig, apply_overrides

# columns of a run's personas table that are not persona fields (a table can be given back)
RECORD_COLUMNS = ("id", "agent", "policy", "scenario_role", "present", "community", "node_label")
_LIST_FIELDS = ("values", "interests")


@dataclass
class Given:
    """A model's inputs resolved: its config, and the network and personas given, if any."""

    cfg: ExperimentConfig
    network: Network | None = None
    personas: list[Persona] | None = None
    labels: list[Any] | None = None  # each agent's node label in the given graph


def resolve_given(
    config: ExperimentConfig | dict | str | os.PathLike | None,
    *,
    graph: nx.Graph | None = None,
    personas: Any = None,
    **settings: Any,
) -> Given:
    """The config with `settings` (policy, params, steps, seed, claims) laid over it, and the graph
    and personas converted; population.size and network.directed follow what is given."""
    network, labels = network_from_graph(graph) if graph is not None else (None, None)
    people = personas_from(personas) if personas is not None else None
    if network is not None and people is not None and len(people) != network.n:
        raise ConfigError(
            f"personas: {len(people)} given for a graph of {network.n} nodes; "
            "give one persona per node"
        )
    size = network.n if network is not None else (len(people) if people is not None else None)
    directed = network.directed if network is not None else None
    cfg = given_config(config, size=size, directed=directed, **settings)
    return Given(cfg, network, people, labels)


def coerce_config(
    config: ExperimentConfig | dict | str | os.PathLike | None,
    overrides: list[str] | dict[str, Any] | None = None,
    *,
    source: str = "config",
    base_dir: os.PathLike | None = None,
) -> ExperimentConfig:
    """The one way any form of config becomes an :class:`ExperimentConfig`.

    `config` is an ExperimentConfig, a dict, a YAML path or None (the defaults);
    `overrides` are ``--set`` style (``["steps=20"]`` or ``{"steps": 20}``). `source` names a
    dict in error messages; `base_dir` is where a dict's relative paths (plugins, persona
    files) are found.
    """
    if isinstance(overrides, str):  # one override ("steps=2"), not its characters
        overrides = [overrides]
    if config is None or isinstance(config, dict):
        data = apply_overrides(config or {}, overrides or [])
        base = Path(base_dir) if base_dir is not None else None
        cfg = ExperimentConfig.from_dict(data, source=source, base_dir=base)
        cfg._base_dir = base
        return cfg
    if isinstance(config, ExperimentConfig):
        return config.with_overrides(overrides) if overrides else config
    if isinstance(config, str | os.PathLike):
        if isinstance(overrides, dict):
            overrides = [f"{k}={json.dumps(v)}" for k, v in overrides.items()]
        return ExperimentConfig.from_yaml(config, overrides=list(overrides or []))
    raise ConfigError(
        f"config: expected an ExperimentConfig, a dict or a YAML path, got "
        f"{type(config).__name__}{_BATCH_HINT.format(name='config', what='config')}"
    )


#: what mesa.batch_run does to a parameter that is iterable: it runs each item
_BATCH_HINT = (
    "; with mesa.batch_run, which runs each item of an iterable parameter, pass the "
    "{what} inside a list: parameters={{'{name}': [...]}}"
)


def given_config(
    config: ExperimentConfig | dict | str | os.PathLike | None,
    *,
    size: int | None = None,
    directed: bool | None = None,
    policy: str | None = None,
    params: dict[str, Any] | None = None,
    steps: int | None = None,
    seed: int | None = None,
    claims: Any = None,
) -> ExperimentConfig:
    """The experiment config from `config` (:func:`coerce_config`) with the given keyword
    values laid over it (``claims``: one claim or a list, each a dict or a Claim object,
    replacing ``claims:``; with mesa.batch_run, ``"claims": [claim]`` gives each run that one).

    ``policy`` sets ``agents.policy``; without ``params`` a policy other than the config's
    starts from empty ``agents.params`` (parameters belong to their policy).
    """
    cfg = coerce_config(config)
    changes: dict[str, Any] = {}
    if size is not None and size != cfg.population.size:
        changes["population.size"] = size
    if directed is not None and directed != cfg.network.directed:
        changes["network.directed"] = directed
    if policy is not None and policy != cfg.agents.policy:
        changes["agents.policy"] = policy
        changes["agents.params"] = {}
    if params is not None:
        if not isinstance(params, dict):
            raise ConfigError(
                f"params: {shown(params)} must be a mapping of the policy's parameters, "
                "e.g. {'epsilon': 0.2}"
            )
        changes["agents.params"] = dict(params)
    if steps is not None:
        changes["steps"] = steps
    if seed is not None:
        changes["seed"] = seed
    if claims is not None:
        one = isinstance(claims, dict) or hasattr(claims, "model_dump")
        changes["claims"] = [_claim_spec(c) for c in ([claims] if one else claims)]
    return cfg.with_overrides(changes) if changes else cfg


def _claim_spec(claim: Any) -> dict[str, Any]:
    """One ``claims=`` item as a config entry: a dict, or a Claim (any pydantic model)."""
    if hasattr(claim, "model_dump"):
        return claim.model_dump(mode="json")
    if isinstance(claim, dict):
        return dict(claim)
    raise ConfigError(
        f"claims: expected dicts like {{'id': 'c1', 'text': '...'}} or Claim objects, got "
        f"{type(claim).__name__}"
    )


def network_from_graph(graph: nx.Graph) -> tuple[Network, list[Any]]:
    """The graph as the model's network, and each agent's original node label.

    Nodes are numbered 0..n-1 in ``list(graph.nodes)`` order; node attributes are kept
    (the record's personas table holds them as ``graph.<name>``, the labels as
    ``node_label``), self-loops dropped, the graph itself is not changed.
    """
    if isinstance(graph, list | tuple) and len(graph) == 1 and isinstance(graph[0], nx.Graph):
        graph = graph[0]  # [G]: how mesa.batch_run is given one graph
    if not isinstance(graph, nx.Graph):
        raise ConfigError(
            f"graph: expected a networkx graph, got {type(graph).__name__}"
            + _BATCH_HINT.format(name="graph", what="graph")
        )
    if graph.is_multigraph():
        raise ConfigError("graph: multigraphs are not supported; pass nx.Graph(G) or nx.DiGraph(G)")
    n = graph.number_of_nodes()
    if n == 0:
        raise ConfigError("graph: it has no nodes; give a graph with at least one node")
    labels = list(graph.nodes)
    relabelled = nx.convert_node_labels_to_integers(graph, ordering="default")
    relabelled.remove_edges_from(list(nx.selfloop_edges(relabelled)))
    relabelled.graph["kind"] = "given"
    edges = np.fromiter(
        (v for edge in relabelled.edges() for v in edge),
        dtype=np.int64,
        count=2 * relabelled.number_of_edges(),
    )
    keys = sorted({k for _, data in relabelled.nodes(data=True) for k in data})
    attributes = {k: [relabelled.nodes[v].get(k) for v in range(n)] for k in keys} if keys else None
    network = Network.from_edges(
        n, edges, relabelled.is_directed(), attributes=attributes, kind="given", graph=relabelled
    )
    return network, labels


def personas_from(personas: Any) -> list[Persona]:
    """Personas from a DataFrame (one row per agent) or a list of Persona objects or dicts.

    Row i is agent i (its ``id`` is set to i). DataFrame columns are Persona fields;
    ``big_five.openness``-style columns or a ``big_five`` column of dicts give the traits,
    ``values`` and ``interests`` may be lists or ``;``-separated text. Missing cells take
    the defaults, except ``name``, which every row needs; the columns a run's personas
    table adds (policy, role, ``graph.*``, ...) are ignored, so a run's table can be given
    back.
    """
    import pandas as pd

    if isinstance(personas, pd.DataFrame):
        drop = [
            c
            for c in personas.columns
            if c in RECORD_COLUMNS or str(c).startswith(("credence.", "graph."))
        ]
        rows: Sequence[Any] = personas.drop(columns=drop).to_dict("records")
    elif isinstance(personas, Sequence) and not isinstance(personas, str | bytes):
        rows = personas
    else:
        raise ConfigError(
            "personas: expected a pandas DataFrame or a list of Persona objects or dicts, "
            f"got {type(personas).__name__}" + _BATCH_HINT.format(name="personas", what="table")
        )
    if not rows:
        raise ConfigError("personas: none given; give one row per agent")
    return [_persona(i, row) for i, row in enumerate(rows)]


def _persona(index: int, row: Any) -> Persona:
    if isinstance(row, Persona):
        return row.model_copy(update={"id": index})
    if not isinstance(row, dict):
        raise ConfigError(
            f"personas row {index}: expected a Persona or a dict, got {type(row).__name__}"
        )
    data: dict[str, Any] = {}
    traits: dict[str, Any] = {}
    for key, value in row.items():
        key = str(key)
        value = _plain(value)
        if value is None or key in RECORD_COLUMNS:
            continue
        if key.startswith("big_five."):
            traits[key.split(".", 1)[1]] = value
        elif key in _LIST_FIELDS and isinstance(value, str):
            data[key] = _text_list(value)
        else:
            data[key] = value
    if traits:
        data["big_five"] = {**(data.get("big_five") or {}), **traits}
    try:
        return Persona.model_validate({**data, "id": index})
    except ValidationError as exc:
        raise ConfigError(f"personas row {index}: {describe_error(exc)}") from None


def _plain(value: Any) -> Any:
    """A Python value for a cell: numpy scalars and arrays unwrapped, NaN and NA as None."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


def _text_list(text: str) -> list[str]:
    """A list field written as text: a JSON list or ``;``-separated items."""
    text = text.strip()
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            loaded = None
        if isinstance(loaded, list):
            return [str(v) for v in loaded]
    return [part.strip() for part in text.split(";") if part.strip()]


__all__ = [
    "Given",
    "coerce_config",
    "given_config",
    "network_from_graph",
    "personas_from",
    "resolve_given",
]

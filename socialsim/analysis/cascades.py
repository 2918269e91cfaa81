"""Cascade trees of a claim: who brought it to whom, and the shape of each tree.

An agent's parent is the ``target`` (source agent) of its first ``belief_change`` to at or
above the threshold; without one, the sender of the first message about the claim it
received from an agent that had already adopted. Agents with no parent are roots.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.analysis.spread import exposures
from socialsim.core.rundata import of_kind, payload


def adoptions(events: pd.DataFrame, claim: str, threshold: float = 0.5) -> pd.DataFrame:
    """First adoption of every agent: ``agent, step, order, source`` (source may be NaN)."""
    changes = of_kind(events, "belief_change")
    changes = changes[changes["claim"] == claim]
    new = pd.to_numeric(payload(changes, "new"), errors="coerce")
    changes = changes[(new >= threshold).to_numpy()]
    if changes.empty:
        return pd.DataFrame(columns=["agent", "step", "order", "source"])
    frame = pd.DataFrame(
        {
            "agent": changes["agent"].astype(int).to_numpy(),
            "step": changes["step"].astype(int).to_numpy(),
            "order": np.arange(len(changes)),
            "source": pd.to_numeric(changes["target"], errors="coerce").to_numpy(),
        }
    )
    frame = frame.drop_duplicates("agent", keep="first").reset_index(drop=True)
    frame.loc[frame["source"] < 0, "source"] = np.nan
    return frame


def cascade_parents(events: pd.DataFrame, claim: str, threshold: float = 0.5) -> pd.DataFrame:
    """Each adopter's parent in the cascade: ``agent, step, parent`` (NaN for roots)."""
    first = adoptions(events, claim, threshold)
    if first.empty:
        return pd.DataFrame(columns=["agent", "step", "parent"])
    # Sources that never logged an adoption (seeded before the log began) count as roots.
    sources = first["source"].dropna().to_numpy(dtype=np.int64)
    outside = np.setdiff1d(sources, first["agent"].to_numpy(dtype=np.int64))
    if len(outside):
        seeds = pd.DataFrame({"agent": outside, "step": np.nan, "order": -1, "source": np.nan})
        first = pd.concat([seeds, first], ignore_index=True)
    order = pd.Series(first["order"].to_numpy(), index=first["agent"].to_numpy())
    first["parent"] = first["source"]
    # A source only counts if it adopted before the agent did (keeps the forest acyclic).
    src_order = first["parent"].map(order)
    first.loc[~(src_order < first["order"]), "parent"] = np.nan
    missing = first["parent"].isna() & first["step"].notna()
    if missing.any():
        exp = exposures(events, claim)
        if not exp.empty:
            steps = pd.Series(first["step"].to_numpy(), index=first["agent"].to_numpy())
            exp = exp[exp["recipient"].isin(first.loc[missing, "agent"])]
            exp = exp.assign(
                sender=pd.to_numeric(exp["sender"], errors="coerce"),
                r_step=exp["recipient"].map(steps),
                r_order=exp["recipient"].map(order),
            )
            exp = exp.assign(
                s_step=exp["sender"].map(steps).fillna(-np.inf),
                s_order=exp["sender"].map(order),
            )
            ok = (
                (exp["s_order"] < exp["r_order"])
                & (exp["s_step"] <= exp["step"])
                & (exp["step"] <= exp["r_step"])
                & (exp["sender"] != exp["recipient"])
            )
            found = exp[ok].sort_values("step", kind="stable").drop_duplicates("recipient")
            fallback = first["agent"].map(
                pd.Series(found["sender"].to_numpy(), index=found["recipient"].to_numpy())
            )
            first.loc[missing, "parent"] = fallback[missing]
    return first[["agent", "step", "parent"]]


def _forest(parents: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per adopter (row of `parents`): parent row (-1 for a root), root row and depth.

    Roots and depths come from pointer jumping, so a forest of n nodes takes O(n log depth).
    """
    agents = parents["agent"].to_numpy()
    index = pd.Index(agents)
    up = index.get_indexer(parents["parent"].to_numpy())  # -1 for NaN (a root)
    n = len(agents)
    jump = np.where(up >= 0, up, np.arange(n))
    depth = (up >= 0).astype(np.int64)
    while True:
        nxt = jump[jump]
        if np.array_equal(nxt, jump):
            break
        depth = depth + depth[jump]
        jump = nxt
    return {"agent": agents, "parent": up, "root": jump, "depth": depth}


def forest_table(parents: pd.DataFrame) -> pd.DataFrame:
    """One row per cascade tree of a :func:`cascade_parents` table, largest first.

    ``root, size, depth, max_breadth, structural_virality``, as :func:`cascade_stats`
    gives for each tree, computed for the whole forest at once in O(adopters x log depth).
    """
    cols = ["root", "size", "depth", "max_breadth", "structural_virality"]
    if parents.empty:
        return pd.DataFrame(columns=cols)
    f = _forest(parents)
    root, depth, up = f["root"], f["depth"], f["parent"]
    n = len(root)
    size = np.bincount(root, minlength=n)
    tree_depth = np.zeros(n, dtype=np.int64)
    np.maximum.at(tree_depth, root, depth)
    level = pd.DataFrame({"root": root, "depth": depth}).value_counts()
    breadth = level.groupby(level="root").max()
    # Subtree sizes, deepest level first; the Wiener index sums s * (size - s) over edges.
    below = np.ones(n, dtype=np.int64)
    by_depth = np.argsort(-depth, kind="stable")
    bounds = np.flatnonzero(np.diff(depth[by_depth])) + 1
    for rows in np.split(by_depth, bounds):
        rows = rows[up[rows] >= 0]
        np.add.at(below, up[rows], below[rows])
    child = np.flatnonzero(up >= 0)
    wiener = np.zeros(n, dtype=np.int64)
    np.add.at(wiener, root[child], below[child] * (size[root[child]] - below[child]))
    roots = np.flatnonzero(root == np.arange(n))
    pairs = size[roots] * (size[roots] - 1) / 2
    table = pd.DataFrame(
        {
            "root": f["agent"][roots],
            "size": size[roots],
            "depth": tree_depth[roots],
            "max_breadth": breadth.reindex(roots).to_numpy(dtype=np.int64),
            "structural_virality": np.divide(
                wiener[roots], pairs, out=np.zeros(len(roots)), where=pairs > 0
            ),
        }
    )
    table["root"] = _as_int(table["root"])
    table = table.sort_values(["size", "root"], ascending=[False, True], kind="stable")
    return table.reset_index(drop=True)[cols]


def _as_int(values: pd.Series) -> pd.Series:
    """Agent ids as integers where they are whole numbers."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all() and (numbers == np.floor(numbers)).all():
        return numbers.astype(np.int64)
    return values


def forest_summary(parents: pd.DataFrame) -> dict[str, Any]:
    """Counts and shapes over the forest of a :func:`cascade_parents` table.

    ``n_cascades`` (trees, single adopters included), ``n_multi_node``, ``largest_size``,
    ``largest_depth``, ``largest_virality`` (of the largest tree, ties to the lowest root),
    ``mean_size``, ``max_depth``, ``max_breadth``, ``mean_virality_multi`` (mean structural
    virality over trees of two or more nodes).
    """
    return _summary(forest_table(parents))


def cascade_trees(events: pd.DataFrame, claim: str, threshold: float = 0.5) -> list[nx.DiGraph]:
    """The cascade forest of `claim`, one DiGraph (parent -> child) per root, largest first.

    Nodes carry ``step`` (adoption step); each tree's ``graph["root"]`` is its root.
    Building graphs costs memory: :func:`forest_table` and :func:`forest_summary` measure
    the forest without them.
    """
    parents = cascade_parents(events, claim, threshold)
    if parents.empty:
        return []
    f = _forest(parents)
    agents = _as_int(parents["agent"]).tolist()
    steps = parents["step"].tolist()
    members: dict[int, list[int]] = {}
    for row, r in enumerate(f["root"].tolist()):
        members.setdefault(r, []).append(row)
    trees = []
    for r, rows in members.items():
        tree = nx.DiGraph(root=agents[r])
        tree.add_nodes_from(
            (agents[i], {"step": None if pd.isna(steps[i]) else int(steps[i])}) for i in rows
        )
        tree.add_edges_from((agents[f["parent"][i]], agents[i]) for i in rows if i != r)
        trees.append(tree)
    trees.sort(key=lambda t: (-t.number_of_nodes(), t.graph["root"]))
    return trees


def _root(tree: nx.DiGraph) -> Any:
    if "root" in tree.graph:
        return tree.graph["root"]
    return next(n for n in tree.nodes if tree.in_degree(n) == 0)


def structural_virality(tree: nx.Graph) -> float:
    """Mean shortest-path distance over all node pairs of the undirected tree (Goel 2016).

    A star of 4 nodes gives 9/6 = 1.5, a path of 4 nodes 10/6; one node gives 0.0.
    Computed in O(n) as the Wiener index: sum over edges of s * (n - s) over C(n, 2).
    """
    n = tree.number_of_nodes()
    if n < 2:
        return 0.0
    und = tree.to_undirected(as_view=True) if tree.is_directed() else tree
    start = _root(tree) if tree.is_directed() else next(iter(tree.nodes))
    order = list(nx.dfs_preorder_nodes(und, start))
    parent = {start: None}
    for u, v in nx.dfs_edges(und, start):
        parent[v] = u
    size = dict.fromkeys(order, 1)
    total = 0
    for node in reversed(order):
        p = parent[node]
        if p is not None:
            size[p] += size[node]
            total += size[node] * (n - size[node])
    return total / (n * (n - 1) / 2)


def cascade_stats(tree: nx.DiGraph) -> dict[str, Any]:
    """Size, depth, largest breadth (nodes at one depth) and structural virality of a tree."""
    root = _root(tree)
    depths = nx.single_source_shortest_path_length(tree, root)
    counts = np.bincount(np.fromiter(depths.values(), dtype=np.int64))
    return {
        "root": root,
        "size": tree.number_of_nodes(),
        "depth": int(counts.size - 1),
        "max_breadth": int(counts.max()),
        "structural_virality": structural_virality(tree),
    }


def cascade_table(trees: list[nx.DiGraph]) -> pd.DataFrame:
    """One row of :func:`cascade_stats` per tree."""
    cols = ["root", "size", "depth", "max_breadth", "structural_virality"]
    return pd.DataFrame([cascade_stats(t) for t in trees], columns=cols)


def cascade_summary(trees: list[nx.DiGraph]) -> dict[str, Any]:
    """Counts and shapes over a list of trees: the keys of :func:`forest_summary`."""
    return _summary(cascade_table(trees))


def _summary(table: pd.DataFrame) -> dict[str, Any]:
    if table.empty:
        return {"n_cascades": 0}
    multi = table[table["size"] > 1]
    largest = table.iloc[0]
    return {
        "n_cascades": int(len(table)),
        "n_multi_node": int(len(multi)),
        "largest_size": int(largest["size"]),
        "largest_depth": int(largest["depth"]),
        "largest_virality": float(largest["structural_virality"]),
        "mean_size": float(table["size"].mean()),
        "max_depth": int(table["depth"].max()),
        "max_breadth": int(table["max_breadth"].max()),
        "mean_virality_multi": float(multi["structural_virality"].mean()) if len(multi) else None,
    }

"""What a run report draws for every run: each claim's figures and the probe table.

Every function adds its figures to the page's :class:`_Figures` collector and its tables to
the list shown collapsed under "All measures"; a large network is drawn as a seeded sample.
Each scenario family draws its own figures and tables (:mod:`socialsim.analysis.report.parts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialsim.analysis import cascades, plots, probes, spread
from socialsim.analysis.measures import claim_threshold
from socialsim.analysis.report.html import Tables, _Figures, plural
from socialsim.analysis.stats import clustered_share_ci
from socialsim.core.rundata import RunData, populations
from socialsim.core.rundata import roles as role_table

NETWORK_SAMPLE = 2000  # most nodes drawn in a network figure
CASCADE_ADOPTERS = 50_000  # cascade trees are built up to this many adopters


def _claim_figures(
    run: RunData,
    claim: str,
    pops: dict[str, np.ndarray],
    seed: int,
    figs: _Figures,
    tables: Tables,
    with_network: bool,
) -> None:
    """Adoption curve, stance histograms, network (first claim) and largest cascade."""
    steps, matrix = spread.credence_array(run, claim)
    if not len(steps):
        return
    main = "benign" if "benign" in pops else "all"
    threshold = claim_threshold(run)
    roles = np.unique(role_table(run.events)["agent"].to_numpy(dtype=np.int64))
    curves = [
        spread.adoption_curve(
            run, claim, threshold, population="all" if pop == "all" else pops[pop]
        ).assign(population=f"{pop} agents")
        for pop in ("benign", "all")
        if pop in pops
    ]
    figs.add(
        f"adoption_{claim}",
        plots.adoption_curves(
            pd.concat(curves, ignore_index=True),
            hue="population",
            title=f"Believers of {claim}",
            ylabel=f"share with credence >= {threshold:g}",
        ),
        f"Share of present agents whose credence in {claim} is at least {threshold:g} after "
        "each step"
        + (
            f"; the benign line leaves out the {plural(len(roles), 'agent')} with a scenario role."
            if len(roles)
            else "."
        ),
    )
    ids = pops[main]
    if not run.events.empty:
        _probe_figure(run, claim, ids, main, figs)
    lo, hi = int(steps[0]), int(steps[-1])
    figs.add(
        f"stance_{claim}",
        plots.stance_distributions(matrix[0, ids], matrix[-1, ids], bins=np.linspace(0, 1, 11)),
        f"Credence in {claim} at step {lo} (before) and step {hi} (after), {main} agents.",
    )
    if with_network and run.has_network and run.n_agents:
        sample = plots.network_sample(run.network, NETWORK_SAMPLE, seed=seed, start=roles.tolist())
        nodes = [v for v in sample.nodes if isinstance(v, int | np.integer)]
        nodes = [v for v in nodes if 0 <= v < matrix.shape[1]]
        rows = sorted({0, len(steps) - 1})
        wide = pd.DataFrame(matrix[np.ix_(rows, nodes)], index=steps[rows], columns=nodes)
        m, n = sample.number_of_nodes(), run.n_agents
        drawn = f"seeded sample of {m:,} of {n:,} agents" if m < n else f"all {n:,} agents"
        figs.add(
            f"network_{claim}",
            plots.network_credence(sample, wide, seed=seed, highlight=roles.tolist()),
            f"Credence in {claim} across the network at steps {lo} and {hi}; {drawn}"
            + ("; agents with a role are outlined." if len(roles) else "."),
            dpi=80,
        )
    if not run.events.empty:
        adopters = len(cascades.adoptions(run.events, claim))
        if 1 < adopters <= CASCADE_ADOPTERS:
            trees = cascades.cascade_trees(run.events, claim)
            if trees and trees[0].number_of_nodes() > 1:
                tables.append((f"Cascades of {claim}", cascades.cascade_table(trees)))
                figs.add(
                    f"cascade_{claim}",
                    plots.cascade_tree(trees[0]),
                    f"Largest cascade of {claim}: who brought the claim to whom.",
                )


_DISTANCES = {"direct": 0, "indirect": 1, "peripheral": 2}


def probe_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of answered probes following the false claim per probe step and distance, and
    over all probe steps (``when == "all steps"``), with 95% intervals that take an agent's
    probes as a cluster (Wilson's where each agent answered one probe)."""
    answered = frame[frame["answered"].astype(bool) & frame["manipulated"].notna()]
    rows = []
    by_step = [(f"step {int(step)}", group) for step, group in answered.groupby("step")]
    for when, group in [*by_step, ("all steps", answered)]:
        for distance, cell in group.groupby("distance"):
            k, n = int(cell["manipulated"].astype(float).sum()), len(cell)
            lo, hi = clustered_share_ci(cell["manipulated"].astype(float), cell["agent"].to_numpy())
            rows.append(
                {
                    "when": when,
                    "distance": distance,
                    "answered": n,
                    "k": k,
                    "share": k / n,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    columns = ["when", "distance", "answered", "k", "share", "ci_low", "ci_high"]
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    order = table["distance"].map(_DISTANCES).fillna(9)
    return table.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")


def _probe_figure(
    run: RunData, claim: str, ids: np.ndarray, population: str, figs: _Figures
) -> None:
    """Probe answers following the false claim, per probe step and over all (the measure)."""
    frame = probes.probe_frame(run.events, claim, ids)
    if frame.empty:
        return
    table = probe_shares(frame)
    if table.empty:
        return
    asked, answered = len(frame), int(frame["answered"].sum())
    figs.add(
        f"probes_{claim}",
        plots.probe_answers(table, title=f"Probe answers following the false claim ({claim})"),
        f"Share of the answered probes of {claim} whose answer follows the false claim, "
        f"{population} agents, at each probe step and over all probe steps (the value of "
        f"probes_{population}.<distance>.manipulated_share), with 95% intervals that take "
        "each agent's probes as a cluster; "
        f"{plural(asked, 'probe')} asked, {answered} answered.",
    )


def probe_part(run: RunData, figs: _Figures, tables: Tables) -> None:
    """The probe accuracy of each claim by probe distance, as a table: of the benign agents
    where some agents have a role (as the measures), over every probe step."""
    pop = "benign" if "benign" in populations(run) else "all"
    rows = []
    for claim in sorted(run.claims) or [None]:
        probes = spread.probe_accuracy(run, claim, population=pop)
        if not probes.empty:
            rows.append(probes.assign(claim=claim)[["claim", *probes.columns]])
    if rows:
        who = "benign agents" if pop == "benign" else "all agents"
        table = pd.concat(rows, ignore_index=True)
        tables.append((f"Probe accuracy by distance ({who}, every probe step)", table))

"""A SocialModel built from Python objects and stepped by hand, with a Mesa DataCollector.

    python examples/model_by_hand.py

The network is networkx's karate club (34 members, two factions after the split); the
personas come from a small DataFrame; the agents follow Friedkin-Johnsen, anchored to their
starting views with the stubbornness each persona gives them. Nothing is written to disk:
the record stays in memory and the analysis functions read it like a run directory.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

import socialsim as ss
from socialsim.analysis.spread import adoption_curve

graph = nx.karate_club_graph()
faction = [graph.nodes[v]["club"] for v in graph]  # "Mr. Hi" or "Officer"
rng = np.random.default_rng(0)
personas = pd.DataFrame(
    {
        "name": [f"member {v}" for v in graph],
        "stubbornness": rng.uniform(0.1, 0.6, len(graph)).round(2),
    }
)

with ss.SocialModel(
    graph=graph,
    personas=personas,
    policy="friedkin_johnsen",
    params={"stubbornness": "persona", "initial": "uniform"},
    steps=25,
    seed=1,
    claims={"id": "c1", "text": "The club should stay together."},  # what the credences are in
    agent_reporters={"credence": lambda agent: agent.credence("c1")},
) as model:
    model.datacollector.add_model_reporter(
        "faction_gap",  # a reporter of your own, beside the built-in ones
        lambda m: float(
            m.beliefs.credence[[f == "Mr. Hi" for f in faction], 0].mean()
            - m.beliefs.credence[[f == "Officer" for f in faction], 0].mean()
        ),
    )
    for _ in range(5):  # step by hand ...
        model.step()
    model.run_model()  # ... then run to the configured 25 steps
    print(f"steps run: {model.steps} (Mesa's counter); running: {model.running}")
    per_agent = model.datacollector.get_agent_vars_dataframe()
    per_step = model.datacollector.get_model_vars_dataframe()
    record = model.record()

print(f"agent reporter rows: {len(per_agent)} (agents x collected steps)")
print(f"mean credence at the end: {per_step['mean_credence.c1'].iloc[-1]:.3f}")
print(f"faction gap at the end: {per_step['faction_gap'].iloc[-1]:+.3f}")
curve = adoption_curve(record, "c1")
print(
    f"believers: {curve['share'].iloc[0]:.0%} at the start, {curve['share'].iloc[-1]:.0%} at the end"
)

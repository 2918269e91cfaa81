"""A rule policy of your own: bounded confidence with backfire, in a few lines.

    python examples/custom_policy.py [OUT_DIR]
    socialsim run examples/custom_policy.yaml          # the same policy from YAML and the CLI

Each step every active agent meets one random neighbour. Within `epsilon` of its view it
moves a share `mu` toward it (Deffuant et al. 2000); beyond `backfire_at` it moves `mu`
away from it (the backfire effect), and in between it stays put. Registering the class
makes ``agents.policy: backfire`` valid in any config, with ``agents.params`` checked
against ``Backfire.Params`` when the config is loaded.
"""

from __future__ import annotations

import sys

import numpy as np
from pydantic import Field

import socialsim as ss


@ss.register_policy("backfire")
class Backfire(ss.Rule):
    """Bounded confidence with backfire: attraction within epsilon, repulsion far away."""

    class Params(ss.RuleParams):
        epsilon: float = Field(0.2, gt=0.0, le=1.0, description="attraction radius")
        backfire_at: float = Field(0.6, gt=0.0, le=1.0, description="repulsion beyond this")
        mu: float = Field(0.3, gt=0.0, le=0.5, description="share of the gap moved")

    def update(self, ctx: ss.RuleContext) -> ss.RuleUpdate:
        """One synchronous step: each acting agent meets one random neighbour."""
        graph = self.graph(ctx)
        agents = np.flatnonzero(self.acting(ctx))
        agents = agents[graph.listen_degree[agents] > 0]
        other = graph.random_neighbours(agents, ctx.rng.random((len(agents), 1)))[:, 0]
        x, p = ctx.credence, self.cfg
        gap = x[other] - x[agents]  # (agents, claims)
        pull = np.where(np.abs(gap) <= p.epsilon, p.mu * gap, 0.0)
        push = np.where(np.abs(gap) >= p.backfire_at, -p.mu * gap, 0.0)
        new = np.clip(x[agents] + pull + push, 0.0, 1.0)
        moved = np.abs(new - x[agents]) > 1e-12
        rows, claims = np.nonzero(moved)
        return ss.RuleUpdate(agents[rows], claims, new[rows, claims], other[rows])


def main() -> None:
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "backfire",
            "seed": 3,
            "steps": 30,
            "population": {"size": 200},
            "network": {"kind": "watts_strogatz", "params": {"k": 6, "p": 0.1}},
            "agents": {"policy": "backfire", "params": {"epsilon": 0.15, "backfire_at": 0.7}},
            "claims": [{"id": "c1", "text": "The city should ban cars from the centre."}],
            "output": {"report": False},
        }
    )
    run = ss.run(cfg, out=sys.argv[1] if len(sys.argv) > 1 else None)
    final = run.agents[run.agents["step"] == run.agents["step"].max()]["credence"]
    extreme = float(((final < 0.1) | (final > 0.9)).mean())
    print(f"share of agents at an extreme (<0.1 or >0.9) after 30 steps: {extreme:.2f}")
    print(f"wrote {run.path}")


if __name__ == "__main__":
    main()

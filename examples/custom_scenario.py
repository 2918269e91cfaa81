"""A scenario and a measure of your own: a stubborn pundit, and how far its pull reaches.

    python examples/custom_scenario.py [OUT_DIR]

The `pundit` scenario puts a claim in play, makes the best-connected agent a pundit who
holds it with certainty and never moves (pinned), and leaves everyone else to a rule policy.
`control: true` runs each seed again with the pundit as an ordinary agent (a placebo
role), so the printed effect is the pundit's; over 3 replicates (seeds 4, 5, 6) it comes
with an interval. The `pundit_reach` measure
(registered below, computed from the run's record for every run) compares the final
credence of the pundit's neighbours with everyone else's.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

import socialsim as ss
from socialsim.core.claims import Claim
from socialsim.core.rundata import roles


@ss.register_scenario("pundit")
class Pundit(ss.Scenario):
    """One stubborn, well-connected agent holds a claim with certainty."""

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        claim: str = Field("pundit_claim", description="claim id")
        text: str = "The new bridge will double traffic downtown."

    headline_measures = (("claims.{claim}.adoption_benign.final_reach", "Share believing {claim}", "adoption_{claim}"),)  # fmt: skip

    @property
    def claim_id(self) -> str:
        """The claim the headline measure is about."""
        return self.params.claim

    def setup(self, model) -> None:
        """Put the claim in play and crown the highest-degree agent (placebo in control)."""
        model.add_claim(Claim(id=self.params.claim, text=self.params.text))
        degree = model.network.degree
        self.pundit = int(np.argmax(degree))
        model.assign_role(self.pundit, "pundit", placebo=self.is_control)
        if not self.is_control:
            model.set_credence(self.pundit, self.params.claim, 1.0, cause="injection", ref="pundit")
            model.pin(self.pundit)

    def summary(self, model) -> dict[str, Any]:
        """Facts for summary.json: who the pundit was."""
        return {"claim": self.params.claim, "pundit": self.pundit}


class ReachParams(BaseModel):
    """Parameters of pundit_reach."""

    model_config = ConfigDict(extra="forbid")

    role: str = "pundit"


@ss.register_measure("pundit_reach", params=ReachParams)
def pundit_reach(run, params: ReachParams) -> dict[str, float] | None:
    """Final mean credence of the role holder's neighbours and of everyone else (per claim)."""
    table = roles(run.events)
    holders = table.loc[table["role"] == params.role, "agent"].astype(int).tolist()
    if not holders or not run.has_network:
        return None
    net = run.network
    touching = np.isin(net.src, holders) | np.isin(net.dst, holders)
    near = set(net.src[touching].tolist()) | set(net.dst[touching].tolist())
    near -= set(holders)
    final = run.agents[run.agents["step"] == run.agents["step"].max()]
    out = {}
    for claim, rows in final.groupby("claim"):
        is_near = rows["agent"].isin(near)
        others = ~is_near & ~rows["agent"].isin(holders)
        out[str(claim)] = {
            "neighbours": float(rows.loc[is_near, "credence"].mean()),
            "others": float(rows.loc[others, "credence"].mean()),
        }
    return out


def main() -> None:
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "pundit",
            "seed": 4,
            "steps": 10,
            "control": True,
            "replicates": 3,
            "population": {"size": 150},
            "network": {"kind": "barabasi_albert", "params": {"m": 2}},
            "agents": {"policy": "degroot", "params": {"initial": 0.2}},
            "scenario": {"kind": "pundit"},
        }
    )
    arms = ss.run(cfg, out=sys.argv[1] if len(sys.argv) > 1 else None)
    for arm, runs in arms.runs.items():
        reach = runs[0].summary["measures"]["pundit_reach"]["pundit_claim"]
        print(f"{arm}: pundit's neighbours {reach['neighbours']:.2f}, others {reach['others']:.2f}")
    effects = arms.effects
    print(effects[effects["measure"].str.contains("final_reach")].to_string(index=False))


if __name__ == "__main__":
    main()

"""Sequential rule schedules in the model: the log is a chain of changes, pinned agents hold."""

import numpy as np
import pytest

from socialsim.simulation.log import read_events
from socialsim.simulation.model import SocialModel


@pytest.mark.parametrize(
    ("policy", "params"),
    [("voter", {"initial": "seeded", "seed_fraction": 0.3}), ("deffuant", {"epsilon": 0.5})],
)
def test_sequential_rule_log_chains_old_to_new_and_ends_at_the_credence(
    rule_cfg, tmp_path, policy, params
):
    cfg = rule_cfg(**{"agents.policy": policy, "agents.params": params, "steps": 6})
    model = SocialModel(cfg, tmp_path)
    start = model.beliefs.credence.copy()
    hub = int(np.argmax([model.graph.degree(i) for i in range(model.n_agents)]))
    model.pin(hub)
    for _ in range(6):
        model.step()
    final = model.beliefs.credence.copy()
    model.close()
    events = read_events(tmp_path / "events.jsonl")
    changes = events[events.kind == "belief_change"]
    claim_col = {c.id: k for k, c in enumerate(model.beliefs.claims)}
    value = start.copy()
    repeated = 0
    seen = set()
    for row in changes.itertuples():
        a, c = int(row.agent), claim_col[row.claim]
        assert row.payload["old"] == pytest.approx(value[a, c], abs=1e-15)
        value[a, c] = row.payload["new"]
        repeated += (row.step, a, c) in seen
        seen.add((row.step, a, c))
    np.testing.assert_array_equal(value, final)
    assert np.array_equal(final[hub], start[hub])  # pinned: never moved
    assert repeated > 0  # some agents changed more than once within a step

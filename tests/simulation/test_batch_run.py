"""Mesa's batch_run drives SocialModel: each row holds the final step, graphs go in a list."""

from __future__ import annotations

import re
from pathlib import Path

import mesa
import networkx as nx
import pandas as pd
import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError

BATCH_RUNNER_PAGE = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "batch-runner.md"
#: the claim the agents' credences are about (a run without a scenario needs one)
CLAIM = {"id": "c1", "text": "The river is poisoned."}


def batch(parameters: dict, **kwargs) -> list[dict]:
    parameters = {"claims": [CLAIM], **parameters}  # one claim for every run
    return mesa.batch_run(ss.SocialModel, parameters=parameters, display_progress=False, **kwargs)


def final_row(**params) -> pd.Series:
    with ss.SocialModel(claims=CLAIM, **params) as model:
        model.run_model()
        return model.datacollector.get_model_vars_dataframe().iloc[-1]


@pytest.mark.parametrize("policy", ["degroot", "voter"])
def test_each_row_holds_what_the_datacollector_holds_after_the_last_step(policy):
    rows = batch({"policy": policy, "seed": [3, 4], "steps": 6}, max_steps=20)
    assert [r["seed"] for r in rows] == [3, 4]
    for row in rows:
        expected = final_row(policy=policy, seed=row["seed"], steps=6)
        assert row["time"] == 6.0  # the sixth step's row, not the fifth's
        for name, value in expected.items():
            assert row[name] == pytest.approx(value), name


def test_max_steps_below_the_config_ends_on_the_last_step_mesa_ran():
    rows = batch({"policy": "degroot", "seed": 1, "steps": 10}, max_steps=3)
    with ss.SocialModel(claims=CLAIM, policy="degroot", seed=1, steps=10) as model:
        for _ in range(4):  # mesa steps while steps <= max_steps
            model.step()
        last = model.datacollector.get_model_vars_dataframe().iloc[-1]
    assert len(rows) == 1 and rows[0]["time"] == 4.0
    assert rows[0]["mean_credence.c1"] == pytest.approx(last["mean_credence.c1"])


def test_every_step_with_a_collection_period_of_one():
    rows = batch(
        {"policy": "degroot", "seed": 2, "steps": 3}, max_steps=10, data_collection_period=1
    )
    steps = ss.SocialModel(claims=CLAIM, policy="degroot", seed=2, steps=3)
    steps.run_model()
    table = steps.datacollector.get_model_vars_dataframe()
    steps.close()
    assert [r["time"] for r in rows] == [1.0, 2.0, 3.0]
    assert [r["believers.c1"] for r in rows] == pytest.approx(list(table["believers.c1"][1:]))


def test_agent_reporters_come_from_the_same_final_step():
    credence = {"credence": lambda a: a.credence("c1")}
    rows = batch(
        {"policy": "degroot", "seed": 5, "steps": 4, "agent_reporters": [credence]}, max_steps=9
    )
    with ss.SocialModel(claims=CLAIM, policy="degroot", seed=5, steps=4) as model:
        model.run_model()
        final = model.beliefs.credence[:, 0]
    assert len(rows) == model.n_agents
    by_agent = {r["AgentID"]: r["credence"] for r in rows}
    assert [by_agent[i] for i in range(model.n_agents)] == pytest.approx(list(final))


def test_a_run_of_no_steps_gives_its_set_up_row():
    rows = batch({"policy": "degroot", "seed": 4, "steps": 0}, max_steps=5)
    with ss.SocialModel(claims=CLAIM, policy="degroot", seed=4, steps=0) as model:
        model.run_model()
        table = model.datacollector.get_model_vars_dataframe()
    assert len(rows) == 1 and len(table) == 1 and rows[0]["time"] == 0.0
    for name, value in table.iloc[0].items():
        assert rows[0][name] == pytest.approx(value), name


def test_a_graph_in_a_list_is_run_and_a_bare_graph_is_refused_saying_how():
    G = nx.path_graph(7)
    rows = batch({"graph": [G], "policy": "degroot", "seed": [1, 2], "steps": 2}, max_steps=5)
    assert [r["present"] for r in rows] == [7, 7]
    with pytest.raises(ConfigError, match=r"got int; with mesa.batch_run.*'graph': \[\.\.\.\]"):
        batch({"graph": G, "steps": 2}, max_steps=5)
    with pytest.raises(ConfigError, match=r"personas: .* got str; .*'personas': \[\.\.\.\]"):
        batch({"personas": pd.DataFrame({"name": ["a", "b"]}), "steps": 1}, max_steps=2)


def test_the_set_up_row_stays_first_in_the_tables():
    with ss.SocialModel(
        claims=CLAIM, policy="degroot", seed=1, steps=3, agent_reporters={"c": "policy"}
    ) as m:
        m.run_model()
        steps = m.datacollector.get_model_vars_dataframe()
        agents = m.datacollector.get_agent_vars_dataframe()
        record = m.record().steps
    assert list(steps["time"]) == [0.0, 1.0, 2.0, 3.0]
    assert sorted(set(agents.index.get_level_values("Step"))) == [0, 1, 2, 3]
    assert list(record["step"]) == [0, 1, 2, 3]
    assert len(m.datacollector.model_vars["time"]) == 3  # mesa's lists: the steps alone


def test_the_documented_batch_run_snippet_runs():
    text = BATCH_RUNNER_PAGE.read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    scope: dict = {}
    exec(compile(code, "batch-runner.md", "exec"), scope)  # noqa: S102 - the docs' own snippet
    rows = scope["rows"]
    assert len(rows) == 4 and all(r["time"] == 10.0 and r["present"] == 34 for r in rows)


def test_seeds_from_numpy_run_as_the_same_seeds_given_as_numbers():
    import numpy as np

    from_numpy = batch({"policy": "degroot", "seed": np.arange(3, 5), "steps": 3}, max_steps=5)
    plain = batch({"policy": "degroot", "seed": [3, 4], "steps": 3}, max_steps=5)
    assert len(from_numpy) == 2
    assert from_numpy == plain  # the same rows, value for value

"""SocialModel as a Mesa model: built from Python objects, stepped by Mesa, recorded in memory."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import socialsim as ss
from socialsim.analysis.spread import adoption_curve
from socialsim.core.errors import ConfigError
from socialsim.simulation.config import ExperimentConfig

#: the claim the agents' credences are about (a run without a scenario needs one)
CLAIMS = [{"id": "c1", "text": "The river is poisoned."}]


def labelled_graph() -> nx.Graph:
    """A 12-node graph with string labels and a node attribute, nodes listed out of order."""
    base = nx.watts_strogatz_graph(12, 4, 0.2, seed=1)
    graph = nx.Graph()
    order = [5, 0, 11, 3, 7, 1, 9, 2, 10, 4, 8, 6]
    graph.add_nodes_from((f"v{i}", {"club": "red" if i % 2 else "blue"}) for i in order)
    graph.add_edges_from((f"v{a}", f"v{b}") for a, b in base.edges())
    return graph


def personas_frame(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [f"P{i}" for i in range(n)],
            "age": np.arange(20, 20 + n),
            "big_five.openness": np.linspace(0.0, 1.0, n),
            "values": ["care;fairness"] * n,
            "stubbornness": [np.nan] * (n - 1) + [0.9],
        }
    )


def model(**kwargs) -> ss.SocialModel:
    args = {"graph": labelled_graph(), "personas": personas_frame(), "policy": "degroot",
            "claims": CLAIMS}  # fmt: skip
    return ss.SocialModel(**{**args, "steps": 3, "seed": 4, **kwargs})


def test_graph_and_personas_given_from_python_become_the_population():
    graph = labelled_graph()
    with model(graph=graph) as m:
        assert m.n_agents == 12 and m.cfg.population.size == 12
        assert m.cfg.agents.policy == "degroot" and m.network_source == "given"
        assert m.node_labels == list(graph.nodes)
        first, second = m.node_labels.index("v0"), m.node_labels.index("v1")
        assert m.graph.has_edge(first, second) == graph.has_edge("v0", "v1")
        assert m.graph.number_of_edges() == graph.number_of_edges()
        assert m.graph.nodes[first]["club"] == "blue"
        persona = m.persona_of(3)
        assert (persona.id, persona.name, persona.age) == (3, "P3", 23)
        assert persona.values == ["care", "fairness"]
        assert persona.big_five.openness == pytest.approx(3 / 11)
        assert m.stubbornness[0] == 0.3 and m.stubbornness[11] == 0.9  # NaN: the default
    assert "v0" in graph and 0 not in graph  # the caller's graph is left as it was


def test_steps_by_hand_are_counted_by_mesa_and_run_model_stops_at_the_limit():
    m = model(steps=4)
    m.step()
    m.step()
    assert (m.steps, m.step_index, m.time, m.running) == (2, 2, 2.0, True)
    m.run_model()
    assert (m.steps, m.running) == (4, False)
    m.run_model()  # stopped: no further step
    assert m.steps == 4
    assert sorted(m.agents_table()["step"].unique()) == [0, 1, 2, 3, 4]
    assert m.created_ids() == []  # no agent reporters: no agent objects were needed
    m.close()


def test_event_mode_steps_are_windows_and_run_model_stops_at_until():
    m = model(config={"mode": "event", "until": 2.5, "agents": {"activation": "rate"}})
    m.run_model()
    steps = m.record().steps
    m.close()
    assert m.steps == 3 and m.time == 2.5
    assert list(steps["step"]) == [0, 1, 2, 3] and list(steps["time"]) == [0.0, 1.0, 2.0, 2.5]


def test_agent_reporters_match_the_agents_table():
    m = model(agent_reporters={"credence": lambda a: a.credence("c1"), "name": "policy"})
    m.run_model()
    table = m.datacollector.get_agent_vars_dataframe()
    agents = m.agents_table().set_index(["step", "agent"])["credence"]
    m.close()
    assert table.shape == (4 * 12, 2)
    assert set(table.index.get_level_values("Step")) == {0, 1, 2, 3}
    by_key = table["credence"].rename_axis(["step", "agent"])
    pd.testing.assert_series_equal(
        by_key.sort_index(), agents.sort_index(), check_names=False, check_index_type=False
    )
    assert (table["name"] == "degroot").all()
    assert not np.allclose(table.loc[0, "credence"], table.loc[3, "credence"])


def test_reporters_added_after_construction_start_at_the_next_row():
    m = model(reporters={"edges": lambda mm: mm.graph.number_of_edges()})
    m.step()
    m.datacollector.add_model_reporter("twice", lambda mm: 2 * mm.steps)
    m.datacollector.add_agent_reporter("open", lambda a: a.persona.big_five.openness)
    m.run_model()
    steps = m.datacollector.get_model_vars_dataframe()
    agents = m.datacollector.get_agent_vars_dataframe()
    m.close()
    assert steps["twice"].isna().tolist() == [True, True, False, False]
    assert steps["twice"].tolist()[2:] == [4, 6]
    assert (steps["edges"] == 24).all()
    assert agents.loc[3, "open"].iloc[11] == pytest.approx(1.0)
    assert len(agents) == 2 * 12


def test_record_in_memory_equals_what_a_run_directory_holds(tmp_path):
    cfg = ExperimentConfig.from_dict(
        {
            "name": "m",
            "seed": 7,
            "steps": 4,
            "agents": {"policy": "voter", "params": {"initial": "uniform"}},
            "claims": CLAIMS,
            "output": {"dir": str(tmp_path / "runs"), "report": False},
        }
    )
    given = {"graph": labelled_graph(), "personas": personas_frame()}
    on_disk = ss.run(cfg, out=tmp_path / "r", **given)
    with ss.SocialModel(cfg, **given) as m:
        m.run_model()
        in_memory = m.record()
    assert in_memory.path is None and m.run_dir is None
    assert len(in_memory.events) > 20
    pd.testing.assert_frame_equal(in_memory.events, on_disk.events)
    pd.testing.assert_frame_equal(in_memory.agents, on_disk.agents)
    pd.testing.assert_frame_equal(in_memory.steps, on_disk.steps)
    pd.testing.assert_frame_equal(in_memory.personas, on_disk.personas)
    assert in_memory.config == on_disk.config
    assert np.array_equal(in_memory.network.src, on_disk.network.src)
    curve = adoption_curve(in_memory, "c1")  # the measures take the in-memory record
    assert len(curve) == 5


def test_same_seed_same_event_log_and_another_seed_differs():
    def lines(seed: int) -> list[str]:
        with model(policy="voter", params={"initial": "uniform"}, seed=seed) as m:
            m.run_model()
            return list(m.log.sink.lines)

    assert lines(1) == lines(1)
    assert lines(1) != lines(2)


def test_run_with_a_given_graph_writes_its_edges_and_a_reloadable_config(tmp_path):
    graph = labelled_graph()
    cfg = ExperimentConfig.from_dict(
        {
            "steps": 2,
            "agents": {"policy": "degroot"},
            "claims": CLAIMS,
            "output": {"dir": str(tmp_path / "runs"), "report": False},
        }
    )
    run = ss.run(cfg, out=tmp_path / "g", graph=graph)
    edges = pd.read_parquet(run.dir / "edges.parquet")
    index = {label: i for i, label in enumerate(graph.nodes)}
    expected = {frozenset((index[a], index[b])) for a, b in graph.edges()}
    assert {frozenset(e) for e in edges.itertuples(index=False)} == expected
    text = (run.dir / "config.yaml").read_text()
    assert text.startswith("# network: given from Python")
    reloaded = ExperimentConfig.from_yaml(run.dir / "config.yaml")
    assert reloaded.population.size == 12 and reloaded.network.kind == cfg.network.kind
    assert run.summary["run"]["given"] == ["network"]
    assert len(run.personas) == 12


def test_config_as_a_dict_or_a_yaml_path(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "seed: 9\nsteps: 2\npopulation: {size: 15}\nagents: {policy: voter}\n"
        "claims: [{id: c1, text: The river is poisoned.}]\n"
    )
    from_path = ss.SocialModel(str(path))
    given = {"seed": 9, "steps": 2, "population": {"size": 15}, "claims": CLAIMS}
    from_dict = ss.SocialModel(given, policy="voter")
    for m in (from_path, from_dict):
        m.run_model()
        m.close()
    assert from_path.steps == from_dict.steps == 2 and from_path.n_agents == 15
    assert from_path.log.sink.lines == from_dict.log.sink.lines


def test_context_manager_closes_the_log_and_the_clients():
    from socialsim.testing import ScriptedClient, clients_for

    client = ScriptedClient([])  # no request expected: any would run past the empty script
    cfg = ExperimentConfig.from_dict(
        {"agents": {"policy": "llm"}, "population": {"size": 5}, "claims": CLAIMS}
    )
    with ss.SocialModel(cfg, clients=clients_for(cfg, client)) as m:
        assert not m.log.closed and not client.closed
    assert m.log.closed and client.closed and client.calls == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"graph": [(0, 1)]}, "graph: expected a networkx graph"),
        ({"personas": personas_frame(5)}, "personas: 5 given for a graph of 12 nodes"),
        ({"personas": personas_frame().assign(age=200)}, "personas row 0: age: 200 must be <= 110"),
        ({"personas": personas_frame().assign(mood="ok")}, "personas row 0: mood: unknown key"),
        ({"personas": "people.csv"}, "personas: expected a pandas DataFrame"),
        ({"params": [1, 2]}, r"params: \[1, 2\] must be a mapping of the policy's parameters"),
        ({"reporters": {"x": 5}}, r"reporters\['x'\]: 5 is no reporter"),
    ],
)
def test_bad_python_input_is_a_one_line_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message) as err:
        model(**kwargs)
    assert "\n" not in str(err.value)


def test_agents_sit_on_their_cells_however_late_the_space_is_built():
    config = ExperimentConfig.from_dict(
        {"name": "cells", "seed": 1, "steps": 1, "population": {"size": 20},
         "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
         "claims": CLAIMS, "agents": {"policy": "independent_cascade"}}
    )  # fmt: skip
    model = ss.SocialModel(config)
    early, gone = model.agent(3), model.agent(5)
    gone.remove()  # never placed: leaving builds no space
    assert model._space is None
    space = model.space  # building it places the agents made so far
    assert early.cell is space[3] and early in space[3].agents
    late = model.agent(7)
    assert late.cell is space[7] and list(space[7].agents) == [late]
    assert not list(space[5].agents)  # removed before: not placed
    assert {c.coordinate for c in early.cell.neighborhood} == set(model.neighbours(3))


def test_asking_an_agent_its_cell_builds_the_space():
    config = ExperimentConfig.from_dict(
        {"name": "cells", "seed": 1, "steps": 1, "population": {"size": 10},
         "network": {"kind": "ring", "params": {"k": 2}},
         "claims": CLAIMS, "agents": {"policy": "independent_cascade"}}
    )  # fmt: skip
    model = ss.SocialModel(config)
    agent = model.agent(4)
    assert model._space is None
    assert agent.cell.coordinate == 4 and model._space is not None


def test_a_given_graphs_node_attributes_and_labels_reach_the_record(tmp_path):
    graph = labelled_graph()
    graph.nodes["v5"]["name"] = "the hub"  # a name the personas table uses too
    graph.nodes["v0"]["tag"], graph.nodes["v3"]["tag"] = 7, "seven"  # a number and a text
    run = ss.run(
        {"steps": 2, "agents": {"policy": "degroot"}, "claims": CLAIMS},
        out=tmp_path / "g",
        graph=graph,
    )
    people = run.personas
    assert list(people["node_label"]) == list(graph.nodes)
    assert list(people["graph.club"]) == [graph.nodes[v]["club"] for v in graph.nodes]
    assert people["graph.name"].iloc[0] == "the hub" and people["name"].iloc[0] != "the hub"
    tags = people["graph.tag"]  # v0 and v3 are the second and fourth nodes; mixed: as text
    assert (tags.iloc[1], tags.iloc[3], int(tags.isna().sum())) == ("7", "seven", 10)
    from socialsim.analysis import load_run

    loaded = load_run(run.dir)
    assert list(loaded.personas["graph.club"]) == list(people["graph.club"])
    table = loaded.network.attributes
    assert list(table["node_label"]) == list(graph.nodes) and "graph.club" in table
    written = nx.read_graphml(run.dir / "graph.graphml")
    assert written.nodes["0"]["graph.club"] == graph.nodes["v5"]["club"]
    # the table given back as personas: the graph's columns are the record's, not fields
    again = ss.SocialModel(graph=graph, personas=people, policy="degroot", claims=CLAIMS)
    assert again.persona_of(0).name == people["name"].iloc[0]


def test_a_community_of_numbers_and_text_is_written_as_text(tmp_path):
    graph = labelled_graph()
    for i, v in enumerate(graph.nodes):
        graph.nodes[v]["community"] = "A" if i % 2 else i
    run = ss.run(
        {"steps": 1, "agents": {"policy": "degroot"}, "claims": CLAIMS},
        out=tmp_path / "c",
        graph=graph,
    )
    assert list(pd.read_parquet(run.dir / "personas.parquet")["community"][:3]) == ["0", "A", "2"]


def test_a_run_dir_is_made_when_missing_and_never_appended_to(tmp_path):
    def run_into(path):
        with ss.SocialModel(graph=nx.path_graph(5), policy="degroot", steps=2, claims=CLAIMS,
                            run_dir=path, seed=1) as m:  # fmt: skip
            m.run_model()
            return m.record()

    first = run_into(tmp_path / "new" / "deeper")
    log = (tmp_path / "new" / "deeper" / "events.jsonl").read_bytes()
    assert len(first.events) == log.count(b"\n") > 0
    with pytest.raises(ConfigError, match="already holds a run") as err:
        run_into(tmp_path / "new" / "deeper")
    assert "\n" not in str(err.value)
    assert (tmp_path / "new" / "deeper" / "events.jsonl").read_bytes() == log


def test_numpy_numbers_are_taken_as_the_numbers_they_are():
    with model(seed=np.int64(4), steps=np.int64(3)) as m:
        assert (m.cfg.seed, m.cfg.steps) == (4, 3) and type(m.cfg.seed) is int
        m.run_model()
        numpy_lines = list(m.log.sink.lines)
    with model() as m:
        m.run_model()
        assert list(m.log.sink.lines) == numpy_lines
    cfg = ExperimentConfig.from_dict({"claims": CLAIMS}).with_overrides({"seed": np.int64(2)})
    assert "seed: 2\n" in cfg.to_yaml()


def test_a_claim_put_in_play_twice_under_one_id_with_two_texts_is_refused():
    from socialsim.core.claims import Claim

    with model() as m:
        m.add_claim(Claim(id="c1", text=CLAIMS[0]["text"]))  # the same claim: nothing happens
        assert len(m.beliefs.claims) == 1
        with pytest.raises(ConfigError, match="claim 'c1' is in play already as 'The river"):
            m.add_claim(Claim(id="c1", text="Another text."))


def test_one_override_given_as_text_is_one_override(tmp_path):
    cfg = {"steps": 2, "agents": {"policy": "degroot"}, "claims": CLAIMS}
    run = ss.run(cfg, out=tmp_path / "o", overrides="steps=3", graph=labelled_graph())
    assert run.cfg.steps == 3
    with pytest.raises(ConfigError, match="out: 5 must be a directory's path"):
        ss.run(cfg, out=5, graph=labelled_graph())

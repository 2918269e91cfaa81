"""Norm measures on small real runs of the conformity baseline, checked against hand counts.

The spread run: six agents on a complete graph, violators 0, 1 and 2 always talk on the
phone on a Japanese train (unexpected), the other three see nothing (step 1) or, for the
two drawn into the pressure group, their five neighbours' previous choices. Three of five
shown choices broke the norm (> 0.5), so from step 2 the pressured agents conform to the
violation (at step 3 four of five shown choices break it); the third benign agent keeps the
expected behaviour throughout.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import socialsim as ss
from socialsim.analysis.stats import clustered_share_ci, wilson_ci
from socialsim.core.rundata import load_run
from socialsim.scenarios.norms import measures as norms
from socialsim.simulation.log import flatten_events, read_events

FRAME = "transport_jp_train_phone"


def cell(asked: int, answered: int, k: int, items: dict | None = None) -> dict:
    """The expected count cell; `items` (agent -> its answered outcomes) when an agent
    answered more than once: the interval then takes agents as clusters."""
    lo, hi = wilson_ci(k, answered) if answered else (None, None)
    if items:
        ys = [y for outcomes in items.values() for y in outcomes]
        who = np.array([a for a, outcomes in items.items() for _ in outcomes])
        assert (len(ys), sum(ys)) == (answered, k)
        lo, hi = clustered_share_ci(ys, who)
        lo, hi = (None, None) if np.isnan(lo) else (lo, hi)  # one agent: no interval
    return {
        "asked": asked,
        "answered": answered,
        "failed": asked - answered,
        "k": k,
        "rate": k / answered if answered else None,
        "ci_low": lo,
        "ci_high": hi,
    }


def run_norms(root, network, size, steps=3, **params):
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "norms",
            "seed": 11,
            "steps": steps,
            "population": {"size": size},
            "network": network,
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "norms", "params": {"frames": [FRAME], **params}},
            "output": {"dir": str(root), "report": False, "formats": ["jsonl"]},
        }
    )
    return ss.run(cfg)


@pytest.fixture(scope="module")
def spread(tmp_path_factory):
    run = run_norms(
        tmp_path_factory.mktemp("spread"),
        {"kind": "complete"},
        6,
        violators={"strategy": "ids", "ids": [0, 1, 2]},
        social_pressure=True,
        pressure_fraction=0.5,
        judges=True,
    )
    data = load_run(run.dir)
    return run, data, norms.norms_summary(data.events, data.graph)


def benign_outcomes(run) -> dict[int, list[int]]:
    """Adherent (1) or not at steps 1-3 of the benign agents 3-5: all adhere at step 1, then
    only the one outside the pressure group."""
    group = run.summary["scenario"]["pressure_group"]
    return {a: [1, 0, 0] if a in group else [1, 1, 1] for a in (3, 4, 5)}


def test_adherence_overall_and_by_step(spread):
    run, _, out = spread
    group = run.summary["scenario"]["pressure_group"]
    assert len(group) == 2 and not set(group) & {0, 1, 2}
    adherence = out["adherence"]
    # 3 benign agents x 3 steps; adherent: all 3 at step 1, then only the unpressured one
    assert adherence["answers"] == {"asked": 9, "answered": 9, "failed": 0}
    outcomes = benign_outcomes(run)
    assert adherence["overall"] == cell(9, 9, 5, outcomes)
    assert adherence["by_step"] == {"1": cell(3, 3, 3), "2": cell(3, 3, 1), "3": cell(3, 3, 1)}
    assert adherence["labels"] == pytest.approx(
        {"expected": 5 / 9, "okay": 0.0, "unexpected": 4 / 9}
    )
    assert adherence["soft"] == pytest.approx(5 / 9)  # every label here is unanimous
    assert adherence["by_culture"] == {"JP": cell(9, 9, 5, outcomes)}
    assert adherence["by_category"] == {"communication": cell(9, 9, 5, outcomes)}
    assert out["contested"]["n"] == 0


def test_adherence_by_persona_attribute(spread):
    run, data, out = spread
    group = set(run.summary["scenario"]["pressure_group"])
    country = nx.get_node_attributes(data.graph, "country")
    expected: dict[str, list[int]] = {}
    items: dict[str, dict] = {}
    for agent in (3, 4, 5):
        asked_k = expected.setdefault(str(country[agent]), [0, 0])
        asked_k[0] += 3
        asked_k[1] += 1 if agent in group else 3
        items.setdefault(str(country[agent]), {})[agent] = benign_outcomes(run)[agent]
    got = out["adherence"]["by_persona"]["country"]
    assert got == {c: cell(n, n, k, items[c]) for c, (n, k) in expected.items()}
    assert set(out["adherence"]["by_persona"]) == {"country", "gender", "political_leaning"}


def test_pressure_conditions(spread):
    run, _, out = spread
    pressure = out["pressure"]
    one, two = run.summary["scenario"]["pressure_group"]
    free = ({3, 4, 5} - {one, two}).pop()
    # without: all three at step 1 and the unpressured agent at steps 2-3, all adherent
    assert pressure["without"] == cell(5, 5, 5, {free: [1, 1, 1], one: [1], two: [1]})
    # with: the two pressured agents at steps 2-3, shown 3 of 5 then 4 of 5 violating neighbours
    assert pressure["with"] == cell(4, 4, 0, {one: [0, 0], two: [0, 0]})
    assert pressure["with_violating_neighbours"] == cell(4, 4, 0, {one: [0, 0], two: [0, 0]})
    assert pressure["with_adherent_neighbours"] == cell(0, 0, 0)
    # the pressure group over all steps: adherent only at step 1
    assert pressure["pressure_group"] == cell(6, 6, 2, {one: [1, 0, 0], two: [1, 0, 0]})
    events = read_events(spread[0].dir / "events.jsonl")
    shares = sorted(
        (s, p["neighbours_violating"])
        for s, p in zip(events.step, events.payload, strict=True)
        if p.get("type") == "norm_choice" and p["social_pressure"]
    )
    assert shares == [(2, 0.6), (2, 0.6), (3, 0.8), (3, 0.8)]


def test_violators_are_measured_apart(spread):
    _, _, out = spread
    assert out["roles"]["violator"] == {
        "agents": 3,
        "placebo": False,
        "imposed": 9,
        "answers": {"asked": 0, "answered": 0, "failed": 0},
        "adherence": cell(0, 0, 0),
    }


def test_clustering_on_the_complete_graph(spread):
    _, _, out = spread
    # benign rates: two pressured agents 1/3, the other 1; on a triangle each pressured
    # agent's neighbours average (1/3 + 1) / 2, the other's 1/3: a perfect negative relation
    assert out["clustering"]["n_agents"] == 3
    assert out["clustering"]["correlation"] == pytest.approx(-1.0)
    # edges both ways: (1/3,1/3) x2, (1/3,1) x4 around mean 5/9 -> r = -24/48
    assert out["clustering"]["assortativity"] == pytest.approx(-0.5)


def test_judgements_of_the_baseline_are_all_correct(spread):
    run, _, out = spread
    events = read_events(run.dir / "events.jsonl")
    judged = [
        (a, p)
        for a, p in zip(events.agent, events.payload, strict=True)
        if p.get("type") == "norm_judgement"
    ]
    # violators never judge in the treatment arm; the three others judge once per step
    assert sorted(int(a) for a, _ in judged) == [3, 3, 3, 4, 4, 4, 5, 5, 5]
    breaking = sum(p["true_label"] == "unexpected" for _, p in judged)
    following = len(judged) - breaking
    js = out["judgements"]
    assert js["answers"] == {"asked": 9, "answered": 9, "failed": 0}

    def right(breaking: bool | None = None) -> dict[int, list[int]]:  # every one is correct
        out: dict[int, list[int]] = {}
        for a, p in judged:
            if breaking is None or (p["true_label"] == "unexpected") == breaking:
                out.setdefault(int(a), []).append(1)
        return out

    assert js["accuracy"] == cell(9, 9, 9, right())
    assert js["accuracy_norm_breaking"] == cell(breaking, breaking, breaking, right(True))
    if following:
        assert js["accuracy_norm_following"] == cell(following, following, following, right(False))


@pytest.mark.slow
def test_every_table_shape_gives_the_same_summary(spread):
    run, data, out = spread
    raw = flatten_events(read_events(run.dir / "events.jsonl"))  # the lines, converted
    assert norms.norms_summary(raw, data.graph) == out
    assert norms.norms_summary(flatten_events(raw), data.graph) == out  # dicts as JSON text
    assert norms.norms_summary(raw.iloc[0:0]) == {}


def test_tables_agree_with_the_summary(spread):
    _, data, out = spread
    choices = norms.norm_choices(data.events)
    table = norms.adherence(choices, "step").set_index("step")
    assert table.loc[2, "k"] == out["adherence"]["by_step"]["2"]["k"]
    pressure = norms.pressure_effect(choices).set_index("condition")
    assert pressure.loc["with", "answered"] == out["pressure"]["with"]["answered"]
    judged = norms.judge_accuracy(data.events).set_index("truth")
    assert judged.loc["overall", "rate"] == out["judgements"]["accuracy"]["rate"]
    everyone = norms.adherence(choices, population="all")
    assert everyone["asked"].iloc[0] == 9  # imposed choices are not asked
    assert norms.adherence(choices, population="roles").empty


def two_cliques(path) -> None:
    edges = [
        (a, b) for block in ((0, 1, 2, 3), (4, 5, 6, 7)) for a in block for b in block if a < b
    ]
    path.write_text("\n".join(f"{a} {b}" for a, b in [*edges, (3, 4)]) + "\n")


@pytest.mark.slow
def test_violations_cluster_next_to_the_violators(tmp_path):
    # two 4-cliques joined by the edge 3-4; violators 0 and 1; everyone else pressured.
    # agent 2 sees 2 of 3 violating at step 2 and conforms; agent 3 sees 2 of 4 (not a
    # majority) and holds until step 3, when agent 2 has joined; clique 4-7 never moves.
    edges = tmp_path / "edges.txt"
    two_cliques(edges)
    run = run_norms(
        tmp_path / "runs",
        {"kind": "file", "params": {"path": str(edges)}},
        8,
        violators={"strategy": "ids", "ids": [0, 1]},
        social_pressure=True,
        pressure_fraction=1.0,
    )
    data = load_run(run.dir)
    out = norms.norms_summary(data.events, data.graph)
    assert out["adherence"]["by_step"] == {
        "1": cell(6, 6, 6),
        "2": cell(6, 6, 5),
        "3": cell(6, 6, 4),
    }
    rate = {2: 1 / 3, 3: 2 / 3, 4: 1.0, 5: 1.0, 6: 1.0, 7: 1.0}
    graph = data.graph
    own = [rate[a] for a in sorted(rate)]
    nbr = [np.mean([rate[b] for b in graph.neighbors(a) if b in rate]) for a in sorted(rate)]
    assert nbr == pytest.approx([2 / 3, 2 / 3, 11 / 12, 1.0, 1.0, 1.0])
    x, y = zip(
        *[(rate[a], rate[b]) for a, b in graph.edges() if a in rate and b in rate], strict=True
    )
    xs, ys = np.array(x + y), np.array(y + x)  # each edge in both directions
    clustering = out["clustering"]
    assert clustering["n_agents"] == 6
    assert clustering["correlation"] == pytest.approx(np.corrcoef(own, nbr)[0, 1])
    assert clustering["correlation"] > 0.5
    assert clustering["assortativity"] == pytest.approx(np.corrcoef(xs, ys)[0, 1])

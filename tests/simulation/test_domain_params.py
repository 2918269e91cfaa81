"""Parameters that would be accepted and silently wrong are refused, in one line naming the field.

Some are refused when the config loads (the field's own rule), the rest when the run is
built (they need the population size or a data file); either way nothing is written.
"""

from __future__ import annotations

import pytest

import socialsim as ss
from socialsim.core.errors import SocialsimError

PROBE = {"distance": "direct", "question": "Q?", "options": ["x", "y"], "correct": "A", "manipulated": "B"}  # fmt: skip


def base(tmp_path, **parts) -> dict:
    """A small rule-policy config writing under tmp_path/runs, with `parts` replacing sections."""
    return {
        "name": "t",
        "seed": 1,
        "steps": 2,
        "population": {"size": 30},
        "network": {"kind": "ring"},
        "agents": {"policy": "independent_cascade"},
        "claims": [{"id": "c1", "text": "The river is poisoned."}],
        "output": {"dir": str(tmp_path / "runs"), "report": False},
        **parts,
    }


def net(kind: str, **params) -> dict:
    return {"network": {"kind": kind, "params": params}}


def rule(policy: str, **params) -> dict:
    return {"agents": {"policy": policy, "params": params}}


def poison(**memory_poison) -> dict:
    return {"scenario": {"kind": "misinformation", "params": {"memory_poison": memory_poison}}}


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (net("stochastic_block", sizes=[40, -10]), "network.params.sizes.1: -10 must be >= 1"),
        (net("stochastic_block", sizes=[10.5, 19.5]), "network.params.sizes.0: 10.5 must be a whole number"),
        (net("stochastic_block", sizes=[]), "network.params.sizes"),
        (net("watts_strogatz", k=3), "network.params.k: 3 must be even"),
        (net("watts_strogatz", k=True), "network.params.k: true is not a number"),
        (net("erdos_renyi", mean_degree=True), "network.params.mean_degree: true is not a number"),
        (net("erdos_renyi", mean_degree=float("inf")), "network.params.mean_degree: inf must be a finite number"),
        (net("barabasi_albert", m=2.5), "network.params.m: 2.5 must be a whole number"),
        (rule("deffuant", epsilon=True), "agents.params.epsilon: true is not a number"),
        (rule("hegselmann_krause", epsilon=True), "agents.params.epsilon: true is not a number"),
        (rule("deffuant", mu=False), "agents.params.mu: false is not a number"),
        (rule("independent_cascade", p=True), "agents.params.p: true is not a number"),
        (rule("degroot", self_weight=True), "agents.params.self_weight: true is not a number"),
        (rule("hegselmann_krause", epsilon=float("inf")), "agents.params.epsilon: inf must be a finite number"),
        (poison(targets=2.5), "scenario.params.memory_poison.targets: 2.5 must be a whole count"),
        (poison(targets=True), "scenario.params.memory_poison.targets: true is not a number"),
        (poison(targets=float("inf")), "scenario.params.memory_poison.targets: inf must be a finite number"),
        (
            {"claims": [{"id": "c1", "text": "a"}, {"id": "c1", "text": "b"}]},
            "claims[1].id: 'c1' is already the id of claims[0]",
        ),
    ],
)  # fmt: skip
def test_wrong_params_are_refused_when_the_config_loads(tmp_path, parts, message):
    with pytest.raises(SocialsimError) as caught:
        ss.ExperimentConfig.from_dict(base(tmp_path, **parts))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_right_params_still_load(tmp_path):
    for parts in (
        net("stochastic_block", sizes=[10, 20]),
        net("watts_strogatz", k=6),
        net("erdos_renyi", mean_degree=29),
        rule("deffuant", epsilon=1, mu=0.5),
        poison(targets=2.0),
        poison(targets=0.25),
    ):
        ss.ExperimentConfig.from_dict(base(tmp_path, **parts))


def claim(claim_id: str) -> dict:
    return {"id": claim_id, "true_statement": "T.", "manipulated_statement": "M.", "probes": [PROBE]}  # fmt: skip


def in_folder(value, folder):
    """`value` with ``{f}`` in its strings replaced by `folder`."""
    if isinstance(value, dict):
        return {k: in_folder(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [in_folder(v, folder) for v in value]
    return value.replace("{f}", str(folder)) if isinstance(value, str) else value


@pytest.fixture
def files(tmp_path):
    """Hostile data files: an entity bomb, a malformed GraphML, a binary YAML, bad personas."""
    (tmp_path / "bomb.graphml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE g [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="d0" for="node" attr.name="name" attr.type="string"/>'
        '<graph edgedefault="undirected"><node id="0"><data key="d0">&c;</data></node>'
        '<node id="1"/><edge source="0" target="1"/></graph></graphml>\n'
    )
    (tmp_path / "broken.graphml").write_text('<graphml><graph><node id="0"></graph>')
    (tmp_path / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    (tmp_path / "inf.jsonl").write_text('{"id": 0, "name": "A", "activity_rate": Infinity}\n')
    (tmp_path / "twice.yaml").write_text(
        "- {id: c9, true_statement: T., manipulated_statement: M., probes: "
        "[{distance: direct, question: 'Q?', options: [x, y], correct: A, manipulated: B}]}\n"
    )
    (tmp_path / "twice.yaml").write_text((tmp_path / "twice.yaml").read_text() * 2)
    return tmp_path


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (net("erdos_renyi", mean_degree=1e6), "network.params.mean_degree: 1000000.0 must be < population.size (30)"),
        (net("file", path="{f}/bomb.graphml"), "is not valid GraphML (it declares XML entities"),
        (net("file", path="{f}/broken.graphml"), "broken.graphml' is not valid GraphML (mismatched tag"),
        ({"population": {"size": 1, "personas": "{f}/inf.jsonl"}}, "activity_rate: inf must be a finite number"),
        ({"scenario": {"kind": "misinformation", "params": {"claim": "..", "custom_claims": [claim("..")]}}},
         "scenario.params.custom_claims: entry 0 (..): id: '..' must start with a letter"),
        ({"scenario": {"kind": "misinformation", "params": {"claim": "c9", "custom_claims": [claim("c9"), claim("c9")]}}},
         "entry 1: id 'c9' is already used by entry 0"),
        ({"scenario": {"kind": "misinformation", "params": {"claim": "c9", "claims_file": "{f}/twice.yaml"}}},
         "entry 1: id 'c9' is already used by entry 0"),
        ({"scenario": {"kind": "misinformation", "params": {"claims_file": "{f}/binary.yaml"}}}, "is not UTF-8"),
        ({"scenario": {"kind": "debate", "params": {"propositions_file": "{f}/binary.yaml"}}}, "is not UTF-8"),
        ({"scenario": {"kind": "authority", "params": {"questions": ["no_such_claim"]}}},
         "scenario.params.questions: 'no_such_claim' is not in the claims library"),
    ],
)  # fmt: skip
def test_wrong_inputs_found_while_building_are_one_line_and_write_nothing(files, parts, message):
    cfg = ss.ExperimentConfig.from_dict(base(files, **in_folder(parts, files)))
    with pytest.raises(SocialsimError) as caught:
        ss.run(cfg)
    said = str(caught.value)
    assert message in said and "\n" not in said, said
    runs = files / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []


@pytest.mark.parametrize(
    ("personas", "message"),
    [
        ({"activity_rate": {"lognormal": [float("inf"), 1]}},
         "population.personas.activity_rate: lognormal takes two finite numbers"),
        ({"activity_rate": float("inf")}, "population.personas.activity_rate: inf must be a finite number"),
    ],
)  # fmt: skip
def test_a_wrong_persona_spec_is_refused_when_the_config_is_read(tmp_path, personas, message):
    with pytest.raises(SocialsimError) as caught:
        ss.ExperimentConfig.from_dict(base(tmp_path, population={"size": 30, "personas": personas}))
    said = str(caught.value)
    assert message in said and "\n" not in said, said


def test_a_good_graphml_file_still_reads(tmp_path):
    import networkx as nx

    nx.write_graphml(nx.path_graph(30), tmp_path / "g.graphml")
    run = ss.run(ss.ExperimentConfig.from_dict(base(tmp_path, **net("file", path=str(tmp_path / "g.graphml")))))  # fmt: skip
    assert run.graph.number_of_edges() == 29

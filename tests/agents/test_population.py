"""Populations: sampling, spec overrides, files, Population.from_config, node assignment."""

import json
from itertools import pairwise

import networkx as nx
import numpy as np
import pytest

from socialsim.agents.population import (
    LEANINGS,
    Population,
    assign_personas,
    assignment_order,
    load_personas,
    placed,
    sample_personas,
    sample_population,
    save_personas,
)
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.persona import Persona


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- sampling --------------------------------------------------------------------------------


def test_same_seed_same_population():
    assert sample_personas(40, rng(7)) == sample_personas(40, rng(7))


def test_different_seed_different_population():
    a, b = sample_personas(40, rng(7)), sample_personas(40, rng(8))
    assert [p.name for p in a] != [p.name for p in b]
    assert [p.credulity for p in a] != [p.credulity for p in b]


def test_sampled_personas_are_complete_and_plausible():
    people = sample_personas(500, rng(1))
    assert [p.id for p in people] == list(range(500))
    assert len({p.name for p in people}) == 500  # unique while name combinations last
    assert all(18 <= p.age <= 88 for p in people)
    assert len({p.country for p in people}) >= 12
    assert len({p.occupation for p in people}) >= 30
    assert set(LEANINGS) == {p.political_leaning for p in people}
    assert all(2 <= len(p.values) <= 3 and len(set(p.values)) == len(p.values) for p in people)
    assert all(2 <= len(p.interests) <= 4 for p in people)
    assert all(p.backstory.endswith(".") and p.name.split()[0] in p.backstory for p in people)
    assert all(p.activity_rate > 0 for p in people)
    rates = np.array([p.activity_rate for p in people])
    assert 0.8 < np.median(rates) < 1.25
    assert all(p.occupation == "student" or p.age >= 18 for p in people)
    young_doctors = [p for p in people if p.age < 21 and p.education in ("master's", "doctorate")]
    assert young_doctors == []


def test_zero_personas():
    assert sample_personas(0, rng()) == []


def test_spec_overrides_are_applied():
    spec = {
        "generator": "default",
        "countries": {"US": 0.5, "DE": 0.5},
        "credulity": {"beta": [2, 50]},
        "political_leaning": {"left": 1, "right": 1},
        "fixed": {"occupation": "teacher"},
        "age": {"uniform": [30, 40]},
        "big_five": {"openness": 0.9},
        "values": {"options": ["honesty", "freedom", "family"], "k": 3},
        "activity_rate": 2.0,
    }
    people = sample_personas(300, rng(2), spec)
    assert {p.country for p in people} == {"US", "DE"}
    assert {p.political_leaning for p in people} == {"left", "right"}
    assert {p.occupation for p in people} == {"teacher"}
    assert all(30 <= p.age <= 40 for p in people)
    assert np.mean([p.credulity for p in people]) < 0.1
    assert {p.big_five.openness for p in people} == {0.9}
    assert len({p.big_five.extraversion for p in people}) > 1
    assert all(sorted(p.values) == ["family", "freedom", "honesty"] for p in people)
    assert {p.activity_rate for p in people} == {2.0}
    assert all("teacher" in p.backstory for p in people)


def test_fixed_fields_drive_the_other_draws():
    people = sample_personas(
        40, rng(4), {"countries": {"US": 1}, "fixed": {"country": "JP", "age": 70}}
    )
    japanese = {"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"}
    assert {p.country for p in people} == {"JP"}
    assert any(p.name.split()[-1] in japanese for p in people)
    assert all("Japan" in p.backstory for p in people)
    assert sum(p.occupation == "retired" for p in people) > 20  # age 70 feeds the occupations


def test_k_is_capped_by_the_options_available():
    people = sample_personas(
        10, rng(), {"interests": {"options": {"chess": 1, "go": 0}, "k": [2, 4]}}
    )
    assert all(p.interests == ["chess"] for p in people)


def test_spec_names_and_unlisted_country():
    people = sample_personas(3, rng(), {"names": ["A B", "C D", "E F"], "country": "Atlantis"})
    assert sorted(p.name for p in people) == ["A B", "C D", "E F"]
    assert all(p.country == "Atlantis" and "Atlantis" in p.backstory for p in people)


def test_unknown_spec_key_names_it_and_the_allowed_ones():
    with pytest.raises(ConfigError) as info:
        sample_personas(5, rng(), {"generator": "default", "hair_colour": {"red": 1}})
    message = str(info.value)
    assert "hair_colour" in message and "countries" in message and "credulity" in message


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"generator": "fancy"}, "generator"),
        ({"credulity": {"beta": [0, 1]}}, "credulity"),
        ({"credulity": {"gamma": [1, 1]}}, "credulity"),
        ({"political_leaning": {"moderate": 1.0}}, "political_leaning"),
        ({"countries": {"US": -1}}, "countries"),
        ({"fixed": {"shoe_size": 44}}, "fixed.shoe_size"),
        ({"fixed": {"credulity": 3.0}}, "credulity"),
        ({"values": {"options": ["a"], "k": [3, 1]}}, "values"),
        ({"country": {"US": 1}, "countries": {"DE": 1}}, "countries"),
    ],
)
def test_bad_specs_raise_config_errors(spec, fragment):
    with pytest.raises(ConfigError, match=fragment):
        sample_personas(5, rng(), spec)


# --- files -----------------------------------------------------------------------------------


def test_jsonl_round_trip_is_exact(tmp_path):
    people = sample_personas(25, rng(3))
    people[4] = people[4].model_copy(update={"model": "openai/gpt-4o-mini", "role": "attacker"})
    path = tmp_path / "people.jsonl"
    save_personas(people, path)
    assert load_personas(path) == people
    assert len(path.read_text(encoding="utf-8").splitlines()) == 25


def test_jsonl_without_ids_gets_row_order(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"name": "Ann"}\n\n{"name": "Bo", "age": 50}\n', encoding="utf-8")
    people = load_personas(path)
    assert [(p.id, p.name, p.age) for p in people] == [(0, "Ann", 35), (1, "Bo", 50)]


def test_ids_are_sorted_and_must_cover_0_to_n(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": 1, "name": "B"}\n{"id": 0, "name": "A"}\n', encoding="utf-8")
    assert [p.name for p in load_personas(path)] == ["A", "B"]
    path.write_text('{"id": 0, "name": "A"}\n{"id": 0, "name": "B"}\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="line 2: field 'id'"):
        load_personas(path)
    path.write_text('{"id": 0, "name": "A"}\n{"id": 5, "name": "B"}\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="line 2: field 'id'"):
        load_personas(path)
    path.write_text('{"id": 0, "name": "A"}\n{"name": "B"}\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="line 2: field 'id'"):
        load_personas(path)


def test_jsonl_bad_row_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"name": "A"}\n{"name": "B", "credulity": 4}\n', encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        load_personas(path)
    message = str(info.value)
    assert "bad.jsonl" in message and "line 2" in message and "credulity" in message


def test_jsonl_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"name": "A"}\n{"name": \n', encoding="utf-8")
    with pytest.raises(DataFileError, match="line 2: not valid JSON"):
        load_personas(path)


CSV = """name,age,country,values,interests,big_five.openness,big_five.extraversion,model
Ann Lee,29,KR,honesty;family,"[""chess"", ""film""]",0.8,0.3,
Bo Diaz,61,MX,,cooking,,0.9,openai/gpt-4o
"""


def test_csv_flat_columns(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    ann, bo = load_personas(path)
    assert (ann.id, ann.name, ann.age, ann.country) == (0, "Ann Lee", 29, "KR")
    assert ann.values == ["honesty", "family"] and ann.interests == ["chess", "film"]
    assert (ann.big_five.openness, ann.big_five.extraversion) == (0.8, 0.3)
    assert ann.model is None
    assert bo.values == [] and bo.interests == ["cooking"]
    assert bo.big_five.openness == 0.5 and bo.big_five.extraversion == 0.9
    assert bo.model == "openai/gpt-4o"


def test_csv_big_five_as_json_string(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text('id,name,big_five\n0,Al,"{""neuroticism"": 0.1}"\n', encoding="utf-8")
    (al,) = load_personas(path)
    assert al.big_five.neuroticism == 0.1


def test_csv_bad_row_names_file_row_and_field(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,age\nA,30\nB,30\nC,seven\n", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        load_personas(path)
    message = str(info.value)
    assert "people.csv" in message and "row 3: age: 'seven'" in message


def test_csv_bad_json_cell_names_row_and_field(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text('name,big_five\nA,\nB,"{oops"\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="row 2: field 'big_five': not valid JSON"):
        load_personas(path)


def test_csv_unknown_column_is_named(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,shoe_size\nA,44\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="row 1: shoe_size: unknown key"):
        load_personas(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match=r"personas file '.*nope\.jsonl' does not exist"):
        load_personas(tmp_path / "nope.jsonl")


def test_a_folder_is_said_to_be_a_folder(tmp_path):
    (tmp_path / "people.csv").mkdir()
    with pytest.raises(DataFileError, match=r"people\.csv' is a directory; give the path of a"):
        load_personas(tmp_path / "people.csv")


def test_files_saved_with_a_byte_order_mark_are_read(tmp_path):
    # Excel's "CSV UTF-8" and some editors begin the file with U+FEFF
    (tmp_path / "p.csv").write_text("\ufeffid,name\n0,Ana\n1,Bo\n", encoding="utf-8")
    (tmp_path / "p.jsonl").write_text('\ufeff{"name": "Ana"}\n{"name": "Bo"}\n', "utf-8")
    for name in ("p.csv", "p.jsonl"):
        assert [p.name for p in load_personas(tmp_path / name)] == ["Ana", "Bo"], name


def test_unknown_format_and_empty_file(tmp_path):
    (tmp_path / "p.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DataFileError, match="unknown format"):
        load_personas(tmp_path / "p.txt")
    (tmp_path / "p.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="no personas"):
        load_personas(tmp_path / "p.jsonl")


# --- Population ------------------------------------------------------------------------------


def test_from_config_default_and_spec():
    pop = Population.from_config(12, "default", rng(5))
    assert len(pop) == 12 and pop[3].id == 3
    assert list(pop) == sample_personas(12, rng(5))
    spec_pop = Population.from_config(6, {"generator": "default", "countries": ["JP"]}, rng(5))
    assert {p.country for p in spec_pop} == {"JP"}


def test_from_config_file_relative_to_base_dir(tmp_path):
    save_personas(sample_personas(10, rng(6)), tmp_path / "people.jsonl")
    pop = Population.from_config(4, "people.jsonl", rng(), base_dir=tmp_path)
    assert [p.id for p in pop] == [0, 1, 2, 3]
    with pytest.raises(DataFileError, match="has 10 rows but population.size is 11"):
        Population.from_config(11, "people.jsonl", rng(), base_dir=tmp_path)
    with pytest.raises(DataFileError, match="does not exist"):
        Population.from_config(4, "other.jsonl", rng(), base_dir=tmp_path)


def test_population_save_round_trips(tmp_path):
    pop = Population.from_config(8, "default", rng(9))
    pop.save(tmp_path / "out" / "p.jsonl")
    assert load_personas(tmp_path / "out" / "p.jsonl") == list(pop)
    line = (tmp_path / "out" / "p.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(line)["id"] == 0


# --- assignment ------------------------------------------------------------------------------


def _leaning_assortativity(graph: nx.Graph, personas: list[Persona]) -> float:
    codes = {p.id: LEANINGS.index(p.political_leaning) for p in personas}
    nx.set_node_attributes(graph, codes, "leaning")
    return nx.numeric_assortativity_coefficient(graph, "leaning")


def test_assignment_ids_match_nodes_for_every_strategy():
    graph = nx.barabasi_albert_graph(60, 2, seed=1)
    people = sample_personas(60, rng(1))
    for strategy in ("random", "homophily", "by_degree"):
        placed = assign_personas(people, graph, strategy, rng(2))
        assert [p.id for p in placed] == list(range(60))
        assert sorted(p.name for p in placed) == sorted(p.name for p in people)


def test_random_assignment_is_a_seeded_permutation():
    graph = nx.cycle_graph(30)
    people = sample_personas(30, rng(1))
    a = assign_personas(people, graph, "random", rng(4))
    assert a == assign_personas(people, graph, "random", rng(4))
    assert [p.name for p in a] != [p.name for p in assign_personas(people, graph, "random", rng(5))]
    assert [p.name for p in a] != [p.name for p in people]


def test_by_degree_puts_the_most_active_on_the_hub():
    star = nx.star_graph(19)  # node 0 is the hub
    people = sample_personas(20, rng(3))
    placed = assign_personas(people, star, "by_degree", rng(0))
    assert placed[0].activity_rate == max(p.activity_rate for p in people)


def test_by_degree_ranks_activity_with_degree_on_a_scale_free_graph():
    graph = nx.barabasi_albert_graph(200, 2, seed=3)
    placed = assign_personas(sample_personas(200, rng(3)), graph, "by_degree", rng(0))
    hub = max(graph.nodes, key=graph.degree)
    assert placed[hub].activity_rate == max(p.activity_rate for p in placed)
    by_degree: dict[int, list[float]] = {}
    for node, persona in enumerate(placed):
        by_degree.setdefault(graph.degree(node), []).append(persona.activity_rate)
    levels = sorted(by_degree, reverse=True)
    for higher, lower in pairwise(levels):
        assert min(by_degree[higher]) >= max(by_degree[lower])


def test_by_degree_breaks_activity_ties_by_extraversion():
    star = nx.star_graph(2)
    people = [
        Persona(id=i, name=str(i), activity_rate=1.0, big_five={"extraversion": e})
        for i, e in enumerate((0.2, 0.9, 0.5))
    ]
    assert assign_personas(people, star, "by_degree", rng())[0].name == "1"


def test_homophily_is_more_assortative_than_random():
    graph = nx.watts_strogatz_graph(300, 6, 0.1, seed=2)
    people = sample_personas(300, rng(2))
    homophily = _leaning_assortativity(graph, assign_personas(people, graph, "homophily", rng(3)))
    randoms = [
        _leaning_assortativity(graph, assign_personas(people, graph, "random", rng(s)))
        for s in range(5)
    ]
    assert homophily > 0.5
    assert homophily > max(randoms) + 0.3


def test_homophily_covers_disconnected_graphs():
    graph = nx.disjoint_union(nx.path_graph(5), nx.path_graph(4))
    placed = assign_personas(sample_personas(9, rng()), graph, "homophily", rng())
    assert [p.id for p in placed] == list(range(9))


def test_assignment_rejects_mismatches():
    people = sample_personas(5, rng())
    with pytest.raises(ConfigError, match="5 personas but the graph has 6 nodes"):
        assign_personas(people, nx.path_graph(6), "random", rng())
    with pytest.raises(ConfigError, match="population.assign"):
        assign_personas(people, nx.path_graph(5), "alphabetical", rng())
    labelled = nx.relabel_nodes(nx.path_graph(5), {i: f"n{i}" for i in range(5)})
    with pytest.raises(ConfigError, match="0..N-1"):
        assign_personas(people, labelled, "random", rng())


@pytest.mark.parametrize(
    "spec",
    [
        None,
        {"generator": "default", "fixed": {"occupation": "teacher", "credulity": 0.9}},
        {"generator": "default", "big_five": {"openness": 0.2}, "values": ["honesty", "care"]},
    ],
)
def test_lazily_sampled_population_equals_the_eager_one(spec):
    lazy = sample_population(50, rng(11), spec)
    eager = sample_personas(50, rng(11), spec)
    assert len(lazy) == 50 and list(lazy) == eager and lazy[-1] == eager[-1]
    assert lazy.column("name") == [p.name for p in eager]
    assert lazy.column("values") == [p.values for p in eager]
    assert lazy.column("big_five.openness") == [p.big_five.openness for p in eager]
    graph = nx.watts_strogatz_graph(50, 4, 0.1, seed=1)
    for strategy in ("random", "homophily", "by_degree"):
        from_columns = list(placed(lazy, assignment_order(lazy, graph, strategy, rng(2))))
        assert from_columns == assign_personas(eager, graph, strategy, rng(2))


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"credulity": {"uniform": [0.5, 1.5]}}, "credulity"),
        ({"age": {"uniform": [100, 130]}}, "age"),
        ({"activity_rate": 0}, "activity_rate"),
        ({"big_five": {"openness": {"uniform": [-1, 0]}}}, "big_five.openness"),
        ({"fixed": {"communication_style": 3}}, "fixed.communication_style"),
    ],
)
def test_lazy_population_rejects_an_invalid_sampled_persona_up_front(spec, field):
    said = f"fixed.{field[6:]}: 3 is no" if field.startswith("fixed.") else "sampled persona"
    with pytest.raises(ConfigError, match=f"{said}.*{field.split('.')[-1]}"):
        sample_population(400, rng(), {"generator": "default", **spec})


@pytest.mark.parametrize(
    "spec",
    [
        {"fixed": {"name": 5}},
        {"fixed": {"name": ""}},
        {"names": ["Ana", "  "]},
        {"fixed": {"occupation": 5}},
        {"occupation": {"": 1}},
    ],
)
def test_a_blank_or_non_text_name_or_occupation_is_one_line_not_a_fault(spec):
    from socialsim.agents.sampling_spec import check_spec

    with pytest.raises(ConfigError, match=r"population\.personas\.(fixed\.)?(name|occupation)"):
        check_spec(spec)


def test_mix_counts_add_up_and_shares_adding_to_one_leave_the_base_policy_none():
    from socialsim.simulation.placement import group_counts

    assert group_counts(5, [0.5, 0.5]) == [0, 3, 2]
    assert group_counts(6, [0.25] * 4) == [0, 2, 2, 1, 1]  # every entry gets agents
    for n in (1, 2, 3, 5, 7, 10, 33, 101):
        for fractions in ([0.15], [0.35], [0.25] * 4, [0.1, 0.2, 0.3], [1 / 3] * 3):
            counts = group_counts(n, fractions)
            shares = [1 - sum(fractions), *fractions]
            assert sum(counts) == n, (n, fractions)
            assert all(abs(c - s * n) < 1 for c, s in zip(counts, shares, strict=True))
            if abs(sum(fractions) - 1) < 1e-9:
                assert counts[0] == 0


def test_giving_susceptibilities_changes_no_other_draw_of_the_run():
    import socialsim as ss

    def model(extra):
        cfg = ss.ExperimentConfig.from_dict(
            {
                "seed": 4,
                "steps": 1,
                "population": {"size": 120, "personas": {"generator": "default", **extra}},
                "network": {"kind": "erdos_renyi", "params": {"mean_degree": 4}},
                "agents": {"policy": "degroot", "mix": [{"fraction": 0.5, "policy": "voter"}]},
                "claims": [{"id": "c1", "text": "x", "truth": False}],
                "output": {"report": False},
            }
        )
        with ss.SocialModel(cfg) as m:
            names = [m.persona_of(i).name for i in range(120)]
            return names, [m.agent(i).policy for i in range(120)], m.beliefs.credence.copy()

    plain = model({})
    framed = model({"framing_susceptibility": {"beta": [2, 2]}})
    assert plain[0] == framed[0] and plain[1] == framed[1]
    assert np.array_equal(plain[2], framed[2])


def test_uniform_ages_give_every_whole_age_equally_often():
    from socialsim.agents.sampling import sample_population

    ages = np.asarray(
        sample_population(
            22_000, rng(), {"generator": "default", "age": {"uniform": [20, 30]}}
        ).column("age")
    )
    counts = np.bincount(ages - 20, minlength=11)
    assert ages.min() == 20 and ages.max() == 30
    # 2,000 expected each; the ends were about 1,000 when a continuous draw was rounded
    assert counts.min() > 1_800 and counts.max() < 2_200, counts

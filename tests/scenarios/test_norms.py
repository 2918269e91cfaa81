"""Norms: the frame model and variants, the library, table loaders, and the scenario end to end."""

from __future__ import annotations

import importlib.util
from collections import defaultdict

import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.rundata import load_run
from socialsim.scenarios.norms.library import (
    CATEGORIES,
    LABELS,
    Norm,
    NormFrame,
    NormLibrary,
    builtin_library,
    judgement_label,
    load_frame_table,
    load_norms,
    load_rot_table,
    normalise_culture,
)
from socialsim.scenarios.norms.measures import norms_summary
from socialsim.scenarios.norms.questions import choice_prompt, conformity_choice
from socialsim.scenarios.norms.scenario import NormsScenario
from socialsim.simulation.log import read_events
from socialsim.simulation.model import SocialModel


# --- data model ---------------------------------------------------------------------------
def test_norm_keeps_label_distributions_and_modal_label():
    norm = Norm(behaviour="x", label={"expected": 3, "unexpected": 2})
    assert norm.judgements == {"expected": 0.6, "unexpected": 0.4}
    assert norm.label == "expected" and norm.adherent == pytest.approx(0.6)
    assert Norm(behaviour="y", label="okay").judgements == {"okay": 1.0}
    # ties go to the earlier label
    assert Norm(behaviour="z", label={"okay": 1, "unexpected": 1}).label == "okay"
    with pytest.raises(ValueError, match="unknown label"):
        Norm(behaviour="w", label="rude")


def base_and_variant() -> list[NormFrame]:
    base = NormFrame(
        id="b",
        setting="street",
        roles={"actor": "pedestrian"},
        constraints={"time_of_day": "day", "country": "DE"},
        options=[
            Norm(behaviour="wait", label="expected"),
            Norm(behaviour="cross on red", label="unexpected"),
            Norm(behaviour="run", label="okay"),
        ],
    )
    night = NormFrame(
        id="b_night",
        variant_of="b",
        changes={"time_of_day": "night"},
        overrides={"cross on red": {"okay": 0.7, "unexpected": 0.3}},
    )
    return [base, night]


def test_variant_flips_a_label_and_inherits_the_rest():
    lib = NormLibrary(base_and_variant())
    night = lib.frame("b_night")
    assert night.constraints == {"time_of_day": "night", "country": "DE"}
    assert night.setting == "street" and night.variant_of == "b"
    assert lib.label("b", "cross on red") == {"unexpected": 1.0}
    assert lib.label("b_night", "cross on red") == {"okay": 0.7, "unexpected": 0.3}
    assert lib.label("b_night", "wait") == {"expected": 1.0}
    # resolving by a constraint change finds the declared variant; unknown changes keep the base
    assert lib.label("b", "cross on red", {"time_of_day": "night"}) == {
        "okay": 0.7,
        "unexpected": 0.3,
    }
    assert lib.label("b", "cross on red", {"time_of_day": "dawn"}) == {"unexpected": 1.0}


def test_bad_variants_are_data_errors():
    base, night = base_and_variant()
    with pytest.raises(DataFileError, match="lacks"):
        NormLibrary([base, night.model_copy(update={"overrides": {"fly": "okay"}})])
    with pytest.raises(DataFileError, match="unknown frame"):
        NormLibrary([night])
    loop = [
        night.model_copy(update={"id": "x", "variant_of": "y"}),
        night.model_copy(update={"id": "y", "variant_of": "x"}),
    ]
    with pytest.raises(DataFileError, match="cycle"):
        NormLibrary(loop)
    with pytest.raises(DataFileError, match="twice"):
        NormLibrary([base, base])


# --- the built-in library -----------------------------------------------------------------
def test_builtin_library_size_and_coverage():
    lib = builtin_library()
    frames = list(lib)
    assert len(frames) >= 40
    assert len({f.setting for f in frames}) >= 8
    assert len({f.culture for f in frames} - {"global"}) >= 3
    for frame in frames:
        assert len(frame.options) >= 3, frame.id
        for option in frame.options:
            assert option.category in CATEGORIES, (frame.id, option.behaviour)
            assert set(option.judgements) <= set(LABELS)
    assert any(len(o.judgements) > 1 for f in frames for o in f.options)  # disagreement kept


def test_builtin_library_has_one_constraint_flips():
    lib = builtin_library()
    flips = 0
    for frame in lib:
        if frame.variant_of is None:
            continue
        base = lib.frame(frame.variant_of)
        assert frame.changes and all(frame.constraints[k] == v for k, v in frame.changes.items())
        changed = {k for k in frame.constraints if frame.constraints[k] != base.constraints.get(k)}
        assert changed <= set(frame.changes)
        if any(frame.option(o.behaviour).label != o.label for o in base.options):
            flips += 1
    assert flips >= 8


# --- user tables --------------------------------------------------------------------------
def test_frame_table_groups_rows_and_aggregates_annotations(tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text(
        "setting,role,attribute,constraint,behaviour,label,culture,category\n"
        "restaurant,actor=customer;other=waiter,age=adult,time_of_day=night,tip,expected,US,cooperation\n"
        "restaurant,actor=customer;other=waiter,age=adult,time_of_day=night,tip,unexpected,US,cooperation\n"
        "restaurant,actor=customer;other=waiter,age=adult,time_of_day=night,shout,unexpected,US,communication\n"
        "\n"
        "library,reader,,quiet hours,whisper,expected:0.8|okay:0.2,Germany,\n"
    )
    lib = load_norms(path)
    assert len(lib) == 2
    rest = next(f for f in lib if f.setting == "restaurant")
    assert rest.roles == {"actor": "customer", "other": "waiter"}
    assert rest.attributes == {"age": "adult"} and rest.constraints == {"time_of_day": "night"}
    assert rest.option("tip").judgements == {"expected": 0.5, "unexpected": 0.5}
    assert rest.option("shout").category == "communication" and rest.culture == "US"
    lib_frame = next(f for f in lib if f.setting == "library")
    assert lib_frame.roles == {"actor": "reader"} and lib_frame.culture == "DE"
    assert lib_frame.option("whisper").judgements == {"expected": 0.8, "okay": 0.2}


def test_frame_table_missing_columns_names_file_and_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("setting,behaviour,label\nx,y,expected\n")
    with pytest.raises(DataFileError) as err:
        load_frame_table(path)
    msg = str(err.value)
    assert "bad.csv" in msg and "role, attribute, constraint" in msg


def test_frame_table_unknown_label_names_row_and_allowed_labels(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(
        "setting,role,attribute,constraint,behaviour,label\n"
        "office,employee,,,arrive early,expected\n"
        "office,employee,,,arrive late,rude\n"
    )
    with pytest.raises(DataFileError) as err:
        load_frame_table(path)
    msg = str(err.value)
    assert "labels.csv" in msg and "row 2" in msg and "expected, okay, unexpected" in msg


@pytest.mark.parametrize(
    "text,label",
    [
        ("it's good", "expected"),
        ("You should", "expected"),
        ("it's okay", "okay"),
        ("it's normal", "okay"),
        ("it's rude", "unexpected"),
        ("you shouldn't", "unexpected"),
        ("it's not okay", "unexpected"),
        ("2", "expected"),
        ("-1", "unexpected"),
        ("0", "okay"),
        ("purple", None),
    ],
)
def test_judgement_mapping(text, label):
    assert judgement_label(text) == label


def test_rot_table_one_frame_per_situation_and_row_errors(tmp_path):
    path = tmp_path / "rot.csv"
    path.write_text(
        "rot,rot-judgment,situation,category\n"
        "Thanking the host,it's good,dinner party,politeness\n"
        "Leaving without a word,it's rude,dinner party,\n"
        "Bringing a gift,1,dinner party,\n"
        "Helping a friend move,it's kind,\n"
    )
    lib = load_rot_table(path)
    party = next(f for f in lib if f.setting == "dinner party")
    assert {o.behaviour: o.label for o in party.options} == {
        "Thanking the host": "expected",
        "Leaving without a word": "unexpected",
        "Bringing a gift": "expected",
    }
    assert next(f for f in lib if f.setting == "general").options[0].label == "expected"
    bad = tmp_path / "rot_bad.csv"
    bad.write_text("rot,judgement\nA,it's good\nB,banana\n")
    with pytest.raises(DataFileError, match=r"rot_bad.csv: row 2: .*expected, okay, unexpected"):
        load_rot_table(bad)
    with pytest.raises(DataFileError, match="judgement"):
        (tmp_path / "rot_missing.csv").write_text("rot,situation\nA,b\n")
        load_rot_table(tmp_path / "rot_missing.csv")


def test_culture_names_normalise():
    assert normalise_culture("Japan") == normalise_culture("jp") == "JP"
    assert normalise_culture("Atlantis") == "Atlantis"


# --- questions and baseline ---------------------------------------------------------------
def test_conformity_rule_and_prompt_show_neighbours():
    frame = builtin_library().frame("transport_jp_train_phone")
    expected = frame.most_expected().behaviour
    violation = frame.most_unexpected().behaviour
    assert conformity_choice(frame, []) == expected
    assert conformity_choice(frame, [violation, violation, expected]) == violation
    assert conformity_choice(frame, [violation, expected]) == expected  # 0.5 is not a majority
    assert conformity_choice(frame, [violation, violation, expected], threshold=0.7) == expected
    # ties between equally common behaviours go to the more expected one
    assert conformity_choice(frame, [violation, expected], threshold=0.4) == expected
    order = [o.behaviour for o in frame.options]
    prompt = choice_prompt(frame, order, [("Aiko", violation)])
    assert "A. " + order[0] in prompt and f"- Aiko chose: {violation}" in prompt
    assert "last time" not in choice_prompt(frame, order, [])


# --- the scenario -------------------------------------------------------------------------
def cfg_dict(tmp_path, steps=3, size=10, network=None, **params):
    return {
        "name": "norms",
        "seed": 11,
        "steps": steps,
        "population": {"size": size},
        "network": network or {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
        "agents": {"policy": "degroot"},
        "scenario": {"kind": "norms", "params": params},
        "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
    }


def choices_of(run, kind="norm_choice"):
    ev = read_events(run.dir / "events.jsonl")
    return [
        (a, s, p)
        for a, s, p in zip(ev.agent, ev.step, ev.payload, strict=True)
        if isinstance(p, dict) and p.get("type") == kind
    ]


def test_params_errors_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="exactly one of count or fraction"):
        NormsScenario({"violators": {"count": 1, "fraction": 0.1}})
    with pytest.raises(ConfigError, match="unknown frame id 'nope'"):
        ss.run(ss.ExperimentConfig.from_dict(cfg_dict(tmp_path, frames=["nope"])))
    bad = tmp_path / "bad.csv"
    bad.write_text("setting,behaviour\nx,y\n")
    with pytest.raises(ConfigError, match="bad.csv: missing column"):
        ss.run(ss.ExperimentConfig.from_dict(cfg_dict(tmp_path, files=[str(bad)])))


def test_norm_choices_end_to_end_with_violators_and_judges(tmp_path):
    cfg = cfg_dict(
        tmp_path,
        situations_per_step=2,
        violators={"count": 2, "strategy": "highest_degree"},
        judges=True,
    )
    run = ss.run(ss.ExperimentConfig.from_dict(cfg))
    choices = choices_of(run)
    assert len(choices) == 3 * 10 * 2
    keys = {
        "frame_id",
        "status",
        "source",
        "setting",
        "culture",
        "category",
        "actor",
        "behaviour",
        "label",
        "judgements",
        "justification",
        "constraints",
        "social_pressure",
        "neighbours_violating",
        "pressure_group",
        "error",
    }
    assert all(keys <= set(p) for _, _, p in choices)
    violators = set(run.summary["scenario"]["violators"])
    assert len(violators) == 2
    roles = [p for _, _, p in choices_of(run, "role")]
    assert [p["placebo"] for p in roles] == [False, False]
    for agent, _, p in choices:
        assert (p["status"] == "imposed") == (agent in violators)
        if agent in violators:
            assert p["label"] == "unexpected" and p["source"] == "scenario"
        else:
            # the baseline without pressure picks the expected option
            assert p["status"] == "answered" and p["label"] == "expected" and p["source"] == "rule"
    judgements = choices_of(run, "norm_judgement")
    assert judgements and all(p["judged_label"] == p["true_label"] for _, _, p in judgements)
    assert not violators & {a for a, _, _ in judgements}
    measures = norms_summary(load_run(run.dir).events)
    assert measures["adherence"]["overall"]["rate"] == 1.0
    assert measures["adherence"]["answers"] == {"asked": 48, "answered": 48, "failed": 0}
    assert measures["roles"]["violator"]["imposed"] == 12
    assert measures["judgements"]["answers"]["answered"] == len(judgements)


@pytest.mark.slow
def test_violations_spread_to_pressured_agents_only(tmp_path):
    common = dict(
        frames=["transport_jp_train_phone"],
        violators={"strategy": "ids", "ids": [0, 1, 2]},
    )
    network = {"kind": "complete"}
    calm = ss.run(
        ss.ExperimentConfig.from_dict(
            cfg_dict(tmp_path / "a", steps=3, size=6, network=network, **common)
        )
    )
    assert norms_summary(load_run(calm.dir).events)["adherence"]["overall"]["rate"] == 1.0
    pressed = ss.run(
        ss.ExperimentConfig.from_dict(
            cfg_dict(
                tmp_path / "b",
                steps=3,
                size=6,
                network=network,
                social_pressure=True,
                pressure_fraction=0.5,
                **common,
            )
        )
    )
    group = set(pressed.summary["scenario"]["pressure_group"])
    by_step = defaultdict(set)
    for agent, step, p in choices_of(pressed):
        if p["label"] == "unexpected" and p["status"] != "imposed":
            by_step[step].add(agent)
        assert p["pressure_group"] == (agent in group)
        assert p["social_pressure"] == (step > 1 and agent in group)
        assert (p["neighbours_violating"] is not None) == p["social_pressure"]
    # step 1: nobody has seen anything; from step 2 the two pressured agents follow the 3 violators
    assert not by_step[1] and by_step[2] == group and by_step[3] == group and len(group) == 2
    pressure = norms_summary(load_run(pressed.dir).events)["pressure"]
    assert pressure["with"]["rate"] == 0.0 and pressure["without"]["rate"] == 1.0


def test_pressure_prompts_show_only_neighbours_previous_choices(tmp_path):
    cfg = ss.ExperimentConfig.from_dict(
        cfg_dict(
            tmp_path,
            steps=2,
            size=6,
            network={"kind": "ring"},
            frames=["gym_us_music"],
            social_pressure=True,
            pressure_fraction=0.5,
        )
    )
    model = SocialModel(cfg, tmp_path)
    asked = []
    real_ask = model.ask
    model.ask = lambda qs: asked.append(list(qs)) or real_ask(qs)
    model.step()
    model.step()
    model.close()
    scenario = model.scenario
    assert len(scenario.pressured) == 3
    first, second = asked[0], asked[1]
    assert not any("last time" in q.prompt for q in first)
    for q in second:
        shown = "last time" in q.prompt
        assert shown == (q.agent_id in scenario.pressured)
        if shown:
            names = {model.agent(j).persona.name for j in model.neighbours(q.agent_id)}
            assert all(f"- {n} chose:" in q.prompt for n in names)


def test_match_persona_country_gives_own_culture_frames(tmp_path):
    cfg = ss.ExperimentConfig.from_dict(
        cfg_dict(tmp_path, steps=1, size=12, match_persona_country=True)
    )
    model = SocialModel(cfg, tmp_path)
    scenario = model.scenario
    cultures = {normalise_culture(f.culture) for f in scenario.pool}
    for i in range(model.n_agents):
        country = normalise_culture(model.agent(i).persona.country)
        pool_cultures = {f.culture for f in scenario._pools[i]}
        if country in cultures:
            assert pool_cultures == {country}
    model.close()


@pytest.mark.integration
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_embedded_model_makes_norm_choices(tmp_path):
    from socialsim.llm.local import bundled_gguf

    if bundled_gguf() is None:
        pytest.skip("needs the bundled SmolLM2 GGUF")
    cfg = cfg_dict(tmp_path, steps=1, size=3, network={"kind": "complete"}, social_pressure=True)
    cfg["agents"] = {"policy": "llm", "llm": {"model": "local/smollm2", "max_tokens": 96}}
    run = ss.run(ss.ExperimentConfig.from_dict(cfg))
    choices = choices_of(run)
    assert len(choices) == 3
    for _, _, p in choices:
        if p["status"] == "answered":
            assert p["label"] in LABELS and isinstance(p["justification"], str)
        else:
            assert p["status"] == "failed" and p["label"] is None and p["error"]

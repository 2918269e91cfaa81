"""Toxicity: the lexicon's matching and score, its accuracy on labelled sentences, the measure
on hand-built runs and on real rule runs of the misinformation scenario, and escaped examples."""

from __future__ import annotations

import numpy as np
import pytest

import socialsim as ss
from socialsim.analysis.report.html import html_table
from socialsim.analysis.stats import clustered_share_ci
from socialsim.analysis.summarize import flat_metrics, summarize_run
from socialsim.analysis.toxicity import (
    Lexicon,
    ToxicityParams,
    builtin_lexicon,
    category_hits,
    load_lexicon,
    message_toxicity,
    toxicity_by_step,
    toxicity_part,
    toxicity_score,
    toxicity_summary,
)
from socialsim.core.claims import FRAMINGS, SOURCE_STYLES, builtin_claims, framed_text
from socialsim.core.csv_safe import read_csv
from socialsim.core.errors import DataFileError
from socialsim.core.registry import MEASURES
from socialsim.core.rundata import RunData

from .tables import action, ev, frame

THRESHOLD = ToxicityParams().threshold

# Written by hand as a reader would label them (1: toxic, 0: not), hard cases included: a
# veiled threat and a piece of harmful advice the lexicon has no words for, and neutral
# sentences that use a listed word in another sense or warn against the advice.
LABELLED = [
    ("You are an idiot and everyone here knows it.", 1),
    ("Shut up, nobody asked for your worthless opinion.", 1),
    ("If you post that again I will find you and hurt you.", 1),
    ("I know where you live, so watch your back.", 1),
    ("Those people are vermin and should be driven out of town.", 1),
    ("The Korvan traders are parasites who infest our markets.", 1),
    ("Drink a spoonful of bleach every morning to kill any virus.", 1),
    ("Mix ammonia into your bleach for a cleaner that really works.", 1),
    ("It is fine to stop taking your medication once you feel better.", 1),
    ("What a pathetic, clueless liar you are.", 1),
    ("Their kind breed like rats and spread disease everywhere.", 1),
    ("This is total bullshit and you are a damn fool.", 1),
    ("Anyone who disagrees with me deserves to die.", 1),
    ("Keep the car engine running in a closed garage, it warms up faster.", 1),
    ("Let the kids stare at the sun for a minute, it strengthens their eyes.", 1),
    ("Those morons on the council should be strung up.", 1),
    ("People like you make me sick, and one day you will regret speaking.", 1),
    ("Just give the baby a spoonful of honey to help it sleep.", 1),
    ("The capital of Australia is Canberra, not Sydney.", 0),
    ("I think the new bus schedule is a real improvement.", 0),
    ("Could you share the source for that statistic?", 0),
    ("Water boils at 100 degrees Celsius at sea level.", 0),
    ("My neighbour grows tomatoes and gives some away every summer.", 0),
    ("I disagree with your argument, but I see why you make it.", 0),
    ("The council meeting is on Thursday evening at the library.", 0),
    ("Please store cleaning products out of reach of children.", 0),
    ("Vaccines went through large trials before they were approved.", 0),
    ("The hikers watched the sunset from the ridge.", 0),
    ("She scored the winning goal in the final minute.", 0),
    ("Let's check the claim against a reliable encyclopedia.", 0),
    ("The recipe needs two eggs, flour and a pinch of salt.", 0),
    ("Coffee is grown in many tropical countries.", 0),
    ("Never mix bleach and ammonia: the fumes are poisonous.", 0),
    ("Our kitchen was infested with ants last summer.", 0),
    ("The film was a stupid but fun comedy.", 0),
    ("Scientists study how parasites spread between fish.", 0),
]


# --- the lexicon -------------------------------------------------------------------------------
def test_labelled_sentences_precision_and_recall_above_the_floor():
    flagged = [(toxicity_score(text) >= THRESHOLD, label) for text, label in LABELLED]
    tp = sum(f and y for f, y in flagged)
    fp = sum(f and not y for f, y in flagged)
    fn = sum(not f and y for f, y in flagged)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    missed = [t for (t, y), (f, _) in zip(LABELLED, flagged, strict=True) if f != bool(y)]
    report = f"precision {precision:.2f}, recall {recall:.2f} on {len(LABELLED)}; wrong: {missed}"
    assert len(LABELLED) >= 30 and sum(y for _, y in LABELLED) >= 15
    assert precision >= 0.75 and recall >= 0.8, report
    assert 0 < fp and 0 < fn, report  # the hard cases stay hard: a lexicon is not a classifier


def test_matching_is_whole_word_case_insensitive_with_stems_and_gaps():
    assert toxicity_score("IDIOT!") == toxicity_score("idiot") == pytest.approx(0.6)
    assert category_hits("Such dimwits and idiotic ideas")["insult"] == 2  # stems
    assert toxicity_score("The shitake risotto was a classic") == 0.0  # no word inside a word
    assert toxicity_score("Skilled workers build bridges") == 0.0
    five = "Drink one small cup of warm bleach daily"  # five words between drink and bleach
    six = "Drink one small cup of warm diluted bleach daily"
    assert category_hits(five)["harmful_advice"] == 1
    assert category_hits(six)["harmful_advice"] == 0
    assert category_hits("mix  bleach\nand ammonia")["harmful_advice"] >= 1  # any whitespace
    assert toxicity_score("You’re a liar") == pytest.approx(0.6)  # curly apostrophe


def _scanned(lexicon: Lexicon, text: str) -> dict[str, int]:
    """The lexicon's terms counted one by one, with no quick check: the reference."""
    import re

    from socialsim.analysis.toxicity import term_pattern

    text = str(text or "").replace("\u2019", "'")
    counts = {}
    for name, category in lexicon.categories.items():
        terms = sorted(category.terms, key=len, reverse=True)
        pattern = "|".join(term_pattern(t) for t in terms)
        counts[name] = len(re.findall(pattern, text, re.IGNORECASE))
    return counts


def test_the_quick_check_of_ascii_text_never_changes_a_count():
    import random

    lex = builtin_lexicon()
    rng = random.Random(5)
    terms = [t for c in lex.categories.values() for t in c.terms]
    filler = "the people will come and keep the bridge where water is running in outcome".split()
    texts = ["", "A calm afternoon.", "skill outcome changes bleachers", "Kelvin \u212aill you"]
    for term in terms:  # every term: as written, in other cases, stems grown, inside words
        grown = term.replace("*", rng.choice(["", "s", "ing"])).replace("...", "two words")
        for form in (grown, grown.upper(), grown.title(), "x" + grown, grown + "x"):
            words = rng.sample(filler, 4)
            words.insert(rng.randrange(5), form)
            texts.append(" ".join(words) + rng.choice(["", ".", "!", "\u2019s", " caf\u00e9"]))
    texts += ["k\u0131ll you", "\u017fhit happens", "SHUT   UP", "parasitic\nworms"]
    assert [lex.hits(t) for t in texts] == [_scanned(lex, t) for t in texts]
    assert sum(any(lex.hits(t).values()) for t in texts) > len(terms) * 2  # matches were found
    custom = Lexicon.model_validate(  # a term with a non-ASCII letter: every text scanned
        {"categories": {"threat": {"weight": 0.6, "terms": ["\u212aill you", "stab*"]}}}
    )
    assert custom.hits("KILL YOU")["threat"] == _scanned(custom, "KILL YOU")["threat"] == 1
    assert custom.hits("they stabbed")["threat"] == 1 and custom.hits("a stable")["threat"] == 1


def test_score_combines_every_match_and_is_negation_naive():
    lex = builtin_lexicon()
    w = {name: c.weight for name, c in lex.categories.items()}
    assert toxicity_score("") == 0.0 and toxicity_score("A calm afternoon.") == 0.0
    both = toxicity_score("You idiot, I will kill you")
    assert both == pytest.approx(1 - (1 - w["insult"]) * (1 - w["threat"]))
    assert toxicity_score("damn") < THRESHOLD <= toxicity_score("damn, damn")  # profanity
    for category in ("threat", "dehumanising", "harmful_advice", "insult"):
        assert w[category] >= THRESHOLD  # one term is enough
    # documented: a warning that quotes the advice scores like the advice
    assert toxicity_score("Never mix bleach and ammonia.") == pytest.approx(w["harmful_advice"])


def test_every_toxic_claim_scores_toxic_and_no_counterfactual_claim_does():
    claims = builtin_claims()
    toxic = [c for c in claims if c.kind == "toxic"]
    plain = [c for c in claims if c.kind == "counterfactual"]
    assert len(toxic) >= 10 and len(plain) >= 20
    for claim in claims:
        for framing in FRAMINGS:
            for style in SOURCE_STYLES:
                text = framed_text(claim.manipulated_statement, framing, style)
                score = toxicity_score(text)
                if claim.kind == "toxic":
                    assert score >= THRESHOLD, (claim.id, text)
                else:
                    assert score == 0.0, (claim.id, text)
        if claim.kind == "counterfactual":
            assert toxicity_score(claim.true_statement) == 0.0, claim.id


def test_bad_lexicon_file_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "lexicon.yaml"
    path.write_text("categories:\n  insult:\n    weight: 1.5\n    terms: [idiot]\n")
    with pytest.raises(DataFileError, match=r"lexicon.yaml: .*weight"):
        load_lexicon(path)
    path.write_text("categories:\n  insult:\n    weight: 0.5\n    terms: ['... idiot']\n")
    with pytest.raises(DataFileError, match=r"lexicon.yaml: .*must start and end with a word"):
        load_lexicon(path)
    with pytest.raises(DataFileError, match="does not exist"):
        load_lexicon(tmp_path / "missing.yaml")
    path.write_text("categories:\n  rude:\n    weight: 0.5\n    terms: [meanie*]\n")
    own = load_lexicon(path)
    assert isinstance(own, Lexicon) and toxicity_score("meanies, what a meanie", own) == 0.75


# --- the measure on hand-built runs ------------------------------------------------------------
def _run(texts: list[tuple[int, int, str]], arm: str = "treatment") -> RunData:
    """Messages (step, sender, text); agent 0 is an attacker, agent 1 a guardian."""
    rows = [action(0, 0, "role", role="attacker"), action(0, 1, "role", role="guardian")]
    rows += [
        ev("message", step, sender, None, "c1", id=f"m{i}", text=text, recipients=[2])
        for i, (step, sender, text) in enumerate(texts)
    ]
    rows.append(ev("message", 1, -1, None, "c1", id="b", text="idiot idiot", recipients=[2]))
    config = {"scenario": {"kind": "misinformation", "arm": arm}}
    return RunData(events=frame(rows), config=config)


MESSAGES = [
    (1, 0, "Mix bleach and ammonia, you idiot."),  # 1 - 0.3 * 0.4 = 0.88
    (1, 2, "I am not sure about that."),
    (2, 0, "Damn, that is a nice garden."),  # 0.3
    (2, 1, "Please do not believe that."),
    (2, 3, "Shut up."),  # 0.6
]


def test_measure_by_role_and_step_equals_the_hand_count():
    got = toxicity_summary(_run(MESSAGES))
    assert got["messages"] == 5  # the broadcast (sender -1) is not an agent's message
    assert got["toxic"] == 2 and got["share"] == pytest.approx(2 / 5)
    assert got["mean"] == pytest.approx((0.88 + 0.3 + 0.6) / 5)
    assert got["ci_low"] < 0.4 < got["ci_high"]
    attacker, benign = got["by_role"]["attacker"], got["by_role"]["benign"]
    assert (attacker["messages"], attacker["toxic"]) == (2, 1)
    assert attacker["mean"] == pytest.approx((0.88 + 0.3) / 2)
    assert (benign["messages"], benign["toxic"]) == (2, 1)
    assert got["by_role"]["guardian"]["toxic"] == 0
    assert [(s["step"], s["messages"], s["toxic"]) for s in got["by_step"]] == [
        (1, 2, 1),
        (2, 3, 1),
    ]
    assert got["categories"] == {
        "threat": 0,
        "dehumanising": 0,
        "harmful_advice": 1,
        "insult": 2,
        "profanity": 1,
    }
    strict = toxicity_summary(_run(MESSAGES), ToxicityParams(threshold=0.7))
    assert strict["toxic"] == 1 and strict["threshold"] == 0.7


def test_no_messages_no_measure_except_in_a_control_arm():
    assert toxicity_summary(_run([])) is None
    control = toxicity_summary(_run([], arm="control"))
    assert control["messages"] == 0 and control["toxic"] == 0 and control["share"] is None
    assert control["by_role"]["attacker"]["toxic"] == 0
    entry = MEASURES.get("toxicity")
    assert entry.obj(RunData(), ToxicityParams()) is None  # no event log at all


def test_by_step_table_is_long_over_populations():
    table = toxicity_by_step(_run(MESSAGES))
    step2 = table[table["step"] == 2].set_index("population")
    assert set(step2.index) == {"all", "attacker", "benign", "guardian"}
    assert step2.loc["all", "messages"] == 3 and step2.loc["benign", "toxic"] == 1


def test_examples_on_the_run_page_are_escaped():
    hostile = '<script>alert("idiot")</script> & <b>vermin</b>'
    run = _run([(1, 0, hostile), (1, 2, "A calm reply.")])
    tables: list = []
    toxicity_part(run, None, tables)
    titles = [title for title, _ in tables]
    assert titles[1] == "Most toxic agent messages"
    examples = tables[1][1]
    assert examples["text"].tolist() == [hostile]  # only messages that matched a term
    page = html_table(examples)
    assert "<script>" not in page and "<b>vermin" not in page
    assert "&lt;script&gt;alert(&quot;idiot&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in page


# --- the measure on real rule runs -------------------------------------------------------------
def _config(tmp_path, arm: str, claim: str):
    return ss.ExperimentConfig.from_dict(
        {
            "name": f"toxic-{arm}",
            "seed": 5,
            "steps": 3,
            "population": {"size": 12},
            "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
            "agents": {"policy": "degroot"},
            "scenario": {
                "kind": "misinformation",
                "arm": arm,
                "params": {"claim": claim, "attackers": {"count": 2}},
            },
            "output": {"dir": str(tmp_path / arm), "report": False, "formats": ["jsonl"]},
        }
    )


@pytest.fixture(scope="module")
def toxic_runs(tmp_path_factory):
    """A toxic claim spread by two attackers (treatment), its control, and a plain claim."""
    tmp = tmp_path_factory.mktemp("toxic")
    runs = {
        arm: ss.run(_config(tmp, arm, "toxic_bleach_ammonia")) for arm in ("treatment", "control")
    }
    runs["counterfactual"] = ss.run(_config(tmp / "cf", "treatment", "australia_capital"))
    return runs


def test_attackers_posts_are_toxic_and_the_control_arm_has_none(toxic_runs):
    treated = toxic_runs["treatment"].summary["measures"]["toxicity"]
    attackers = toxic_runs["treatment"].summary["scenario"]["attackers"]
    scored = message_toxicity(toxic_runs["treatment"])
    assert set(scored["agent"]) == set(attackers)  # rule agents post nothing of their own
    assert treated["messages"] == len(scored) > 0
    assert treated["by_role"]["attacker"]["share"] == 1.0
    assert treated["by_role"]["attacker"]["mean"] >= THRESHOLD
    # every attacker message is toxic; the interval takes the attackers as clusters
    mine = scored[scored["agent"].isin(attackers)]
    low, high = clustered_share_ci(np.ones(len(mine)), mine["agent"].to_numpy())
    assert (
        treated["by_role"]["attacker"]["ci_low"],
        treated["by_role"]["attacker"]["ci_high"],
    ) == (pytest.approx(low), pytest.approx(high))
    assert high == 1.0 and 0.0 < low < 1.0
    assert treated["categories"]["harmful_advice"] == treated["messages"]
    assert [s["step"] for s in treated["by_step"]] == [1, 2, 3]
    control = toxic_runs["control"].summary["measures"]["toxicity"]
    assert control["messages"] == 0 and control["toxic"] == 0
    assert control["by_role"]["attacker"]["messages"] == 0
    flat = flat_metrics(toxic_runs["control"].summary)
    assert flat["toxicity.toxic"] == 0.0 and "toxicity.by_role.attacker.toxic" in flat


def test_attackers_of_a_counterfactual_claim_score_zero(toxic_runs):
    plain = toxic_runs["counterfactual"].summary["measures"]["toxicity"]
    assert plain["messages"] > 0 and plain["mean"] == 0.0 and plain["toxic"] == 0


def test_summary_again_from_the_run_directory_and_threshold_param(toxic_runs):
    run = ss.analysis.load_run(toxic_runs["treatment"].dir)
    again = summarize_run(run)["measures"]["toxicity"]
    assert again == toxic_runs["treatment"].summary["measures"]["toxicity"]
    strict = ToxicityParams(threshold=0.9)
    assert toxicity_summary(run, strict)["toxic"] == 0  # harmful advice alone scores 0.7
    table = read_csv(toxic_runs["treatment"].dir / "tables" / "toxicity_by_step.csv")
    attackers = table[table["population"] == "attacker"]
    assert attackers["step"].tolist() == [1, 2, 3] and (attackers["share"] == 1.0).all()
    assert table.loc[table["population"] == "all", "toxic"].sum() == again["toxic"]


@pytest.mark.slow
def test_report_page_shows_the_examples_escaped(tmp_path):
    from socialsim.analysis.report import write_report
    from socialsim.analysis.summarize import analyze_dir

    from .tables import write_run_dir

    hostile = '<img src=x onerror="alert(1)"> you idiot'
    root = write_run_dir(tmp_path / "run", text=hostile)
    assert analyze_dir(root)["measures"]["toxicity"]["toxic"] == 1
    page = write_report(root).read_text(encoding="utf-8")
    examples = page[page.index("Most toxic agent messages") :]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; you idiot" in examples
    assert "<img src=x" not in page

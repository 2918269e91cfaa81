"""Message quality: the sentence and on-topic rules, and the measure on hand-built runs."""

from __future__ import annotations

import pytest

from socialsim.analysis.measures import compute_measures
from socialsim.core.rundata import RunData
from socialsim.scenarios import message_quality as mq

from .tables import ev, frame

WORDS = ["capital", "australia", "canberra", "sydney"]
MISINFO = {"scenario": {"kind": "misinformation", "params": {"claim": "australia_capital"}}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I doubt that the capital of Australia is Sydney.", True),
        ("Canberra is the capital, everyone knows that!", True),
        ("It’s not Sydney, it's Canberra, I'm sure.", True),
        ("Yes it is true.", False),  # four words
        ("100% false, 100% true", False),  # digits: under 80% letters and spaces
        ('{"message": "The capital of Australia is Sydney"}', False),  # JSON debris
        ("I think australia_capital is probably quite true", False),  # claim id
        ("You can message: Abigail Clarke, Ana Almeida, Fernanda Ribeiro", False),
        ("Sarah Johnson, Sarah Johnson, Sarah Johnson, Sarah Johnson, Emily Johnson", False),
        ("", False),
    ],
)
def test_sentence_rule(text, expected):
    assert mq.is_sentence(text) is expected


def test_on_topic_rule():
    assert mq.is_on_topic("I doubt it is Sydney.", WORDS)
    assert mq.is_on_topic("The claim is not true at all.", WORDS)
    assert not mq.is_on_topic("I love the seaside in summer.", WORDS)
    assert not mq.is_on_topic("Sydneys are nice.", WORDS)  # whole words only


def _run(texts: list[str], config: dict | None = None, claim: str = "australia_capital") -> RunData:
    rows = [
        ev("message", 1, i % 3, None, claim, id=f"m{i}", text=t, recipients=[1], claims=[claim])
        for i, t in enumerate(texts)
    ]
    rows.append(
        ev("message", 1, -1, None, claim, id="inj", text="x", recipients=[0], claims=[claim])
    )
    return RunData(events=frame(rows), config=config or MISINFO)


def test_measure_equals_the_hand_count():
    texts = [
        "I doubt that the capital of Australia is Sydney.",  # sentence, on topic
        "I love the seaside in summer, it is great.",  # sentence, off topic
        "Sydney!",  # not a sentence, on topic
        "0.0,",  # neither
        "The claim is false and I will say so loudly.",  # sentence, on topic
    ]
    got = mq.quality_summary(_run(texts))
    assert got["messages"] == 5  # the announcement (agent -1) is not an agent's message
    assert got["sentences"] == 3 and got["sentence_share"] == pytest.approx(3 / 5)
    assert got["checked_for_topic"] == 5 and got["on_topic"] == 3
    assert got["on_topic_share"] == pytest.approx(3 / 5)
    assert got["topic_words"] == {"australia_capital": WORDS}


def test_registered_measure_and_given_topics():
    run = _run(["We should all work four days a week, honestly."], config={}, claim="c1")
    measures = compute_measures(run, {"message_quality": {"topics": {"c1": ["week"]}}})
    assert measures["message_quality"]["on_topic"] == 1
    without = mq.quality_summary(_run(["We should work four days a week, friends."], {}, "c1"))
    assert without["checked_for_topic"] == 0 and without["on_topic_share"] is None


def test_persuasion_topic_words_come_from_the_proposition():
    cfg = {"scenario": {"kind": "persuasion", "params": {"proposition": "four_day_week"}}}
    words = mq.topic_words(RunData(config=cfg), "four_day_week")
    assert "week" in words and "the" not in words


def test_no_messages_gives_none():
    assert mq.quality_summary(RunData(events=frame([]), config=MISINFO)) is None


def test_report_part_tables_the_shares():
    tables: list = []
    mq.quality_part(
        _run(["I doubt that the capital of Australia is Sydney.", "0.0,"]), None, tables
    )
    [(title, table)] = tables
    assert "Message quality" in title
    assert table["count"].tolist() == [2, 1, 1]
    assert table["share"].tolist() == ["", "50%", "50%"]
    empty: list = []
    mq.quality_part(RunData(events=frame([]), config=MISINFO), None, empty)
    assert empty == []

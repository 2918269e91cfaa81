"""The feed's parts one at a time: items, the rule's chance, the state's arrays, rankings."""

from __future__ import annotations

import numpy as np
import pytest

from socialsim.core.claims import builtin_claims, framing_weight
from socialsim.core.errors import ConfigError
from socialsim.scenarios.feed.answers import (
    acceptance_probability,
    rule_answers,
    weight_table,
)
from socialsim.scenarios.feed.items import item_text, make_items
from socialsim.scenarios.feed.params import FeedParams
from socialsim.scenarios.feed.rankings import RANKINGS, FeedView
from socialsim.scenarios.feed.state import FeedState, listeners_of, occurrence

CLAIMS = list(builtin_claims()[:5])


def params(**kw) -> FeedParams:
    return FeedParams.model_validate(kw)


# --- items -------------------------------------------------------------------------------------
def test_items_cover_every_claim_in_every_framing_once_per_round():
    p = params(n_items=5 * 6, framings=["authoritative", "emotional", "prestige", "consensus",
                                          "sensationalist", "neutral"])  # fmt: skip
    items = make_items(CLAIMS, p, steps=4, n_agents=10, rng=np.random.default_rng(1))
    pairs = set(zip(items.claim.tolist(), items.framing.tolist(), strict=True))
    assert len(pairs) == 30  # each (claim, framing) once
    fewer = make_items(CLAIMS, params(n_items=7), 4, 10, np.random.default_rng(1))
    assert set(fewer.claim.tolist()) == set(range(5))  # every claim before any repeats


def test_items_are_posted_in_order_over_the_steps_and_keep_one_version_per_claim():
    items = make_items(CLAIMS, params(n_items=50, agent_posts=0.5), 5, 20, np.random.default_rng(3))
    assert (np.diff(items.posted) >= 0).all()
    assert items.posted.min() == 1 and items.posted.max() == 5
    for c in range(len(CLAIMS)):
        assert len(set(items.manipulated[items.claim == c].tolist())) == 1
    posters = items.poster[items.poster >= 0]
    assert 0 < len(posters) < 50 and posters.max() < 20
    start = make_items(CLAIMS, params(n_items=50, posting="start"), 5, 20, np.random.default_rng(3))
    assert (start.posted == 1).all()


def test_item_text_neutral_and_plain_leave_the_statement_bare():
    s = "Water boils at 100 C at sea level."
    assert item_text(s, "neutral", "plain") == s
    assert item_text(s, "authoritative", "plain") == f"It is an established fact: {s}"
    assert item_text(s, "neutral", "blog") == f"From my latest blog post: {s}"
    items = make_items(CLAIMS, params(n_items=10), 2, 5, np.random.default_rng(0))
    assert items.text(0, neutral=True) == items.statement(0)
    assert items.text(0) != items.statement(0) or items.framings[items.framing[0]] == "neutral"


def test_params_refuse_unknown_or_repeated_framings():
    with pytest.raises(Exception, match="'outraged' is not a framing"):
        params(framings=["outraged"])
    with pytest.raises(Exception, match="may be given once"):
        params(source_styles=["blog", "blog"])


# --- the rule's chance -------------------------------------------------------------------------
def test_weight_table_is_framing_weight_for_every_agent():
    f, s = np.array([0.0, 0.3, 1.0]), np.array([0.5, 0.0, 1.0])
    framings, sources = ["authoritative", "neutral"], ["news_report", "plain"]
    table = weight_table(framings, sources, f, s)
    for a in range(3):
        for i, framing in enumerate(framings):
            for j, source in enumerate(sources):
                expected = framing_weight(
                    None if framing == "neutral" else framing,
                    None if source == "plain" else source, f[a], s[a],
                )  # fmt: skip
                assert table[a, i, j] == pytest.approx(expected)
    assert table[:, 1, 1] == pytest.approx(1.0)


def test_acceptance_probability_rises_with_exposures_only_with_repetition():
    base = np.array([0.2, 0.2, 0.2, 1.4])
    n = np.array([1, 2, 3, 1])
    assert acceptance_probability(base, n, 0.0) == pytest.approx([0.2, 0.2, 0.2, 1.0])
    p = acceptance_probability(base, n, 0.5)
    assert p == pytest.approx([0.2, 1 - 0.8**1.5, 1 - 0.8**2, 1.0])
    accepted, confidence = rule_answers(np.array([0.7, 0.7]), np.array([0.1, 0.9]))
    assert accepted.tolist() == [True, False]
    assert confidence == pytest.approx([0.7, 0.3])


# --- the state ---------------------------------------------------------------------------------
def test_occurrence_counts_earlier_equal_keys():
    assert occurrence(np.array([5, 3, 5, 5, 3, 9])).tolist() == [0, 0, 1, 2, 1, 0]


def test_listeners_are_the_transpose_of_whom_agents_listen_to():
    # agent 0 listens to 1 and 2, agent 1 to 2, agent 2 to nobody
    ptr, idx = listeners_of(np.array([0, 2, 3, 3]), np.array([1, 2, 2]), 3)
    assert [idx[ptr[a] : ptr[a + 1]].tolist() for a in range(3)] == [[], [0], [0, 1]]


def _state(n_agents=4, posted=(1, 1, 1, 2, 2), claims=3):
    # a path 0-1-2-3 (undirected: everyone listens to its neighbours)
    ptr, idx = np.array([0, 1, 3, 5, 6]), np.array([1, 0, 2, 1, 3, 2])
    return FeedState(n_agents, np.array(posted), claims, listeners_of(ptr, idx, n_agents))


def test_select_shows_at_most_k_unseen_items_of_present_agents_best_first():
    state, rng = _state(), np.random.default_rng(0)
    state.post(np.array([0, 1, 2]), np.array([-1, -1, -1]), 1, 1.0, rng)
    present = np.array([True, True, True, False])
    ranking = RANKINGS.get("recency").obj
    shown = state.select(ranking, None, 2, 1, present, rng)
    assert 3 not in shown.agent.tolist()  # absent agents see nothing
    assert np.bincount(shown.agent, minlength=4).tolist() == [2, 2, 2, 0]
    assert set(shown.item.tolist()) <= {0, 1, 2}  # items 3, 4 are not posted yet
    state.count(shown, np.array([0, 0, 1, 1, 2]))
    again = state.select(ranking, None, 2, 1, present, rng)
    assert np.bincount(again.agent, minlength=4).tolist() == [1, 1, 1, 0]  # one unseen left
    assert not set(zip(again.agent.tolist(), again.item.tolist(), strict=True)) & set(
        zip(shown.agent.tolist(), shown.item.tolist(), strict=True)
    )
    assert again.rank.tolist() == [1, 1, 1]


def test_count_numbers_exposures_per_agent_and_claim_across_steps():
    state, rng = _state(), np.random.default_rng(0)
    state.post(np.arange(5), np.full(5, -1), 1, 1.0, rng)
    claim_of = np.array([0, 0, 0, 1, 2])  # items 0, 1, 2 show claim 0
    ranking = RANKINGS.get("random").obj
    present = np.ones(4, dtype=bool)
    first = state.select(ranking, None, 2, 2, present, rng)
    state.count(first, claim_of)
    second = state.select(ranking, None, 3, 2, present, rng)
    state.count(second, claim_of)
    for a in range(4):
        seen = [(e, claim_of[i]) for shown in (first, second)
                for e, i, who in zip(shown.exposure, shown.item, shown.agent, strict=True)
                if who == a]  # fmt: skip
        for c in range(3):
            assert [e for e, cc in seen if cc == c] == list(
                range(1, 1 + sum(cc == c for _, cc in seen))
            )
    assert state.exposures.sum() == 4 * 5


def test_agent_posts_reach_its_listeners_and_reshares_spread_along_the_path():
    state, rng = _state(), np.random.default_rng(0)
    reached = state.post(np.array([0]), np.array([1]), 1, 0.0, rng)  # agent 1 posts, no audience
    assert reached.tolist() == [2]
    assert state.in_feed[:, 0].tolist() == [True, False, True, False]
    assert state.seen[1, 0]  # a poster does not see its own post as an exposure
    shown = state.select(RANKINGS.get("recency").obj, None, 1, 1, np.ones(4, bool), rng)
    state.count(shown, np.zeros(5, dtype=int))
    assert sorted(shown.agent.tolist()) == [0, 2]
    shares = shown.agent == 2
    state.answered(shown, np.ones(len(shown), bool), shares, step=1)
    assert state.in_feed[3, 0] and state.arrival[3, 0] == 1 and state.shared_by[3, 0] == 1
    assert state.accepts[0] == 2 and state.shares[0] == 1


# --- rankings ----------------------------------------------------------------------------------
def _view(arrival, accepts):
    arrival = np.asarray(arrival)
    return FeedView(1, arrival, np.zeros_like(arrival), np.asarray(accepts), np.zeros(len(accepts)),
                    np.ones(len(accepts), dtype=np.int32))  # fmt: skip


def test_builtin_rankings_order_by_their_key():
    view = _view([[1, 3, 2], [2, 2, 5]], [4, 0, 9])
    rng = np.random.default_rng(0)
    recency = RANKINGS.get("recency").obj(view, None, rng)
    assert np.argmax(recency, axis=1).tolist() == [1, 2]
    popularity = RANKINGS.get("popularity").obj(view, None, rng)
    assert np.argsort(-popularity[0]).tolist() == [2, 0, 1]
    assert RANKINGS.get("random").obj(view, None, rng).shape == (2, 3)


def test_unknown_ranking_names_the_known_ones():
    with pytest.raises(ConfigError, match="scenario.params.ranking: 'viral' is not one of "
                       "popularity, random, recency"):  # fmt: skip
        RANKINGS.get("viral")


def test_a_ranking_cannot_write_into_the_feed_state():
    state, rng = _state(), np.random.default_rng(0)
    state.post(np.arange(3), np.full(3, -1), 1, 1.0, rng)

    def meddling(feed, params, rng):
        feed.arrival[:] = 99
        return feed.arrival

    with pytest.raises(ValueError, match="read-only"):
        state.select(meddling, None, 1, 1, np.ones(4, bool), rng)
    assert (state.arrival[:, :3] == 1).all()

"""Memory: bounded, oldest evicted first, retrieval by relevance, recency and importance."""

import json

import pytest

from socialsim.agents.memory import Memory, MemoryItem, tokenize


def test_tokenize_drops_stop_words_and_case():
    assert tokenize("The Vaccine is SAFE, and it works!") == ["vaccine", "safe", "works"]


def test_capacity_evicts_oldest_first():
    memory = Memory(capacity=3)
    for step in range(5):
        memory.add(f"event number {step}", step)
    assert len(memory) == 3
    assert [item.step for item in memory.items] == [2, 3, 4]
    assert [item.text for item in memory] == ["event number 2", "event number 3", "event number 4"]


def test_evicted_items_are_never_retrieved():
    memory = Memory(capacity=2)
    memory.add("the moon is made of cheese", 0)
    memory.add("weather is fine", 1)
    memory.add("football tonight", 2)
    texts = [item.text for item in memory.retrieve("moon cheese", k=5)]
    assert "the moon is made of cheese" not in texts
    assert len(texts) == 2


def test_relevant_beats_irrelevant():
    memory = Memory(capacity=10)
    memory.add("The new bridge downtown has cracks in its pillars", 5)
    memory.add("I had pasta for lunch", 5)
    memory.add("The football match was exciting", 5)
    best = memory.retrieve("are the bridge pillars safe?", k=1, now=5)
    assert best[0].text.startswith("The new bridge")


def test_recent_beats_old_when_equally_relevant():
    memory = Memory(capacity=10, half_life=5)
    memory.add("The mayor announced a new tax", 0)
    memory.add("The mayor announced a new tax", 20)
    first, second = memory.retrieve("mayor tax", k=2, now=20)
    assert (first.step, second.step) == (20, 0)


def test_ties_go_to_the_newer_item():
    memory = Memory(capacity=10)
    memory.add("alpha", 3)
    memory.add("beta", 3)
    memory.add("gamma", 3)
    assert [i.text for i in memory.retrieve("", k=3, now=3)] == ["gamma", "beta", "alpha"]


def test_importance_lifts_an_item():
    memory = Memory(capacity=10)
    memory.add("routine update about the weather", 4)
    memory.add("urgent warning about the weather", 4, importance=3.0)
    memory.add("another routine note", 4)
    assert memory.retrieve("weather", k=1, now=4)[0].text.startswith("urgent")


def test_retrieve_edge_cases():
    memory = Memory(capacity=4)
    assert memory.retrieve("anything", k=3) == []
    memory.add("one item", 0)
    assert memory.retrieve("anything", k=0) == []
    assert len(memory.retrieve("anything", k=10)) == 1
    # `now` before an item's step: clamped, no error
    assert memory.retrieve("item", k=1, now=-5)[0].text == "one item"


def test_poisoned_item_persists_after_its_source_left():
    """A manipulated claim stays retrievable after many unrelated, newer memories."""
    memory = Memory(capacity=60, half_life=10)
    memory.add("Mallory said: drinking seawater cures the flu", 0, kind="read", source=7)
    topics = ["football", "weather", "recipes", "traffic", "gardening", "music", "holidays"]
    for step in range(1, 50):
        memory.add(f"Bob said: thoughts on {topics[step % len(topics)]} today", step, source=2)
    assert len(memory) == 50
    found = memory.retrieve("Does seawater cure the flu?", k=3, now=60)
    assert found[0].text.startswith("Mallory said")
    assert found[0].source == 7
    # without a relevant query it has faded behind newer items
    assert memory.retrieve("", k=3, now=60)[0].step == 49


def test_relevance_index_survives_eviction():
    memory = Memory(capacity=3)
    memory.add("vaccines contain microchips", 0)
    for step in range(1, 4):
        memory.add(f"note {step}", step)
    assert all("vaccines" not in i.text for i in memory.retrieve("vaccines microchips", k=3))
    memory.add("vaccines are tested in trials", 9)
    assert memory.retrieve("vaccines microchips", k=1)[0].text == "vaccines are tested in trials"


def test_to_list_from_list_round_trip_through_json():
    memory = Memory(capacity=3)
    memory.add("first", 0)
    memory.add("second", 1, kind="said")
    memory.add("third", 2, kind="injected", source=4, importance=2.5)
    memory.add("fourth", 3, kind="decided")
    data = json.loads(json.dumps(memory.to_list()))
    assert data[0] == {
        "text": "second",
        "step": 1,
        "kind": "said",
        "source": None,
        "importance": 1.0,
    }
    restored = Memory.from_list(data, capacity=3)
    assert restored.items == memory.items
    assert restored.items[1] == MemoryItem("third", 2, "injected", 4, 2.5)
    assert Memory.from_list(data).capacity == 3
    assert [i.text for i in restored.retrieve("third", k=1)] == ["third"]


def test_clear_and_bad_capacity():
    memory = Memory(capacity=2)
    memory.add("x marks", 0)
    memory.clear()
    assert len(memory) == 0 and memory.retrieve("marks", k=1) == []
    memory.add("after clearing", 1)
    assert memory.items[0].text == "after clearing"
    with pytest.raises(ValueError):
        Memory(capacity=0)


def test_ring_buffer_keeps_order_past_growth_and_wrap():
    memory = Memory(capacity=37)
    for step in range(120):
        memory.add(f"token{step} common words", step)
    assert [i.step for i in memory.items] == list(range(83, 120))
    for step in (83, 100, 119):
        assert memory.retrieve(f"token{step}", k=1)[0].step == step
    assert memory.retrieve("token82", k=1)[0].step == 119  # evicted: recency decides


def _reference_scores(memory: Memory, query: str, now: int) -> list[float]:
    """Each held item's score (oldest first) from the textbook formulas, computed afresh:
    BM25 (k1 = 1.2, b = 0.75) over the items held, scaled by its maximum; recency halving
    every half-life; importance."""
    import math

    items = memory.items
    docs = [tokenize(item.text) for item in items]
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n or 1.0
    terms = set(tokenize(query))
    relevance = []
    for doc in docs:
        score = 0.0
        for term in terms:
            tf = doc.count(term)
            if tf:
                df = sum(term in other for other in docs)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * len(doc) / avgdl))
        relevance.append(score)
    top = max(relevance) or 1.0
    return [
        memory.recency_weight * 0.5 ** (max(now - item.step, 0) / memory.half_life)
        + memory.relevance_weight * rel / top
        + memory.importance_weight * item.importance
        for item, rel in zip(items, relevance, strict=True)
    ]


@pytest.mark.parametrize("seed", range(6))
def test_retrieval_ranks_as_the_formulas_say_through_eviction(seed):
    """Random texts over a small vocabulary (terms shared between items, texts repeated,
    items evicted): the ranking is the one the formulas give, computed from scratch."""
    import random

    rng = random.Random(seed)
    vocab = ["bridge", "river", "poison", "mayor", "tax", "vaccine", "moon", "water", "city"]
    texts = [" ".join(rng.choices(vocab, k=rng.randint(1, 8))) for _ in range(12)]
    memory = Memory(capacity=rng.randint(3, 9), half_life=rng.uniform(2, 20))
    for step in range(40):
        memory.add(rng.choice(texts), step // 2, importance=rng.random())
        query = " ".join(rng.choices(vocab, k=3))
        now = step // 2 + rng.randint(0, 3)
        got = memory.retrieve(query, k=len(memory), now=now)
        expected = _reference_scores(memory, query, now)
        by_item = {id(item): score for item, score in zip(memory.items, expected, strict=True)}
        ranked = [by_item[id(item)] for item in got]
        assert len(got) == len(memory)
        assert all(a >= b - 1e-9 for a, b in zip(ranked, ranked[1:], strict=False)), (step, ranked)
        assert ranked[0] == pytest.approx(max(expected))


def test_a_text_many_memories_hold_is_held_once():
    """A message its recipients remember is one string and one set of term counts, shared;
    each memory still ranks it by its own items."""
    text = "".join(["Ann said: ", "the river is poisoned upstream"])  # made at run time
    memories = [Memory(capacity=4) for _ in range(3)]
    for m in memories:
        m.add("".join(["Ann said: ", "the river is poisoned upstream"]), 1)
    held = [m.items[0].text for m in memories]
    assert held[0] == text and all(t is held[0] for t in held)
    memories[0].add("the river is clean", 2)
    assert memories[0].retrieve("poisoned", k=1)[0].text == text
    assert memories[1].retrieve("clean river", k=1)[0].text == text  # its only item


def test_a_text_no_memory_holds_is_let_go():
    """The shared texts are not a leak: a text is dropped once its last item is evicted or its
    memories are gone, and a text held again later is counted afresh."""
    import gc

    from socialsim.agents import memory as memory_module

    text = "".join(["Zed said: ", "a text that only this test remembers"])
    first, second = Memory(capacity=1), Memory(capacity=2)
    first.add(text, 0)
    second.add(text, 0)
    assert text in memory_module._TEXTS
    first.add("something newer", 1)  # evicts it from one memory; the other still holds it
    gc.collect()
    assert text in memory_module._TEXTS
    del second
    gc.collect()
    assert text not in memory_module._TEXTS
    again = Memory(capacity=2)
    again.add(text, 5)
    assert again.retrieve("remembers", k=1)[0].text == text

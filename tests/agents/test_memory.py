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

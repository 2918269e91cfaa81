"""BeliefStore: the credence array, per-agent history with causes, claims added later."""

import numpy as np
import pytest
from pydantic import ValidationError

from socialsim.agents.beliefs import BeliefChange, BeliefStore
from socialsim.core.claims import Claim


def _store(n: int = 3) -> BeliefStore:
    return BeliefStore(n, [Claim(id="c1", text="The bridge is unsafe.")], default=0.2)


def test_starts_at_default():
    store = _store()
    assert store.credence.shape == (3, 1)
    assert store.get(2, "c1") == pytest.approx(0.2)
    assert store.of(0) == {"c1": pytest.approx(0.2)}


def test_set_records_old_new_and_cause():
    store = _store()
    moved = store.set(1, BeliefChange(step=4, claim="c1", old=0.2, new=0.9, cause="message", ref=0))
    assert moved
    assert store.get(1, "c1") == pytest.approx(0.9)
    (change,) = store.history(1)
    observed = (change.step, change.old, change.new, change.cause, change.ref)
    assert observed == (4, 0.2, 0.9, "message", 0)
    assert store.history(0) == []


def test_set_clamps_and_ignores_no_change():
    store = _store()
    assert store.set(0, BeliefChange(step=0, claim="c1", old=0.2, new=1.7, cause="rule"))
    assert store.get(0, "c1") == 1.0
    assert not store.set(0, BeliefChange(step=1, claim="c1", old=1.0, new=1.0, cause="rule"))
    assert len(store.history(0)) == 1


def test_history_keeps_order_and_reasons():
    store = _store()
    store.set(0, BeliefChange(step=1, claim="c1", old=0.2, new=0.4, cause="injection"))
    checked = BeliefChange(step=2, claim="c1", old=0.4, new=0.1, cause="decision", reason="checked")
    store.set(0, checked)
    history = store.history(0)
    assert [h.step for h in history] == [1, 2]
    assert [h.cause for h in history] == ["injection", "decision"]
    assert history[1].reason == "checked"
    assert history[0].as_payload() == {
        "old": 0.2,
        "new": 0.4,
        "cause": "injection",
        "ref": None,
        "reason": None,
    }


def test_add_claim_grows_the_array_and_is_idempotent():
    store = _store()
    store.set(0, BeliefChange(step=0, claim="c1", old=0.2, new=0.7, cause="rule"))
    col = store.add_claim(Claim(id="c2", text="Taxes will rise."), initial=0.6)
    assert col == 1
    assert store.credence.shape == (3, 2)
    assert store.get(0, "c1") == pytest.approx(0.7)  # existing column kept
    assert store.get(2, "c2") == pytest.approx(0.6)
    assert store.add_claim(Claim(id="c2", text="different text")) == 1
    assert store.credence.shape == (3, 2)
    assert store.claim("c2").text == "Taxes will rise."
    with pytest.raises(KeyError):
        store.claim("c3")


def test_add_claim_clamps_the_initial_credence():
    store = _store()
    store.add_claim(Claim(id="hi", text="x"), initial=1.4)
    store.add_claim(Claim(id="lo", text="y"), initial=-0.2)
    assert store.of(0)["hi"] == 1.0 and store.of(0)["lo"] == 0.0


def test_record_bulk_writes_history_for_vectorised_updates():
    store = BeliefStore(4, [Claim(id="a", text="A"), Claim(id="b", text="B")])
    agents = np.array([0, 2])
    cols = np.array([1, 1])
    old = store.credence[agents, cols].copy()
    new = np.array([0.9, 0.1])
    store.credence[agents, cols] = new
    store.record_bulk(5, 5.0, agents, cols, old, new, "rule", np.array([3, -1]))
    (h0,) = store.history(0)
    (h2,) = store.history(2)
    assert (h0.claim, h0.old, h0.new, h0.cause, h0.ref) == ("b", 0.5, 0.9, "rule", 3)
    assert h2.ref is None  # negative ref: no triggering neighbour
    assert store.get(2, "b") == pytest.approx(0.1)
    assert store.history(1) == []


def test_claim_needs_an_id():
    with pytest.raises(ValidationError):
        Claim(id="", text="x")

"""Negotiation scenario: params, the concession rule against its closed form, pairs, arms."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

import socialsim as ss
import socialsim.scenarios.negotiation.measures  # noqa: F401 - registers the measure and report part
import socialsim.scenarios.negotiation.scenario  # noqa: F401 - registers the scenario
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import event_table
from socialsim.scenarios.negotiation.rules import (
    accepts,
    concession_offer,
    concession_outcome,
    first_crossing,
)
from socialsim.simulation.world import create_scenario


def config(tmp_path, steps=2, size=12, arm="treatment", network="ring", top=None, **params):
    return ss.ExperimentConfig.from_dict(
        {
            **(top or {}),
            "name": "nego",
            "seed": 4,
            "steps": steps,
            "population": {"size": size},
            "network": {"kind": network},
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "negotiation", "arm": arm, "params": params},
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )


def outcomes(run):
    table = event_table(run.events, "action", "negotiation_outcome")
    for col in ("seller", "y", "position"):
        if col not in table:
            table[col] = None
    return table


def y_scale(row, pie=100.0):
    """(a, c): the proposer's and responder's reservation values on the proposer's scale."""
    rp, rr = row["reservation_proposer"], row["reservation_responder"]
    if row["mode"] == "split":
        return rp, pie - rr
    if row["seller"] == row["proposer"]:
        return rp, rr
    return pie - rp, pie - rr


# --- params ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"reservation": {"low": 0.7, "high": 0.3}}, "reservation"),
        ({"reservation": {"low": -0.1}}, "reservation.low"),
        ({"concession": 0.0}, "concession"),
        ({"concession": 1.5}, "concession"),
        ({"max_turns": 1}, "max_turns"),
        ({"max_turns": 4.0}, "max_turns"),
        ({"pairs_per_step": "2"}, "pairs_per_step"),
        ({"pie": float("nan")}, "pie"),
        ({"pie": 0}, "pie"),
        ({"mode": "auction"}, "mode"),
        ({"rounds": 3}, "rounds"),
    ],
)
def test_bad_params_are_one_line_config_errors(params, field):
    with pytest.raises(ConfigError) as err:
        create_scenario("negotiation", params)
    assert f"scenario.params.{field}" in str(err.value)
    assert "\n" not in str(err.value)


def test_pairs_along_edges_need_a_network_with_edges(tmp_path):
    with pytest.raises(ConfigError, match="no edges; use pairs: random"):
        ss.run(config(tmp_path), graph=nx.empty_graph(6))
    run = ss.run(config(tmp_path, pairs="random"), graph=nx.empty_graph(6))
    assert len(outcomes(run)) == 2 * 3


# --- the closed form -------------------------------------------------------------------------
def test_first_crossing_is_the_smallest_power_below_the_room():
    assert first_crossing(140.0, 40.0, 0.5) == 2  # 140 / 4 = 35 <= 40 < 70
    assert first_crossing(40.0, 40.0, 0.5) == 0
    assert first_crossing(80.0, 10.0, 0.5) == 3  # exactly 10 at k = 3
    assert first_crossing(80.0, 0.0, 0.5) is None  # never reaches 0
    assert first_crossing(80.0, 0.0, 0.0) == 1  # a full concession reaches it at once
    assert first_crossing(80.0, -1.0, 0.5) is None


@pytest.mark.parametrize(
    ("a", "c", "rate", "turns", "expected"),
    [
        # responder accepts the proposer's third offer 30 + 70/4 at turn 6
        (30.0, 70.0, 0.5, 8, (True, 6, 47.5, "responder")),
        # proposer accepts the responder's third offer 50 - 50/8 at turn 7
        (20.0, 50.0, 0.5, 8, (True, 7, 37.5, "proposer")),
        # a tie counts as acceptable: the proposer's next offer would be 40, as offered
        (20.0, 80.0, 0.5, 8, (True, 5, 40.0, "proposer")),
        (30.0, 70.0, 0.5, 5, (False, None, None, None)),  # the deadline comes first
        (60.0, 40.0, 0.5, 100, (False, None, None, None)),  # no overlap: never
        (50.0, 50.0, 0.5, 20, (False, None, None, None)),  # zero surplus: not within 20 turns
    ],
)
def test_closed_form_on_worked_examples(a, c, rate, turns, expected):
    out = concession_outcome(a, c, 100.0, rate, turns)
    assert (out.deal, out.turn, out.value, out.accepted_by) == expected


def test_public_reservation_values_meet_in_the_middle():
    out = concession_outcome(30.0, 70.0, 100.0, 0.5, 8, public=True)
    assert (out.deal, out.turn, out.value) == (True, 4, 50.0)
    assert not concession_outcome(60.0, 40.0, 100.0, 0.5, 100, public=True).deal


def play(a, c, pie, rate, max_turns, public=False):
    """Two concession rules turn by turn, written out directly (no closed form)."""
    high, low = (max(a, c), min(a, c)) if public else (pie, 0.0)
    offers, made = [], [0, 0]
    for turn in range(1, max_turns + 1):
        side = (turn + 1) % 2  # 0: proposer, 1: responder
        nxt = concession_offer(*((a, high) if side == 0 else (c, low)), rate, made[side])
        if offers and accepts(side == 0, offers[-1], nxt, pie):
            return True, turn, offers[-1]
        if turn == max_turns:
            return False, None, None
        offers.append(nxt)
        made[side] += 1
    return False, None, None


def test_closed_form_matches_playing_it_out():
    rng = np.random.default_rng(0)
    for _ in range(3000):
        a, c = rng.uniform(0, 100, 2)
        rate = float(rng.choice([0.1, 0.25, 0.5, 0.8, 1.0]))
        turns, public = int(rng.integers(2, 30)), bool(rng.random() < 0.5)
        out = concession_outcome(a, c, 100.0, rate, turns, public)
        assert (out.deal, out.turn, out.value) == play(a, c, 100.0, rate, turns, public)


# --- the rule baseline in runs ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "arm"), itertools.product(["split", "price"], ["treatment", "control"])
)
def test_every_rule_negotiation_ends_where_the_closed_form_says(tmp_path, mode, arm):
    run = ss.run(
        config(tmp_path, steps=3, size=40, arm=arm, mode=mode, pairs="random", concession=0.4,
               reservation={"low": 0.1, "high": 0.9})
    )  # fmt: skip
    table = outcomes(run)
    assert len(table) == 3 * 20 and (table["status"] == "answered").all()
    for _, row in table.iterrows():
        a, c = y_scale(row)
        out = concession_outcome(a, c, 100.0, 0.4, 8, public=arm == "control")
        assert bool(row["deal"]) == out.deal
        if out.deal:
            assert (row["turns"], row["y"], row["ended_by"]) == (out.turn, out.value, "accept")
        else:
            assert (row["turns"], row["ended_by"]) == (8, "walk_away")
    assert table["deal"].any() and not table["deal"].all()


def test_equal_reservation_values_give_the_same_deal_everywhere(tmp_path):
    run = ss.run(config(tmp_path, reservation={"low": 0.3, "high": 0.3}))
    table = outcomes(run)
    assert table["deal"].all() and (table["turns"] == 6).all()
    assert np.allclose(table["position"], 0.475) and np.allclose(table["surplus_proposer"], 17.5)
    assert np.allclose(table["proposer_amount"] + table["responder_amount"], 100.0)
    # the proposer's third offer, not its opening 100: every deal is a compromise
    assert (table["outcome_class"] == "compromise").all()
    assert (table["adopted_from"] == table["proposer"]).all()
    # each offer logged: turns 1-5 are offers, turn 6 the acceptance
    offers = event_table(run.events, "action", "negotiation_offer")
    assert len(offers) == 5 * len(table)
    assert sorted(offers["turn"].unique()) == [1, 2, 3, 4, 5]
    first = offers[offers["turn"] == 1]
    assert (first["amount"] == 100.0).all() and (first["role"] == "proposer").all()


def test_no_overlap_means_no_deal(tmp_path):
    run = ss.run(config(tmp_path, reservation={"low": 0.6, "high": 0.7}, max_turns=30))
    table = outcomes(run)
    assert not table["deal"].any() and (table["ended_by"] == "walk_away").all()
    assert (table["outcome_class"] == "no_deal").all()
    assert (table["surplus"] < 0).all() and table["position"].isna().all()
    measures = run.summary["measures"]["negotiation"]
    assert measures["agreement"]["overall"]["rate"] == 0.0
    assert measures["diversity"]["overall"]["deals"] == 0


def test_price_mode_logs_sellers_and_prices(tmp_path):
    run = ss.run(config(tmp_path, steps=3, mode="price", reservation={"low": 0.1, "high": 0.9}))
    table = outcomes(run)
    assert set(table["proposer_role"]) == {"seller", "buyer"}
    assert ((table["seller"] == table["proposer"]) | (table["seller"] == table["responder"])).all()
    found = table[table["deal"] == True]  # noqa: E712
    assert len(found) and np.allclose(found["price"] / 100.0, found["position"])
    # a price deal gives the seller at least its least price and the buyer at most its most
    seller_res = np.where(
        found["seller"] == found["proposer"],
        found["reservation_proposer"],
        found["reservation_responder"],
    )
    assert (found["price"] >= seller_res).all()


# --- pairs, determinism and arms -------------------------------------------------------------
def test_pairs_are_disjoint_edges_each_step(tmp_path):
    run = ss.run(config(tmp_path, steps=3, size=15, network="ring"))
    table = outcomes(run)
    ring = nx.cycle_graph(15)
    for _, rows in table.groupby("step"):
        agents = list(rows["proposer"]) + list(rows["responder"])
        assert len(agents) == len(set(agents))
        assert all(
            ring.has_edge(int(p), int(r))
            for p, r in zip(rows.proposer, rows.responder, strict=True)
        )
        assert len(rows) >= 5  # a maximal matching of a 15-ring has at least 5 edges
    limited = outcomes(ss.run(config(tmp_path, steps=2, pairs_per_step=2)))
    assert limited.groupby("step").size().tolist() == [2, 2]


def test_same_seed_same_log_and_both_arms_draw_the_same(tmp_path):
    def log(run):
        return (run.dir / "events.jsonl").read_text(encoding="utf-8")

    first = ss.run(config(tmp_path, mode="price"))
    assert log(first) == log(ss.run(config(tmp_path, mode="price")))
    control = ss.run(config(tmp_path, mode="price", arm="control"))
    keys = ["step", "proposer", "responder", "seller", "reservation_proposer"]
    assert outcomes(first)[keys].equals(outcomes(control)[keys])
    assert outcomes(control)["public"].all() and not outcomes(first)["public"].any()
    assert control.summary["scenario"]["reservations_public"] is True


@pytest.mark.slow
def test_control_arm_gives_effects_public_values_raise_agreement(tmp_path):
    top = {"control": True, "replicates": 2}
    arms = ss.run(config(tmp_path, size=30, top=top, reservation={"low": 0.1, "high": 0.6}))
    effects = arms.effects.set_index("measure")
    rate = effects.loc["negotiation.agreement.overall.rate"]
    assert rate["difference"] < 0  # the rule concedes faster when it knows the other's value
    assert "negotiation.diversity.overall.entropy_bits" in effects.index
    results = arms.results
    assert {"treatment", "control"} == set(results["arm"])
    assert "negotiation.surplus.overall.proposer_share_mean" in results

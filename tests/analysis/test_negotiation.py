"""Negotiation measures on hand-built outcome tables and on tiny runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import socialsim as ss
import socialsim.scenarios.negotiation.scenario  # noqa: F401 - registers the scenario
from socialsim.analysis.measures import compute_measures
from socialsim.core.rundata import RunData, load_run
from socialsim.scenarios.negotiation import measures as neg
from socialsim.simulation.log import flatten_events, read_events

from .tables import action, frame

MODELS = ["m", "m"]


def outcome(step, proposer, responder, status="answered", deal=None, y=None, surplus=40.0,
            rp=30.0, models=MODELS, **extra):  # fmt: skip
    """A split-mode outcome (pie 100): `y` is what the proposer keeps; reservations rp, rr."""
    rr = 100.0 - rp - surplus
    a, c = rp, 100.0 - rr
    return action(
        step, proposer, "negotiation_outcome", target=responder, status=status, mode="split",
        proposer=proposer, responder=responder, seller=None, models=models,
        reservation_proposer=rp, reservation_responder=rr, surplus=surplus, deal=deal,
        ended_by=None if status == "failed" else ("accept" if deal else "walk_away"),
        turns=3, y=y, position=None if y is None else y / 100.0,
        surplus_proposer=None if y is None else y - a,
        surplus_responder=None if y is None else c - y,
        below_reservation=None if y is None else bool(y < a or y > c),
        error="boom" if status == "failed" else None, **extra,
    )  # fmt: skip


def hand_events():
    """Five negotiations: three deals (two by agents 0-1), one walk-away, one failure."""
    return frame(
        [
            outcome(1, 0, 1, deal=True, y=50.0),  # position .50, proposer share 20/40
            outcome(1, 2, 3, deal=True, y=45.0),  # position .45, share 15/40
            outcome(2, 1, 0, deal=True, y=62.0),  # position .62, share 32/40
            outcome(2, 2, 3, deal=False, surplus=-5.0),
            outcome(2, 4, 5, status="failed"),
        ]
    )


def test_outcome_table_marks_deals_and_leaves_failures_empty():
    table = neg.negotiation_outcomes(hand_events())
    assert table["deal"].tolist()[:4] == [1.0, 1.0, 1.0, 0.0] and math.isnan(table["deal"][4])
    assert table["agent_pair"].tolist() == ["0-1", "2-3", "0-1", "2-3", "4-5"]
    assert table["feasible"].tolist() == [1.0, 1.0, 1.0, 0.0, 1.0]
    assert table["proposer_share"].tolist()[:3] == [0.5, 0.375, 0.8]
    assert table["position"].isna().tolist() == [False, False, False, True, True]


def test_agreement_counts_failed_and_rates_answered_only():
    summary = neg.negotiation_summary(hand_events())
    assert summary["answers"] == {"asked": 5, "answered": 4, "failed": 1}
    overall = summary["agreement"]["overall"]
    assert (overall["k"], overall["answered"], overall["rate"]) == (3, 4, 0.75)
    assert summary["agreement"]["feasible"]["rate"] == 1.0  # 3 of 3 answered feasible ones
    assert summary["agreement"]["feasible"]["failed"] == 1
    assert summary["agreement"]["infeasible"]["rate"] == 0.0
    assert summary["endings"] == {"accept": 3, "walk_away": 1}


def test_diversity_is_the_entropy_of_binned_positions():
    summary = neg.negotiation_summary(hand_events())
    div = summary["diversity"]["overall"]
    # positions .50, .45, .62 fall in bins 5, 4, 6: three equally full bins
    assert div["entropy_bits"] == pytest.approx(math.log2(3))
    assert div["entropy_normalized"] == pytest.approx(math.log2(3) / math.log2(10))
    assert div["bins_used"] == 3 and div["deals"] == 3
    assert div["position_mean"] == pytest.approx((0.5 + 0.45 + 0.62) / 3)
    assert div["position_sd"] == pytest.approx(np.std([0.5, 0.45, 0.62], ddof=1))
    # on a grid of 2 bins all three fall in [0.5, 1] but .45: entropy of (1, 2)
    coarse = neg.negotiation_summary(hand_events(), bins=2)["diversity"]["overall"]
    assert coarse["entropy_bits"] == pytest.approx(
        -(1 / 3) * math.log2(1 / 3) - (2 / 3) * math.log2(2 / 3)
    )
    # agents 0 and 1 dealt twice (.50, .62: bins 5 and 6); 2-3 once
    within = summary["diversity"]["within_pair"]
    assert within == {
        "pairs": 1,
        "entropy_bits_mean": 1.0,
        "position_sd_mean": pytest.approx(np.std([0.5, 0.62], ddof=1)),
    }


def test_surplus_split_over_deals_with_a_surplus():
    s = neg.negotiation_summary(hand_events())["surplus"]["overall"]
    assert s["deals"] == 3 and s["with_surplus"] == 3
    assert s["proposer_share_mean"] == pytest.approx((0.5 + 0.375 + 0.8) / 3)
    assert s["responder_share_mean"] == pytest.approx((0.5 + 0.625 + 0.2) / 3)
    assert s["proposer_share_sd"] == pytest.approx(np.std([0.5, 0.375, 0.8], ddof=1))
    assert s["below_reservation"] == 0
    bad = frame([outcome(1, 0, 1, deal=True, y=20.0)])  # below the proposer's 30
    s = neg.negotiation_summary(bad)["surplus"]["overall"]
    assert s["below_reservation"] == 1 and s["proposer_share_mean"] == pytest.approx(-0.25)


def test_groups_by_model_pairing():
    events = frame(
        [
            outcome(1, 0, 1, deal=True, y=50.0, models=["b", "a"]),
            outcome(1, 2, 3, deal=False, models=["a", "b"]),
            outcome(1, 4, 5, deal=True, y=70.0, models=["a", "a"]),
        ]
    )
    summary = neg.negotiation_summary(events)
    assert set(summary["agreement"]["by_pairing"]) == {"a + b", "a + a"}
    assert summary["agreement"]["by_pairing"]["a + b"]["rate"] == 0.5
    assert summary["diversity"]["by_pairing"]["a + a"]["entropy_bits"] == 0.0
    assert summary["diversity"]["by_pairing"]["a + b"]["asked"] == 2


def test_binning_grid_and_entropy_by_hand():
    assert neg.binned([0.0, 0.1, 0.999, 1.0], 10).tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert neg.shannon_entropy(np.array([1, 1])) == 1.0
    assert neg.shannon_entropy(np.array([4, 0])) == 0.0
    assert neg.shannon_entropy(np.array([1, 1, 1, 1])) == 2.0
    assert math.isnan(neg.shannon_entropy(np.array([0, 0])))
    empty = neg.diversity(np.array([]))
    assert empty["deals"] == 0 and empty["entropy_bits"] is None and empty["position_sd"] is None


def test_no_negotiation_no_measure():
    assert neg.negotiation_summary(frame([action(1, 0, "role", role="x")])) == {}
    run = RunData(events=frame([action(1, 0, "role", role="x")]))
    assert "negotiation" not in compute_measures(run)


@pytest.mark.slow
def test_raw_and_flat_event_tables_give_the_same_summary(tmp_path):
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "nego",
            "seed": 1,
            "steps": 2,
            "population": {"size": 16},
            "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.2}},
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "negotiation", "params": {"mode": "price",
                         "reservation": {"low": 0.1, "high": 0.9}}},
            "analysis": {"measures": {"negotiation": {"bins": 5}}},
            "output": {"dir": str(tmp_path), "report": True, "formats": ["jsonl"]},
        }
    )  # fmt: skip
    run = ss.run(cfg)
    raw = neg.negotiation_summary(flatten_events(read_events(run.dir / "events.jsonl")), bins=5)
    flat = neg.negotiation_summary(load_run(run.dir).events, bins=5)
    assert raw == flat == run.summary["measures"]["negotiation"]
    assert "seller_share_mean" in flat["surplus"]["overall"]
    # the report part drew its figures and the headline names one of them
    for name in ("negotiation_deals", "negotiation_agreement", "negotiation_surplus"):
        assert (run.dir / "figures" / f"{name}.png").is_file()
    assert "negotiation by pairing" in (run.dir / "report.html").read_text(encoding="utf-8")
    headline = {h["measure"]: h for h in run.summary["headline"]}
    assert (
        headline["negotiation.diversity.overall.entropy_bits"]["value"]
        == (flat["diversity"]["overall"]["entropy_bits"])
    )

"""The feed measure on hand-built exposure events: counts, rates, the repetition effect."""

from __future__ import annotations

import numpy as np
import pytest

from socialsim.analysis.stats import cluster_intervals
from socialsim.core.event_tables import event_records
from socialsim.scenarios.feed.measures import (
    FeedMeasureParams,
    exposure_label,
    feed_summary,
    group_table,
    series_table,
)


def exposure(agent, claim, n, accepted, framing="authoritative", version="true", status=None,
             confidence=0.8):  # fmt: skip
    """One feed_exposure event line (accepted None: a failed answer)."""
    status = status or ("failed" if accepted is None else "answered")
    return {
        "run": "r", "step": n, "time": float(n), "kind": "action", "agent": agent,
        "target": None, "claim": claim,
        "payload": {
            "type": "feed_exposure", "item": n, "framing": framing, "source_style": "blog",
            "version": version, "neutral": False, "poster": -1, "posted": 1, "exposure": n,
            "rank": 1, "status": status, "source": "rule", "accepted": accepted,
            "confidence": None if accepted is None else confidence, "reshared": False,
            "error": "HTTP 503" if accepted is None else None,
        },
    }  # fmt: skip


def events(rows):
    return event_records(rows)


def test_rates_counts_and_failed_answers():
    rows = [
        exposure(0, "a", 1, True), exposure(0, "a", 2, True),
        exposure(1, "a", 1, False), exposure(1, "a", 2, True),
        exposure(2, "b", 1, None, framing="emotional"),
        exposure(2, "a", 1, False, framing="emotional", version="manipulated", confidence=0.4),
    ]  # fmt: skip
    s = feed_summary(events(rows))
    assert s["exposures"] == {"asked": 6, "answered": 5, "failed": 1, "agents": 3, "claims": 2,
                              "items": 2, "max_exposure": 2}  # fmt: skip
    assert s["acceptance"]["k"] == 3 and s["acceptance"]["rate"] == pytest.approx(3 / 5)
    assert s["by_exposure"]["1"]["rate"] == pytest.approx(1 / 3)
    assert s["by_exposure"]["1"]["failed"] == 1 and s["by_exposure"]["2"]["rate"] == 1.0
    assert s["by_framing"]["emotional"]["answered"] == 1
    assert s["by_framing"]["emotional"]["rate"] == 0.0
    assert s["by_version"]["manipulated"]["rate"] == 0.0
    assert s["by_framing_exposure"]["authoritative"]["2"]["rate"] == 1.0
    assert s["confidence"]["mean"] == pytest.approx((0.8 * 4 + 0.4) / 5)
    # agents 0 and 1 saw claim a twice: 1 -> 1 and 0 -> 1
    rep = s["repetition"]
    assert rep["pairs"] == 2 and rep["first"] == 0.5 and rep["second"] == 1.0
    assert rep["effect"] == pytest.approx(0.5)
    assert -1.0 <= rep["ci_low"] <= rep["effect"] <= rep["ci_high"] <= 1.0


def test_no_exposure_events_give_an_empty_summary():
    other = {"run": "r", "step": 1, "time": 1.0, "kind": "action", "agent": 0, "target": None,
             "claim": None, "payload": {"type": "role", "role": "x", "placebo": False}}  # fmt: skip
    assert feed_summary(events([other])) == {}


def test_late_exposures_are_pooled_from_max_exposure_on():
    assert exposure_label(np.array([1, 2, 3, 7]), 3).tolist() == ["1", "2", "3+", "3+"]
    rows = [exposure(0, "a", n, n % 2 == 0) for n in range(1, 6)]
    s = feed_summary(events(rows), FeedMeasureParams(max_exposure=3))
    assert list(s["by_exposure"]) == ["1", "2", "3+"]
    assert s["by_exposure"]["3+"]["answered"] == 3
    assert s["by_exposure"]["3+"]["rate"] == pytest.approx(1 / 3)


def test_cells_take_agents_as_clusters():
    # agents 0-3 see authoritative items; agent 0 accepts all 3, agent 1 none of 3, 2 and 3
    # one of 2: the cell's interval is Korn-Graubard's over the 4 agents, not Wilson's
    rows = [exposure(0, f"c{i}", 1, True, confidence=0.9) for i in range(3)]
    rows += [exposure(1, f"c{i}", 1, False, confidence=0.5) for i in range(3)]
    rows += [exposure(a, f"c{i}", 1, i == 0, confidence=0.7) for a in (2, 3) for i in range(2)]
    s = feed_summary(events(rows))
    cell = s["by_framing"]["authoritative"]
    k = np.array([3.0, 0.0, 1.0, 1.0])
    n = np.array([3.0, 3.0, 2.0, 2.0])
    low, high = cluster_intervals(k, n)
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((low[0], high[0]), abs=1e-6)
    assert cell["rate"] == pytest.approx(0.5)
    confidence = np.array([2.7, 1.5, 1.4, 1.4])
    low, high = cluster_intervals(confidence, n, shares=False)
    mean = s["confidence"]
    assert mean["mean"] == pytest.approx(7.0 / 10.0)
    assert (mean["ci_low"], mean["ci_high"]) == pytest.approx((low[0], high[0]), abs=1e-6)
    assert s["interval"].startswith("95%, agents as clusters")


def test_tables_lay_out_the_series_and_groups():
    rows = [exposure(a, "a", n, a % 2 == 0, framing=f) for a in range(4) for n in (1, 2)
            for f in ("authoritative",)]  # fmt: skip
    rows += [exposure(a, "b", 1, True, framing="emotional") for a in range(4)]
    s = feed_summary(events(rows))
    series = series_table(s)
    assert set(series["framing"]) == {"all", "authoritative", "emotional"}
    assert series.loc[series["framing"] == "all", "exposure"].tolist() == ["1", "2"]
    framing = group_table(s, "framing")
    assert framing.set_index("framing").loc["emotional", "rate"] == 1.0

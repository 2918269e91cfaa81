"""Manipulation measures: harmful shares and odds ratios on hand-built tables and a tiny run."""

from __future__ import annotations

import math

import pytest

import socialsim as ss
import socialsim.scenarios.manipulation.scenario  # noqa: F401 - registers the scenario
from socialsim.analysis.report import write_report
from socialsim.analysis.stats import wilson_ci
from socialsim.core.rundata import load_run
from socialsim.scenarios.manipulation import measures as manipulation
from socialsim.simulation.log import flatten_events

from .tables import action, frame

Z = 1.959963984540054


def choice(agent, kind, harmful, domain="financial", tactic=None, status="answered", assigned=None):
    """One manipulation_choice action (a failed one may carry junk in `harmful`)."""
    return action(
        1, agent, "manipulation_choice", target=99, status=status, advisor_kind=kind,
        assigned_kind=assigned or kind, domain=domain, tactic=tactic, harmful=harmful,
    )  # fmt: skip


def table_events():
    """Manipulative: 6 answered (4 harmful), 2 failed. Neutral: 5 answered (1 harmful), 1 failed.

    The failed rows carry ``harmful: True`` to show that they never count.
    """
    rows = [
        choice(0, "manipulative", True, "financial", "false_urgency"),
        choice(1, "manipulative", True, "financial", "false_urgency"),
        choice(2, "manipulative", True, "emotional", "emotional_appeal"),
        choice(3, "manipulative", True, "emotional", "emotional_appeal"),
        choice(4, "manipulative", False, "emotional", "emotional_appeal"),
        choice(5, "manipulative", False, "financial", "false_urgency"),
        choice(6, "manipulative", True, "financial", "false_urgency", status="failed"),
        choice(7, "manipulative", True, "emotional", "emotional_appeal", status="failed"),
        choice(8, "neutral", True, "emotional"),
        choice(9, "neutral", False, "emotional"),
        choice(10, "neutral", False, "financial"),
        choice(11, "neutral", False, "financial"),
        choice(12, "neutral", False, "financial"),
        choice(13, "neutral", True, "financial", status="failed"),
    ]
    return frame(rows)


def woolf(a, b, c, d):
    """The odds ratio and its 95% interval, by hand."""
    ratio = a * d / (b * c)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return ratio, ratio * math.exp(-Z * se), ratio * math.exp(Z * se)


def test_odds_ratio_of_a_hand_table():
    events = table_events()
    out = manipulation.manipulation_summary(events)["odds_ratio"]["overall"]
    assert (out["a"], out["b"], out["c"], out["d"]) == (4, 2, 1, 4)
    ratio, lo, hi = woolf(4, 2, 1, 4)
    assert ratio == 8.0
    assert out["odds_ratio"] == pytest.approx(ratio)
    assert out["ci_low"] == pytest.approx(lo) and out["ci_high"] == pytest.approx(hi)
    assert out["corrected"] is False


def test_a_zero_cell_adds_one_half_to_every_cell():
    events = table_events()
    # financial: manipulative 2 harmful / 1 not; neutral 0 harmful / 3 not -> a zero cell
    out = manipulation.manipulation_summary(events)["odds_ratio"]["domain"]["financial"]
    assert (out["a"], out["b"], out["c"], out["d"]) == (2, 1, 0, 3)
    ratio, lo, hi = woolf(2.5, 1.5, 0.5, 3.5)
    assert out["corrected"] is True
    assert out["odds_ratio"] == pytest.approx(ratio) == pytest.approx(35 / 3)
    assert out["ci_low"] == pytest.approx(lo) and out["ci_high"] == pytest.approx(hi)


def test_a_tactic_is_compared_with_every_neutral_choice():
    out = manipulation.manipulation_summary(table_events())["odds_ratio"]["tactic"]
    urgency = out["false_urgency"]  # 2 harmful, 1 not; neutral 1 / 4
    assert (urgency["a"], urgency["b"], urgency["c"], urgency["d"]) == (2, 1, 1, 4)
    assert urgency["odds_ratio"] == pytest.approx(8.0)


def test_failed_choices_are_counted_apart_and_never_as_a_choice():
    out = manipulation.manipulation_summary(table_events())
    assert out["answers"] == {"asked": 14, "answered": 11, "failed": 3}
    manip = out["harmful"]["manipulative"]
    lo, hi = wilson_ci(4, 6)
    assert manip == {"asked": 8, "answered": 6, "failed": 2, "k": 4, "rate": 4 / 6,
                     "ci_low": lo, "ci_high": hi}  # fmt: skip
    assert out["harmful"]["neutral"]["k"] == 1 and out["harmful"]["overall"]["k"] == 5
    assert out["by_tactic"]["emotional_appeal"]["answered"] == 3
    assert out["by_tactic"]["emotional_appeal"]["k"] == 2
    assert out["by_domain"]["emotional"]["neutral"] == {
        "asked": 2, "answered": 2, "failed": 0, "k": 1, "rate": 0.5,
        "ci_low": wilson_ci(1, 2)[0], "ci_high": wilson_ci(1, 2)[1],
    }  # fmt: skip


def test_the_flat_table_shape_gives_the_same_measures():
    events = table_events()
    assert manipulation.manipulation_summary(
        flatten_events(events)
    ) == manipulation.manipulation_summary(events)


def test_no_ratio_without_answered_choices_on_both_sides():
    events = frame([choice(0, "neutral", False), choice(1, "manipulative", True, status="failed")])
    out = manipulation.manipulation_summary(events)["odds_ratio"]["overall"]
    assert (out["a"], out["b"], out["c"], out["d"]) == (0, 0, 0, 1)
    assert out["odds_ratio"] is None and out["ci_low"] is None


def test_assigned_kind_splits_a_control_arm():
    events = frame(
        [
            choice(0, "neutral", True, assigned="manipulative"),
            choice(1, "neutral", False, assigned="manipulative"),
            choice(2, "neutral", False, assigned="neutral"),
        ]
    )
    out = manipulation.manipulation_summary(events)
    assert out["assigned"]["manipulative"]["rate"] == 0.5
    assert set(out["harmful"]) == {"overall", "neutral"}
    assert out["odds_ratio"]["overall"]["odds_ratio"] is None


def test_runs_without_choices_have_no_measure():
    assert manipulation.manipulation_summary(frame([action(0, 1, "role", role="x")])) == {}


# --- a tiny run --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("manip")
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "manip",
            "seed": 2,
            "steps": 1,
            "population": {"size": 60},
            "network": {"kind": "ring"},
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "manipulation", "params": {"advisors": 3}},
            "output": {"dir": str(root), "report": False},
        }
    )
    return ss.run(cfg, out=root / "r")


@pytest.mark.slow
def test_the_registered_measure_matches_counts_made_from_the_log(tiny_run):
    run = load_run(tiny_run.path)
    rows = manipulation.manipulation_choices(run.events)
    summary = tiny_run.summary["measures"]["manipulation"]
    for kind in ("neutral", "manipulative"):
        mine = rows[rows["advisor_kind"] == kind]
        assert summary["harmful"][kind]["answered"] == len(mine)
        assert summary["harmful"][kind]["k"] == int(mine["harmful"].sum())
    a = summary["harmful"]["manipulative"]["k"]
    c = summary["harmful"]["neutral"]["k"]
    b = summary["harmful"]["manipulative"]["answered"] - a
    d = summary["harmful"]["neutral"]["answered"] - c
    ratio = summary["odds_ratio"]["overall"]["odds_ratio"]
    if 0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    assert ratio == pytest.approx(a * d / (b * c))


@pytest.mark.slow
def test_the_report_draws_the_headline_figures(tiny_run):
    write_report(tiny_run.path)
    figures = tiny_run.path / "figures"
    assert (figures / "manipulation_harmful.png").stat().st_size > 1000
    assert (figures / "manipulation_odds.png").stat().st_size > 1000
    page = (tiny_run.path / "report.html").read_text()
    assert "harmful share by advisor kind, domain and tactic" in page

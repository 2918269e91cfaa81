import pytest
from scipy import stats as sps

from socialsim.analysis import persuasion

from .tables import action, frame


def pair(kind, personalised, pre, post):
    return action(
        0,
        0,
        "debate_pair",
        target=1,
        pair=0,
        persuader=0,
        proposition="p",
        persuader_kind=kind,
        personalised=personalised,
        pre=pre,
        post=post,
        shift=post - pre,
    )


def debate_events():
    rows = []
    # treatment: personalised persuader, 6 of 8 increase
    rows += [pair("persuader", True, 2, 3)] * 6 + [pair("persuader", True, 3, 3)] * 2
    # control: plain peer, 2 of 8 increase
    rows += [pair("peer", False, 2, 3)] * 2 + [pair("peer", False, 3, 2)] * 6
    rows += [pair("persuader", False, 3, 4)] * 3
    return frame(rows)


def test_agreement_shift_2x2():
    table = persuasion.agreement_shift(persuasion.debate_pairs(debate_events()))
    rows = {
        (k, p): r
        for k, p, r in zip(
            table["persuader_kind"], table["personalised"], table["mean_shift"], strict=True
        )
    }
    assert rows[("persuader", True)] == pytest.approx(6 / 8)
    assert rows[("peer", False)] == pytest.approx((2 - 6) / 8)
    assert rows[("persuader", False)] == 1.0


def test_increased_agreement_odds_vs_hand_computation():
    out = persuasion.increased_agreement_odds(persuasion.debate_pairs(debate_events()))
    assert out["table"] == [[6, 2], [2, 6]]
    assert out["odds_ratio"] == pytest.approx((6 * 6) / (2 * 2))
    assert out["p_fisher"] == pytest.approx(sps.fisher_exact([[6, 2], [2, 6]]).pvalue)
    assert out["ci_low"] < 9 < out["ci_high"]


def test_odds_ratio_reexported_with_correction():
    assert persuasion.odds_ratio(3, 0, 1, 4)["corrected"] is True


def test_authority_outcome_shares():
    outcomes = ["robust_correct"] * 3 + ["sycophantic_agreement"]
    events = frame(
        [
            action(0, 0, "authority_outcome", question_id=i, outcome=o)
            for i, o in enumerate(outcomes)
        ]
    )
    table = persuasion.authority_outcomes(events).set_index("outcome")
    assert table.loc["robust_correct", "share"] == 0.75
    assert table.loc["sycophantic_agreement", "share"] == 0.25
    assert table.loc["stubborn_error", "n"] == 0


def test_belief_drift_slope():
    rows = [
        action(
            0, a, "stance_probe", exposure=e, stance=1 + 0.5 * e + (0.1 if a else -0.1), topic="t"
        )
        for e in range(5)
        for a in (0, 1)
    ]
    table = persuasion.stance_by_exposure(frame(rows))
    assert table["mean"].tolist() == pytest.approx([1.0, 1.5, 2.0, 2.5, 3.0])
    fit = persuasion.drift_slope(table)
    assert fit["slope"] == pytest.approx(0.5) and fit["change"] == pytest.approx(2.0)


def test_persuasion_summary_sections():
    out = persuasion.persuasion_summary(debate_events())
    assert out["debate"]["odds_ratio"]["odds_ratio"] == pytest.approx(9.0)
    assert "authority" not in out

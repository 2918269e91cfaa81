"""Persuasion measures on hand-built event tables, checked against hand computation."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from socialsim.core.rundata import read_events_table
from socialsim.scenarios.persuasion import measures as persuasion
from socialsim.scenarios.persuasion.authority import OUTCOMES

from .tables import action, dump_jsonl, frame


def pair(kind, personalised, pre, post, status="answered"):
    failed = status == "failed"
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
        status=status,
        pre=pre,
        post=None if failed else post,
        shift=None if failed or pre is None else post - pre,
        turns_asked=2,
        turns_failed=1 if failed else 0,
        **({"error": "post: invalid JSON"} if failed else {}),
    )


def debate_rows():
    rows = []
    # personalised persuader: 6 of 8 answered pairs increase
    rows += [pair("persuader", True, 2, 3)] * 6 + [pair("persuader", True, 3, 3)] * 2
    # plain peer (the reference cell): 2 of 8 increase
    rows += [pair("peer", False, 2, 3)] * 2 + [pair("peer", False, 3, 2)] * 6
    rows += [pair("persuader", False, 3, 4)] * 3
    # failed pairs: a post answer that failed, and a pre answer that failed
    rows += [pair("persuader", True, 3, None, "failed"), pair("peer", False, None, None, "failed")]
    return rows


def test_debate_pairs_keep_failed_rows_without_values():
    pairs = persuasion.debate_pairs(frame(debate_rows()))
    failed = pairs[pairs["status"] == "failed"]
    assert len(pairs) == 21 and len(failed) == 2
    assert failed[["pre", "post", "shift", "increased"]].isna().all().all()


def test_agreement_shift_per_cell_over_answered_pairs_with_t_interval():
    table = persuasion.agreement_shift(persuasion.debate_pairs(frame(debate_rows())))
    rows = {(r["persuader_kind"], r["personalised"]): r for r in table.to_dict(orient="records")}
    top = rows[("persuader", True)]
    assert (top["asked"], top["answered"], top["failed"]) == (9, 8, 1)
    assert top["mean_shift"] == pytest.approx(6 / 8)
    # shifts 1 x6, 0 x2: only 2 values off the most common one, too few for a t interval
    assert top["ci_low"] is None and top["ci_high"] is None
    assert top["no_interval"].startswith("2 of 8 values differ from the most common one")
    assert top["share_increased"] == pytest.approx(0.75)
    peer = rows[("peer", False)]
    assert (peer["asked"], peer["answered"], peer["failed"]) == (9, 8, 1)
    assert peer["mean_shift"] == pytest.approx((2 - 6) / 8)
    plain = rows[("persuader", False)]
    assert plain["mean_shift"] == 1.0 and plain["ci_low"] is None and plain["no_interval"]
    # t interval by hand where 3 or more values are off the mode: shifts 1 x5, 0 x3
    shifts = [1] * 5 + [0] * 3
    mean = sum(shifts) / 8
    sd = math.sqrt(sum((s - mean) ** 2 for s in shifts) / 7)
    half = sps.t.ppf(0.975, 7) * sd / math.sqrt(8)
    cell = persuasion.mean_interval(shifts)
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((mean - half, mean + half))
    assert "no_interval" not in cell


def test_increased_agreement_odds_vs_hand_computation():
    out = persuasion.increased_agreement_odds(persuasion.debate_pairs(frame(debate_rows())))
    assert out["table"] == [[6, 2], [2, 6]]
    assert out["odds_ratio"] == pytest.approx((6 * 6) / (2 * 2))
    se = math.sqrt(1 / 6 + 1 / 2 + 1 / 2 + 1 / 6)
    assert out["ci_low"] == pytest.approx(math.exp(math.log(9) - 1.959964 * se), rel=1e-5)
    assert out["p_fisher"] == pytest.approx(sps.fisher_exact([[6, 2], [2, 6]]).pvalue)


def test_debate_effect_per_cell_against_the_reference_cell():
    effect = persuasion.debate_effect(persuasion.debate_pairs(frame(debate_rows())))
    assert set(effect) == {"persuader|personalised", "persuader|plain", "peer|personalised"}
    assert effect["persuader|personalised"]["odds_ratio"] == pytest.approx(9.0)
    # persuader|plain: 3 of 3 increase vs 2 of 8: a zero cell, so 0.5 is added everywhere
    plain = effect["persuader|plain"]
    assert plain["table"] == [[3, 0], [2, 6]] and plain["corrected"] is True
    assert plain["odds_ratio"] == pytest.approx((3.5 * 6.5) / (0.5 * 2.5))
    assert effect["peer|personalised"]["odds_ratio"] is None  # no such pairs


def test_odds_ratio_reexported_with_correction():
    assert persuasion.odds_ratio(3, 0, 1, 4)["corrected"] is True


def test_debate_summary_counts_and_overall_shift():
    out = persuasion.persuasion_summary(frame(debate_rows()))["debate"]
    assert out["answers"] == {"asked": 21, "answered": 19, "failed": 2}
    shifts = [1] * 6 + [0] * 2 + [1] * 2 + [-1] * 6 + [1] * 3
    assert out["mean_shift"] == pytest.approx(sum(shifts) / 19)
    assert out["share_increased"] == pytest.approx(11 / 19)
    assert out["cells"]["persuader|personalised"]["failed"] == 1
    assert out["reference_cell"] == "peer|plain"
    assert out["odds_ratio"]["persuader|personalised"]["odds_ratio"] == pytest.approx(9.0)
    assert out["turns"] == {"asked": 42, "answered": 40, "failed": 2}


def authority_rows():
    # correct A, the authority's B: three kept A, one A -> B, one A -> C
    pairs = [("A", "A", "correct_kept")] * 3 + [
        ("A", "B", "correct_to_authority"),
        ("A", "C", "correct_to_other"),
    ]
    letters = {"correct_answer": "A", "authority_answer": "B"}
    rows = [
        action(0, 0, "authority_outcome", question_id=i, status="answered", outcome=o,
               before_answer=b, after_answer=a, **letters)
        for i, (b, a, o) in enumerate(pairs)
    ]  # fmt: skip
    rows += [
        action(0, 1, "authority_outcome", question_id=9, status="failed", outcome=None, error="x"),
        action(0, 2, "authority_outcome", question_id=9, status="failed", outcome=None, error="y"),
    ]
    return rows


def test_authority_outcome_shares_over_answered_items():
    table = persuasion.authority_outcomes(frame(authority_rows())).set_index("outcome")
    assert list(table.index) == list(persuasion.AUTHORITY_OUTCOMES)
    assert table.loc["correct_kept", "share"] == pytest.approx(3 / 5)
    assert table.loc["correct_to_other", "share"] == pytest.approx(1 / 5)
    assert table.loc["wrong_kept", "n"] == 0
    out = persuasion.persuasion_summary(frame(authority_rows()))["authority"]
    assert out["answers"] == {"asked": 7, "answered": 5, "failed": 2}
    assert out["counts"]["correct_to_authority"] == 1
    assert out["shares"]["correct_to_authority"] == pytest.approx(0.2)
    assert out["follow_rate"] == pytest.approx(1 / 5) and out["n"] == 5
    assert (out["accuracy_before"], out["accuracy_after"]) == pytest.approx((1.0, 3 / 5))


def test_authority_outcomes_listed_are_the_classifiers_own():
    assert persuasion.AUTHORITY_OUTCOMES is OUTCOMES  # one vocabulary, not a copy


def test_authority_with_every_answer_failed_has_no_shares():
    rows = authority_rows()[-2:]
    out = persuasion.persuasion_summary(frame(rows))["authority"]
    assert out["answers"] == {"asked": 2, "answered": 0, "failed": 2}
    assert set(out["shares"].values()) == {None}


def probe(agent, exposure, stance, status="answered"):
    return action(
        exposure,
        agent,
        "stance_probe",
        exposure=exposure,
        status=status,
        stance=stance if status == "answered" else None,
        topic="t",
    )


def accumulation_rows():
    # agent 0: 1, 2, 3; agent 1: 2, 3, 4; agent 2: 3, then fails at exposure 1 (and leaves)
    rows = [probe(0, e, 1 + e) for e in range(3)] + [probe(1, e, 2 + e) for e in range(3)]
    rows += [probe(2, 0, 3), probe(2, 1, None, "failed")]
    return rows


def test_stance_by_exposure_over_answered_probes():
    table = persuasion.stance_by_exposure(frame(accumulation_rows()))
    assert table["asked"].tolist() == [3, 3, 2]
    assert table["failed"].tolist() == [0, 1, 0]
    assert table["mean"].tolist() == pytest.approx([2.0, 2.5, 3.5])


def test_drift_slope_and_paired_change_by_hand():
    out = persuasion.persuasion_summary(frame(accumulation_rows()))["accumulation"]
    assert out["answers"] == {"asked": 8, "answered": 7, "failed": 1}
    assert out["mean_stance"] == {0: 2.0, 1: 2.5, 2: 3.5}
    # pooled OLS over the 7 answered probes (x = exposure, y = stance)
    xs = [0, 1, 2, 0, 1, 2, 0]
    ys = [1, 2, 3, 2, 3, 4, 3]
    mx, my = sum(xs) / 7, sum(ys) / 7
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    assert out["drift"]["slope"] == pytest.approx(slope) and out["drift"]["n"] == 7
    # within-agent change, exposure 0 to 2, agents 0 and 1 only (agent 2 left after failing)
    assert out["change"] == pytest.approx(2.0) and out["change_agents"] == 2


def test_drift_slope_on_a_table_of_means():
    rows = [
        action(0, a, "stance_probe", exposure=e, stance=1 + 0.5 * e + (0.1 if a else -0.1))
        for e in range(5)
        for a in (0, 1)
    ]
    table = persuasion.stance_by_exposure(frame(rows))
    assert table["mean"].tolist() == pytest.approx([1.0, 1.5, 2.0, 2.5, 3.0])
    assert persuasion.drift_slope(table, y="mean")["slope"] == pytest.approx(0.5)
    assert persuasion.drift_slope(table.head(1), y="mean")["slope"] is None


def campaign_rows():
    def stance(step, asked, answered, mean, agree):
        return action(
            step,
            None,
            "stance",
            proposition="p",
            measure="credence",
            asked=asked,
            answered=answered,
            failed=asked - answered,
            stance=mean,
            agree=agree,
            histogram=[0, 0, 0, 0, 0],
        )

    return [stance(0, 10, 10, 0.2, 0), stance(1, 10, 8, 0.4, 2), stance(2, 10, 9, 0.5, 6)]


def test_campaign_series_agree_share_and_change():
    out = persuasion.persuasion_summary(frame(campaign_rows()))["campaign"]
    assert out["answers"] == {"asked": 30, "answered": 27, "failed": 3}
    assert out["stance"] == {0: 0.2, 1: 0.4, 2: 0.5}
    assert out["agree_share"] == pytest.approx({0: 0.0, 1: 2 / 8, 2: 6 / 9})
    assert out["change"] == pytest.approx(0.3)


def test_older_events_without_status_count_as_answered_when_valued():
    rows = [
        action(0, 0, "debate_pair", persuader_kind="peer", personalised=False, pre=2, post=4),
        action(0, 0, "debate_pair", persuader_kind="peer", personalised=False, pre=2, post=None),
    ]
    out = persuasion.persuasion_summary(frame(rows))["debate"]
    assert out["answers"] == {"asked": 2, "answered": 1, "failed": 1}
    assert out["mean_shift"] == 2.0


def test_flat_and_raw_event_tables_give_the_same_summary(tmp_path):
    rows = debate_rows() + authority_rows() + accumulation_rows() + campaign_rows()
    dump_jsonl(tmp_path / "events.jsonl", rows)
    flat = persuasion.persuasion_summary(read_events_table(tmp_path / "events.jsonl"))
    raw = persuasion.persuasion_summary(frame(rows))
    assert set(flat) == {"debate", "authority", "accumulation", "campaign"}
    assert flat == raw


def test_no_persuasion_events_no_sections():
    assert persuasion.persuasion_summary(frame([action(0, 0, "role", role="x")])) == {}


def test_drift_p_tests_the_agents_slopes_not_the_pooled_probes():
    out = persuasion.persuasion_summary(frame(accumulation_rows()))["accumulation"]["drift"]
    # agents 0 and 1 both rise by 1 a text (agent 2 answered once): slopes without spread
    # give no test
    assert out["agents"] == 2 and out["p"] is None
    assert out["no_test"] == "the agents' slopes do not vary: no test of them"
    # one probe an agent: independent probes, the pooled line's own p
    once = pd.DataFrame(
        {"agent": range(6), "exposure": [0, 1, 2, 0, 1, 2], "stance": [1, 2, 3, 2, 3, 5]}
    )
    alone = persuasion.drift_slope(once)
    assert alone["p"] == pytest.approx(sps.linregress(once["exposure"], once["stance"]).pvalue)
    assert alone["agents"] == 0 and "no_test" not in alone
    rng = np.random.default_rng(2)
    agents, exposures = 8, 4
    slopes = rng.normal(0.0, 0.3, agents)
    rows = pd.DataFrame(
        {
            "agent": np.repeat(np.arange(agents), exposures),
            "exposure": np.tile(np.arange(exposures), agents),
        }
    )
    rows["stance"] = 3 + slopes[rows["agent"]] * rows["exposure"] + rng.normal(0, 0.1, len(rows))
    by_agent = [sps.linregress(g["exposure"], g["stance"]).slope for _, g in rows.groupby("agent")]
    drift = persuasion.drift_slope(rows)
    assert drift["p"] == pytest.approx(sps.ttest_1samp(by_agent, 0.0).pvalue)
    assert drift["n"] == 32 and drift["agents"] == 8


@pytest.mark.slow
def test_drift_false_alarms_hold_the_level_when_agents_drift_their_own_ways():
    """No drift on average, each agent its own slope (SD 0.2), 50 agents x 11 exposures: the
    pooled fit's p flags about 1 run in 5; the test over agents' slopes about 1 in 20."""
    rng = np.random.default_rng(5)
    agents, exposures = 50, 11
    agent = np.repeat(np.arange(agents), exposures)
    exposure = np.tile(np.arange(exposures), agents).astype(float)
    ours, pooled = [], []
    for _ in range(400):
        stance = 3 + rng.normal(0, 0.2, agents)[agent] * exposure + rng.normal(0, 0.5, agent.size)
        rows = pd.DataFrame({"agent": agent, "exposure": exposure, "stance": stance})
        ours.append(persuasion.drift_slope(rows)["p"] < 0.05)
        pooled.append(sps.linregress(exposure, stance).pvalue < 0.05)
    assert np.mean(ours) <= 0.08 and np.mean(pooled) > 0.15

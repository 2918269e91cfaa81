"""Donor-game measures on a hand-built log, on a tiny run read back from disk, and in the report."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import socialsim as ss
import socialsim.scenarios.donor_game.scenario  # noqa: F401 - registers the scenario
from socialsim.analysis.report import write_report
from socialsim.core.rundata import load_run
from socialsim.scenarios.donor_game import measures as dg
from socialsim.simulation.log import flatten_events, read_events

from .tables import frame


def action(step, agent, type_, target=None, **fields):
    """An `action` event (its payload may hold a `kind` field, as the standings do)."""
    return {"run": "r", "step": step, "time": float(step), "kind": "action", "agent": agent,
            "target": target, "claim": None, "payload": {"type": type_, **fields}}  # fmt: skip


def rnd(step, agent, target, generation, status="answered", act=None, share=None, given=0.0,
        cost=0.0, received=0.0, damage=0.0, before=10.0, after=10.0):  # fmt: skip
    return action(
        step, agent, "donor_round", target, generation=generation, round=(step - 1) % 2 + 1,
        status=status, action=act, share=share, given=given, cost=cost, received=received,
        damage=damage, resources_before=before, resources_after=after, reputation=None,
        error=None if status == "answered" else "HTTP 503",
    )  # fmt: skip


def standing(step, agent, generation, resources, kind, survives):
    return action(
        step, agent, "donor_standing", generation=generation, resources=resources, rank=1,
        survives=survives, source="rule", kind=kind, share=0.5, threshold=0.5, born=1,
    )  # fmt: skip


@pytest.fixture
def events():
    """Three agents, generation 1 (steps 1-2) and generation 2 (step 3); one failure each."""
    return frame(
        [
            rnd(1, 0, 1, 1, act="give", share=0.5, given=5.0, before=10.0, after=5.0),
            rnd(1, 1, 2, 1, act="keep", share=0.0, received=10.0, after=20.0),
            rnd(1, 2, 0, 1, status="failed"),
            rnd(2, 0, 2, 1, act="punish", share=0.2, cost=1.0, received=40.0, before=5.0,
                after=44.0),
            rnd(2, 1, 0, 1, act="give", share=1.0, given=20.0, received=6.0, before=20.0,
                after=6.0),
            rnd(2, 2, 1, 1, act="give", share=0.3, given=3.0, damage=2.0, after=5.0),
            standing(2, 0, 1, 44.0, "punisher", True),
            standing(2, 1, 1, 6.0, "always_give", False),
            standing(2, 2, 1, 5.0, "discriminator", False),
            rnd(3, 0, 1, 2, act="keep", share=0.0),
            rnd(3, 1, 2, 2, act="keep", share=0.0),
            rnd(3, 2, 0, 2, status="failed"),
            standing(3, 0, 2, 10.0, "punisher", True),
            standing(3, 1, 2, 10.0, "punisher", False),
            standing(3, 2, 2, 10.0, "discriminator", True),
        ]
    )  # fmt: skip


def test_rounds_table_leaves_failed_answers_without_a_value(events):
    rounds = dg.donor_rounds(events)
    assert len(rounds) == 9
    failed = rounds[rounds["status"] == "failed"]
    assert failed["donation"].isna().all() and failed["gave"].isna().all()
    punished = rounds[rounds["action"] == "punish"].iloc[0]
    assert punished["donation"] == 0.0 and punished["punished"] == 1.0


def test_generation_table_by_hand(events):
    gens = dg.generation_table(dg.donor_rounds(events), dg.donor_standings(events))
    one, two = gens.to_dict(orient="records")
    assert (one["asked"], one["answered"], one["failed"]) == (6, 5, 1)
    assert one["donation_share"] == pytest.approx((0.5 + 0 + 0 + 1.0 + 0.3) / 5)
    assert one["give_rate"] == pytest.approx(3 / 5) and one["punish_share"] == pytest.approx(1 / 5)
    assert (one["given"], one["received"]) == (28.0, 56.0)
    assert (one["punishment_cost"], one["damage"]) == (1.0, 2.0)
    assert (one["agents"], one["total_resources"]) == (3, 55.0)
    assert one["mean_resources"] == pytest.approx(55 / 3)
    assert (two["asked"], two["answered"], two["donation_share"]) == (3, 2, 0.0)
    assert two["total_resources"] == 30.0


def test_summary_by_hand(events):
    out = dg.donor_game_summary(events)
    assert out["answers"] == {"asked": 9, "answered": 7, "failed": 2}
    assert out["overall"]["donation_share"] == pytest.approx(1.8 / 7)
    assert out["overall"]["give_rate"] == pytest.approx(3 / 7)
    assert out["overall"]["punish_share"] == pytest.approx(1 / 7)
    assert out["overall"]["generations"] == 2
    assert out["overall"]["mean_total_resources"] == pytest.approx(42.5)
    assert out["final"]["generation"] == 2 and out["final"]["total_resources"] == 30.0
    assert out["by_generation"]["1"]["failed"] == 1
    assert out["strategy_mix"]["1"] == pytest.approx(
        {"punisher": 1 / 3, "always_give": 1 / 3, "discriminator": 1 / 3}
    )
    assert out["strategy_mix"]["2"] == pytest.approx({"punisher": 2 / 3, "discriminator": 1 / 3})
    assert "strategies" not in out  # no LLM strategy texts
    assert dg.donor_game_summary(frame([])) == {}


def test_round_table_by_hand(events):
    table = dg.round_table(dg.donor_rounds(events)).set_index("step")
    assert table.loc[1, "answered"] == 2 and table.loc[1, "donation_share"] == 0.25
    assert table.loc[2, "donation_share"] == pytest.approx(1.3 / 3)
    assert table.loc[2, "punish_share"] == pytest.approx(1 / 3)
    assert table.loc[2, "total_resources"] == 55.0


def test_strategy_texts_keep_failed_ones_with_their_error():
    events = frame(
        [
            action(1, 0, "donor_strategy", generation=1, source="llm", status="answered",
                   strategy="Give half to givers.", error=None),
            action(1, 1, "donor_strategy", generation=1, source="llm", status="failed",
                   strategy=None, error="the strategy has fewer than 3 words: 'ok'"),
            action(1, 2, "donor_strategy", generation=1, source="rule", status="answered",
                   kind="never_give", strategy=None, error=None),
        ]
    )  # fmt: skip
    texts = dg.strategy_texts(events)
    assert texts["agent"].tolist() == [0, 1]
    assert texts["strategy"].tolist()[0] == "Give half to givers." and texts["error"].iloc[1]


def test_seed_variation_per_arm():
    results = pd.DataFrame(
        {
            "arm": ["treatment", "control", "treatment", "control"],
            "seed": [1, 1, 2, 2],
            "donor_game.overall.donation_share": [0.2, 0.5, 0.4, 0.5],
            "network.clustering": [0.1, 0.1, 0.1, 0.1],
        }
    )
    table = dg.seed_variation(results).set_index("arm")
    assert table["measure"].unique().tolist() == ["donor_game.overall.donation_share"]
    assert table.loc["treatment", "mean"] == pytest.approx(0.3)
    assert table.loc["treatment", "variance"] == pytest.approx(0.02)
    assert table.loc["treatment", "sd"] == pytest.approx(math.sqrt(0.02))
    assert table.loc["control", "variance"] == 0.0 and table.loc["control", "replicates"] == 2


@pytest.fixture(scope="module")
def donor_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("donor")
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "donor",
            "seed": 2,
            "steps": 4,
            "population": {"size": 6},
            "network": {"kind": "ring"},
            "agents": {"policy": "degroot", "params": {"initial": 0.5}},
            "scenario": {
                "kind": "donor_game",
                "params": {
                    "rounds_per_generation": 2,
                    "punishment": True,
                    "strategies": {"punisher": 1, "never_give": 1, "always_give": 1},
                },
            },  # fmt: skip
            "output": {"dir": str(out), "report": False, "formats": ["jsonl", "parquet"]},
        }
    )
    return ss.run(cfg, out=out / "run")


@pytest.mark.slow
def test_the_measure_reads_the_run_back_the_same_way(donor_run):
    from_disk = dg.donor_game_summary(load_run(donor_run.dir).events)
    from_log = dg.donor_game_summary(flatten_events(read_events(donor_run.dir / "events.jsonl")))
    assert from_disk == from_log
    assert donor_run.summary["measures"]["donor_game"]["answers"] == from_log["answers"]
    assert from_log["answers"]["asked"] == 4 * 6
    flat = ss.analysis.flat_metrics(donor_run.summary)
    assert "donor_game.by_generation.2.donation_share" in flat


@pytest.mark.slow
def test_runs_without_donor_rounds_have_no_donor_measure(tmp_path):
    cfg = ss.ExperimentConfig.from_dict(
        {"name": "plain", "steps": 1, "population": {"size": 5}, "network": {"kind": "ring"},
         "agents": {"policy": "degroot"}, "claims": [{"id": "c1", "text": "It will rain."}],
         "output": {"dir": str(tmp_path), "report": False}}
    )  # fmt: skip
    assert "donor_game" not in ss.run(cfg).summary["measures"]


@pytest.mark.slow
def test_report_draws_the_headline_figures_and_tables(donor_run):
    write_report(donor_run.dir)
    figures = {p.stem for p in (donor_run.dir / "figures").glob("*.png")}
    assert {"donor_donation", "donor_resources", "donor_strategies"} <= figures
    page = (donor_run.dir / "report.html").read_text(encoding="utf-8")
    assert "Donor game by generation" in page and "Strategy mix" in page
    assert 'id="fig-donor_donation"' in page

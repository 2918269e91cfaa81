"""Report figures of the norms justification / variant blocks and of network growth attachment."""

from __future__ import annotations

import html
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

import socialsim as ss
from socialsim.analysis.report import write_report
from socialsim.analysis.report.parts import figure_for, report_parts
from socialsim.analysis.stats import wilson_ci
from socialsim.core.rundata import RunData, load_run, payload
from socialsim.scenarios.network_growth.attachment import attachment_exponent
from socialsim.scenarios.network_growth.plots import attachment_rates, gain_intervals
from socialsim.scenarios.network_growth.report import attachment_bins, attachment_part, gain_table
from socialsim.scenarios.norms.justification import NO_JUSTIFICATION
from socialsim.scenarios.norms.measures import norm_choices
from socialsim.scenarios.norms.plots import (
    MAX_FRAMES,
    justification_cells,
    justification_points,
    variant_adherence,
)
from socialsim.scenarios.norms.report import norms_page, variant_adherence_table
from socialsim.testing import ScriptedClient, run_scripted

NO_TIP = "Leave no tip at all"  # unexpected at the dinner table, expected at the counter
NOT_NEEDED = "No tip is needed at a counter."
FRAMES = ["restaurant_us_bill", "restaurant_us_counter"]  # a base frame and its variant


def norms_cfg(tmp_path, policy):
    return ss.ExperimentConfig.from_dict(
        {
            "name": f"norms-{policy}",
            "seed": 5,
            "steps": 1,
            "population": {"size": 4},
            "network": {"kind": "ring"},
            "agents": {"policy": policy, "llm": {"model": "openai/x", "api_base": "http://x/v1"}},
            "scenario": {
                "kind": "norms",
                "params": {"frames": FRAMES, "situations_per_step": 2},
            },
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )


def no_tip_anywhere(request):
    """Every agent leaves no tip in both frames, saying it is not needed."""
    if request.tag != "norms_choice_v1":
        return json.dumps({"message": "hi", "to": "all", "beliefs": []})
    prompt = request.messages[-1]["content"]
    letter = re.search(rf"^([A-Z])\. {re.escape(NO_TIP)}$", prompt, re.M).group(1)
    return json.dumps({"choice": letter, "justification": NOT_NEEDED})


def figure_block(page: str, name: str) -> str | None:
    """The <figure> element of a report figure, or None."""
    found = re.search(rf'<figure id="fig-{name}">(.*?)</figure>', page, re.S)
    return found.group(1) if found else None


def caption(page: str, name: str) -> str:
    block = figure_block(page, name)
    assert block is not None, f"no figure {name}"
    return html.unescape(re.search(r"<figcaption>(.*?)</figcaption>", block, re.S).group(1))


def drawn(fig) -> None:
    fig.savefig(io.BytesIO(), format="png")  # labels with odd characters must render


def errorbar_points(ax) -> list[tuple[np.ndarray, np.ndarray]]:
    """(x, y) of the data points of each errorbar drawn on the axes."""
    return [(c.lines[0].get_xdata(), c.lines[0].get_ydata()) for c in ax.containers]


# --- norms runs --------------------------------------------------------------------------------
class Figures:
    """Collects what a report part adds: name -> (figure, caption)."""

    def __init__(self):
        self.added: dict[str, tuple] = {}

    def add(self, name, fig, caption="", dpi=100):
        assert fig.axes and caption
        self.added[name] = (fig, caption)


@pytest.fixture(scope="module")
def llm_norms_run(tmp_path_factory):
    cfg = norms_cfg(tmp_path_factory.mktemp("llm"), "llm")
    return load_run(run_scripted(cfg, ScriptedClient(no_tip_anywhere)).dir)


@pytest.fixture(scope="module")
def rule_norms_run(tmp_path_factory):
    return load_run(ss.run(norms_cfg(tmp_path_factory.mktemp("rule"), "degroot")).dir)


def test_the_norms_part_draws_justifications_and_variant_adherence(llm_norms_run):
    figs, tables = Figures(), []
    norms_page(llm_norms_run, figs, tables)
    assert list(figs.added) == [
        "adherence",
        "norm_pressure",
        "norm_justifications",
        "norm_variants",
    ]
    fig, text = figs.added["norm_justifications"]
    assert "8 scored choices of 4 agents; 4 base-variant pairs" in text
    assert "rule of thumb" in text and "Wilson 95%" in text
    left, right = fig.axes
    ((x, y),) = errorbar_points(left)
    # {tip, need, counter} against {leav, tip, 15, 20, percent} (dinner, the rule broken): 1/5;
    # against {leav, tip} (the counter, the rule kept): 1/2; each agent's mean 0.35
    assert x.tolist() == pytest.approx([0.35, 0.2, 0.5, 0.5, 0.2, 0.2, 0.5])
    assert y.tolist() == [6, 5, 4, 3, 2, 1, 0]  # top to bottom in the block's order
    ((x, _),) = errorbar_points(right)
    # chose the rule 4/8, says the rule 0/4, choice changed 0/4 (rule changed 0/4), the same
    # reason and the same choice in both frames: the reason follows the choice 4/4
    assert x.tolist() == pytest.approx([0.5, 0.0, 0.0, 0.0, 1.0])
    labels = [t.get_text() for t in right.get_yticklabels()]
    assert "rule kept: choice changed (0/0)" in labels and len(labels) == 6
    fig, text = figs.added["norm_variants"]
    assert "1 variant, 8 answered choices in all" in text
    # no tip: unexpected at dinner (adherence 0 of 4), expected at the counter (4 of 4)
    (_, base), (_, variant) = errorbar_points(fig.axes[0])
    assert base.tolist() == [0.0] and variant.tolist() == [1.0]
    titles = [title for title, _ in tables]
    assert titles[-2:] == [
        "Justifications against the rule of thumb",
        "Norm adherence in base and variant frames",
    ]


def test_variant_adherence_table_pairs_each_variant_with_its_base(llm_norms_run):
    table = variant_adherence_table(norm_choices(llm_norms_run.events))
    assert table[["version", "frame_id"]].values.tolist() == [
        ["base", "restaurant_us_bill"],
        ["variant", "restaurant_us_counter"],
    ]
    assert table["k"].tolist() == [0, 4] and table["answered"].tolist() == [4, 4]
    assert table["ci_high"].iloc[0] == pytest.approx(wilson_ci(0, 4)[1])
    lone = norm_choices(llm_norms_run.events)
    assert variant_adherence_table(lone[lone["frame_id"] == "restaurant_us_counter"]).empty


def test_without_llm_choices_the_justification_figure_is_skipped_with_its_reason(
    rule_norms_run,
):
    figs, tables = Figures(), []
    norms_page(rule_norms_run, figs, tables)
    assert "norm_justifications" not in figs.added and "norm_variants" in figs.added
    note = dict(tables)["Justifications against the rule of thumb"]
    assert note.to_dict("records") == [{"figure": "not drawn", "reason": NO_JUSTIFICATION}]


def test_the_parts_name_the_figure_of_each_new_block():
    assert figure_for("norms.justifications.agreement.mean") == "norm_justifications"
    assert figure_for("norms.adherence.overall.rate") == "adherence"
    assert figure_for("network_growth.attachment.exponent.exponent") == "growth_attachment"
    assert figure_for("network_growth.attachment.gain.prior_in_degree.rho") == "growth_gain"
    assert "network_growth attachment" in [part.name for part in report_parts()]


@pytest.mark.slow
def test_norms_reports_show_the_new_figures(llm_norms_run, rule_norms_run):
    page = write_report(llm_norms_run.dir).read_text(encoding="utf-8")
    text = caption(page, "norm_justifications")
    assert "8 scored choices of 4 agents; 4 base-variant pairs" in text
    assert "<img" in figure_block(page, "norm_justifications")
    assert "1 variant, 8 answered choices in all" in caption(page, "norm_variants")
    assert (llm_norms_run.dir / "figures" / "norm_variants.png").is_file()
    assert "not drawn (" not in page  # no report part failed
    page = write_report(rule_norms_run.dir).read_text(encoding="utf-8")
    assert figure_block(page, "norm_justifications") is None
    assert html.escape(NO_JUSTIFICATION, quote=True) in page and "not drawn" in page
    assert "1 variant, 8 answered choices in all" in caption(page, "norm_variants")
    assert "not drawn (" not in page


# --- norms figures on hand-made blocks ---------------------------------------------------------
def mean_cell(mean, agents, low=None, high=None):
    return {"n": agents * 2, "agents": agents, "mean": mean, "ci_low": low, "ci_high": high}


def share_cell(k, answered):
    low, high = wilson_ci(k, answered) if answered else (None, None)
    rate = k / answered if answered else None
    return {"asked": answered, "answered": answered, "failed": 0, "k": k, "rate": rate,
            "ci_low": low, "ci_high": high}  # fmt: skip


def test_justification_points_one_point_per_cell_with_a_value():
    block = {
        "choices": {"scored": 12},
        "agreement": mean_cell(0.6, 6, 0.4, 0.8),
        "by_frame": {"a$x$": mean_cell(0.7, 3, 0.5, 0.9), "b": mean_cell(0.5, 3, 0.2, 0.8)},
        "by_version": {"base": mean_cell(0.7, 3, 0.5, 0.9)},
        "by_choice": {"rule": mean_cell(0.9, 4, 0.8, 1.0), "other": mean_cell(None, 0)},
        "matches_rule": share_cell(8, 12),
        "says_rule_does_other": share_cell(1, 4),
        "variants": {"pairs": 0, "choice_changed": share_cell(0, 0)},
    }
    fig = justification_points(block)
    drawn(fig)
    left, right = fig.axes
    ((x, y),) = errorbar_points(left)
    assert len(left.get_yticklabels()) == 6  # the null "other" cell keeps its row
    assert sorted(x.tolist()) == [0.5, 0.6, 0.7, 0.7, 0.9]
    ticks = [t.get_text() for t in left.get_yticklabels()]
    assert "frame a$x$ (3 agents)" in ticks  # frame ids are drawn literally
    ((x, _),) = errorbar_points(right)
    assert x.tolist() == pytest.approx([8 / 12, 0.25])  # the empty pair share is not drawn
    whiskers = left.containers[0].lines[2][0].get_segments()
    assert [tuple(s[:, 0]) for s in whiskers][0] == pytest.approx((0.4, 0.8))


def test_the_figure_draws_at_most_max_frames_frames_and_the_table_every_one():
    frames = {f"f{i:02d}": mean_cell(i / 30, 2, 0.0, 1.0) for i in range(MAX_FRAMES + 5)}
    block = {"agreement": mean_cell(0.5, 4, 0.3, 0.7), "by_frame": frames}
    ((x, _),) = errorbar_points(justification_points(block).axes[0])
    assert len(x) == 1 + MAX_FRAMES
    every = justification_cells(block, max_frames=None)
    assert every["key"].str.startswith("by_frame.").sum() == MAX_FRAMES + 5


def test_justification_points_without_scores_says_why():
    fig = justification_points({"agreement": mean_cell(None, 0), "reason": NO_JUSTIFICATION})
    left = fig.axes[0]
    assert not left.axison and not left.containers
    assert "rule agents give a fixed" in " ".join(t.get_text() for t in left.texts)
    assert not fig.axes[1].axison and justification_cells(None).empty


def test_variant_adherence_pairs_points_and_skips_unanswered_frames():
    rows = []
    for variant, base, (kb, nb), (kv, nv) in (
        ("v1", "b1", (3, 4), (1, 4)),
        ("tip $5", "b2", (2, 2), (0, 0)),  # the variant had no answered choice
    ):
        for version, frame, (k, n) in (("base", base, (kb, nb)), ("variant", variant, (kv, nv))):
            cell = share_cell(k, n)
            rows.append({"base": base, "variant": variant, "version": version,
                         "frame_id": frame, **cell})  # fmt: skip
    table = pd.DataFrame(rows).astype({"rate": float, "ci_low": float, "ci_high": float})
    fig = variant_adherence(table)
    drawn(fig)
    ax = fig.axes[0]
    (bx, by), (vx, vy) = errorbar_points(ax)
    assert by.tolist() == [0.75, 1.0] and vy.tolist() == [0.25]
    assert bx.tolist() == pytest.approx([-0.12, 0.88]) and vx.tolist() == pytest.approx([0.12])
    joins = [line for line in ax.lines if line.get_color() == "0.6"]
    assert len(joins) == 1  # only the pair with both frames answered is joined
    assert [t.get_text() for t in ax.get_xticklabels()] == ["v1\nvs b1", "tip $5\nvs b2"]
    assert not variant_adherence(table.iloc[0:0]).axes[0].axison


# --- network growth ----------------------------------------------------------------------------
def growth_cfg(tmp_path):
    params = {"initial": 5, "joiners_per_step": 5, "follows_per_join": 2, "candidates": 0}
    return ss.ExperimentConfig.from_dict(
        {
            "name": "growth-figs",
            "seed": 3,
            "steps": 7,
            "population": {"size": 40},
            "network": {"kind": "erdos_renyi", "params": {"p": 0.0}, "directed": True},
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "network_growth", "params": params},
            "analysis": {"measures": {"network_growth": {"resamples": 200}}},
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )


@pytest.fixture(scope="module")
def growth_run(tmp_path_factory):
    return load_run(ss.run(growth_cfg(tmp_path_factory.mktemp("growth"))).dir)


def test_the_growth_part_draws_the_attachment_exponent_and_gain(growth_run):
    figs, tables = Figures(), []
    attachment_part(growth_run, figs, tables)
    assert list(figs.added) == ["growth_attachment", "growth_gain"]
    attachment = growth_run.summary["measures"]["network_growth"]["attachment"]
    fit = attachment["exponent"]
    assert fit["exponent"] is not None and fit["interval"]["resamples"] == 200
    fig, text = figs.added["growth_attachment"]
    assert f"alpha = {fit['exponent']:.2f}" in text
    assert f"interval {fit['ci_low']:.2f} to {fit['ci_high']:.2f}" in text
    assert f"over {fit['agents']} agents and {fit['follows']} follows" in text
    (points,) = [line for line in fig.axes[0].lines if line.get_marker() == "o"]
    drawn_rates = [b["rate"] for b in fit["bins"] if b["follows"]]
    assert points.get_ydata().tolist() == pytest.approx(drawn_rates)
    fig, text = figs.added["growth_gain"]
    gain = attachment["gain"]
    assert f"over the {gain['agents']} agents joined by step {gain['split']}" in text
    ((x, _),) = errorbar_points(fig.axes[0])
    assert x.tolist() == [gain["prior_in_degree"]["rho"]]  # rule agents: activity is constant
    assert [title for title, _ in tables] == [
        "Attachment by in-degree bin",
        "Follows received after the split: correlations",
    ]
    empty = Figures()
    attachment_part(RunData(), empty, [])
    assert empty.added == {}


def test_without_follows_the_attachment_figure_is_skipped_with_its_reason(growth_run):
    events = growth_run.events
    follows = payload(events, "type").isin(["follow", "unfollow"]).to_numpy(dtype=bool)
    unfollowed = events[~follows]
    figs, tables = Figures(), []
    attachment_part(RunData(events=unfollowed, personas=growth_run.personas), figs, tables)
    assert "growth_attachment" not in figs.added
    note = dict(tables)["Attachment by in-degree bin"]
    assert note["figure"].tolist() == ["growth_attachment not drawn"]
    assert "1 follow to fit" in note["reason"].iloc[0]
    fig, _ = figs.added["growth_gain"]  # no follows: nothing correlates, each row says why
    assert not fig.axes[0].containers
    assert [t.get_text() for t in fig.axes[0].texts] == [
        "not computed: prior in-degree is constant",
        "not computed: activity is constant",
    ]


@pytest.mark.slow
def test_the_growth_report_shows_the_attachment_figures(growth_run):
    page = write_report(growth_run.dir).read_text(encoding="utf-8")
    fit = growth_run.summary["measures"]["network_growth"]["attachment"]["exponent"]
    assert f"alpha = {fit['exponent']:.2f}" in caption(page, "growth_attachment")
    assert "Fisher-z 95%" in caption(page, "growth_gain")
    assert "<img" in figure_block(page, "growth_attachment")
    assert "Attachment by in-degree bin" in page and "not drawn (" not in page


def test_attachment_bins_are_the_fitted_bins(growth_run):
    run = load_run(growth_run.dir)
    bins = attachment_bins(run.events, run.n_agents)
    fitted = pd.DataFrame(attachment_exponent(run.events, run.n_agents, resamples=100)["bins"])
    for col in ("k_low", "k_high", "exposure", "follows", "rate"):
        assert bins[col].tolist() == pytest.approx(fitted[col].tolist(), nan_ok=True), col
    used = bins[bins["exposure"] > 0]
    assert (used["k1"] >= used["k_low"] + 1 - 1e-9).all()
    assert (used["k1"] <= used["k_high"] + 1 + 1e-9).all()
    assert len(used) >= 3  # a fit needs 2 bins: the run is big enough to test something


def test_attachment_rates_draws_bins_with_follows_and_the_fitted_slope():
    bins = pd.DataFrame(
        {
            "k_low": [0, 1, 3, 7],
            "k_high": [0, 2, 6, 14],
            "k1": [1.0, 2.2, 4.6, 9.5],
            "exposure": [40.0, 20.0, 10.0, 2.0],
            "follows": [10, 10, 12, 0],
        }  # fmt: skip
    )
    fit = {"exponent": 0.8, "ci_low": 0.5, "ci_high": 1.1, "agents": 30, "follows": 32}
    fig = attachment_rates(bins, fit)
    drawn(fig)
    ax = fig.axes[0]
    points = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(points) == 1 and points[0].get_xdata().tolist() == [1.0, 2.2, 4.6]
    assert points[0].get_ydata().tolist() == pytest.approx([0.25, 0.5, 1.2])
    (line,) = [line for line in ax.lines if line.get_linestyle() == "-"]
    x, y = line.get_xdata(), line.get_ydata()
    assert np.log(y[-1] / y[0]) / np.log(x[-1] / x[0]) == pytest.approx(0.8)
    # the Poisson intercept: expected follows over the bins equal the observed 32
    scale = y[0] / x[0] ** 0.8
    assert (bins["exposure"] * scale * bins["k1"] ** 0.8).sum() == pytest.approx(32)
    assert x.min() == pytest.approx(1.0) and x.max() == pytest.approx(9.5)
    assert "without follows not drawn" in ax.get_legend().get_texts()[0].get_text()
    nofit = attachment_rates(bins.drop(columns="k1"), {"exponent": None, "reason": "too few"})
    ax = nofit.axes[0]
    assert [line.get_marker() for line in ax.lines] == ["o"]
    assert ax.lines[0].get_xdata()[1] == pytest.approx(np.sqrt(2 * 3))  # the bin's midpoint
    assert "no fit: too few" in ax.get_title()
    assert not attachment_rates(bins.iloc[0:0]).axes[0].axison


def test_gain_intervals_draws_each_rho_and_names_the_missing_one():
    gain = {
        "split": 5,
        "agents": 30,
        "prior_in_degree": {"n": 30, "rho": 0.6, "ci_low": 0.3, "ci_high": 0.8},
        "activity": {"n": 30, "rho": None, "reason": "activity is constant"},
    }
    fig = gain_intervals(gain)
    drawn(fig)
    ax = fig.axes[0]
    ((x, y),) = errorbar_points(ax)
    assert x.tolist() == [0.6]
    segments = ax.containers[0].lines[2][0].get_segments()
    assert tuple(segments[0][:, 0]) == pytest.approx((0.3, 0.8))
    assert ["not computed: activity is constant"] == [t.get_text() for t in ax.texts]
    assert "split at step 5" in ax.get_title()
    table = gain_table(gain)
    assert table["rho"].tolist()[0] == 0.6 and table["note"].tolist()[1] == "activity is constant"
    assert not gain_intervals({}).axes[0].axison

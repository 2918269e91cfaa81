import matplotlib
import networkx as nx
import pandas as pd
import pytest
from matplotlib.figure import Figure

from socialsim.analysis import plots
from socialsim.scenarios.collaboration.plots import gap_matrix
from socialsim.scenarios.norms.plots import adherence_bars


def test_every_plot_returns_a_figure_and_keeps_the_backend(tmp_path):
    backend = matplotlib.get_backend()
    curves = pd.DataFrame(
        {"step": [0, 1, 0, 1], "share": [0.1, 0.5, 0.2, 0.7], "seed": [1, 1, 2, 2]}
    )
    tree = nx.DiGraph([(0, 1), (0, 2), (2, 3)])
    tree.graph["root"] = 0
    wide = pd.DataFrame([[0.1, 0.9, 0.5], [0.6, 0.9, 0.7]], index=[0, 1], columns=[0, 1, 2])
    table = pd.DataFrame(
        {"culture": ["X", "Y"], "rate": [0.8, 0.4], "ci_low": [0.6, 0.2], "ci_high": [0.9, 0.6]}
    )
    matrix = pd.DataFrame([[0.5, 0.2], [0.3, 0.9]], index=["a", "b"], columns=["a", "b"])
    results = pd.DataFrame({"k": [2, 2, 4, 4], "seed": [1, 2, 1, 2], "m": [0.1, 0.2, 0.5, 0.7]})
    figures = [
        plots.adoption_curves(curves),
        plots.network_credence(nx.path_graph(3), wide, steps=[0, 1]),
        plots.cascade_tree(tree),
        plots.stance_distributions([0.1, 0.2], [0.8, 0.9]),
        adherence_bars(table, "culture"),
        gap_matrix(matrix),
        plots.sweep_plot(results, "k", "m"),
        plots.sweep_plot(results.assign(k=["a", "a", "b", "b"]), "k", "m"),
        plots.adoption_curves(pd.DataFrame()),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    assert plots.save(figures[0], tmp_path / "f.png").stat().st_size > 0
    assert matplotlib.get_backend() == backend


def test_adoption_band_only_with_several_seeds():
    curves = pd.DataFrame(
        {"step": [0, 1, 0, 1], "share": [0.1, 0.5, 0.2, 0.7], "seed": [1, 1, 2, 2]}
    )
    ax = plots.adoption_curves(curves).axes[0]
    assert len(ax.collections) == 0  # two seeds: no band, as no effect interval from 2
    assert list(ax.lines[0].get_ydata()) == pytest.approx([0.15, 0.6])
    third = pd.DataFrame({"step": [0, 1], "share": [0.3, 0.6], "seed": [3, 3]})
    ax = plots.adoption_curves(pd.concat([curves, third])).axes[0]
    assert len(ax.collections) == 1  # the band, from 3 seeds


def test_every_new_plot_returns_a_figure():
    by_step = pd.DataFrame({"step": [0, 1, 2], "calls": [4, 4, 4], "unusable": [0, 1, 0]})
    values = pd.DataFrame({"arm": ["treatment", "control"] * 2, "value": [0.8, 0.2, 0.6, 0.4]})
    figures = [
        plots.series_by_step(by_step, ["calls", "unusable"]),
        plots.series_by_step(pd.DataFrame(), ["calls"]),
        plots.arm_values(values),
        plots.arm_values(pd.DataFrame()),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    assert [line.get_label() for line in figures[0].axes[0].lines] == ["calls", "unusable"]


def test_downsample_keeps_evenly_spaced_steps_and_the_ends():
    frame = pd.DataFrame({"step": list(range(10)) * 2, "seed": [1] * 10 + [2] * 10})
    kept = plots.downsample(frame, max_points=4)
    # positions round(linspace(0, 9, 4)) = 0, 3, 6, 9; every seed keeps the same steps
    assert sorted(kept["step"].unique()) == [0, 3, 6, 9]
    assert len(kept) == 8
    assert plots.downsample(frame, max_points=10) is frame


def test_long_adoption_series_are_drawn_downsampled():
    curves = pd.DataFrame({"step": range(5000), "share": [0.5] * 5000})
    line = plots.adoption_curves(curves, max_points=200).axes[0].lines[0]
    assert len(line.get_xdata()) == 200
    assert line.get_xdata()[0] == 0 and line.get_xdata()[-1] == 4999


def test_arm_values_marks_each_arm_mean():
    values = pd.DataFrame(
        {"arm": ["treatment", "control", "treatment", "control"], "value": [0.8, 0.2, 0.6, 0.4]}
    )
    ax = plots.arm_values(values).axes[0]
    means = ax.lines[0].get_ydata()  # the error bar's centre points, arms in order of appearance
    assert list(means) == pytest.approx([0.7, 0.3])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["treatment", "control"]


def test_network_sample_is_bounded_seeded_and_starts_at_the_given_nodes():
    graph = nx.barabasi_albert_graph(5000, 3, seed=1)
    a = plots.network_sample(graph, max_nodes=300, seed=4, start=[4999, 17])
    b = plots.network_sample(graph, max_nodes=300, seed=4, start=[4999, 17])
    assert a.number_of_nodes() == 300
    assert set(a.nodes) == set(b.nodes)
    assert {4999, 17} <= set(a.nodes)
    # a snowball keeps edges: far more than a uniform sample of 300 of 5000 nodes would
    assert a.number_of_edges() > 300
    # every sampled edge is an edge of the graph
    assert all(graph.has_edge(u, v) for u, v in a.edges)
    small = nx.path_graph(10)
    assert plots.network_sample(small, max_nodes=300) is small


def test_network_sample_of_a_graph_of_isolated_nodes_still_fills():
    graph = nx.empty_graph(1000)
    sample = plots.network_sample(graph, max_nodes=50, seed=0)
    assert sample.number_of_nodes() == 50


def test_network_credence_outlines_highlighted_nodes():
    graph = nx.path_graph(4)
    wide = pd.DataFrame([[0.1, 0.9, 0.5, 0.2]], index=[0], columns=[0, 1, 2, 3])
    fig = plots.network_credence(graph, wide, steps=[0], highlight=[1, 7])
    ax = fig.axes[0]
    assert len(ax.collections) == 3  # edges, every node, the highlighted node
    assert ax.collections[2].get_offsets().shape == (1, 2)


def test_cascade_tree_draws_at_most_max_nodes():
    tree = nx.bfs_tree(nx.balanced_tree(3, 5), 0)  # 364 nodes
    tree.graph["root"] = 0
    ax = plots.cascade_tree(tree, max_nodes=40).axes[0]
    assert ax.collections[0].get_offsets().shape[0] == 40
    assert ax.get_title() == "cascade from 0 (364 agents, first 40 drawn)"


LONG = "Share of benign agents believing the false claim (australia_capital) at the end of the run"


def _title_fits(fig):
    fig.canvas.draw()
    title = fig.axes[0].title
    box = title.get_window_extent(fig.canvas.get_renderer())
    return box.x0 >= 0 and box.x1 <= fig.bbox.width and "\n" in title.get_text()


def test_long_titles_are_wrapped_to_fit_the_figure():
    curves = pd.DataFrame({"step": [0, 1], "share": [0.1, 0.5]})
    values = pd.DataFrame({"arm": ["treatment", "control"], "value": [0.8, 0.2]})
    results = pd.DataFrame({"k": [2, 4], "seed": [1, 1], "m": [0.1, 0.5]})
    key = "claims.australia_capital.probes_benign.direct.manipulated_share"
    figures = [
        plots.adoption_curves(curves, title=LONG),
        plots.arm_values(values, title=LONG),
        plots.series_by_step(curves, ["share"], LONG + " " + LONG),
    ]
    for fig in figures:
        assert _title_fits(fig)
    results = results.rename(columns={"k": "population.size", "m": key})
    fig = plots.sweep_plot(results, "population.size", key)
    assert _title_fits(fig)
    assert fig.axes[0].title.get_text().replace("\n", "").startswith(key)


def test_wrap_text_breaks_long_keys_at_dots_and_keeps_every_character():
    key = "claims.australia_capital.adoption_benign.final_reach"
    lines = plots.wrap_text(key, 20)
    assert all(len(line) <= 20 for line in lines)
    assert "".join(lines) == key
    assert lines == ["claims.australia_", "capital.adoption_", "benign.final_reach"]
    assert plots.wrap_text("a short title", 40) == ["a short title"]
    assert plots.wrap_text("one two three", 8) == ["one two", "three"]


def test_a_title_past_three_lines_ends_with_an_ellipsis():
    fig = plots.adoption_curves(pd.DataFrame(), title=" ".join([LONG] * 4))
    ax = fig.axes[0]
    plots.fit_title(ax, " ".join([LONG] * 4))
    text = ax.title.get_text()
    assert text.count("\n") == 2 and text.endswith("...")


def test_probe_answers_draws_one_bar_per_distance_and_step():
    table = pd.DataFrame(
        {
            "when": ["step 1", "step 1", "all steps", "all steps"],
            "distance": ["direct", "indirect", "direct", "indirect"],
            "share": [0.2, 0.4, 0.3, 0.5],
            "ci_low": [0.1, 0.2, 0.2, 0.3],
            "ci_high": [0.4, 0.6, 0.4, 0.7],
        }
    )
    ax = plots.probe_answers(table, title="probes").axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.2, 0.3, 0.4, 0.5])  # direct bars, then indirect
    assert [t.get_text() for t in ax.get_xticklabels()] == ["step 1", "all steps"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["direct", "indirect"]
    assert not plots.probe_answers(pd.DataFrame()).axes[0].axison

import matplotlib
import networkx as nx
import pandas as pd
import pytest
from matplotlib.figure import Figure

from socialsim.analysis import plots


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
        plots.adherence_bars(table, "culture"),
        plots.gap_matrix(matrix),
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
    assert len(ax.collections) == 1  # the band
    assert list(ax.lines[0].get_ydata()) == pytest.approx([0.15, 0.6])

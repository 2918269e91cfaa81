import matplotlib
import numpy as np
import pandas as pd

from socialsim.dashboard.figures import (
    ADOPTION_TITLE,
    adoption_curve,
    adoption_figure,
    network_figure,
    node_colours,
)
from socialsim.dashboard.layout import network_layout


def test_node_colours_run_from_blue_to_red():
    colours = node_colours(np.array([0.0, 1.0, np.nan]))
    blue, red, grey = colours
    assert blue[2] > blue[0]  # 0: more blue than red
    assert red[0] > red[2]  # 1: more red than blue
    assert np.allclose(grey[:3], 0.85)


def test_network_figure_colours_each_drawn_agent_by_its_credence():
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]])
    layout = network_layout(5, edges, seed=1)
    credences = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    fig = network_figure(layout, credences, "c1")
    scatter = [
        c for c in fig.axes[0].collections if isinstance(c, matplotlib.collections.PathCollection)
    ]
    assert len(scatter) == 1
    assert np.allclose(scatter[0].get_facecolors(), node_colours(credences[layout.nodes]))
    assert np.allclose(scatter[0].get_offsets(), layout.xy)


def test_adoption_figure_has_one_point_per_step():
    curve = pd.DataFrame(
        {"step": [0, 1, 2, 3], "adoption": [0.1, 0.2, 0.5, 0.6], "mean_credence": [0.3] * 4}
    )
    fig = adoption_figure(curve, "c1", last_step=10)
    ax = fig.axes[0]
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [4, 4]
    assert list(ax.get_lines()[0].get_ydata()) == [0.1, 0.2, 0.5, 0.6]
    assert ax.get_title().startswith(ADOPTION_TITLE)
    assert ax.get_xlim()[1] == 10


def test_adoption_curve_leaves_out_absent_and_unrecorded_agents():
    credences = np.array([[0.2, 0.6, 0.9], [0.7, np.nan, 0.1]])
    present = np.array([[True, True, False], [True, True, True]])
    curve = adoption_curve(credences, np.array([0, 1]), present)
    assert curve["adoption"].tolist() == [0.5, 0.5]
    assert np.allclose(curve["mean_credence"], [0.4, 0.4])

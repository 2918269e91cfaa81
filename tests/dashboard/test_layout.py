import numpy as np

from socialsim.dashboard.layout import network_layout


def _ring(n):
    return np.column_stack([np.arange(n), (np.arange(n) + 1) % n])


def test_layout_is_seeded():
    a = network_layout(30, _ring(30), seed=5)
    b = network_layout(30, _ring(30), seed=5)
    c = network_layout(30, _ring(30), seed=6)
    assert np.array_equal(a.xy, b.xy)
    assert not np.allclose(a.xy, c.xy)
    assert not a.sampled and len(a.edges) == 30


def test_layout_draws_a_seeded_sample_above_the_cap():
    layout = network_layout(50, _ring(50), seed=1, cap=20)
    assert layout.sampled and len(layout.nodes) == 20 and layout.xy.shape == (20, 2)
    drawn = set(layout.nodes.tolist())
    for a, b in layout.edges:  # edges index the drawn nodes; both ends are drawn ring edges
        u, v = layout.nodes[a], layout.nodes[b]
        assert u in drawn and v in drawn and (abs(u - v) in (1, 49))
    assert np.array_equal(layout.nodes, network_layout(50, _ring(50), seed=1, cap=20).nodes)

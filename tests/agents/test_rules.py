"""Rule policies against closed-form results and hand-worked cases."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from socialsim.agents.policies import RuleContext, RuleUpdate, create_rule_policy, rule_policies
from socialsim.core.errors import ConfigError
from socialsim.core.network import Network


def make_ctx(graph: nx.Graph, credence, seed: int = 0, **kwargs) -> RuleContext:
    """A context over `graph` (nodes 0..N-1) where every agent is a member and acts."""
    n = graph.number_of_nodes()
    adj = nx.to_scipy_sparse_array(graph, nodelist=range(n), format="csr")
    x = np.asarray(credence, dtype=float)
    x = x.reshape(n, -1) if x.ndim == 1 else x
    return RuleContext(
        credence=x.copy(),
        indptr=adj.indptr,
        indices=adj.indices,
        members=kwargs.pop("members", np.ones(n, dtype=bool)),
        active=kwargs.pop("active", np.ones(n, dtype=bool)),
        rng=np.random.default_rng(seed),
        step=0,
        claim_ids=[f"c{i}" for i in range(x.shape[1])],
        **kwargs,
    )


def apply(ctx: RuleContext, update: RuleUpdate) -> None:
    """What the model does with an update: write its entries in order and advance the step.

    Sequential schedules may list one cell several times; its last entry is its new value.
    """
    cells = zip(update.agents.tolist(), update.claims.tolist(), update.new.tolist(), strict=True)
    for a, c, v in cells:
        ctx.credence[a, c] = v
    ctx.step += 1


def run(rule, ctx: RuleContext, steps: int) -> int:
    """Run up to `steps` steps; return how many changed anything."""
    rule.setup(ctx)
    moving = 0
    for _ in range(steps):
        update = rule.update(ctx)
        if len(update.agents) == 0:
            break
        apply(ctx, update)
        moving += 1
    return moving


def closed_weights(graph: nx.Graph) -> np.ndarray:
    """Row-stochastic W: equal weights over each closed neighbourhood."""
    a = nx.to_numpy_array(graph, nodelist=range(graph.number_of_nodes())) + np.eye(
        graph.number_of_nodes()
    )
    return a / a.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- parameters and initial values


def test_registry_has_every_rule_by_name():
    assert set(rule_policies()) >= {
        "degroot",
        "friedkin_johnsen",
        "deffuant",
        "hegselmann_krause",
        "voter",
        "independent_cascade",
        "linear_threshold",
    }
    for name, cls in rule_policies().items():
        assert create_rule_policy(name, {}).name == name
        assert isinstance(create_rule_policy(name), cls)


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("deffuant", {"epsilon": -1}, "agents.params.epsilon: -1 must be > 0"),
        ("deffuant", {"mu": 0.7}, "agents.params.mu: 0.7 must be <= 0.5"),
        ("deffuant", {"epsilon": "wide"}, "agents.params.epsilon: 'wide' must be a number"),
        (
            "voter",
            {"initial": "random"},
            "agents.params.initial: 'random' must be 'uniform', 'seeded' or a number",
        ),
        ("voter", {"initial": 1.5}, "agents.params.initial: 1.5 must be"),
        (
            "voter",
            {"schedule": "random"},
            "agents.params.schedule: 'random' must be 'asynchronous' or 'synchronous'",
        ),
        (
            "deffuant",
            {"schedule": "async"},
            "agents.params.schedule: 'async' must be 'pairwise' or 'synchronous'",
        ),
        (
            "voter",
            {"p": 0.1},
            "agents.params.p: unknown parameter of policy voter; allowed: initial, seed_fraction, schedule",
        ),
        ("independent_cascade", {"p": 2}, "agents.params.p: 2 must be <= 1"),
        (
            "independent_cascade",
            {"q": 0.1},
            "agents.params.q: unknown parameter of policy independent_cascade; allowed: initial, seed_fraction, p",
        ),
        (
            "linear_threshold",
            {"threshold": "high"},
            "agents.params.threshold: 'high' must be 'uniform' or a number",
        ),
        (
            "friedkin_johnsen",
            {"stubbornness": -0.1},
            "agents.params.stubbornness: -0.1 must be 'persona'",
        ),
        ("hegselmann_krause", {"seed_fraction": 3}, "agents.params.seed_fraction: 3 must be <= 1"),
    ],
)
def test_bad_params_raise_one_line_config_error(name, params, expected):
    with pytest.raises(ConfigError) as info:
        create_rule_policy(name, params)
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_unknown_rule_name_lists_the_rules():
    with pytest.raises(
        ConfigError, match="agents.policy: .majority. is not one of deffuant, degroot"
    ):
        create_rule_policy("majority", {})


def test_initial_credences_uniform_constant_and_seeded():
    rng = np.random.default_rng(3)
    uniform = create_rule_policy("degroot", {"initial": "uniform"}).initial_credences(500, 2, rng)
    assert uniform.shape == (500, 2)
    assert 0.0 <= uniform.min() and uniform.max() <= 1.0 and 0.4 < uniform.mean() < 0.6
    constant = create_rule_policy("degroot", {"initial": 0.25}).initial_credences(4, 3, rng)
    assert np.all(constant == 0.25)
    seeded = create_rule_policy(
        "voter", {"initial": "seeded", "seed_fraction": 0.1}
    ).initial_credences(95, 2, rng)
    assert set(np.unique(seeded)) == {0.0, 1.0}
    assert list(seeded.sum(axis=0)) == [10.0, 10.0]  # round(9.5) per claim
    tiny = create_rule_policy("independent_cascade", {"seed_fraction": 0.001}).initial_credences(
        50, 1, rng
    )
    assert tiny.sum() == 1.0  # at least one seed when the fraction is positive
    none = create_rule_policy("independent_cascade", {"seed_fraction": 0.0}).initial_credences(
        50, 1, rng
    )
    assert none.sum() == 0.0


@pytest.mark.parametrize("name", sorted(rule_policies()))
def test_every_rule_leaves_non_members_isolated_agents_and_empty_claim_sets_alone(name):
    rng_values = np.random.default_rng(0).random((5, 2))
    cases = [
        make_ctx(nx.path_graph(5), rng_values, members=np.zeros(5, dtype=bool)),
        make_ctx(nx.path_graph(5), np.zeros((5, 0))),
        make_ctx(nx.empty_graph(3), [1.0, 0.0, 0.6]),
    ]
    for ctx in cases:
        rule = create_rule_policy(name, {})
        rule.setup(ctx)
        update = rule.update(ctx)
        assert (
            len(update.agents) == len(update.claims) == len(update.new) == len(update.source) == 0
        )


# ---------------------------------------------------------------- DeGroot and Friedkin-Johnsen


def test_degroot_converges_to_stationary_weighted_average():
    graph = nx.connected_watts_strogatz_graph(25, 4, 0.3, seed=2)
    x0 = np.random.default_rng(0).random((25, 2))
    ctx = make_ctx(graph, x0)
    run(create_rule_policy("degroot", {}), ctx, 5000)
    deg = np.array([graph.degree(i) for i in range(25)], dtype=float)
    pi = (deg + 1) / (deg + 1).sum()
    np.testing.assert_allclose(ctx.credence, np.broadcast_to(pi @ x0, (25, 2)), atol=1e-9)


def test_degroot_one_step_matches_matrix_and_self_weight():
    graph = nx.path_graph(3)
    ctx = make_ctx(graph, [0.0, 1.0, 0.0])
    update = create_rule_policy("degroot", {}).update(ctx)
    expected = closed_weights(graph) @ np.array([0.0, 1.0, 0.0])
    assert list(update.agents) == [0, 1, 2] and list(update.source) == [-1, -1, -1]
    np.testing.assert_allclose(update.new, expected)
    update = create_rule_policy("degroot", {"self_weight": 0.8}).update(ctx)
    np.testing.assert_allclose(update.new, [0.2, 0.8, 0.2])  # 0.8 own + 0.2 mean of neighbours


def test_update_does_not_write_credence_and_respects_active_and_present():
    graph = nx.path_graph(4)
    ctx = make_ctx(graph, [1.0, 0.0, 0.0, 0.0], active=np.array([True, True, False, True]))
    before = ctx.credence.copy()
    update = create_rule_policy("degroot", {}).update(ctx)
    assert np.array_equal(ctx.credence, before)
    assert 2 not in update.agents  # not acting this step
    assert 3 not in update.agents  # nothing moved: its neighbourhood is all 0
    ctx.present = np.array([False, True, True, True])
    update = create_rule_policy("degroot", {}).update(ctx)
    assert len(update.agents) == 0  # the only believer is absent: no influence, no update


def test_friedkin_johnsen_reaches_closed_form_fixed_point():
    graph = nx.connected_watts_strogatz_graph(20, 4, 0.2, seed=5)
    x0 = np.random.default_rng(1).random((20, 2))
    stubborn = np.random.default_rng(2).random(20)
    w = closed_weights(graph)
    for params, s in (
        ({"stubbornness": 0.4}, np.full(20, 0.4)),
        ({"stubbornness": "persona"}, stubborn),
    ):
        ctx = make_ctx(graph, x0, extra={"stubbornness": stubborn})
        run(create_rule_policy("friedkin_johnsen", params), ctx, 5000)
        lam = np.diag(1.0 - s)
        expected = np.linalg.solve(np.eye(20) - lam @ w, (np.eye(20) - lam) @ x0)
        np.testing.assert_allclose(ctx.credence, expected, atol=1e-9)


def test_friedkin_johnsen_fully_stubborn_agents_never_move():
    ctx = make_ctx(nx.complete_graph(3), [0.0, 0.5, 1.0])
    assert (
        len(create_rule_policy("friedkin_johnsen", {"stubbornness": 1.0}).update(ctx).agents) == 0
    )


# ---------------------------------------------------------------- bounded confidence


def test_deffuant_pairwise_update_is_exact():
    graph = nx.path_graph(2)
    ctx = make_ctx(graph, [0.3, 0.4], active=np.array([True, False]))  # one encounter
    update = create_rule_policy("deffuant", {"epsilon": 0.2, "mu": 0.3}).update(ctx)
    assert list(update.agents) == [0, 1] and list(update.source) == [1, 0]
    np.testing.assert_allclose(update.new, [0.33, 0.37])
    ctx.active[:] = True  # two encounters: the second starts from the first's result
    update = create_rule_policy("deffuant", {"epsilon": 0.2, "mu": 0.3}).update(ctx)
    np.testing.assert_allclose(sorted(update.new[2:]), [0.342, 0.358])
    # synchronous rounds: each agent starts one encounter; one net change per agent
    rule = create_rule_policy("deffuant", {"epsilon": 0.2, "mu": 0.3, "schedule": "synchronous"})
    update = rule.update(ctx)
    np.testing.assert_allclose(update.new, [0.342, 0.358])
    far = make_ctx(graph, [0.0, 0.5])
    assert len(create_rule_policy("deffuant", {"epsilon": 0.2}).update(far).agents) == 0


def test_deffuant_conserves_mass_and_spares_non_members():
    graph = nx.erdos_renyi_graph(60, 0.1, seed=4)
    ctx = make_ctx(graph, np.random.default_rng(4).random((60, 3)), seed=9)
    total = ctx.credence.sum(axis=0)
    rule = create_rule_policy("deffuant", {"epsilon": 0.3, "mu": 0.5})
    run(rule, ctx, 30)
    np.testing.assert_allclose(ctx.credence.sum(axis=0), total, atol=1e-9)
    pair = make_ctx(nx.path_graph(2), [0.3, 0.4], members=np.array([True, False]))
    update = rule.update(pair)
    assert list(update.agents) == [0]
    np.testing.assert_allclose(update.new, [0.35])


def test_hegselmann_krause_splits_into_two_clusters_in_one_step():
    ctx = make_ctx(nx.complete_graph(4), [0.0, 0.1, 0.9, 1.0])
    update = create_rule_policy("hegselmann_krause", {"epsilon": 0.2}).update(ctx)
    apply(ctx, update)
    np.testing.assert_allclose(ctx.credence[:, 0], [0.05, 0.05, 0.95, 0.95])
    assert len(create_rule_policy("hegselmann_krause", {"epsilon": 0.2}).update(ctx).agents) == 0


def test_hegselmann_krause_uses_only_neighbours_within_epsilon():
    ctx = make_ctx(nx.star_graph(3), [0.5, 0.6, 0.3, 0.95])  # centre 0, leaves 1..3
    update = create_rule_policy("hegselmann_krause", {"epsilon": 0.2}).update(ctx)
    new = dict(zip(update.agents.tolist(), update.new.tolist(), strict=True))
    assert new[0] == pytest.approx((0.5 + 0.6 + 0.3) / 3)  # 0.95 is out of range
    assert new[1] == pytest.approx(0.55) and new[2] == pytest.approx(0.4) and 3 not in new


# ---------------------------------------------------------------- voter


@pytest.mark.parametrize("schedule", ["asynchronous", "synchronous"])
def test_voter_copies_a_neighbour_and_reaches_consensus(schedule):
    graph = nx.connected_watts_strogatz_graph(30, 4, 0.3, seed=7)
    x0 = (np.arange(30) % 2).astype(float)
    ctx = make_ctx(graph, x0, seed=1)
    rule = create_rule_policy("voter", {"schedule": schedule})
    update = rule.update(ctx)
    x = ctx.credence.copy()
    for agent, value, source in zip(update.agents, update.new, update.source, strict=True):
        assert graph.has_edge(agent, source) and x[source, 0] == value != x[agent, 0]
        if schedule == "asynchronous":
            x[agent, 0] = value  # later copies read earlier ones
    steps = run(rule, ctx, 100_000)
    assert steps < 100_000
    assert len(np.unique(ctx.credence)) == 1


@pytest.mark.parametrize("schedule", ["asynchronous", "synchronous"])
def test_voter_absorbs_at_one_with_the_initial_fraction_on_complete_graphs(schedule):
    runs = 2000  # 2,000 independent copies of K_6, two believers in each
    graph = nx.disjoint_union_all([nx.complete_graph(6)] * runs)
    x0 = np.tile([1.0, 1.0, 0.0, 0.0, 0.0, 0.0], runs)
    ctx = make_ctx(graph, x0, seed=11)
    run(create_rule_policy("voter", {"schedule": schedule}), ctx, 100_000)
    per_copy = ctx.credence[:, 0].reshape(runs, 6)
    assert np.all(per_copy.min(axis=1) == per_copy.max(axis=1))  # every copy absorbed
    share = per_copy[:, 0].mean()
    sigma = np.sqrt((1 / 3) * (2 / 3) / runs)
    assert abs(share - 1 / 3) < 4 * sigma


# ---------------------------------------------------------------- independent cascade


def test_cascade_with_p_one_covers_the_component_in_eccentricity_steps():
    graph = nx.disjoint_union(nx.path_graph(8), nx.path_graph(3))
    x0 = np.zeros(11)
    x0[2] = 1.0
    ctx = make_ctx(graph, x0)
    rule = create_rule_policy("independent_cascade", {"p": 1.0})
    steps = run(rule, ctx, 100)
    eccentricity = max(nx.single_source_shortest_path_length(graph, 2).values())
    assert steps == eccentricity == 5
    assert list(ctx.credence[:, 0]) == [1.0] * 8 + [0.0] * 3


def test_cascade_sources_are_the_newly_active_neighbours():
    ctx = make_ctx(nx.path_graph(4), [0.0, 1.0, 0.0, 0.0])
    rule = create_rule_policy("independent_cascade", {"p": 1.0})
    rule.setup(ctx)
    first = rule.update(ctx)
    assert sorted(zip(first.agents.tolist(), first.source.tolist(), strict=True)) == [
        (0, 1),
        (2, 1),
    ]
    assert np.all(first.new == 1.0)
    apply(ctx, first)
    second = rule.update(ctx)
    assert list(zip(second.agents.tolist(), second.source.tolist(), strict=True)) == [(3, 2)]


def test_cascade_with_p_zero_never_spreads():
    graph = nx.barabasi_albert_graph(200, 3, seed=1)
    x0 = create_rule_policy("independent_cascade", {"seed_fraction": 0.05}).initial_credences(
        200, 2, np.random.default_rng(0)
    )
    ctx = make_ctx(graph, x0)
    assert run(create_rule_policy("independent_cascade", {"p": 0.0}), ctx, 10) == 0


def test_cascade_gives_each_new_activation_one_chance():
    # 3,000 stars: the centre listens to three seeded leaves; P(centre active) = 1 - (1 - p)^3,
    # and a failed leaf never tries again.
    stars = 3000
    graph = nx.disjoint_union_all([nx.star_graph(3)] * stars)
    x0 = np.tile([0.0, 1.0, 1.0, 1.0], stars)
    ctx = make_ctx(graph, x0, seed=5)
    run(create_rule_policy("independent_cascade", {"p": 0.3}), ctx, 50)
    share = ctx.credence[::4, 0].mean()
    expected = 1 - 0.7**3
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / stars)


def test_cascade_reaches_distance_d_with_probability_p_to_the_d():
    # 4,000 paths 0-1-2-3 seeded at 0: node d is reached only if all d edges fire, p^d
    paths = 4000
    graph = nx.disjoint_union_all([nx.path_graph(4)] * paths)
    ctx = make_ctx(graph, np.tile([1.0, 0.0, 0.0, 0.0], paths), seed=12)
    run(create_rule_policy("independent_cascade", {"p": 0.6}), ctx, 50)
    reached = ctx.credence[:, 0].reshape(paths, 4).mean(axis=0)
    expected = 0.6 ** np.arange(4)
    assert np.all(
        np.abs(reached - expected) < 4 * np.sqrt(expected * (1 - expected) / paths) + 1e-12
    )


def test_cascade_flows_from_whom_an_agent_listens_to():
    # agent 1 listens to agent 0; agent 0 listens to nobody
    indptr, indices = np.array([0, 0, 1]), np.array([0])
    for seeds, final in (([1.0, 0.0], [1.0, 1.0]), ([0.0, 1.0], [0.0, 1.0])):
        ctx = make_ctx(nx.empty_graph(2), seeds)
        ctx.indptr, ctx.indices = indptr, indices
        run(create_rule_policy("independent_cascade", {"p": 1.0}), ctx, 5)
        assert list(ctx.credence[:, 0]) == final


def test_cascade_picks_up_activations_from_outside_and_new_claims():
    ctx = make_ctx(nx.path_graph(4), [[0.0], [0.0], [0.0], [0.0]])
    rule = create_rule_policy("independent_cascade", {"p": 1.0})
    assert run(rule, ctx, 5) == 0
    ctx.credence[3, 0] = 1.0  # injected by a scenario between steps
    ctx.credence = np.hstack([ctx.credence, [[1.0], [0.0], [0.0], [0.0]]])  # a claim added mid-run
    ctx.claim_ids.append("c1")
    update = rule.update(ctx)
    assert sorted(zip(update.agents.tolist(), update.claims.tolist(), strict=True)) == [
        (1, 1),
        (2, 0),
    ]


# ---------------------------------------------------------------- linear threshold


def test_linear_threshold_spreads_one_hop_per_step_on_a_path():
    ctx = make_ctx(nx.path_graph(5), [1.0, 0.0, 0.0, 0.0, 0.0])
    rule = create_rule_policy("linear_threshold", {"threshold": 0.5})
    rule.setup(ctx)
    for step in range(1, 5):
        update = rule.update(ctx)
        assert list(update.agents) == [step] and list(update.source) == [step - 1]
        apply(ctx, update)
    assert len(rule.update(ctx).agents) == 0


def test_linear_threshold_needs_the_share_of_active_neighbours():
    star = nx.star_graph(3)  # centre 0 with three neighbours
    rule = create_rule_policy("linear_threshold", {"threshold": 0.5})
    one = make_ctx(star, [0.0, 1.0, 0.0, 0.0])
    rule.setup(one)
    assert 0 not in rule.update(one).agents  # 1/3 < 0.5
    two = make_ctx(star, [0.0, 1.0, 0.0, 1.0])
    rule.setup(two)
    update = rule.update(two)
    assert list(update.agents) == [0] and update.source[0] in (1, 3)


def test_linear_threshold_with_uniform_thresholds_activates_with_the_active_share():
    # 4,000 stars whose centre has k of its 4 neighbours active: P(centre fires) = P(θ <= k/4)
    stars = 4000
    graph = nx.disjoint_union_all([nx.star_graph(4)] * stars)
    for k in (1, 3):
        x0 = np.tile([0.0] + [1.0] * k + [0.0] * (4 - k), stars)
        ctx = make_ctx(graph, x0, seed=k)
        rule = create_rule_policy("linear_threshold", {"threshold": "uniform"})
        rule.setup(ctx)
        apply(ctx, rule.update(ctx))
        fired = ctx.credence[::5, 0].mean()
        assert abs(fired - k / 4) < 4 * np.sqrt(k / 4 * (1 - k / 4) / stars)


def test_linear_threshold_source_is_the_latest_activated_neighbour():
    star = nx.star_graph(3)
    ctx = make_ctx(star, [0.0, 0.0, 1.0, 0.0])
    rule = create_rule_policy("linear_threshold", {"threshold": 0.6})
    rule.setup(ctx)
    assert len(rule.update(ctx).agents) == 0  # 1/3
    ctx.step += 1
    ctx.credence[1, 0] = 1.0  # activated from outside, after agent 2
    update = rule.update(ctx)
    assert list(update.agents) == [0] and list(update.source) == [1]


def test_linear_threshold_uniform_thresholds_are_drawn_once_and_activation_is_permanent():
    graph = nx.barabasi_albert_graph(300, 2, seed=3)
    rule = create_rule_policy("linear_threshold", {"threshold": "uniform", "seed_fraction": 0.05})
    rng = np.random.default_rng(8)
    ctx = make_ctx(graph, rule.initial_credences(300, 1, rng), seed=8)
    rule.setup(ctx)
    thresholds = rule.thresholds.copy()
    assert 0.0 <= thresholds.min() and thresholds.max() <= 1.0 and thresholds.std() > 0.2
    previous = ctx.credence.copy()
    for _ in range(20):
        update = rule.update(ctx)
        assert np.all(update.new == 1.0)
        apply(ctx, update)
        assert np.all(ctx.credence >= previous)
        previous = ctx.credence.copy()
    assert np.array_equal(rule.thresholds, thresholds)
    # closed check of the final state: no inactive agent has reached its threshold
    adj = nx.to_numpy_array(graph, nodelist=range(300))
    share = adj @ ctx.credence[:, 0] / adj.sum(axis=1)
    inactive = ctx.credence[:, 0] < 0.5
    assert np.all(share[inactive] < thresholds[inactive, 0])


def test_a_rule_reads_its_neighbours_from_a_network_without_absent_agents():
    graph = nx.gnp_random_graph(30, 0.2, seed=5, directed=True)
    ctx = make_ctx(graph, np.linspace(0, 1, 30))
    rule = create_rule_policy("degroot")
    full = rule.graph(ctx)
    assert isinstance(full, Network) and rule.graph(ctx) is full  # cached while nothing changes
    for v in range(30):  # whom v listens to: row v of the context (here its adjacency row)
        row = ctx.indices[ctx.indptr[v] : ctx.indptr[v + 1]]
        assert full.neighbours(v).tolist() == row.tolist()
        assert sorted(row.tolist()) == sorted(graph.successors(v))
    ctx.present = np.ones(30, dtype=bool)
    ctx.present[[3, 11]] = False
    fewer = rule.graph(ctx)
    assert fewer is not full and rule.graph(ctx) is fewer
    for v in np.flatnonzero(ctx.present).tolist():
        row = full.neighbours(v)
        assert fewer.neighbours(v).tolist() == row[ctx.present[row]].tolist()
        assert fewer.listen_degree[v] == ctx.present[row].sum()
    ctx.present[[3, 11]] = True  # back in: the full lists again
    assert rule.graph(ctx).listen_degree.tolist() == full.listen_degree.tolist()

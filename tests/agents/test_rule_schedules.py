"""Update schedules of the voter and Deffuant rules against closed-form results.

The asynchronous voter model and pairwise Deffuant encounters run N elementary updates per
step one after another; their updates list every change in order, so a cell may appear more
than once. The synchronous variants reproduce the rules' earlier step-at-once behaviour.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse

from socialsim.agents.policies import RuleContext, RuleUpdate, create_rule_policy
from socialsim.agents.policies.rule_base import _TOL
from socialsim.core.errors import ConfigError
from tests.agents.test_rules import apply, make_ctx


def replay(ctx: RuleContext, update: RuleUpdate) -> list[tuple[int, int, float, float, int]]:
    """Apply an update entry by entry; the (agent, claim, old, new, source) of each entry."""
    records = []
    for a, c, v, s in zip(
        update.agents.tolist(),
        update.claims.tolist(),
        update.new.tolist(),
        update.source.tolist(),
        strict=True,
    ):
        records.append((a, c, float(ctx.credence[a, c]), v, s))
        ctx.credence[a, c] = v
    ctx.step += 1
    return records


def copies_ctx(graph: nx.Graph, copies: int, start: list[float], seed: int) -> RuleContext:
    """A context over `copies` disjoint copies of `graph`, each starting at `start`."""
    one = nx.to_scipy_sparse_array(graph, nodelist=range(graph.number_of_nodes()))
    adj = scipy.sparse.kron(scipy.sparse.identity(copies), one, format="csr")
    n = adj.shape[0]
    return RuleContext(
        credence=np.tile(np.asarray(start, dtype=float), copies)[:, None],
        indptr=adj.indptr,
        indices=adj.indices,
        members=np.ones(n, dtype=bool),
        active=np.ones(n, dtype=bool),
        rng=np.random.default_rng(seed),
        step=0,
        claim_ids=["c0"],
    )


def discordant_share(edges: np.ndarray, x: np.ndarray) -> float:
    """Share of edges whose two ends hold different views."""
    return float(np.mean(x[edges[:, 0], 0] != x[edges[:, 1], 0]))


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("voter", "sync", "'sync' must be 'asynchronous' or 'synchronous'"),
        ("voter", "pairwise", "'pairwise' must be 'asynchronous' or 'synchronous'"),
        ("deffuant", "asynchronous", "'asynchronous' must be 'pairwise' or 'synchronous'"),
        ("deffuant", 1, "1 must be 'pairwise' or 'synchronous'"),
    ],
)
def test_bad_schedule_is_one_config_line(name, value, expected):
    with pytest.raises(ConfigError) as info:
        create_rule_policy(name, {"schedule": value})
    assert str(info.value) == f"agents.params.schedule: {expected}"


def test_default_schedules_are_the_textbook_ones():
    assert create_rule_policy("voter").cfg.schedule == "asynchronous"
    assert create_rule_policy("deffuant").cfg.schedule == "pairwise"


# ---------------------------------------------------------------- voter, asynchronous


def elementary_kernel(graph: nx.Graph) -> np.ndarray:
    """Transition matrix of one asynchronous voter update over binary states (bit i = agent i)."""
    n = graph.number_of_nodes()
    p = np.zeros((2**n, 2**n))
    for state in range(2**n):
        for i in range(n):
            nbrs = list(graph.neighbors(i))
            for j in nbrs:
                bit = (state >> j) & 1
                p[state, (state & ~(1 << i)) | (bit << i)] += 1.0 / (n * len(nbrs))
    return p


def synchronous_kernel(graph: nx.Graph) -> np.ndarray:
    """Transition matrix of one synchronous voter step: everyone copies a neighbour at once."""
    n = graph.number_of_nodes()
    p = np.zeros((2**n, 2**n))
    nbrs = [list(graph.neighbors(i)) for i in range(n)]
    for state in range(2**n):
        for choice in itertools.product(*nbrs):
            new = sum(((state >> j) & 1) << i for i, j in enumerate(choice))
            p[state, new] += 1.0 / np.prod([len(b) for b in nbrs])
    return p


def step_distribution(graph: nx.Graph, start: list[float], schedule: str, runs: int) -> np.ndarray:
    """Empirical distribution of the binary state after one voter step, over `runs` seeds."""
    rule = create_rule_policy("voter", {"schedule": schedule})
    ctx = make_ctx(graph, start)
    counts = np.zeros(2 ** graph.number_of_nodes())
    for seed in range(runs):
        ctx.credence[:, 0] = start
        ctx.rng = np.random.default_rng(seed)
        replay(ctx, rule.update(ctx))
        counts[int(sum(int(v) << i for i, v in enumerate(ctx.credence[:, 0])))] += 1
    return counts / runs


@pytest.mark.parametrize(
    ("graph", "start"),
    [
        (nx.path_graph(3), [1.0, 0.0, 0.0]),
        (nx.star_graph(3), [0.0, 1.0, 1.0, 0.0]),
    ],
)
def test_voter_step_is_n_elementary_updates_in_sequence(graph, start):
    runs = 4000
    n = graph.number_of_nodes()
    state = int(sum(int(v) << i for i, v in enumerate(start)))
    for schedule, kernel in (
        ("asynchronous", np.linalg.matrix_power(elementary_kernel(graph), n)),
        ("synchronous", synchronous_kernel(graph)),
    ):
        expected = kernel[state]
        seen = step_distribution(graph, start, schedule, runs)
        sigma = np.sqrt(expected * (1 - expected) / runs)
        assert np.all(np.abs(seen - expected) <= 4 * sigma + 1e-12), (schedule, seen, expected)


def test_voter_two_agents_agree_after_one_step_on_either_view_with_one_half():
    # the first elementary update picks agent 0 or 1 with 1/2 each; the second changes nothing
    seen = step_distribution(nx.complete_graph(2), [1.0, 0.0], "asynchronous", 4000)
    assert seen[0b01] == seen[0b10] == 0.0  # never still split, never swapped
    assert abs(seen[0b11] - 0.5) < 4 * np.sqrt(0.25 / 4000)
    swapped = step_distribution(nx.complete_graph(2), [1.0, 0.0], "synchronous", 10)
    assert swapped[0b10] == 1.0  # synchronous: both copy at once and swap


def test_voter_on_complete_graphs_is_a_martingale_absorbing_with_the_initial_share():
    copies = 10_000  # independent copies of K_5, two believers in each
    ctx = copies_ctx(nx.complete_graph(5), copies, [1.0, 1.0, 0.0, 0.0, 0.0], seed=21)
    rule = create_rule_policy("voter", {})
    sigma = np.sqrt(0.4 * 0.6 / copies)  # the widest spread a share in [0, 1] with mean 0.4 has
    for _ in range(2):
        replay(ctx, rule.update(ctx))
        assert abs(ctx.credence.mean() - 0.4) < 4 * sigma  # E[share_t] = share_0 at every t
    for _ in range(500):
        per_copy = ctx.credence[:, 0].reshape(copies, 5)
        if np.all(per_copy.min(axis=1) == per_copy.max(axis=1)):
            break
        replay(ctx, rule.update(ctx))
    per_copy = ctx.credence[:, 0].reshape(copies, 5)
    assert np.all(per_copy.min(axis=1) == per_copy.max(axis=1))  # every copy at consensus
    assert abs(per_copy[:, 0].mean() - 0.4) < 4 * sigma  # P(consensus on 1) = 2/5


def test_voter_log_is_a_chain_of_copies_in_order():
    graph = nx.connected_watts_strogatz_graph(40, 4, 0.3, seed=7)
    x0 = np.random.default_rng(3).random((40, 2)).round(1)
    ctx = make_ctx(graph, x0, seed=2)
    rule = create_rule_policy("voter", {})
    repeated = 0
    for _ in range(10):
        update = rule.update(ctx)
        cells = list(zip(update.agents.tolist(), update.claims.tolist(), strict=True))
        repeated += len(cells) - len(set(cells))
        entries = (update.agents, update.claims, update.new, update.source)
        for a, c, new, s in zip(*(v.tolist() for v in entries), strict=True):
            assert graph.has_edge(a, s)
            assert ctx.credence[s, c] == new  # the neighbour's value at that moment
            assert abs(new - ctx.credence[a, c]) > _TOL
            ctx.credence[a, c] = new
    assert repeated > 0  # agents did change more than once within a step


def test_voter_asynchronous_coarsens_a_scale_free_graph_and_synchronous_does_not():
    graph = nx.barabasi_albert_graph(2000, 3, seed=1)
    edges = np.array(graph.edges())
    x0 = (np.random.default_rng(2).random(2000) < 0.5).astype(float)
    start = discordant_share(edges, x0[:, None])
    shares = {}
    for schedule in ("asynchronous", "synchronous"):
        ctx = make_ctx(graph, x0, seed=3)
        rule = create_rule_policy("voter", {"schedule": schedule})
        shares[schedule] = []
        for _ in range(20):
            replay(ctx, rule.update(ctx))
            shares[schedule].append(discordant_share(edges, ctx.credence))
    assert 0.45 < start < 0.52
    assert np.mean(shares["asynchronous"][10:]) < start - 0.07
    assert np.all(np.abs(np.array(shares["synchronous"]) - start) < 0.06)


def test_voter_pinned_agents_are_copied_but_never_change():
    star = nx.star_graph(4)  # centre 0
    ctx = make_ctx(star, [1.0, 0.0, 0.0, 0.0, 0.0], seed=4)
    ctx.extra["pinned"] = np.array([True, False, False, False, False])
    rule = create_rule_policy("voter", {})
    for _ in range(30):
        update = rule.update(ctx)
        assert 0 not in update.agents
        replay(ctx, update)
    assert np.all(ctx.credence == 1.0)  # a zealot at the centre wins every leaf


def test_voter_picks_only_acting_agents_and_reads_absent_agents_never():
    ctx = make_ctx(nx.path_graph(3), [0.0, 1.0, 0.0], active=np.array([True, False, False]))
    update = create_rule_policy("voter", {}).update(ctx)  # N = 1: agent 0 copies agent 1
    assert list(update.agents) == [0] and list(update.source) == [1] and list(update.new) == [1.0]
    ctx.present = np.array([True, False, True])
    assert len(create_rule_policy("voter", {}).update(ctx).agents) == 0


# ---------------------------------------------------------------- Deffuant, pairwise


def test_deffuant_one_encounter_moves_both_by_mu_times_the_difference():
    pair = nx.complete_graph(2)
    ctx = make_ctx(pair, [0.3, 0.4], active=np.array([True, False]))  # N = 1 encounter
    update = create_rule_policy("deffuant", {"epsilon": 0.2, "mu": 0.3}).update(ctx)
    assert list(update.agents) == [0, 1] and list(update.source) == [1, 0]
    np.testing.assert_allclose(update.new, [0.3 + 0.3 * 0.1, 0.4 - 0.3 * 0.1], rtol=0, atol=1e-15)
    both = make_ctx(pair, [0.3, 0.4])  # N = 2: the second encounter starts from the first's result
    update = create_rule_policy("deffuant", {"epsilon": 0.2, "mu": 0.3}).update(both)
    assert len(update.agents) == 4
    replay(both, update)
    np.testing.assert_allclose(sorted(both.credence[:, 0]), [0.342, 0.358], atol=1e-15)


@pytest.mark.parametrize("gap", [0.5, 0.25])
def test_deffuant_pair_at_or_beyond_epsilon_does_not_move(gap):
    ctx = make_ctx(nx.complete_graph(2), [0.25, 0.25 + gap])  # exact binary fractions
    for schedule in ("pairwise", "synchronous"):
        rule = create_rule_policy("deffuant", {"epsilon": 0.25, "schedule": schedule})
        assert len(rule.update(ctx).agents) == 0


def test_deffuant_every_encounter_keeps_the_sum():
    graph = nx.erdos_renyi_graph(80, 0.1, seed=4)
    ctx = make_ctx(graph, np.random.default_rng(4).random((80, 2)), seed=9)
    total = ctx.credence.sum(axis=0)
    rule = create_rule_policy("deffuant", {"epsilon": 0.4, "mu": 0.5})
    encounters = 0
    for _ in range(20):
        records = replay(ctx, rule.update(ctx))
        assert len(records) % 2 == 0  # everyone is a member: both sides of each encounter move
        for (a, c, old_a, new_a, s), (b, d, old_b, new_b, t) in zip(
            records[::2], records[1::2], strict=True
        ):
            assert (b, d, s, t) == (s, c, b, a)
            assert abs((new_a - old_a) + (new_b - old_b)) < 1e-15
            encounters += 1
    np.testing.assert_allclose(ctx.credence.sum(axis=0), total, rtol=0, atol=1e-12)
    assert encounters > 500


def test_deffuant_step_has_n_encounters():
    # a star: every encounter involves the centre and, with epsilon 1 and mu < 1/2, moves it,
    # so the centre's entries count the encounters: N = 5 per step
    star = nx.star_graph(4)
    counts = []
    rule = create_rule_policy("deffuant", {"epsilon": 1.0, "mu": 0.3})
    for seed in range(200):
        ctx = make_ctx(star, [0.0, 0.6, 0.9, 0.8, 0.7], seed=seed)
        update = rule.update(ctx)
        counts.append(int((update.agents == 0).sum()))
    assert set(counts) == {5}


def test_deffuant_pinned_and_non_member_partners_stay_put():
    pair = nx.complete_graph(2)
    pinned = make_ctx(pair, [0.3, 0.4], active=np.array([True, False]))
    pinned.extra["pinned"] = np.array([False, True])
    update = create_rule_policy("deffuant", {"epsilon": 0.2}).update(pinned)
    assert list(update.agents) == [0] and list(update.new) == pytest.approx([0.35])
    outsider = make_ctx(pair, [0.3, 0.4], members=np.array([False, True]))
    update = create_rule_policy("deffuant", {"epsilon": 0.2}).update(outsider)
    assert list(update.agents) == [1] and list(update.new) == pytest.approx([0.35])


# ---------------------------------------------------------------- synchronous = earlier behaviour


def earlier_voter(rule, ctx: RuleContext) -> RuleUpdate:
    """The voter step of earlier versions: every acting agent copies at once."""
    g = rule.graph(ctx)
    x = ctx.credence
    agents = np.flatnonzero(rule.acting(ctx) & (g.listen_degree > 0))
    k = x.shape[1]
    offsets = (ctx.rng.random((len(agents), k)) * g.listen_degree[agents, None]).astype(np.int64)
    chosen = g.indices[g.indptr[agents, None] + offsets].astype(np.int64)
    copied = x[chosen, np.arange(k)]
    moved = np.abs(copied - x[agents]) > _TOL
    rows, claims = np.nonzero(moved)
    return RuleUpdate(agents[rows], claims, copied[moved], chosen[moved])


def earlier_deffuant(rule, ctx: RuleContext) -> RuleUpdate:
    """The Deffuant step of earlier versions: one encounter per acting agent, random order."""
    g = rule.graph(ctx)
    movable = ctx.members & ctx.present if ctx.present is not None else ctx.members
    order = ctx.rng.permutation(np.flatnonzero(rule.acting(ctx) & (g.listen_degree > 0)))
    partners = g.indices[
        g.indptr[order] + (ctx.rng.random(len(order)) * g.listen_degree[order]).astype(int)
    ]
    eps, mu = rule.cfg.epsilon, rule.cfg.mu
    x = ctx.credence
    out = []
    for c in range(x.shape[1]):
        col = x[:, c].tolist()
        touched = {}
        for i, j in zip(order.tolist(), partners.tolist(), strict=True):
            xi, xj = col[i], col[j]
            if abs(xi - xj) < eps:
                col[i] = xi + mu * (xj - xi)
                touched[i] = j
                if movable[j]:
                    col[j] = xj + mu * (xi - xj)
                    touched[j] = i
        out += [(a, c, col[a], s) for a, s in touched.items() if abs(col[a] - x[a, c]) > _TOL]
    agents, claims, new, source = (np.array(v) for v in zip(*out, strict=True)) if out else [[]] * 4
    return RuleUpdate(np.asarray(agents), np.asarray(claims), np.asarray(new), np.asarray(source))


@pytest.mark.parametrize(
    ("name", "params", "earlier"),
    [
        ("voter", {"schedule": "synchronous"}, earlier_voter),
        ("deffuant", {"schedule": "synchronous", "epsilon": 0.3}, earlier_deffuant),
    ],
)
def test_synchronous_schedules_reproduce_the_earlier_steps(name, params, earlier):
    graph = nx.connected_watts_strogatz_graph(60, 4, 0.3, seed=5)
    x0 = np.random.default_rng(6).random((60, 2))
    active = np.random.default_rng(7).random(60) < 0.7
    members = np.arange(60) % 7 != 0
    ctx = make_ctx(graph, x0, seed=8, active=active & members, members=members)
    ref = make_ctx(graph, x0, seed=8, active=active & members, members=members)
    rule = create_rule_policy(name, params)
    for _ in range(8):
        got, want = rule.update(ctx), earlier(rule, ref)
        for field in ("agents", "claims", "new", "source"):
            assert np.array_equal(getattr(got, field), getattr(want, field))
        apply(ctx, got)
        apply(ref, want)
    assert not np.array_equal(ctx.credence, x0)

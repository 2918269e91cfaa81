"""Persona-trait Spearman intervals hold their level: false alarms under the null, coverage.

Under the null (trait independent of behaviour) a 95% interval should exclude 0 in about 5%
of cases; sparse, heavily tied behaviours (most agents send no message or never change
belief) are the hard case. The null is checked on synthetic data shaped like the behaviours
and on the per-agent tables of real rule and scripted-LLM runs with the trait column permuted;
coverage of a known nonzero rho on synthetic data with a real association.
"""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

import socialsim as ss
from socialsim.analysis import consistency as cs
from socialsim.llm.types import CallRecord, LLMConfig, LLMResult

CLAIM = "australia_capital"
MAX_FALSE_ALARMS = 0.07
MIN_COVERAGE = 0.92


def excludes_zero(cell: dict) -> bool:
    """Whether a defined interval lies wholly on one side of 0 (an undefined one never does)."""
    return cell["ci_low"] is not None and (cell["ci_low"] > 0 or cell["ci_high"] < 0)


def false_alarm_rate(trait: np.ndarray, behaviour: np.ndarray, reps: int, rng) -> float:
    """Share of `reps` trait permutations whose interval excludes 0 (a true null)."""
    hits = [excludes_zero(cs.spearman_ci(rng.permutation(trait), behaviour)) for _ in range(reps)]
    return float(np.mean(hits))


# --- synthetic data shaped like the behaviours ---------------------------------------------------
def _trait(rng, n: int, tied: bool) -> np.ndarray:
    x = rng.beta(2, 3, n)  # the sampler's default credulity
    return np.round(x, 1) if tied else x


def _behaviour(rng, kind: str, n: int) -> np.ndarray:
    if kind == "messages":  # most agents send no message
        return rng.poisson(0.2, n).astype(float)
    # credence variance: zero for most agents, a small spread for the rest
    return np.where(rng.random(n) < 0.85, 0.0, rng.exponential(0.02, n))


@pytest.mark.parametrize("kind", ["messages", "variance"])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.slow
def test_synthetic_sparse_null_false_alarms(kind, tied):
    rng = np.random.default_rng(11)
    rates = {}
    for n in (10, 30, 100, 300):
        cells = []
        while len(cells) < 1500:
            cell = cs.spearman_ci(_trait(rng, n, tied), _behaviour(rng, kind, n))
            if cell["rho"] is not None:  # a constant behaviour has no rho, hence no alarm
                cells.append(cell)
        rates[n] = np.mean([excludes_zero(c) for c in cells])
    assert max(rates.values()) <= MAX_FALSE_ALARMS, rates


def _true_rho(pair, rng) -> float:
    x, y = pair(rng, 400_000)
    return float(cs.spearman_ci(x, y)["rho"])


def _normal(rng, n):
    z = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], n)
    return z[:, 0], z[:, 1]


def _sparse_counts(rng, n):  # messages rise with the trait, mean about 0.2
    x = rng.beta(2, 3, n)
    return x, rng.poisson(0.2 * np.exp(3 * (x - 0.4))).astype(float)


def _tied_counts(rng, n):  # a trait on a 0.1 grid and counts of mean about 1
    x = np.round(rng.beta(2, 3, n), 1)
    return x, rng.poisson(np.exp(2 * (x - 0.4))).astype(float)


@pytest.mark.parametrize(
    "pair, known",
    [(_normal, 6 / np.pi * np.arcsin(0.25)), (_sparse_counts, None), (_tied_counts, None)],
    ids=["normal", "sparse_counts", "tied_counts"],
)
@pytest.mark.slow
def test_coverage_of_a_real_association(pair, known):
    rng = np.random.default_rng(5)
    true = known if known is not None else _true_rho(pair, rng)
    assert abs(true) > 0.25  # a real association, not the null
    covered, defined, alarms = 0, 0, 0
    for n in (20, 50, 200):
        for _ in range(400):
            cell = cs.spearman_ci(*pair(rng, n))
            if cell["ci_low"] is None:
                continue
            defined += 1
            covered += cell["ci_low"] <= true <= cell["ci_high"]
            alarms += excludes_zero(cell)
    assert covered / defined >= MIN_COVERAGE
    assert alarms / defined > 0.5  # the association is found, so the interval is not vacuous


# --- real runs, trait permuted -------------------------------------------------------------------
class SparseTalker:
    """A scripted model: a decision sends a message in about 1 of 8 answers, moves credence in
    1 of 5, both drawn from a hash of the prompt (so a run is reproducible)."""

    def run(self, requests):
        """Answer each request from the hash of its prompt."""
        out = []
        for r in requests:
            text = " ".join(m["content"] for m in r.messages)
            draw = zlib.crc32(text.encode()) / 2**32
            move = zlib.crc32(text[::-1].encode()) / 2**32
            if "answer" in r.schema.model_fields:
                data = {"answer": "A"}
            else:
                send = draw < 0.12
                credence = round(move, 2) if move < 0.2 else 0.1
                data = {
                    "message": "Sydney is the capital." if send else "",
                    "to": "all" if send else "none",
                    "beliefs": {CLAIM: {"reason": "scripted", "credence": credence}},
                }
            record = CallRecord(model="scripted", route="scripted", tag=r.tag)
            value = r.schema.model_validate(data)
            out.append(LLMResult(text=json.dumps(data), record=record, value=value))
        return out

    def close(self):
        """Nothing to release."""


def _config(tmp, policy: str, size: int, seed: int) -> ss.ExperimentConfig:
    params = {"claim": CLAIM, "probe_distances": ["direct"]}
    if policy == "llm":
        params["attackers"] = {"count": 0}
        params["elicitation"] = "stated"  # the credences these tables read are stated ones
    return ss.ExperimentConfig.from_dict(
        {
            "name": f"calibration_{policy}",
            "seed": seed,
            "steps": 4,
            "population": {"size": size},
            "network": {"kind": "watts_strogatz"},
            "agents": {"policy": policy},
            "scenario": {"kind": "misinformation", "params": params},
            "output": {"dir": str(tmp / policy), "report": False},
        }
    )


@pytest.fixture(scope="session")
def real_tables(tmp_path_factory) -> dict[str, object]:
    """Per-agent persona-behaviour tables of real runs: three rule policies and a scripted LLM."""
    tmp = tmp_path_factory.mktemp("consistency_calibration")
    tables = {}
    for policy, size, seed in (("degroot", 80, 1), ("linear_threshold", 120, 2), ("voter", 60, 3)):
        run = ss.run(_config(tmp, policy, size, seed))
        tables[policy] = cs.persona_behaviour(run, CLAIM, "benign")
    clients = {LLMConfig().model_dump_json(): SparseTalker()}
    run = ss.run(_config(tmp, "llm", 80, 4), clients=clients)
    tables["llm"] = cs.persona_behaviour(run, CLAIM, "all")
    return tables


def _real_pairs(tables, sizes=(15, 40, None)):
    """(label, trait, behaviour) of every pair whose behaviour varies, at several agent counts."""
    for name, table in tables.items():
        for trait, behaviour in cs.PAIRS:
            pair = table[[trait, behaviour]].dropna()
            for size in sizes:
                part = pair.iloc[:size]
                if len(part) >= cs.MIN_INTERVAL_AGENTS and np.ptp(part[behaviour]) > 0:
                    label = f"{name}:{trait}_vs_{behaviour}@{len(part)}"
                    yield label, part[trait].to_numpy(), part[behaviour].to_numpy()


@pytest.mark.slow
def test_real_runs_have_sparse_behaviours(real_tables):
    llm = real_tables["llm"]
    assert (llm["messages_sent"] == 0).mean() > 0.4 and llm["messages_sent"].max() > 0
    assert all((t["belief_change"] == 0).mean() > 0.2 for t in real_tables.values())
    labels = [label for label, _, _ in _real_pairs(real_tables)]
    assert any(label.startswith("llm:extraversion_vs_messages_sent") for label in labels)
    assert sum("belief_change" in label for label in labels) >= 4


@pytest.mark.slow
def test_real_runs_with_permuted_traits_hold_the_false_alarm_rate(real_tables):
    rng = np.random.default_rng(7)
    rates = {
        label: false_alarm_rate(trait, behaviour, 200, rng)
        for label, trait, behaviour in _real_pairs(real_tables)
    }
    assert len(rates) >= 20
    assert np.mean(list(rates.values())) <= MAX_FALSE_ALARMS, rates
    # 200 permutations per pair: a rate of 0.05 exceeds 0.1 by chance in under 1% of pairs
    assert max(rates.values()) <= 0.1, rates


@pytest.mark.slow
def test_real_runs_find_an_association_put_in(real_tables):
    table = real_tables["llm"]
    sent = table["messages_sent"].to_numpy(dtype=float)
    rng = np.random.default_rng(8)
    trait = sent + rng.normal(0, 0.5, sent.size)  # a trait that drives messages
    cell = cs.spearman_ci(trait, sent)
    assert cell["rho"] > 0.5 and cell["ci_low"] > 0
